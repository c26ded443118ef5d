"""``mcp-grpc authz``: tools for security teams, on the embedded OpenFGA engine.

- ``authz test FILE.fga.yaml [FILE ...] [--json]``: run ``fga model test`` store test files; exit 0 when every
  assertion passes, 1 otherwise (2 when a file cannot be read).
- ``authz check | list-objects | list-users | explain --model FILE [--tuples FILE ...]``: one query against a model
  file and tuple files, with ``--context JSON`` and ``--contextual-tuple "USER RELATION OBJECT"``. ``check`` exits 0
  when allowed, 1 when denied, 2 on an error.
- ``authz who-can TARGET TOOL`` / ``authz what-can TARGET SPIFFE_ID``: access review of a server app (``pkg.mod:app``
  or ``path/file.py:app``, as for ``serve``) against an ``authz/`` folder (``--authz-dir``); ``--matrix`` prints
  agents x tools; ``--json`` for machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import sys
from typing import Any, Callable, Iterable, Mapping, Sequence

from mcp_grpc.authz.backend import TupleKey

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2


class CommandError(Exception):
    """A user error: printed as ``mcp-grpc authz: <message>`` with exit code 2."""


def register(subparsers: argparse._SubParsersAction) -> None:
    authz = subparsers.add_parser(
        "authz",
        help="test and query OpenFGA models with the embedded engine; review who may call what",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = authz.add_subparsers(dest="authz_command", metavar="COMMAND")
    authz.set_defaults(handler=lambda args: _usage(authz))

    test = commands.add_parser("test", help="run OpenFGA CLI store test files (fga model test format)")
    test.add_argument("files", nargs="+", metavar="FILE", help="store test files (*.fga.yaml)")
    test.add_argument("--json", action="store_true", help="print one JSON record per assertion (JSON lines)")
    test.add_argument(
        "--allow-external-files",
        action="store_true",
        help="let model_file / tuple_file references leave the test file's directory (as the fga CLI flag)",
    )
    test.set_defaults(handler=_guarded(_run_test))

    check = commands.add_parser("check", help="is USER related to OBJECT by RELATION?")
    _add_store_arguments(check)
    check.add_argument("user", metavar="USER", help="e.g. agent:example.org/ns/prod/sa/billing or team:a#member")
    check.add_argument("relation", metavar="RELATION")
    check.add_argument("object", metavar="OBJECT", help="type:id")
    check.set_defaults(handler=_guarded(_run_check))

    list_objects = commands.add_parser("list-objects", help="the objects of TYPE that USER has RELATION on")
    _add_store_arguments(list_objects)
    list_objects.add_argument("user", metavar="USER")
    list_objects.add_argument("relation", metavar="RELATION")
    list_objects.add_argument("type", metavar="TYPE")
    list_objects.set_defaults(handler=_guarded(_run_list_objects))

    list_users = commands.add_parser("list-users", help="the users that have RELATION on OBJECT")
    _add_store_arguments(list_users)
    list_users.add_argument("object", metavar="OBJECT")
    list_users.add_argument("relation", metavar="RELATION")
    list_users.add_argument(
        "--user-filter",
        action="append",
        required=True,
        metavar="TYPE[#RELATION]",
        help="which users to list, e.g. agent or team#member (OpenFGA takes exactly one)",
    )
    list_users.set_defaults(handler=_guarded(_run_list_users))

    explain = commands.add_parser("explain", help="why a check is allowed or denied: the resolution path")
    _add_store_arguments(explain)
    explain.add_argument("user", metavar="USER")
    explain.add_argument("relation", metavar="RELATION")
    explain.add_argument("object", metavar="OBJECT")
    explain.set_defaults(handler=_guarded(_run_explain))

    who_can = commands.add_parser("who-can", help="which agents may call TOOL of the server app TARGET")
    _add_review_arguments(who_can)
    who_can.add_argument("tool", metavar="TOOL", nargs="?", help="a tool name (omit with --matrix)")
    who_can.set_defaults(handler=_guarded(_run_who_can))

    what_can = commands.add_parser("what-can", help="which tools, resources and prompts an agent may use")
    _add_review_arguments(what_can)
    what_can.add_argument("spiffe_id", metavar="SPIFFE_ID", nargs="?", help="spiffe://... (omit with --matrix)")
    what_can.set_defaults(handler=_guarded(_run_what_can))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="FILE", help="model.fga, model.json or fga.mod")
    parser.add_argument(
        "--tuples", action="append", default=[], metavar="FILE", help="tuple file (yaml, json, jsonl, csv); repeat"
    )
    parser.add_argument("--context", metavar="JSON", help='request context for conditions, e.g. \'{"amount": 50}\'')
    parser.add_argument(
        "--contextual-tuple",
        action="append",
        default=[],
        metavar='"USER RELATION OBJECT"',
        help="a tuple that exists for this query only; repeat (at most 100)",
    )
    parser.add_argument("--contextual-tuples", metavar="FILE", help="a tuple file of contextual tuples")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def _add_review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="TARGET", help="the server app: pkg.module:app or path/file.py:app")
    parser.add_argument("--authz-dir", default="authz", metavar="DIR", help="the model and tuples (default: authz/)")
    parser.add_argument("--matrix", action="store_true", help="print every agent x every tool of the server")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--user-type", default="agent", help="the FGA type of agents (default: agent)")
    parser.add_argument(
        "--context", metavar="JSON", help="condition context, as a call would send it (e.g. '{\"amount\": 50}')"
    )


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn known user errors into one line on stderr and exit code 2, instead of a traceback."""
    from mcp_grpc.authz.files import FileFormatError

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CommandError, FileFormatError) as exc:
            print(f"mcp-grpc authz: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except _engine_errors() as exc:
            print(f"mcp-grpc authz: {exc}", file=sys.stderr)
            return EXIT_ERROR

    return run


def _engine_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        from mcp_grpc.authz.engine.errors import FgaError

        errors.append(FgaError)
    except ImportError:
        pass
    try:
        from mcp_grpc.authz.model import ModelError

        errors.append(ModelError)
    except ImportError:
        pass
    return tuple(errors)


# --- authz test --------------------------------------------------------------------------------------------------


def _run_test(args: argparse.Namespace) -> int:
    from mcp_grpc.authz.storetest import run_store_test_files

    results, load_errors = run_store_test_files(
        _expand_globs(args.files), allow_external_files=args.allow_external_files
    )
    out = sys.stdout
    if args.json:
        for error in load_errors:
            out.write(json.dumps({"file": error.path, "kind": "load", "error": str(error), "passed": False}) + "\n")
        for result in results:
            out.write(json.dumps(result.to_json(), sort_keys=False) + "\n")
    else:
        for error in load_errors:
            out.write(f"ERROR {error}\n")
        _print_test_summary(results, out)
    if load_errors:
        return EXIT_ERROR
    return EXIT_OK if all(result.passed for result in results) else EXIT_FAILED


def _expand_globs(patterns: Sequence[str]) -> list[str]:
    """Like ``fga model test --tests``: a pattern that names no file is a glob (quoted so the shell left it)."""
    import glob

    files: list[str] = []
    for pattern in patterns:
        if os.path.exists(pattern) or not glob.has_magic(pattern):
            files.append(pattern)
            continue
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise CommandError(f"no test file matches {pattern!r}")
        files.extend(matches)
    return files


def _print_test_summary(results: Sequence[Any], out: Any) -> None:
    by_test: dict[tuple[str, str], list[Any]] = {}
    for result in results:
        by_test.setdefault((result.file, result.test), []).append(result)
    failed_tests = 0
    for (file, test), items in by_test.items():
        failures = [item for item in items if not item.passed]
        if failures:
            failed_tests += 1
            out.write(f"FAIL {file}: {test} ({len(items) - len(failures)}/{len(items)} passing)\n")
            for failure in failures:
                out.write(f"  x {failure.describe()}\n")
    out.write(f"Tests {len(by_test) - failed_tests}/{len(by_test)} passing\n")
    for kind, label in (("check", "Checks"), ("list_objects", "ListObjects"), ("list_users", "ListUsers")):
        items = [result for result in results if result.kind == kind]
        if items:
            passing = sum(result.passed for result in items)
            out.write(f"{label} {passing}/{len(items)} passing\n")


# --- one query against model and tuple files ---------------------------------------------------------------------


def _load_store(args: argparse.Namespace) -> Any:
    """A fresh embedded engine holding the model file and every tuple file."""
    from mcp_grpc.authz.files import load_model_file, load_tuples
    from mcp_grpc.authz.storetest import build_engine

    model = load_model_file(args.model)
    tuples: list[TupleKey] = []
    for path in args.tuples:
        tuples.extend(load_tuples(path))
    return build_engine(model, tuples)


def _context(args: argparse.Namespace) -> Mapping[str, Any] | None:
    if not args.context:
        return None
    try:
        value = json.loads(args.context)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--context is not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise CommandError("--context must be a JSON object")
    return value


def _contextual_tuples(args: argparse.Namespace) -> list[TupleKey]:
    from mcp_grpc.authz.files import load_tuples, parse_tuple_entry

    tuples: list[TupleKey] = []
    for index, text in enumerate(args.contextual_tuple):
        parts = text.split()
        if len(parts) != 3:
            raise CommandError(f'--contextual-tuple {text!r} must be "USER RELATION OBJECT"')
        user, relation, obj = parts
        tuples.append(
            parse_tuple_entry(
                {"user": user, "relation": relation, "object": obj}, path="--contextual-tuple", index=index
            )
        )
    if args.contextual_tuples:
        tuples.extend(load_tuples(args.contextual_tuples))
    return tuples


def _run_check(args: argparse.Namespace) -> int:
    from mcp_grpc.authz.backend import CheckRequest, Outcome

    store = _load_store(args)
    request = CheckRequest(
        user=args.user,
        relation=args.relation,
        object=args.object,
        context=_context(args),
        contextual_tuples=tuple(_contextual_tuples(args)),
    )
    result = store.check(request)
    if args.json:
        print(json.dumps({
            "user": args.user, "relation": args.relation, "object": args.object,
            "outcome": result.outcome.value, "allowed": result.allowed,
            "error": result.error, "error_code": result.error_code,
        }))
    elif result.outcome is Outcome.ERROR:
        print(f"error: {result.error}" + (f" (code {result.error_code})" if result.error_code else ""))
    else:
        print(result.outcome.value)
    if result.outcome is Outcome.ERROR:
        return EXIT_ERROR
    return EXIT_OK if result.allowed else EXIT_FAILED


def _print_list(args: argparse.Namespace, key: str, result: Any, query: Mapping[str, Any]) -> int:
    if result.error is not None:
        if args.json:
            print(json.dumps({**query, key: None, "error": result.error, "error_code": result.error_code}))
        else:
            print(f"error: {result.error}" + (f" (code {result.error_code})" if result.error_code else ""))
        return EXIT_ERROR
    items = sorted(result.items)
    if args.json:
        print(json.dumps({**query, key: items}))
    else:
        for item in items:
            print(item)
    return EXIT_OK


def _run_list_objects(args: argparse.Namespace) -> int:
    store = _load_store(args)
    result = store.list_objects(
        args.user, args.relation, args.type, context=_context(args), contextual_tuples=_contextual_tuples(args)
    )
    return _print_list(args, "objects", result, {"user": args.user, "relation": args.relation, "type": args.type})


def _run_list_users(args: argparse.Namespace) -> int:
    store = _load_store(args)
    result = store.list_users(
        args.object,
        args.relation,
        list(args.user_filter),
        context=_context(args),
        contextual_tuples=_contextual_tuples(args),
    )
    query = {"object": args.object, "relation": args.relation, "user_filter": list(args.user_filter)}
    return _print_list(args, "users", result, query)


def _run_explain(args: argparse.Namespace) -> int:
    from mcp_grpc.authz.backend import CheckRequest, Outcome

    store = _load_store(args)
    request = CheckRequest(
        user=args.user,
        relation=args.relation,
        object=args.object,
        context=_context(args),
        contextual_tuples=tuple(_contextual_tuples(args)),
    )
    explanation = store.explain(
        request.user, request.relation, request.object,
        context=request.context, contextual_tuples=request.contextual_tuples,
    )
    if args.json:
        print(json.dumps(_explanation_json(explanation), default=str))
    else:
        print(_explanation_text(explanation))
    outcome = _explanation_outcome(explanation)
    if outcome is Outcome.ERROR:
        return EXIT_ERROR
    return EXIT_OK if outcome is Outcome.ALLOWED else EXIT_FAILED


def _explanation_json(explanation: Any) -> Any:
    for attribute in ("to_json", "to_dict", "as_dict"):
        method = getattr(explanation, attribute, None)
        if callable(method):
            return method()
    return explanation if isinstance(explanation, (dict, list)) else {"explanation": str(explanation)}


def _explanation_text(explanation: Any) -> str:
    for attribute in ("render", "to_text", "format"):
        method = getattr(explanation, attribute, None)
        if callable(method):
            return str(method())
    return str(explanation)


def _explanation_outcome(explanation: Any) -> Any:
    from mcp_grpc.authz.backend import Outcome

    outcome = getattr(explanation, "outcome", None)
    if isinstance(outcome, Outcome):
        return outcome
    if isinstance(outcome, str):
        try:
            return Outcome(outcome)
        except ValueError:
            pass
    allowed = getattr(explanation, "allowed", None)
    if allowed is None:
        result = getattr(explanation, "result", None)
        allowed = getattr(result, "allowed", None)
        if getattr(result, "outcome", None) is not None:
            return result.outcome
    return Outcome.ALLOWED if allowed else Outcome.DENIED


# --- access review: who-can / what-can ------------------------------------------------------------------------------


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


def _run_who_can(args: argparse.Namespace) -> int:
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
        _close_after(backend, _who_can(backend, policy, app, args.tool, args.user_type, _context(args)))
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


def _run_what_can(args: argparse.Namespace) -> int:
    app = load_app(args.target)
    backend, policy = _review_backend(args)
    if args.matrix:
        return _print_matrix(args, app, backend, policy, sorted(app.tools))
    if not args.spiffe_id:
        raise CommandError("what-can needs SPIFFE_ID (or --matrix)")
    user = _spiffe_user(args.spiffe_id, args.user_type)
    answer = asyncio.run(_close_after(backend, _what_can(backend, policy, app, user, _context(args))))
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

    context = _context(args)

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
