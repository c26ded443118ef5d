"""Differential test of model validation: random models, valid or not, accepted or refused alike by OpenFGA
(``fga model validate``, the server's own checks that ``fga model test`` applies) and by our loader.

Every disagreement fails: OpenFGA's server-side checks (typesystem.NewAndValidate) are ported in
mcp_grpc/authz/model/server_rules.py. More models: ``MCP_GRPC_MODEL_VALIDITY_MODELS=500``.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.authz.differential import fga_differential as differential

SAMPLE_MODELS = 30
FIRST_SEED = 0

needs_fga = pytest.mark.skipif(not differential.FGA_BINARY.exists(), reason="the fga CLI is not installed in .venv")


def _seeds() -> list[int]:
    count = int(os.environ.get("MCP_GRPC_MODEL_VALIDITY_MODELS", SAMPLE_MODELS))
    return list(range(FIRST_SEED, FIRST_SEED + count))


@needs_fga
@pytest.mark.parametrize("seed", _seeds())
def test_model_accepted_or_refused_like_openfga(seed, tmp_path):
    path = tmp_path / f"model-{seed}.fga"
    path.write_text(differential.generate_loose_model(seed), encoding="utf-8")
    fga_valid, fga_message = differential.fga_validates(path)
    our_valid, our_message = differential.we_validate(path)
    if fga_valid == our_valid:
        return
    pytest.fail(
        f"OpenFGA says {'valid' if fga_valid else 'invalid: ' + fga_message}; we say "
        f"{'valid' if our_valid else 'invalid: ' + our_message}\n{path.read_text()}"
    )


def test_the_generator_makes_both_valid_and_invalid_models():
    texts = [differential.generate_loose_model(seed) for seed in range(40)]
    assert len(set(texts)) == 40
    joined = "\n".join(texts)
    for feature in (" and ", " but not ", " from ", " or ", "#", ":*"):
        assert feature in joined
    # a relation naming itself appears (a cycle) and so does a name no type defines (r3 is rarely defined)
    assert any(re.search(r"define (r\d): .*\b\1\b(?! from)", text) for text in texts)
