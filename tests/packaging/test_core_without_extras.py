"""The core really works without the optional extras: in processes where the extras' modules cannot be imported
(a sitecustomize puts ``None`` in ``sys.modules`` for each, as an install without them would fail), the development
Workload API starts, ``mcp_grpc.server``, ``mcp_grpc.client`` and ``mcp_grpc.cli`` import, and one call is served
over mTLS with the embedded engine and audit; and each part that needs an extra says which one to install."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

# What pyproject.toml's extras bring (bridge, otel, openfga, conditions), as the modules the code imports.
BLOCKED = ("mcp", "mcp_types", "anyio", "opentelemetry.sdk", "openfga_sdk", "cel", "cel_expr_python")
TRUST_DOMAIN = "core.example"
SERVER_DNS_NAME = "core-server.local"
AGENT = f"spiffe://{TRUST_DOMAIN}/agent"

SERVE_ONE_CALL = textwrap.dedent("""
    import asyncio, json, pathlib, sys

    import mcp_grpc.cli.main
    import mcp_grpc.client
    import mcp_grpc.server
    from mcp_grpc.client import ClientIdentity
    from mcp_grpc.server import McpApp
    from mcp_grpc.server.runtime import Server, ServerConfig
    from mcp_grpc.server.security import ServerIdentity, authorizer_from_authz_dir, json_audit_sink

    BLOCKED = {blocked!r}
    sockets, authz_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    mcp_grpc.cli.main.build_parser()  # every command group registers

    async def main():
        app = McpApp("core")

        @app.tool()
        async def echo(text: str) -> str:
            return text

        @app.resource("notes://{{name}}")
        async def note(name: str) -> str:
            return "note " + name

        identity = ServerIdentity.from_workload_api(str(sockets / "server.sock"))
        audit = json_audit_sink(str(authz_dir / "audit.log"))
        server = Server(app, ServerConfig(
            port=0, **identity.config_fields(), authorizer=authorizer_from_authz_dir(authz_dir),
            audit_sink=audit, handle_signals=False, drain_seconds=0.5))
        await server.start()
        agent = ClientIdentity.from_workload_api(str(sockets / "agent.sock"), server_dns_name={dns!r})
        client = agent.client(f"127.0.0.1:{{server.port}}")
        try:
            result = await client.call_tool("echo", {{"text": "hi"}})
        finally:
            await client.close()
            await agent.aclose()
            await server.stop(0)
            audit.close()
            identity.close()
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED and sys.modules[name] is not None)
        loaded += [name for name in BLOCKED if sys.modules.get(name) is not None]
        # resource templates are the core's own (RFC 6570 matching and expansion without the SDK)
        template = app.resource_templates["notes://{{name}}"].template
        routed = [template.match("notes://a%20b"), template.expand({{"name": "a/b"}})]
        print(json.dumps({{"is_error": result.is_error, "text": result.text, "routed": routed, "loaded": loaded}}))

    asyncio.run(main())
""")

MODEL = """\
model
  schema 1.1

type agent

type tool
  relations
    define can_call: [agent]
"""


@pytest.fixture(scope="module")
def blocked_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a process in which the extras' modules are not importable."""
    site = tmp_path_factory.mktemp("no-extras")
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        f"for _name in {BLOCKED!r}:\n"
        "    sys.modules[_name] = None  # import of an extra's module: ModuleNotFoundError, as when not installed\n"
    )
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(REPO_ROOT)]), PYTHONWARNINGS="ignore")


def _run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_blocker_blocks(blocked_env: dict[str, str]) -> None:
    probe = _run(blocked_env, "-c", "import mcp")
    assert probe.returncode == 1 and "ModuleNotFoundError" in probe.stderr


def test_serving_one_call_needs_no_extra(blocked_env: dict[str, str], tmp_path: pathlib.Path) -> None:
    sockets, authz_dir = tmp_path / "spiffe", tmp_path / "authz"
    authz_dir.mkdir()
    (authz_dir / "model.fga").write_text(MODEL)
    (authz_dir / "tuples.yaml").write_text(
        f"- {{user: 'agent:{AGENT.removeprefix('spiffe://')}', relation: can_call, object: 'tool:core/echo'}}\n"
    )
    workload_api = subprocess.Popen(
        [sys.executable, "-m", "mcp_grpc", "identity", "dev", "--trust-domain", TRUST_DOMAIN,
         "--socket-dir", str(sockets), "--workload", f"server=spiffe://{TRUST_DOMAIN}/server",
         "--dns-name", f"server={SERVER_DNS_NAME}", "--workload", f"agent={AGENT}", "--log-level", "warning"],
        env=blocked_env, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not all((sockets / name).exists() for name in ("server.sock", "agent.sock")):
            assert workload_api.poll() is None, f"identity dev exited: {workload_api.stderr.read()}"
            assert time.monotonic() < deadline, "identity dev did not start"
            time.sleep(0.05)
        script = SERVE_ONE_CALL.format(blocked=BLOCKED, dns=SERVER_DNS_NAME)
        served = _run(blocked_env, "-c", script, str(sockets), str(authz_dir), timeout=120)
    finally:
        workload_api.terminate()
        workload_api.wait(10)
    assert served.returncode == 0, served.stderr[-3000:]
    report = json.loads(served.stdout.strip().splitlines()[-1])
    assert report == {"is_error": False, "text": "hi", "routed": [{"name": "a b"}, "notes://a%2Fb"], "loaded": []}
    decisions = [json.loads(line) for line in (authz_dir / "audit.log").read_text().splitlines()]
    assert [(d["principal"], d["proven_by"], d["target"], d["decision"]) for d in decisions] == [
        (AGENT, "x509", "echo", "allow")
    ]


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("import mcp_grpc.bridge", "bridge"),
        ("from mcp_grpc.bridge import mount_official", "bridge"),
        ("import mcp_grpc.bridge.gateway", "bridge"),
        ("import mcp_grpc.sdk", "bridge"),
        ("import mcp_grpc.client.as_mcp", "bridge"),
        ("import mcp_grpc.authz.remote", "openfga"),
        ("from mcp_grpc.server.telemetry import install_console_exporters; install_console_exporters()", "otel"),
        ("from mcp_grpc.server.exporters import install_exporters; install_exporters(console=True)", "otel"),
        ("from mcp_grpc.authz.engine.conditions import compile_condition;"
         "compile_condition('c', {'expression': 'x < 3', 'parameters': {'x': {'type_name': 'TYPE_NAME_INT'}}})",
         "conditions"),
    ],
)
def test_a_part_that_needs_an_extra_names_it(blocked_env: dict[str, str], code: str, extra: str) -> None:
    failed = _run(blocked_env, "-c", code)
    assert failed.returncode == 1
    assert f"pip install 'mcp-grpc[{extra}]'" in failed.stderr, failed.stderr[-2000:]
    assert "MissingExtra" in failed.stderr or "ExporterMissing" in failed.stderr


def test_the_bridge_command_exits_2_naming_the_extra(blocked_env: dict[str, str]) -> None:
    bridge = _run(blocked_env, "-m", "mcp_grpc", "bridge", "127.0.0.1:1", "--stdio")
    assert bridge.returncode == 2, bridge.stderr
    assert "the bridge needs the official MCP SDK (mcp): pip install 'mcp-grpc[bridge]'" in bridge.stderr
    assert "Traceback" not in bridge.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--openfga-url", "http://127.0.0.1:1", "--openfga-store", "01HV"],
         "the remote OpenFGA backend needs the OpenFGA SDK (openfga-sdk): pip install 'mcp-grpc[openfga]'"),
        # the demo model declares conditions
        (["--authz-dir", "authz", "--insecure-local"],
         "an authorization model with conditions needs the CEL type checker (cel-expr-python): "
         "pip install 'mcp-grpc[conditions]'"),
    ],
)
def test_serve_exits_2_naming_the_extra(blocked_env: dict[str, str], args: list[str], message: str) -> None:
    serve = _run(blocked_env, "-m", "mcp_grpc", "serve", "examples.demo.server:app", "--port", "0", *args)
    assert serve.returncode == 2, serve.stderr
    assert f"mcp-grpc serve: error: {message}" in serve.stderr
    assert "Traceback" not in serve.stderr


def test_with_the_extras_installed_the_bridge_imports() -> None:
    pytest.importorskip("mcp")
    import mcp_grpc.bridge

    assert callable(mcp_grpc.bridge.mount_official)
