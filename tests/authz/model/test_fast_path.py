"""The hand-written fast path must build exactly what the ANTLR parser builds, or decline.

Checked on every DSL text in the conformance data and on seeded random mutations of them (a bounded
sample here; the same generator runs longer by hand with MODEL_FUZZ_N).
"""

from __future__ import annotations

import functools
import os
import random
import time

import pytest
import yaml

from mcp_grpc.authz.model import clean_comments, parse_dsl, parse_dsl_with_errors
from mcp_grpc.authz.model._fast import fast_parse
from tests.support.paths import CONFORMANCE_DIR

LANG = CONFORMANCE_DIR / "openfga-language" / "tests" / "data"
ENGINE = CONFORMANCE_DIR / "openfga"
pytestmark = pytest.mark.skipif(not LANG.is_dir(), reason=f"conformance data not found at {LANG}")


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=1)
def _engine_models() -> list[str]:
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "model" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(ENGINE.rglob("*.yaml")) if ENGINE.is_dir() else []:
        walk(yaml.load(path.read_text(), Loader=_Loader))
    return sorted(set(found))


def _corpus(engine_sample: int | None) -> list[str]:
    texts = []
    for name in ("dsl-syntax-validation-cases.yaml", "dsl-semantic-validation-cases.yaml"):
        texts += [c["dsl"] for c in yaml.load((LANG / name).read_text(), Loader=_Loader)]
    texts += [p.read_text() for p in sorted(LANG.glob("transformer*/**/*.fga"))]
    engine = _engine_models()
    if engine_sample is not None and len(engine) > engine_sample:
        engine = random.Random(7).sample(engine, engine_sample)
    return texts + engine


def _same(text: str) -> bool | None:
    """None when the fast path declines; else whether it agrees with ANTLR (which must also find no error)."""
    quick = fast_parse(clean_comments(text))
    if quick is None:
        return None
    full = parse_dsl_with_errors(text, fast=False)
    model, modular, _module, extended = quick
    return not full.issues and model == full.model and modular == full.modular and extended == full.extended_types


def _check_corpus(engine_sample: int | None) -> None:
    served = 0
    for text in _corpus(engine_sample):
        verdict = _same(text)
        assert verdict is not False, f"fast path differs from ANTLR on:\n{text}"
        served += verdict is True
    assert served > 0


def test_fast_path_agrees_with_antlr_on_language_cases_and_sampled_engine_models() -> None:
    _check_corpus(engine_sample=25)


@pytest.mark.reliability
def test_fast_path_agrees_with_antlr_on_every_conformance_text() -> None:
    _check_corpus(engine_sample=None)


def test_fast_path_serves_every_valid_reference_model() -> None:
    # The fast path must carry the load: every transformer model and every engine-conformance model.
    for path in sorted(LANG.glob("transformer/*/authorization-model.fga")):
        assert fast_parse(clean_comments(path.read_text())) is not None, path
    for text in _engine_models():
        assert fast_parse(clean_comments(text)) is not None, text


_PIECES = [" ", "  ", "\t", "\n", "(", ")", "[", "]", ",", ":", "*", "#", "or", "and", "but not", "from", "with",
           "define", "type", "relations", "model", "condition", "}", "{", "-", ".", "/", "x", "1", '"', "//",
           "extend ", "module ", "in", "but", "not", "schema", "user", "#x"]


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(text) + 1)
        roll = rng.random()
        if roll < 0.4:
            text = text[:i] + rng.choice(_PIECES) + text[i:]
        elif roll < 0.7:
            text = text[:i] + text[i + rng.randint(1, 4):]
        else:
            j = rng.randrange(len(text) + 1)
            text = text[:i] + text[j:j + rng.randint(1, 8)] + text[i:]
    return text


def test_fast_path_agrees_with_antlr_on_mutated_models() -> None:
    seeds = [p.read_text() for p in sorted(LANG.glob("transformer*/**/*.fga"))]
    rng = random.Random(20261127)
    budget = int(os.environ.get("MODEL_FUZZ_N", "150"))
    deadline = time.monotonic() + float(os.environ.get("MODEL_FUZZ_SECONDS", "8"))
    checked = 0
    for _ in range(budget):
        if time.monotonic() > deadline:
            break
        text = _mutate(rng, rng.choice(seeds))
        assert _same(text) is not False, f"fast path differs from ANTLR on:\n{text!r}"
        checked += 1
    assert checked > 0


def test_fast_path_is_linear_on_long_names() -> None:
    # A name followed by a character no name rule accepts once made the name regex backtrack exponentially.
    text = "module core\n\ntype " + "a" * 5000 + "(a\n"
    started = time.monotonic()
    assert fast_parse(clean_comments(text)) is None
    assert time.monotonic() - started < 1.0
    with pytest.raises(Exception):
        parse_dsl(text)


@pytest.mark.parametrize(
    "text",
    [
        "model\n  schema 1.1\ntype user\n  relations\n    define in: [user]\n",  # keyword as a name
        "model\n  schema 1.1\ntype user\n  relations\n    define a: [user] or b and c\n",  # mixed operators
        "model\n  schema 1.1\ntype user\n  relations\n    define a: b or [user]\n",  # direct not first
        "model\n  schema 1.1\ntype user\n  relations\n    define a: [user]\n    define a: [user]\n",  # duplicate
        "model\n  schema 1.1\ntype user\n  relations\n",  # relations without define
        "model\n  schema 1.1\nextend type user\n",  # extend outside a module
        "model\n  schema 1.1\ntype u\ncondition c(x: int) {\n  x < 1 // note\n}\n",  # CEL comment is hidden
    ],
)
def test_fast_path_declines_what_it_must_not_decide(text: str) -> None:
    assert fast_parse(clean_comments(text)) is None


def test_fast_path_serves_and_agrees_on_random_models() -> None:
    from tests.authz.model.test_random_vs_fga_cli import random_model  # the shared seeded generator

    from mcp_grpc.authz.model import to_dsl

    rng = random.Random(5)
    for _ in range(int(os.environ.get("MODEL_FUZZ_N", "40"))):
        text = to_dsl(random_model(rng))
        assert fast_parse(clean_comments(text)) is not None, text
        assert _same(text) is True, text
