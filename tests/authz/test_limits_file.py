"""The security team's limits.yaml: strict parsing with file:line errors, and reloading like the model and tuples."""

from __future__ import annotations

import os
import pathlib

import pytest

from mcp_grpc.authz.limits import LimitPolicy, LimitsFile, LimitsFileError, load_limits, parse_limits
from mcp_grpc.contract import ConcurrencyLimit, LimitScope, RateLimit
from mcp_grpc.server.call import Rejected
from mcp_grpc.server.limits import Limiter
from tests.support.calls import principal

GOOD = """\
rate_limits:
  - name: every-caller
    per: principal
    rate: 20
    burst: 40
  - per: principal_tool
    tool: transfer_funds
    principal: spiffe://example.org/ns/prod/sa/billing
    rate: 0.5
  - per: team
    team: team:finance#member
    rate: 10
concurrency:
  - max: 4
when_store_unavailable:
  read_only: refuse
  other: allow
"""


def test_a_full_file_parses_into_limits():
    policy = parse_limits(GOOD, "limits.yaml")
    assert policy.rates == (
        RateLimit(20, 40, LimitScope.PRINCIPAL, name="every-caller"),
        RateLimit(0.5, 1, LimitScope.PRINCIPAL_TOOL, principal="spiffe://example.org/ns/prod/sa/billing",
                  tool="transfer_funds", name="rate_limits[1]"),
        RateLimit(10, 10, LimitScope.TEAM, team="team:finance#member", name="rate_limits[2]"),
    )
    assert policy.concurrency == (ConcurrencyLimit(4, name="concurrency[0]"),)
    assert (policy.read_only_open, policy.other_open) == (False, True)
    assert parse_limits("", "limits.yaml") == LimitPolicy()  # an empty file limits nothing
    assert parse_limits("# only comments\n", "x") == LimitPolicy()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("rate_limits:\n  - per: principal\n    rate: 0\n", "limits.yaml:3: rate_limits[0]: rate must be a number"),
        ("rate_limits:\n  - per: principal\n    rate: '5'\n", "limits.yaml:3: rate_limits[0]: rate must be"),
        ("rate_limits:\n  - per: principal\n    rate: 1\n    burst: 1.5\n", "limits.yaml:4: rate_limits[0]: burst"),
        ("rate_limits:\n  - per: principal\n    rate: 1\n    burst: true\n", "limits.yaml:4: rate_limits[0]: burst"),
        ("rate_limits:\n  - per: everyone\n    rate: 1\n", "limits.yaml:2: rate_limits[0]: per must be one of"),
        ("rate_limits:\n  - rate: 1\n", "limits.yaml:2: rate_limits[0]: missing per"),
        ("rate_limits:\n  - per: tool\n", "limits.yaml:2: rate_limits[0]: missing rate"),
        ("rate_limits:\n  - per: team\n    rate: 1\n", "limits.yaml:2: rate_limits[0]: a limit per team needs team"),
        ("rate_limits:\n  - per: team\n    rate: 1\n    team: finance\n", "limits.yaml:4: rate_limits[0]: team must"),
        ("rate_limits:\n  - per: tool\n    rate: 1\n    tol: x\n", "limits.yaml:4: rate_limits[0]: unknown key 'tol'"),
        ("rate_limits:\n  - per: tool\n    rate: 1\n    tool: 7\n", "limits.yaml:4: rate_limits[0]: tool must be"),
        ("rate_limits:\n  - per: principal\n    rate: 1\n    principal: billing\n",
         "limits.yaml:4: rate_limits[0]: principal must be a SPIFFE ID"),
        ("rate_limits:\n  - name: a\n    per: tool\n    rate: 1\nconcurrency:\n  - name: a\n    max: 1\n",
         "limits.yaml:6: concurrency[0]: the name 'a' is also the name of rate_limits[0]"),
        ("rate_limits:\n  per: tool\n", "limits.yaml:1: rate_limits: expected a list, found a mapping"),
        ("rate_limits:\n  - 5\n", "limits.yaml:2: rate_limits[0]: expected a mapping, found a number"),
        ("concurrency:\n  - max: 0\n", "limits.yaml:2: concurrency[0]: max must be a whole number >= 1"),
        ("concurrency:\n  - tool: x\n", "limits.yaml:2: concurrency[0]: missing max"),
        ("when_store_unavailable:\n  read_only: maybe\n", "limits.yaml:2: when_store_unavailable: read_only must be"),
        ("when_store_unavailable:\n  writes: allow\n", "limits.yaml:2: when_store_unavailable: unknown key 'writes'"),
        ("ratelimits: []\n", "limits.yaml:1: unknown key 'ratelimits'"),
        ("- per: tool\n", "limits.yaml:1: expected a mapping of rate_limits"),
        ("rate_limits: [\n", "limits.yaml:2: invalid YAML"),
        ("rate_limits:\n  - per: tool\n    per: principal\n    rate: 1\n", "limits.yaml:3: invalid YAML: found a duplicate"),
    ],
)
def test_a_malformed_file_names_the_file_the_line_and_the_fault(text, error):
    with pytest.raises(LimitsFileError) as raised:
        parse_limits(text, "limits.yaml")
    assert str(raised.value).startswith(error), str(raised.value)


def test_an_unreadable_file_says_why(tmp_path: pathlib.Path):
    with pytest.raises(LimitsFileError, match="no such file"):
        load_limits(tmp_path / "limits.yaml")
    (tmp_path / "bad.yaml").write_bytes(b"\xff\xfe")
    with pytest.raises(LimitsFileError, match="not UTF-8"):
        load_limits(tmp_path / "bad.yaml")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rewrite(path: pathlib.Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a new mtime even within the file system's resolution


async def test_the_file_is_reloaded_when_it_changes_and_a_broken_version_keeps_the_last_good(tmp_path, caplog):
    path = tmp_path / "limits.yaml"
    _rewrite(path, "rate_limits:\n  - name: a\n    per: principal\n    rate: 1\n")
    clock = Clock()
    limits = LimitsFile(path, reload_interval=1.0, clock=clock)
    assert [r.name for r in limits.policy.rates] == ["a"]
    _rewrite(path, "rate_limits:\n  - name: b\n    per: principal\n    rate: 1\n")
    assert not await limits.maybe_reload()  # within the interval: not even a stat
    clock.now += 1.5
    assert await limits.maybe_reload()
    assert [r.name for r in limits.policy.rates] == ["b"] and limits.generation == 2
    _rewrite(path, "rate_limits:\n  - name: c\n    per: nobody\n    rate: 1\n")
    clock.now += 1.5
    assert not await limits.maybe_reload()
    assert [r.name for r in limits.policy.rates] == ["b"]
    assert limits.last_error is not None and f"{path}:3: rate_limits[0]: per must be" in limits.last_error
    assert "previous version keeps serving" in caplog.text
    clock.now += 1.5
    assert not await limits.maybe_reload()  # the same broken file is not parsed again


async def test_the_limiter_follows_a_reloaded_file(tmp_path):
    path = tmp_path / "limits.yaml"
    _rewrite(path, "rate_limits:\n  - name: a\n    per: principal\n    rate: 0.01\n    burst: 1\n")
    clock = Clock()
    limiter = Limiter(LimitsFile(path, clock=clock))
    caller = principal()
    await limiter.admit(caller, "echo", None)
    with pytest.raises(Rejected) as refused:
        await limiter.admit(caller, "echo", None)
    assert refused.value.decision.value == "limited"
    _rewrite(path, "rate_limits: []\n")  # the security team lifts the limit
    clock.now += 2
    for _ in range(3):
        await limiter.admit(caller, "echo", None)
