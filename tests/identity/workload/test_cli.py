"""`mcp-grpc identity dev` flag validation: every bad flag gets exit code 2 and a message naming it."""

from __future__ import annotations

import pathlib

import pytest

from mcp_grpc.cli.identity_commands import UsageError, parse_duration
from mcp_grpc.cli.main import main
from tests.support.certfactory import make_ca

OK = ["--workload", "a=spiffe://example.org/ns/a"]


@pytest.fixture()
def sockets(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "s"


def run(capsys: pytest.CaptureFixture[str], sockets: pathlib.Path, *args: str) -> str:
    code = main(["identity", "dev", "--socket-dir", str(sockets), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    return err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--trust-domain", "Example.org", *OK], "--trust-domain: trust domain 'Example.org' must be lowercase"),
        (["--trust-domain", "spiffe://example.org", *OK], "must be a bare name"),
        (["--trust-domain", "example.org"], "--workload: at least one NAME=SPIFFE_ID is required"),
        (["--trust-domain", "example.org", "--workload", "a"], "--workload: expected NAME=SPIFFE_ID"),
        (["--trust-domain", "example.org", "--workload", "a/b=spiffe://example.org/x"], "name 'a/b' must be"),
        (["--trust-domain", "example.org", *OK, *OK], "name 'a' is given twice"),
        (["--trust-domain", "example.org", "--workload", "a=spiffe://other.org/x"], "not in trust domain"),
        (["--trust-domain", "example.org", "--workload", "a=spiffe://example.org/x/../y"],
         "--workload a: SPIFFE ID 'spiffe://example.org/x/../y' is not valid: path '/x/../y' has a '..' segment"),
        (["--trust-domain", "example.org", *OK, "--dns-name", "b=x.example.org"], "--dns-name: no --workload named 'b'"),
        (["--trust-domain", "example.org", *OK, "--dns-name", "a=bad_name!"], "not a valid DNS host name"),
        (["--trust-domain", "example.org", *OK, "--x509-ttl", "1x"], "--x509-ttl: '1x' is not a duration"),
        (["--trust-domain", "example.org", *OK, "--jwt-ttl", "0s"], "--jwt-ttl: the duration must be positive"),
        (["--trust-domain", "example.org", *OK, "--x509-ttl", "1s"], "--x509-ttl: must be at least 2s"),
        (["--trust-domain", "example.org", *OK, "--x509-ttl", "10s", "--ca-ttl", "15s"], "--ca-ttl: 15s must be at least twice"),
        (["--trust-domain", "example.org", *OK, "--federate", "example.org=x.pem"], "--federate: example.org is our own"),
        (["--trust-domain", "example.org", *OK, "--federate", "other.org"], "--federate: expected TRUST_DOMAIN=BUNDLE_FILE"),
        (["--trust-domain", "example.org", *OK, "--federate", "other.org=/nonexistent/b.pem"], "cannot read federated bundle"),
        (["--trust-domain", "example.org", *OK, "--ca-cert", "x.pem"], "--ca-cert and --ca-key go together"),
    ],
)
def test_bad_flags(capsys, sockets, args, message) -> None:
    assert message in run(capsys, sockets, *args)


def test_bad_ca_files(capsys, sockets, tmp_path: pathlib.Path) -> None:
    cert, key = make_ca("example.org").pems()
    _, other_key = make_ca("other.org").pems()
    leaf_cert, leaf_key = make_ca("example.org", ca=False).pems()
    for name, data in {"ca.pem": cert, "other.key": other_key, "leaf.pem": leaf_cert, "leaf.key": leaf_key,
                       "junk.pem": b"junk"}.items():
        (tmp_path / name).write_bytes(data)
    base = ["--trust-domain", "example.org", *OK]
    assert "--ca-cert: cannot read" in run(capsys, sockets, *base, "--ca-cert", str(tmp_path / "no.pem"),
                                           "--ca-key", str(tmp_path / "other.key"))
    assert "does not match" in run(capsys, sockets, *base, "--ca-cert", str(tmp_path / "ca.pem"),
                                   "--ca-key", str(tmp_path / "other.key"))
    assert "CA=false" in run(capsys, sockets, *base, "--ca-cert", str(tmp_path / "leaf.pem"),
                             "--ca-key", str(tmp_path / "leaf.key"))
    assert "not a PEM certificate" in run(capsys, sockets, *base, "--ca-cert", str(tmp_path / "junk.pem"),
                                          "--ca-key", str(tmp_path / "other.key"))
    (tmp_path / "ca.key").write_bytes(key)
    assert "--ca-ttl: applies to the generated CA only" in run(
        capsys, sockets, *base, "--ca-cert", str(tmp_path / "ca.pem"), "--ca-key", str(tmp_path / "ca.key"),
        "--ca-ttl", "1h")


def test_bad_federation_file(capsys, sockets, tmp_path: pathlib.Path) -> None:
    (tmp_path / "fed.pem").write_text("not a bundle")
    (tmp_path / "fed.json").write_text('{"keys": [{"use": "jwt-svid", "kty": "EC"}]}')
    base = ["--trust-domain", "example.org", *OK]
    assert "neither PEM certificates nor a SPIFFE bundle" in run(
        capsys, sockets, *base, "--federate", f"other.org={tmp_path / 'fed.pem'}")
    assert "malformed" in run(capsys, sockets, *base, "--federate", f"other.org={tmp_path / 'fed.json'}")


def test_socket_dir_too_long_for_a_unix_socket(capsys, tmp_path: pathlib.Path) -> None:
    long_dir = tmp_path / ("d" * 120)
    err = run(capsys, long_dir, "--trust-domain", "example.org", *OK)
    assert "--socket-dir:" in err and "107-byte limit" in err


@pytest.mark.parametrize("text, seconds", [("10s", 10), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("7", 7)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration("--x", text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1x", "m5", "1h 5m", "-5s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--x"):
        parse_duration("--x", text)


def test_help_documents_the_controls(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["identity", "dev", "--help"])
    out = capsys.readouterr().out
    for flag in ("--ca-ttl", "--ca-rotation", "--state-dir", "--admin-socket", "SIGHUP", "_admin.sock",
                 "--ca-activation-delay", "bundle.spiffe.json"):
        assert flag in out


def test_admin_reports_an_unreachable_server(capsys, tmp_path: pathlib.Path) -> None:
    assert main(["identity", "admin", "--socket-dir", str(tmp_path), "status"]) == 1
    assert "cannot reach the development Workload API admin socket" in capsys.readouterr().err
