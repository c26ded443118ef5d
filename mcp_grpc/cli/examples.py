"""An example under every command's ``--help``, kept in one place so each reads like the others.

Keys are the command path after ``mcp-grpc`` ("" is the top level). ``attach_examples`` adds them as epilogs; a
command that already has an epilog with an example keeps it. tests/server/test_cli_help.py checks every command has
one.
"""

from __future__ import annotations

import argparse

__all__ = ["EXAMPLES", "attach_examples"]

_ADDRESS = "127.0.0.1:50051"
_AS_AGENT = "--spiffe-socket /run/spire/agent.sock --server-dns-name payments.mcp-tools.local"

EXAMPLES: dict[str, str] = {
    "": (
        "mcp-grpc serve examples/quickstart/server.py:app --insecure-local --port 50051\n"
        f"mcp-grpc tools {_ADDRESS}\n"
        f"mcp-grpc call {_ADDRESS} greet -d '{{\"name\": \"Ada\"}}'\n"
        "mcp-grpc COMMAND --help    # each command's flags and an example"
    ),
    "serve": (
        "mcp-grpc serve examples/quickstart/server.py:app --insecure-local --port 50051\n"
        "mcp-grpc serve examples/demo/server.py:app --port 50051 --spiffe-socket /run/spire/agent.sock \\\n"
        "    --authz-dir authz/ --audit-log audit.jsonl --health-port 8081\n"
        "mcp-grpc serve examples/demo/server.py:app --spiffe-socket /run/spire/agent.sock \\\n"
        "    --authz-dir authz/ --shadow-authz-dir authz-next/ --audit-log audit.jsonl"
    ),
    "tools": f"mcp-grpc tools {_ADDRESS}\nmcp-grpc tools {_ADDRESS} --json {_AS_AGENT}",
    "describe": f"mcp-grpc describe {_ADDRESS} greet",
    "call": (
        f"mcp-grpc call {_ADDRESS} greet -d '{{\"name\": \"Ada\"}}'\n"
        f"mcp-grpc call {_ADDRESS} refund -d @refund.json -H 'mcp-authz-consistency: HIGHER_CONSISTENCY' \\\n"
        f"    {_AS_AGENT}\n"
        f"echo '{{\"n\": 3}}' | mcp-grpc call {_ADDRESS} count_to -d @- --progress"
    ),
    "resources": f"mcp-grpc resources {_ADDRESS}",
    "read": f"mcp-grpc read {_ADDRESS} notes://welcome.md",
    "prompts": f"mcp-grpc prompts {_ADDRESS}",
    "prompt": f"mcp-grpc prompt {_ADDRESS} review -d '{{\"topic\": \"gRPC\"}}'",
    "complete": (
        f"mcp-grpc complete {_ADDRESS} --resource 'notes://{{name}}' name we\n"
        f"mcp-grpc complete {_ADDRESS} --prompt review topic gr"
    ),
    "proto-path": 'mcp-grpc proto-path\npython -m grpc_tools.protoc -I "$(mcp-grpc proto-path)" -I protos --python_out=gen protos/storage.proto',
    "bridge": (
        f"mcp-grpc bridge {_ADDRESS} --stdio --insecure-local\n"
        f"mcp-grpc bridge {_ADDRESS} --http 8000 {_AS_AGENT}"
    ),
    "identity": (
        "mcp-grpc identity dev --trust-domain example.org --socket-dir /tmp/spiffe \\\n"
        "    --workload agent=spiffe://example.org/ns/dev/sa/agent\n"
        "mcp-grpc identity admin --socket-dir /tmp/spiffe status"
    ),
    "identity admin": "mcp-grpc identity admin --socket-dir /tmp/spiffe status",
    "identity admin status": "mcp-grpc identity admin --socket-dir /tmp/spiffe status",
    "identity admin rotate-ca": "mcp-grpc identity admin --socket-dir /tmp/spiffe rotate-ca --step prepare",
    "identity admin remove-identity": "mcp-grpc identity admin --socket-dir /tmp/spiffe remove-identity agent",
    "identity admin restore-identity": "mcp-grpc identity admin --socket-dir /tmp/spiffe restore-identity agent",
    "identity admin rotate-svid": "mcp-grpc identity admin --socket-dir /tmp/spiffe rotate-svid agent",
    "authz": "mcp-grpc authz test authz/demo.fga.yaml\nmcp-grpc authz who-can examples/demo/server.py:app refund",
    "authz test": "mcp-grpc authz test authz/demo.fga.yaml --json",
    "authz check": (
        "mcp-grpc authz check --model authz/model.fga --tuples authz/tuples.yaml --context '{\"amount\": 50}' \\\n"
        "    agent:example.org/ns/mcp-tools/sa/billing-agent can_refund ledger:payments"
    ),
    "authz list-objects": (
        "mcp-grpc authz list-objects --model authz/model.fga --tuples authz/tuples.yaml \\\n"
        "    agent:example.org/ns/mcp-tools/sa/billing-agent can_call tool"
    ),
    "authz list-users": (
        "mcp-grpc authz list-users --model authz/model.fga --tuples authz/tuples.yaml \\\n"
        "    tool:payments/refund can_call --user-filter agent"
    ),
    "authz explain": (
        "mcp-grpc authz explain --model authz/model.fga --tuples authz/tuples.yaml --context '{\"amount\": 500}' \\\n"
        "    agent:example.org/ns/mcp-tools/sa/billing-agent can_refund ledger:payments"
    ),
    "authz who-can": "mcp-grpc authz who-can examples/demo/server.py:app refund --authz-dir authz/",
    "authz what-can": (
        "mcp-grpc authz what-can examples/demo/server.py:app spiffe://example.org/ns/mcp-tools/sa/support-agent"
    ),
    "authz diff": (
        "mcp-grpc authz diff audit.jsonl --authz-dir authz-next/\n"
        "mcp-grpc authz diff audit.jsonl --model authz-next/model.fga --tuples authz-next/tuples.yaml --json"
    ),
}


def _walk(parser: argparse.ArgumentParser, path: str):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, f"{path} {name}".strip())


def attach_examples(parser: argparse.ArgumentParser) -> None:
    """Add each command's example to its help (as ``example:`` lines at the end)."""
    for path, command in _walk(parser, ""):
        example = EXAMPLES.get(path)
        if example is None or "example" in (command.epilog or ""):
            continue
        lines = "\n".join(f"  {line}" for line in example.splitlines())
        heading = "examples:" if len(example.splitlines()) > 1 else "example:"
        command.epilog = ((command.epilog + "\n\n") if command.epilog else "") + f"{heading}\n{lines}"
        if command.formatter_class is argparse.HelpFormatter:
            command.formatter_class = argparse.RawDescriptionHelpFormatter
