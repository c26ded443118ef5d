"""bench/limits_path.py runs: every scenario admitted its calls (no timing is asserted)."""

from __future__ import annotations

from bench.limits_path import measure


async def test_the_limits_bench_times_every_scenario() -> None:
    results = await measure(200)
    for name in ("pipeline_no_limits", "no_limits", "memory_one_limit", "memory_three_limits_and_a_cap"):
        assert results[name]["iterations"] == 200 and results[name]["p50_us"] > 0, name
    redis = results["redis_one_limit"]
    assert "skipped" in redis or redis["iterations"] == 100
