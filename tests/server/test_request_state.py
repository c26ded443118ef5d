"""The sealed request_state of MRTR: the key ring and its file, rotation, expiry, size and single-use limits, each
refusal with its status (the end-to-end flows over gRPC are in test_input_requests.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import grpc
import pytest

from mcp_grpc.contract import AuditDecision
from mcp_grpc.server.request_state import RequestStateKeys, RequestStateSealer, StateRefused

CALL = dict(principal="spiffe://example.org/a", server="s", kind="tool", name="t", digest="d")


def issue(sealer: RequestStateSealer, **answers) -> str:
    return sealer.seal(sealer.new_claims(**CALL, round=1, answers=answers, asked={"k": "elicitation/create"}))


def test_a_state_opens_once_for_its_call_and_carries_its_answers():
    sealer = RequestStateSealer()
    token = issue(sealer, k={"action": "accept"})
    claims = sealer.open(token, **CALL)
    assert claims.answers == {"k": {"action": "accept"}} and claims.asked == {"k": "elicitation/create"}
    with pytest.raises(StateRefused, match="already used"):
        sealer.open(token, **CALL)


def test_keys_rotate_old_states_still_open_and_a_dropped_key_refuses():
    old, new = os.urandom(32), os.urandom(32)
    token = issue(RequestStateSealer(RequestStateKeys([old])))
    assert RequestStateSealer(RequestStateKeys([new, old])).open(token, **CALL).round == 1
    with pytest.raises(StateRefused, match="does not hold") as refused:
        RequestStateSealer(RequestStateKeys([new])).open(token, **CALL)
    assert refused.value.status is grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.decision is AuditDecision.INVALID_ARGUMENT


def test_an_expired_state_is_refused():
    now = [1000.0]
    sealer = RequestStateSealer(ttl=60, clock=lambda: now[0])
    token = issue(sealer)
    now[0] += 61
    with pytest.raises(StateRefused, match="expired 1s ago"):
        sealer.open(token, **CALL)


@pytest.mark.parametrize("field, value, status, text", [
    ("principal", "spiffe://example.org/b", grpc.StatusCode.PERMISSION_DENIED, "another caller"),
    ("server", "other", grpc.StatusCode.INVALID_ARGUMENT, "another server"),
    ("name", "other", grpc.StatusCode.INVALID_ARGUMENT, "different target"),
    ("digest", "other", grpc.StatusCode.INVALID_ARGUMENT, "different arguments"),
])
def test_each_binding_is_checked(field, value, status, text):
    sealer = RequestStateSealer()
    with pytest.raises(StateRefused, match=text) as refused:
        sealer.open(issue(sealer), **{**CALL, field: value})
    assert refused.value.status is status


@pytest.mark.parametrize("token, text", [
    ("", "unknown format"), ("v0.abc", "unknown format"), ("mgs1.!!!", "not base64url"),
    ("mgs1.AAAA", "truncated"), ("mgs1." + "A" * 60, "does not hold"),
])
def test_malformed_tokens_are_named(token, text):
    with pytest.raises(StateRefused, match=text):
        RequestStateSealer().open(token, **CALL)


def test_too_many_outstanding_states_is_resource_exhausted_and_too_many_answers_too():
    sealer = RequestStateSealer(max_outstanding=1)
    sealer.open(issue(sealer), **CALL)
    with pytest.raises(StateRefused) as full:
        sealer.open(issue(sealer), **CALL)
    assert full.value.status is grpc.StatusCode.RESOURCE_EXHAUSTED
    small = RequestStateSealer(max_bytes=200)
    with pytest.raises(StateRefused, match="over this server's limit") as big:
        issue(small, k={"action": "accept", "content": {"text": "x" * 500}})
    assert big.value.status is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_the_keys_file_names_the_bad_line_never_the_key(tmp_path):
    good = os.urandom(32)
    path = tmp_path / "keys"
    path.write_text(f"# sealing key first\n{good.hex()}\n\nnot-a-key-at-all\n")
    with pytest.raises(ValueError) as raised:
        RequestStateKeys.from_file(path)
    assert str(raised.value) == f"{path}:4: not a key: expected 64 hex digits or base64 of 32 bytes"
    path.write_text(f"{good.hex()}  # hex\n{__import__('base64').b64encode(os.urandom(32)).decode()}\n")
    RequestStateKeys.from_file(path)
    path.write_text("# nothing\n")
    with pytest.raises(ValueError, match="no request_state keys"):
        RequestStateKeys.from_file(path)
    with pytest.raises(ValueError, match="cannot read"):
        RequestStateKeys.from_file(tmp_path / "missing")


def test_serve_refuses_a_bad_keys_file_with_its_line(tmp_path):
    path = tmp_path / "keys"
    path.write_text("short\n")
    done = subprocess.run(
        [sys.executable, "-m", "mcp_grpc", "serve", "examples/quickstart/server.py:app", "--insecure-local",
         "--port", "0", "--request-state-keys", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert f"--request-state-keys: {path}:1: not a key" in done.stderr
