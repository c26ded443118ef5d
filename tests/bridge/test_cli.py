"""``mcp-grpc bridge``: its help says whose identity calls carry; bad setups fail fast with a precise message."""

from __future__ import annotations

import pytest

from mcp_grpc.bridge.gateway import is_local_address
from mcp_grpc.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["bridge", *argv])
    return code, capsys.readouterr().err


def test_help_says_calls_are_authorized_as_the_bridge(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as done:
        main(["bridge", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "every call made through it is authorized AS THE BRIDGE" in text
    assert "--spiffe-socket" in text and "--server-dns-name" in text and "--insecure-local" in text


def test_a_transport_is_required(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as done:
        main(["bridge", "127.0.0.1:50051", "--insecure-local"])
    assert done.value.code == 2
    assert "one of the arguments --stdio --http is required" in capsys.readouterr().err


def test_no_identity_is_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SPIFFE_ENDPOINT_SOCKET", raising=False)
    code, err = _run(capsys, "127.0.0.1:50051", "--stdio")
    assert code == 2
    assert "the bridge needs an identity: pass --spiffe-socket PATH" in err


def test_plaintext_to_a_remote_server_is_refused(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "10.1.2.3:50051", "--insecure-local", "--stdio")
    assert code == 2
    assert "--insecure-local dials plaintext and is allowed only to a loopback address or a Unix socket" in err


def test_mtls_needs_the_servers_dns_name(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "tools.example.org:443", "--spiffe-socket", "/nonexistent/agent.sock", "--stdio")
    assert code == 2 and "--server-dns-name is required with --spiffe-socket" in err


def test_both_identities_at_once_are_refused(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "127.0.0.1:1", "--insecure-local", "--spiffe-socket", "/x.sock", "--stdio")
    assert code == 2 and "choose one of --insecure-local and --spiffe-socket" in err


def test_http_on_a_non_loopback_host_needs_an_explicit_flag(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "127.0.0.1:50051", "--insecure-local", "--http", "0", "--host", "0.0.0.0")
    assert code == 2
    assert "refusing to listen on 0.0.0.0" in err and "--allow-remote-clients" in err


def test_an_unusable_http_port_is_reported(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "127.0.0.1:50051", "--insecure-local", "--http", "70000")
    assert code == 2 and "70000" in err


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1:50051", True),
        ("localhost:50051", True),
        ("[::1]:50051", True),
        ("unix:/tmp/mcp.sock", True),
        ("unix:///tmp/mcp.sock", True),
        ("ipv4:127.0.0.1:1,127.0.0.2:2", True),
        ("dns:///localhost:50051", True),
        ("ipv4:127.0.0.1:1,10.0.0.1:2", False),
        ("10.0.0.1:50051", False),
        ("tools.example.org:443", False),
        ("[2001:db8::1]:443", False),
        ("127.0.0.1", False),
        ("", False),
    ],
)
def test_is_local_address(address: str, local: bool):
    assert is_local_address(address) is local


def test_a_malformed_address_is_refused_before_anything_is_dialled(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "no-port-here", "--spiffe-socket", "/nonexistent/agent.sock", "--server-dns-name",
                     "tools.example.org", "--stdio")
    assert code == 2 and "bad address 'no-port-here'" in err


def test_a_bad_allowed_host_is_refused_before_listening(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "127.0.0.1:50051", "--insecure-local", "--http", "0", "--allowed-host", "a b")
    assert code == 2 and "--allowed-host 'a b': expected NAME, NAME:PORT or NAME:*" in err


def test_forwarding_bearers_needs_http(capsys: pytest.CaptureFixture[str]):
    code, err = _run(capsys, "127.0.0.1:1", "--insecure-local", "--stdio", "--forward-bearer")
    assert code == 2 and "--forward-bearer needs --http" in err


@pytest.mark.parametrize(("value", "token"), [
    ("Bearer aaa.bbb.ccc", "aaa.bbb.ccc"), ("bearer  aaa.bbb.ccc ", "aaa.bbb.ccc"), ("Bearer aaa.bbb", None),
    ("Basic aaa.bbb.ccc", None), ("Bearer aaa.bbb.ccc\n", None), ("Bearer a.b.c.d", None), (None, None),
    ("Bearer " + "a" * 9000 + ".b.c", None),
])
def test_bearer_values_the_bridge_forwards(value, token):
    from mcp_grpc.bridge.bearer import bearer_token

    assert bearer_token(value) == token
