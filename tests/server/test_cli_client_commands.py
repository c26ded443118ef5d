"""The client commands against real servers: -d @file / @-, -H metadata, static certificates, describe, resources,
prompts, completions, MCP's JSON names, grpcurl's exit codes (64 + status) and the hints of a failed connection."""

from __future__ import annotations

import asyncio
import io
import json
import sys

import grpc
import pytest

from mcp_grpc.cli.main import main
from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.trust import StaticTrustBundles
from tests.server.server_support import HeaderAuthenticator, TableAuthorizer
from tests.support import certfactory as cf
from tests.support.servers import running

AGENT = "spiffe://example.org/ns/prod/sa/agent"


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


def test_version_is_the_distribution_version(capsys):
    from importlib import metadata

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"mcp-grpc {metadata.version('mcp-grpc')}"


async def test_call_reads_arguments_from_a_file_and_from_stdin(server, capsys, tmp_path, monkeypatch):
    arguments = tmp_path / "args.json"
    arguments.write_text('{"a": 2, "b": 5}')
    assert await cli("call", server.address, "add", "-d", f"@{arguments}") == 0
    assert json.loads(capsys.readouterr().out) == {"result": 7}

    monkeypatch.setattr(sys, "stdin", io.StringIO('{"a": 1, "b": 1}'))
    assert await cli("call", server.address, "add", "-d", "@-") == 0
    assert json.loads(capsys.readouterr().out) == {"result": 2}

    assert await cli("call", server.address, "add", "-d", f"@{tmp_path / 'absent.json'}") == 2
    assert f"cannot read {tmp_path / 'absent.json'}: No such file or directory" in capsys.readouterr().err

    monkeypatch.setattr(sys, "stdin", io.StringIO("[1]"))
    assert await cli("call", server.address, "add", "-d", "@-") == 2
    assert "-d @- (standard input) must be a JSON object, got an array" in capsys.readouterr().err


async def test_header_flags_arrive_as_call_metadata(server, observed, capsys):
    code = await cli(
        "call", server.address, "read_bucket", "-d", '{"bucket": "b"}',
        "-H", "mcp-authz-consistency: HIGHER_CONSISTENCY", "-H", "X-Trace:  abc ",
    )
    assert code == 0, capsys.readouterr().err
    assert observed.metadata[-1]["mcp-authz-consistency"] == "HIGHER_CONSISTENCY"
    assert observed.metadata[-1]["x-trace"] == "abc"  # keys are folded to lowercase, values trimmed


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("no-colon", "expected 'KEY: VALUE'"),
        ("bad key: v", "'bad key' is not a metadata key"),
        ("grpc-timeout: 1S", "'grpc-timeout' is not a metadata key"),
        ("x-bin: ***", "a -bin key takes a base64 value"),
    ],
)
async def test_bad_header_flags_print_the_usage_of_call(server, capsys, header, message):
    assert await cli("call", server.address, "echo", "-d", '{"text": "x"}', "-H", header) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mcp-grpc call ") and message in err


async def test_bad_json_prints_the_usage_of_call(server, capsys):
    assert await cli("call", server.address, "add", "--args", "{not json") == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mcp-grpc call ") and "-d is not valid JSON" in err


def test_a_stray_argument_prints_the_usage_of_call_not_the_top_level(capsys):
    with pytest.raises(SystemExit) as exited:  # the JSON given as a positional argument
        main(["call", "127.0.0.1:1", "add", '{"a": 1, "b": 2}'])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mcp-grpc call ") and "unrecognized arguments: {\"a\": 1, \"b\": 2}" in err


async def test_describe_prints_the_tool_in_mcp_json(server, capsys):
    assert await cli("describe", server.address, "echo") == 0
    tool = json.loads(capsys.readouterr().out)
    assert tool["name"] == "echo" and tool["description"] == "Say it back."
    assert tool["inputSchema"]["properties"]["text"]["description"] == "What to say back."
    assert tool["annotations"]["readOnlyHint"] is True

    assert await cli("describe", server.address, "nope") == 69
    assert "lists no tool 'nope' for this caller" in capsys.readouterr().err


async def test_resources_read_prompts_prompt_and_complete(server, capsys):
    assert await cli("resources", server.address) == 0
    listing = capsys.readouterr().out
    assert "config://app (application/json)  - The configuration." in listing
    assert "files://{+path}" in listing

    assert await cli("resources", server.address, "--json") == 0
    resources = json.loads(capsys.readouterr().out)
    assert {"uri": "config://app", "name": "app_config", "description": "The configuration.",
            "mimeType": "application/json"} in resources["resources"]
    assert "files://{+path}" in {item["uriTemplate"] for item in resources["resourceTemplates"]}

    assert await cli("read", server.address, "files://docs/a.txt") == 0
    assert capsys.readouterr().out == "content of docs/a.txt\n"
    assert await cli("read", server.address, "blobs://65", "--json") == 0
    (content,) = json.loads(capsys.readouterr().out)["contents"]
    assert content["blob"] == "QUFB"  # b"AAA" in base64
    assert await cli("read", server.address, "files://missing.txt") == 69
    assert "NOT_FOUND" in capsys.readouterr().err

    assert await cli("prompts", server.address) == 0
    assert "summarize(topic, length?)  - Summarize a topic." in capsys.readouterr().out
    assert await cli("prompt", server.address, "summarize", "-d", '{"topic": "gRPC", "length": "2"}') == 0
    assert capsys.readouterr().out == "[user] Summarize gRPC in 2 sentences.\n"
    assert await cli("prompt", server.address, "summarize", "-d", '{"topic": "gRPC"}', "--json") == 0
    assert json.loads(capsys.readouterr().out)["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Summarize gRPC in 3 sentences."}}
    ]
    assert await cli("prompt", server.address, "summarize", "-d", '{"topic": "x", "length": 2}') == 2
    assert "MCP prompt arguments are strings; 'length' is 2" in capsys.readouterr().err

    assert await cli("complete", server.address, "--prompt", "summarize", "topic", "gr", "--json") == 0
    assert json.loads(capsys.readouterr().out)["completion"]["values"] == ["grpc", "graphql"]


async def test_a_denial_exits_64_plus_permission_denied(app, capsys):
    authorizer = TableAuthorizer({(AGENT, "can_call", "tool:echo")})
    async with running(app, authorizer, authenticator=HeaderAuthenticator(), insecure_local=True) as server:
        as_agent = ("-H", f"x-test-identity: {AGENT}")
        assert await cli("call", server.address, "echo", "-d", '{"text": "hi"}', *as_agent) == 0
        assert capsys.readouterr().out.strip() == "hi"
        assert await cli("call", server.address, "add", "-d", '{"a": 1, "b": 2}', *as_agent) == 64 + 7
        assert "PERMISSION_DENIED" in capsys.readouterr().err
        assert await cli("tools", server.address) == 64 + 16  # no identity header: UNAUTHENTICATED
        assert "UNAUTHENTICATED" in capsys.readouterr().err


@pytest.fixture
def mtls(tmp_path):
    """A CA, a server SVID with a DNS SAN and a client SVID, written as PEM files."""
    ca = cf.make_ca("example.org")
    server_cert, server_key = ca.issue_leaf(
        "spiffe://example.org/ns/prod/sa/server", dns_names=["server.example.org"], with_eku=True
    )
    client_pem, client_key_pem = ca.mint([AGENT])
    files = {"cacert": cf.pem(ca.cert), "cert": client_pem, "key": client_key_pem}
    for name, data in files.items():
        (tmp_path / f"{name}.pem").write_bytes(data)
    credentials = grpc.ssl_server_credentials(
        [(cf.key_pem(server_key), cf.pem(server_cert))], root_certificates=cf.pem(ca.cert), require_client_auth=True
    )
    authenticator = SpiffeAuthenticator(StaticTrustBundles(x509_bundles={"example.org": [ca.cert]}))
    return {"dir": tmp_path, "credentials": credentials, "authenticator": authenticator}


async def test_static_certificates_call_an_mtls_server_and_plaintext_gets_a_hint(app, capsys, mtls):
    d = mtls["dir"]
    async with running(app, credentials=mtls["credentials"], authenticator=mtls["authenticator"]) as server:
        static = ("--cacert", str(d / "cacert.pem"), "--cert", str(d / "cert.pem"), "--key", str(d / "key.pem"),
                  "--server-dns-name", "server.example.org")
        assert await cli("call", server.address, "echo", "-d", '{"text": "over mTLS"}', *static) == 0
        assert capsys.readouterr().out.strip() == "over mTLS"

        # the same call in plaintext: the CLI says what is likely wrong, not only "Socket closed"
        assert await cli("call", server.address, "echo", "-d", '{"text": "x"}', "--timeout", "5") == 64 + 14
        err = capsys.readouterr().err
        assert "this call was plaintext" in err and "probably requires mTLS" in err and "--spiffe-socket" in err

        assert await cli("tools", server.address, "--cacert", str(d / "cacert.pem"), "--cert", str(d / "cert.pem")) == 2
        assert "--cert and --key go together" in capsys.readouterr().err
        assert await cli("tools", server.address, "--cacert", str(d / "nope.pem")) == 2
        assert f"--cacert {d / 'nope.pem'}: No such file or directory" in capsys.readouterr().err
        (d / "junk.pem").write_text("not a certificate")
        assert await cli("tools", server.address, "--cacert", str(d / "junk.pem")) == 2
        assert "not a PEM file" in capsys.readouterr().err


async def test_an_expired_client_certificate_is_refused_at_the_handshake_and_named_by_the_cli(app, capsys, mtls):
    """Issue 12, finding 14, as it is: grpcio's TLS handshake refuses an expired client certificate before any
    mcp-grpc code runs (its Python API has no mode that requests a certificate without verifying it), so the
    caller sees UNAVAILABLE and the server audits nothing. The CLI checks its own --cert first and says why."""
    import datetime

    from tests.server.server_support import ListAuditSink

    d = mtls["dir"]
    ca = cf.make_ca("example.org")
    server_cert, server_key = ca.issue_leaf(
        "spiffe://example.org/ns/prod/sa/server", dns_names=["server.example.org"], with_eku=True)
    expired_cert, expired_key = ca.issue_leaf(
        AGENT, with_eku=True, not_before=cf.now() - datetime.timedelta(hours=2),
        not_after=cf.now() - datetime.timedelta(hours=1))
    (d / "expired.pem").write_bytes(cf.pem(expired_cert))
    (d / "expired.key").write_bytes(cf.key_pem(expired_key))
    credentials = grpc.ssl_server_credentials(
        [(cf.key_pem(server_key), cf.pem(server_cert))], root_certificates=cf.pem(ca.cert), require_client_auth=True)
    authenticator = SpiffeAuthenticator(StaticTrustBundles(x509_bundles={"example.org": [ca.cert]}))
    sink = ListAuditSink()
    async with running(app, credentials=credentials, authenticator=authenticator, audit_sink=sink) as server:
        channel = grpc.aio.secure_channel(
            server.address, grpc.ssl_channel_credentials(cf.pem(ca.cert), cf.key_pem(expired_key), cf.pem(expired_cert)),
            options=[("grpc.ssl_target_name_override", "server.example.org")])
        async with channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await channel.unary_unary("/model_context_protocol.Mcp/ListTools")(b"", timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        await asyncio.sleep(0.2)
        assert sink.events == []  # no call reached the pipeline

        code = await cli("tools", server.address, "--cacert", str(d / "cacert.pem"), "--cert", str(d / "expired.pem"),
                         "--key", str(d / "expired.key"), "--server-dns-name", "server.example.org")
    assert code == 2
    err = capsys.readouterr().err
    assert f"--cert {d / 'expired.pem'}: the certificate expired at " in err and "handshake refuses it" in err


async def test_a_client_spiffe_socket_that_does_not_exist_fails_at_once(server, capsys, tmp_path):
    missing = tmp_path / "agent.sock"
    started = asyncio.get_running_loop().time()
    code = await cli("tools", server.address, "--spiffe-socket", str(missing), "--server-dns-name", "x.example.org")
    assert code == 2
    assert asyncio.get_running_loop().time() - started < 5  # not the Workload API source's 10 s of retries
    err = capsys.readouterr().err
    assert f"--spiffe-socket {missing}: no such socket" in err and "SPIFFE_ENDPOINT_SOCKET" in err
