"""``mcp-grpc authz who-can | what-can``: access review of a server app against an ``authz/`` folder.

``who-can`` lists the agents that may call a tool (ListUsers), ``what-can`` the tools, resources and prompts an
agent may use (ListObjects); ``--matrix`` prints agents x tools, each cell confirmed by a Check.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
from typing import Any, Iterable, Mapping, Sequence

from mcp_grpc.cli.authz_shared import EXIT_OK, CommandError, request_context

__all__ = ["load_app", "run_what_can", "run_who_can"]


def load_app(target: str) -> Any:
    """The server app named by ``pkg.module:app`` or ``path/file.py:app``, loaded exactly as ``serve`` loads it."""
    from mcp_grpc.cli.server_commands import TargetError
    from mcp_grpc.cli.server_commands import load_app as load_server_app

    try:
        return load_server_app(target)
    except TargetError as exc:
        raise CommandError(str(exc)) from None
    except Exception as exc:  # the app module's own import-time error, shown to the user without a traceback
        raise CommandError(f"cannot load {target!r}: {type(exc).__name__}: {exc}") from None


def _review_backend(args: argparse.Namespace) -> tuple[Any, Any]:
    """The authorizer's backend and policy over ``--authz-dir``, exactly as ``serve`` builds them."""
    from mcp_grpc.authz.authorizer import FgaAuthorizer
    from mcp_grpc.authz.policy import CallPolicy

    directory = pathlib.Path(args.authz_dir)
    if not directory.is_dir():
        raise CommandError(f"--authz-dir {args.authz_dir!r} is not a directory")
    authorizer = FgaAuthorizer.from_authz_dir(directory, policy=CallPolicy(user_type=args.user_type), cache=False)
    return authorizer.backend, authorizer.policy


def _tool_object(policy: Any, app: Any, tool: str) -> tuple[str, str]:
    from mcp_grpc.contract import TargetKind

    checks = policy.default_check(app.name, TargetKind.TOOL, tool)
    if not checks:
        raise CommandError(f"the policy has no argument-free check for tool {tool!r}")
    return checks[0].relation, checks[0].object


def _agent_spiffe_id(user: str, user_type: str) -> str:
    """How a ListUsers answer is shown: the agent's SPIFFE ID, ``*`` for every agent, other users as they are."""
    from mcp_grpc.authz.names import WILDCARD, user_to_spiffe_id

    if user == f"{user_type}:{WILDCARD}":
        return WILDCARD
    try:
        return user_to_spiffe_id(user, user_type)
    except ValueError:
        return user


def _spiffe_user(spiffe_id: str, user_type: str) -> str:
    """The FGA user for the SPIFFE_ID argument (which may already be the FGA user)."""
    from mcp_grpc.authz.names import SPIFFE_SCHEME, spiffe_id_to_user

    if spiffe_id.startswith(SPIFFE_SCHEME):
        return spiffe_id_to_user(spiffe_id, user_type)
    if spiffe_id.startswith(f"{user_type}:"):
        return spiffe_id
    raise CommandError(f"SPIFFE_ID {spiffe_id!r} must start with {SPIFFE_SCHEME}")


async def _who_can(
    backend: Any, policy: Any, app: Any, tool: str, user_type: str, context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    relation, obj = _tool_object(policy, app, tool)
    result = await backend.list_users(obj, relation, [user_type], context=context)
    if result.error is not None:
        raise CommandError(f"ListUsers({relation} {obj}) failed: {result.error}")
    agents = sorted(result.items)
    return {
        "server": app.name,
        "tool": tool,
        "relation": relation,
        "object": obj,
        "users": agents,
        "agents": [_agent_spiffe_id(user, user_type) for user in agents],
    }


def run_who_can(args: argparse.Namespace) -> int:
    app = load_app(args.target)
    backend, policy = _review_backend(args)
    tools = sorted(app.tools)
    if args.matrix:
        return _print_matrix(args, app, backend, policy, tools)
    if not args.tool:
        raise CommandError("who-can needs TOOL (or --matrix)")
    if args.tool not in app.tools:
        raise CommandError(f"server {app.name!r} has no tool {args.tool!r} (tools: {', '.join(tools) or 'none'})")
    answer = asyncio.run(
        _close_after(backend, _who_can(backend, policy, app, args.tool, args.user_type, request_context(args)))
    )
    if args.json:
        print(json.dumps(answer))
    else:
        print(f"{answer['relation']} on {answer['object']}:")
        if not answer["agents"]:
            print("  (no agent)")
        for agent in answer["agents"]:
            print(f"  {'any agent (' + args.user_type + ':*)' if agent == '*' else agent}")
    return EXIT_OK


async def _close_after(backend: Any, coroutine: Any) -> Any:
    try:
        return await coroutine
    finally:
        close = getattr(backend, "close", None)
        if close is not None:
            await close()


def _kinds(app: Any) -> Iterable[tuple[Any, str, Iterable[str]]]:
    from mcp_grpc.contract import TargetKind

    yield TargetKind.TOOL, "tools", sorted(getattr(app, "tools", {}) or {})
    yield TargetKind.RESOURCE, "resources", sorted(getattr(app, "resources", {}) or {})
    yield TargetKind.RESOURCE_TEMPLATE, "resource_templates", sorted(getattr(app, "resource_templates", {}) or {})
    yield TargetKind.PROMPT, "prompts", sorted(getattr(app, "prompts", {}) or {})


async def _what_can(
    backend: Any, policy: Any, app: Any, user: str, context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """For each kind, the items whose argument-free checks all pass, found with one ListObjects per (relation, type)."""
    answer: dict[str, Any] = {"server": app.name, "user": user}
    listed: dict[tuple[str, str], set[str]] = {}
    for kind, key, names in _kinds(app):
        allowed: list[str] = []
        for name in names:
            checks = policy.default_check(app.name, kind, name)
            if not checks:
                continue  # no argument-free check: the call path refuses it, so it is never usable
            ok = True
            for planned in checks:
                object_type = planned.object.split(":", 1)[0]
                cache_key = (planned.relation, object_type)
                if cache_key not in listed:
                    result = await backend.list_objects(user, planned.relation, object_type, context=context)
                    if result.error is not None:
                        query = f"ListObjects({user} {planned.relation} {object_type})"
                        raise CommandError(f"{query} failed: {result.error}")
                    listed[cache_key] = set(result.items)
                if planned.object not in listed[cache_key]:
                    ok = False
                    break
            if ok:
                allowed.append(name)
        answer[key] = allowed
    return answer


def run_what_can(args: argparse.Namespace) -> int:
    app = load_app(args.target)
    backend, policy = _review_backend(args)
    if args.matrix:
        return _print_matrix(args, app, backend, policy, sorted(app.tools))
    if not args.spiffe_id:
        raise CommandError("what-can needs SPIFFE_ID (or --matrix)")
    user = _spiffe_user(args.spiffe_id, args.user_type)
    answer = asyncio.run(_close_after(backend, _what_can(backend, policy, app, user, request_context(args))))
    answer["spiffe_id"] = args.spiffe_id
    if args.json:
        print(json.dumps(answer))
    else:
        print(f"{args.spiffe_id} on server {app.name}:")
        for _, key, _ in _kinds(app):
            items = answer.get(key) or []
            print(f"  {key.replace('_', ' ')}: {', '.join(items) if items else '(none)'}")
    return EXIT_OK


def _print_matrix(args: argparse.Namespace, app: Any, backend: Any, policy: Any, tools: Sequence[str]) -> int:
    """Agents (found with ListUsers on every tool) x tools, each cell confirmed by a Check.

    ListUsers alone cannot show an exclusion under a wildcard (``agent:*`` minus a blocked agent), so every cell is
    a Check: ``x`` allowed, ``.`` denied, ``?`` error (e.g. a conditional grant that needs call arguments).
    """
    from mcp_grpc.authz.backend import CheckRequest, Outcome

    context = request_context(args)

    async def gather() -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str]]:
        per_tool = {tool: await _who_can(backend, policy, app, tool, args.user_type, context) for tool in tools}
        users = sorted({user for answer in per_tool.values() for user in answer["users"]})
        cells: dict[tuple[str, str], str] = {}
        for user in users:
            requests = [
                CheckRequest(user, per_tool[t]["relation"], per_tool[t]["object"], context=context) for t in tools
            ]
            results = await backend.batch_check(requests) if requests else []
            for tool, result in zip(tools, results):
                names = {Outcome.ALLOWED: "allowed", Outcome.DENIED: "denied"}
                cells[(user, tool)] = names.get(result.outcome, "error")
        return per_tool, cells

    per_tool, cells = asyncio.run(_close_after(backend, gather()))
    users = sorted({user for answer in per_tool.values() for user in answer["users"]})
    # the wildcard row last: "any agent" answers for agents the store does not name
    users.sort(key=lambda user: user.endswith(":*"))
    labels = {user: _agent_spiffe_id(user, args.user_type) for user in users}
    if args.json:
        print(json.dumps({
            "server": app.name,
            "tools": list(tools),
            "agents": [labels[user] for user in users],
            "matrix": {labels[user]: {tool: cells[(user, tool)] for tool in tools} for user in users},
        }))
        return EXIT_OK
    if not tools:
        print(f"server {app.name} has no tools")
        return EXIT_OK
    if not users:
        print(f"no agent may call any tool of server {app.name}")
        return EXIT_OK
    shown = {user: ("any agent" if labels[user] == "*" else labels[user]) for user in users}
    width = max([len("agent")] + [len(label) for label in shown.values()])
    print("agent".ljust(width) + "  " + "  ".join(tools))
    marks = {"allowed": "x", "denied": ".", "error": "?"}
    for user in users:
        row = [marks[cells[(user, tool)]].center(len(tool)) for tool in tools]
        print(shown[user].ljust(width) + "  " + "  ".join(row).rstrip())
    print("x allowed   . denied   ? error (a condition needs call arguments)")
    return EXIT_OK
