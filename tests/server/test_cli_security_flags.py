"""`mcp-grpc serve` refuses unsafe or inconsistent identity and authorization settings with a precise message."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO_ROOT

DEMO = "examples/demo/server.py:app"


def serve(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mcp_grpc", "serve", DEMO, "--port", "0", *flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin"},  # no SPIFFE_ENDPOINT_SOCKET from the environment
    )


@pytest.mark.parametrize(
    ("flags", "phrase"),
    [
        (("--spiffe-socket", "/nonexistent/agent.sock"), "no authorization configured"),
        (("--insecure-local", "--authz-dir", "authz", "--openfga-url", "http://127.0.0.1:1", "--openfga-store", "x"),
         "either --authz-dir or --openfga-url"),
        (("--insecure-local", "--openfga-url", "http://127.0.0.1:1"), "--openfga-url needs --openfga-store"),
        (("--insecure-local", "--openfga-url", "http://127.0.0.1:1", "--openfga-store", "not-a-ulid"),
         "bad OpenFGA settings"),
        (("--insecure-local", "--authz-dir", "no/such/dir"), "no such directory"),
        (("--spiffe-socket", "/nonexistent/agent.sock", "--no-authz"), "cannot get an X.509-SVID"),
        ((), "refusing to start without transport security"),
        (("--spiffe-socket", "/nonexistent/agent.sock", "--no-authz", "--client-auth", "jwt"),
         "--client-auth jwt needs --jwt-audience AUDIENCE"),
        (("--spiffe-socket", "/nonexistent/agent.sock", "--no-authz", "--jwt-delegate", "spiffe://example.org/p"),
         "--jwt-delegate needs --jwt-audience"),
        (("--spiffe-socket", "/nonexistent/agent.sock", "--no-authz", "--jwt-audience", "a", "--jwt-delegate",
          "spiffe://example.org/p/"), "--jwt-delegate 'spiffe://example.org/p/': "),
        (("--spiffe-socket", "/nonexistent/agent.sock", "--no-authz", "--jwt-audience", "a", "--jwt-max-lifetime",
          "0"), "--jwt-max-lifetime must be > 0 seconds"),
        (("--spiffe-socket", "/nonexistent/agent.sock", "--no-authz", "--max-connection-age", "0"),
         "--max-connection-age must be > 0 seconds"),
        (("--spiffe-socket", "/nonexistent/agent.sock", "--no-authz", "--max-connection-age-grace", "-1"),
         "--max-connection-age-grace must be >= 0 seconds"),
        (("--insecure-local", "--health-port-services"), "--health-port-services needs --health-port PORT"),
    ],
)
def test_serve_refuses_with_a_precise_reason(flags, phrase):
    done = serve(*flags)
    assert done.returncode == 2, done.stderr
    assert phrase in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_passes_reflection_and_health_port_choices_to_the_server():
    import argparse

    from mcp_grpc.cli import server_commands

    parser = argparse.ArgumentParser()
    server_commands.add_security_flags(parser)
    defaults = server_commands.server_security(parser.parse_args([]))
    chosen = server_commands.server_security(parser.parse_args(
        ["--no-reflection", "--health-port", "8081", "--health-port-services"]))
    assert (defaults["reflection"], defaults["health_port_services"]) == (None, False)
    assert (chosen["reflection"], chosen["health_port"], chosen["health_port_services"]) == (False, 8081, True)


MODEL = (REPO_ROOT / "authz" / "model.fga").read_text()
TUPLES = "- user: agent:example.org/ns/a\n  relation: member\n  object: team:finance\n"


@pytest.mark.parametrize(
    ("model", "files", "message"),
    [
        (MODEL.replace("define member: [agent, team#member]", "define member: [agnt, team#member]"),
         {"tuples.yaml": TUPLES}, "model.fga:11: 1 validation error: `agnt` is not a valid type."),
        (MODEL, {"tuples.yaml": "# first\n" + TUPLES + TUPLES.replace("relation: member", "relation: membr")},
         "tuples.yaml:5: tuple 1: invalid tuple team:finance#membr@agent:example.org/ns/a: relation team#membr not found"),
        (MODEL, {"tuples.yaml": TUPLES.replace("team:finance", "finance")},
         "tuples.yaml:3: tuple 0: 'object' 'finance' must be 'type:id'"),
        (MODEL, {"tuples.jsonl": '\n{"user": "agent:a", "relation": "member", "object": "team:x"}\n'
                                 '{"user": "agent:a", "relation": "reader", "object": "team:x"}\n'},
         "tuples.jsonl:3: tuple 1: invalid tuple team:x#reader@agent:a: relation team#reader not found"),
        (MODEL, {"tuples.yaml": TUPLES, "tuples-2.yaml": TUPLES},
         "tuples.yaml:1: tuple 0: cannot write a tuple which already exists: team:finance#member@"),  # after -2
    ],
    ids=["model-typo", "undefined-relation", "object-without-type", "jsonl-line", "duplicate-across-files"],
)
def test_serve_names_the_file_and_line_of_a_broken_authz_folder(tmp_path, model, files, message):
    (tmp_path / "model.fga").write_text(model)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = serve("--insecure-local", "--authz-dir", str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert f"mcp-grpc serve: --authz-dir {tmp_path}: {tmp_path}/" in done.stderr
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
