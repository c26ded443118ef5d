"""Every case of OpenFGA's conformance suite (../shared/conformance/openfga) on the embedded engine.

One pytest case per test and variant (stored tuples, and tuples sent as contextual tuples); a failure lists every
failing assertion of that test. ``engine_conformance.py`` is the runner (also a script that prints pass counts).
"""

from __future__ import annotations

import pytest

from tests.authz.engine import engine_conformance as conformance

if not conformance.CONFORMANCE_DIR.is_dir():
    pytest.skip(f"conformance data not found at {conformance.CONFORMANCE_DIR} "
                "(expected ../shared/conformance beside the repo)", allow_module_level=True)

CASES = conformance.load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_openfga_conformance(case: conformance.Case) -> None:
    outcomes = list(conformance.run_case(case))
    assert outcomes, "a conformance test with no assertions"
    failures = [o.detail for o in outcomes if not o.passed]
    assert not failures, "\n".join(failures)


def test_every_conformance_file_is_covered() -> None:
    """The totals the issue names: 1,183 checks, 520 ListObjects, 386 ListUsers (stored-tuple variant)."""
    counts = {"check": 0, "list_objects": 0, "list_users": 0}
    for case in CASES:
        if case.contextual:
            continue
        for stage in case.test["stages"]:
            counts["check"] += len(stage.get("checkAssertions") or [])
            counts["list_objects"] += len(stage.get("listObjectsAssertions") or [])
            counts["list_users"] += len(stage.get("listUsersAssertions") or [])
    assert counts == {"check": 1183, "list_objects": 520, "list_users": 386}


def test_own_parser_agrees_with_fga_cli_on_conformance_models() -> None:
    """Cross-check: the engine sees the same type system from the project's DSL parser as from
    ``fga model transform`` (the runner's fallback) for every conformance model."""
    try:
        from mcp_grpc.authz.model import parse_dsl
    except ImportError:
        pytest.skip("the DSL parser is not available; the runner uses the fga CLI directly")
    if not conformance.FGA_CLI.exists():
        pytest.skip("fga CLI not installed")
    from mcp_grpc.authz.engine import TypeSystem

    def view(model):
        ts = TypeSystem(model)
        conds = {n: (c.expression, {p: str(t) for p, t in c.parameters.items()}) for n, c in ts.conditions.items()}
        return ts.rewrites, {k: sorted(map(str, v)) for k, v in ts.direct_types.items() if v}, conds

    dsls = dict.fromkeys(stage["model"] for case in CASES for stage in case.test["stages"])
    mismatches = [dsl.splitlines()[:4] for dsl in dsls
                  if view(parse_dsl(dsl)) != view(conformance.fga_cli_transform(dsl))]
    assert not mismatches, mismatches
