"""Bad input to the parsers behind identity and authorization, property-based: only each one's own precise error.

Already covered elsewhere and not repeated here: ``parse_spiffe_id`` on random text and near misses
(tests/identity/validation/test_spiffeid.py); JWT-SVID tokens as random text, structured junk and validly
signed junk claims, and random peer-certificate bytes through the authenticator
(tests/identity/validation/test_fuzz.py). Here: trust domain names, ``TrustDomain.id`` paths, bearer
metadata and certificate chains through the authenticator, DSL and JSON authorization models (parse, validate and
print back), and relationship tuples written to and checked on the embedded engine.
"""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_grpc.authz.backend import Outcome, TupleKey
from mcp_grpc.authz.engine import Engine
from mcp_grpc.authz.engine.errors import FgaError
from mcp_grpc.authz.files import load_tuples
from mcp_grpc.authz.model import ModelError, load_model, parse_dsl, to_dsl
from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.workload_dev.ca import SvidAuthority
from mcp_grpc.identity.errors import IdentityError, JwtSvidError, SpiffeIdError
from mcp_grpc.identity.jwtsvid import bearer_token
from mcp_grpc.identity.spiffeid import TrustDomain, parse_spiffe_id, parse_trust_domain
from mcp_grpc.identity.trust import StaticTrustBundles
from mcp_grpc.contract import AuthenticationFailed
from tests.support.paths import AUTHZ_DIR

EXAMPLES = [pytest.param(60, id="short"), pytest.param(500, id="long", marks=pytest.mark.reliability)]
MODEL_TEXT = (AUTHZ_DIR / "model.fga").read_text()


def run(examples: int, strategy: st.SearchStrategy[Any], check: Any) -> None:
    """Run ``check`` on ``examples`` draws of ``strategy`` (the count comes from the short/long parameter)."""
    settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))(given(strategy)(check))()


# -- SPIFFE IDs and JWT bearer metadata ----------------------------------------------------------------------------

_ID_TEXT = st.text(max_size=80) | st.text(alphabet="spifeSPIFE:/.%?#@-_ \n\tabcxyz0129ÀÉ\x00", max_size=60)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_trust_domain_names_raise_only_spiffe_id_errors(examples: int) -> None:
    def check(text: str) -> None:
        try:
            td = parse_trust_domain(text)
        except SpiffeIdError:
            return
        assert parse_trust_domain(td.name) == td and parse_spiffe_id(td.id_string) == td.id()

    run(examples, _ID_TEXT, check)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_paths_under_a_trust_domain_raise_only_spiffe_id_errors(examples: int) -> None:
    td = TrustDomain("example.org")

    def check(path: str) -> None:
        try:
            spiffe_id = td.id(path)
        except SpiffeIdError:
            return
        assert parse_spiffe_id(str(spiffe_id)) == spiffe_id and spiffe_id.member_of("example.org")

    run(examples, st.text(alphabet=string.ascii_letters + "/._-%: \n", max_size=40) | _ID_TEXT, check)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_bearer_metadata_raises_only_jwt_svid_errors(examples: int) -> None:
    def check(value: str) -> None:
        try:
            token = bearer_token(value)
        except JwtSvidError:
            return
        assert value.lower().startswith("bearer ") and token == value[len("bearer "):] and token.strip() == token

    run(examples, st.text(max_size=40) | st.builds("{} {}".format, st.sampled_from(["Bearer", "bearer", "Basic"]),
                                                    st.text(max_size=30)), check)


@pytest.fixture(scope="module")
def authenticator() -> SpiffeAuthenticator:
    authority = SvidAuthority("example.org")
    bundles = StaticTrustBundles(x509_bundles={"example.org": authority.x509_bundle()}, jwt_bundles={})
    return SpiffeAuthenticator(bundles, accepted_trust_domains=["example.org"], jwt_audience="mcp")


@pytest.mark.parametrize("examples", EXAMPLES)
def test_random_credentials_through_the_authenticator_fail_only_as_authentication(
    examples: int, authenticator: SpiffeAuthenticator
) -> None:
    """Bearer metadata without a certificate, and random certificate chains next to a random leaf."""
    pem_like = st.binary(max_size=120) | st.builds(
        lambda body: b"-----BEGIN CERTIFICATE-----\n" + body + b"\n-----END CERTIFICATE-----\n",
        st.binary(max_size=80))

    def check(case: tuple[str, Any]) -> None:
        kind, value = case
        if kind == "bearer":
            auth_context, metadata = {}, {"authorization": value}
        else:
            auth_context, metadata = {"x509_pem_cert": [value[0]], "x509_pem_cert_chain": [value[1]]}, {}
        with pytest.raises(AuthenticationFailed) as failed:
            authenticator.authenticate(auth_context, metadata)
        assert failed.value.reason and isinstance(failed.value.__cause__, IdentityError), failed.value.__cause__

    bearer = st.tuples(st.just("bearer"), st.text(max_size=60) | st.builds("Bearer {}.{}.{}".format,
                       st.text(max_size=20), st.text(max_size=20), st.text(max_size=20)))
    chain = st.tuples(st.just("chain"), st.tuples(pem_like, pem_like))
    run(examples, bearer | chain, check)


# -- authorization models -------------------------------------------------------------------------------------------

_DSL_TOKENS = ["model", "schema", "1.1", "1.2", "type", "relations", "define", ":", "[", "]", ",", "or", "and",
               "but not", "from", "#", "with", "condition", "{", "}", "(", ")", "*", "agent", "team", "member",
               "viewer", "user", "<=", "double", "string", "x", "agent:*", "team#member", "#comment"]
_LINE = st.lists(st.sampled_from(_DSL_TOKENS), min_size=1, max_size=6).map(" ".join)
_DSL_SOUP = st.lists(st.tuples(st.integers(0, 3), _LINE), max_size=10).map(
    lambda lines: "\n".join("  " * indent + line for indent, line in lines))


@st.composite
def mutated_model(draw: st.DrawFn) -> str:
    """The demo model (authz/model.fga) with lines dropped, duplicated or swapped and characters changed."""
    lines = MODEL_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "swap", "edit"]))
        if action == "drop":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            replacement = draw(st.sampled_from([*_DSL_TOKENS, " ", "", "\t", "é", "\x00"]))
            lines[i] = lines[i][:k] + replacement + lines[i][k + 1:]
        if not lines:
            break
    return "\n".join(lines)


def model_round_trips(model: dict[str, Any]) -> None:
    """A model that loads prints back to DSL that parses to the same model. (Parsed, not loaded: OpenFGA validates
    DSL more strictly than JSON, e.g. an unused condition, and so do we.)"""
    again = parse_dsl(to_dsl(model))
    assert again["type_definitions"] == model["type_definitions"]
    assert again.get("conditions", {}) == model.get("conditions", {})


@pytest.mark.parametrize("examples", EXAMPLES)
def test_dsl_models_raise_only_model_errors(examples: int) -> None:
    outcomes = {"loaded": 0, "refused": 0}

    def check(text: str) -> None:
        try:
            parse_dsl(text)
        except ModelError:
            pass
        try:
            model = load_model(text)
        except ModelError as exc:
            outcomes["refused"] += 1
            assert exc.issues and all(issue.message for issue in exc.issues)
            return
        outcomes["loaded"] += 1
        model_round_trips(model)

    run(examples, st.text(max_size=200) | _DSL_SOUP | mutated_model(), check)
    print(f"\nDSL models[{examples}]: {outcomes}")
    assert outcomes["refused"] > 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["1.1", "agent", "member", "this", "computedUserset", "union", "user", "relation"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["schema_version", "type_definitions", "type", "relations", "metadata", "this", "union",
                         "child", "computedUserset", "tupleToUserset", "relation", "directly_related_user_types",
                         "conditions", "x"]), children, max_size=4),
    max_leaves=20,
)


@st.composite
def damaged_models(draw: st.DrawFn, model: dict[str, Any]) -> Any:
    """Random JSON, or the demo model with one value somewhere inside it (any depth) replaced by random JSON."""
    if draw(st.integers(0, 3)) == 0:
        return draw(_JSON)
    damaged = json.loads(json.dumps(model))  # a deep copy to damage
    node: Any = damaged
    for _ in range(8):
        keys: list[Any] = sorted(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and draw(st.integers(0, 3)):
            node = child
            continue
        node[key] = draw(_JSON)
        break
    return damaged


@pytest.mark.parametrize("examples", EXAMPLES)
def test_json_models_raise_only_model_errors(examples: int) -> None:
    demo = load_model(MODEL_TEXT)
    outcomes = {"loaded": 0, "refused": 0}

    def check(model: Any) -> None:
        for source, rules in ((model, "language"), (json.dumps(model), "language"), (model, "server")):
            try:
                loaded = load_model(source, rules=rules)
            except ModelError as exc:
                outcomes["refused"] += 1
                assert str(exc)
                continue
            outcomes["loaded"] += 1
            # What loads can be printed. (Not necessarily as DSL that parses back: language rules do not compile
            # condition expressions, so CEL junk such as "'" loads from JSON and prints as an unparseable body.)
            assert to_dsl(loaded)

    run(examples, damaged_models(demo), check)
    print(f"\nJSON models[{examples}]: {outcomes}")
    assert outcomes["refused"] > 0


_DOC_MODEL = {"schema_version": "1.1", "type_definitions": [
    {"type": "user"},
    {"type": "doc", "relations": {"viewer": {"this": {}}},
     "metadata": {"relations": {"viewer": {"directly_related_user_types": [{"type": "user"}]}}}},
]}


# Found by test_json_models_raise_only_model_errors; `fga model validate` refuses each such JSON model
# (e.g. "cannot unmarshal number into ... metadata.relations").
@pytest.mark.parametrize("path,value", [
    (("type_definitions", 1, "metadata", "relations"), 5),
    (("type_definitions", 1, "metadata", "relations", "viewer"), "x"),
    (("type_definitions", 1, "metadata", "relations", "viewer", "directly_related_user_types", 0), 5),
    (("type_definitions", 1, "metadata", "relations", "viewer", "directly_related_user_types", 0, "type"), []),
    (("type_definitions", 1, "metadata", "source_info"), 5),
], ids=["relations-int", "relation-meta-str", "restriction-int", "restriction-type-list", "source-info-int"])
def test_nested_json_model_values_of_the_wrong_type_are_model_errors(path: tuple[Any, ...], value: Any) -> None:
    model = json.loads(json.dumps(_DOC_MODEL))
    node: Any = model
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ModelError):
        load_model(model)


# Found by test_json_models_raise_only_model_errors; `fga model validate` refuses both ("failed to compile
# expression", "unknown condition parameter type `TYPE_NAME_UNSPECIFIED`").
@pytest.mark.parametrize("condition", [
    {},
    {"name": "in_limit", "expression": "", "parameters": {"amount": {"type_name": "TYPE_NAME_DOUBLE"}}},
    {"name": "in_limit", "expression": "amount <= 1.0", "parameters": {"amount": None}},
], ids=["empty", "no-expression", "untyped-parameter"])
def test_a_json_condition_without_expression_or_parameter_type_is_a_model_error(condition: dict[str, Any]) -> None:
    model = json.loads(json.dumps(_DOC_MODEL))
    model["type_definitions"][1]["metadata"]["relations"]["viewer"]["directly_related_user_types"].append(
        {"type": "user", "condition": "in_limit"})
    model["conditions"] = {"in_limit": condition}
    with pytest.raises(ModelError):
        load_model(model)


# Found by test_json_models_raise_only_model_errors (fixed in 85edba9): an OpenFGA server refuses a condition whose
# CEL does not compile (`fga model validate`: 'failed to compile expression on condition'), and so must we.
@pytest.mark.parametrize("expression", ["'", "amount <=", "foo(", "amount <= limit &&"])
def test_server_rules_refuse_a_condition_that_does_not_compile(expression: str) -> None:
    model = json.loads(json.dumps(_DOC_MODEL))
    model["type_definitions"][1]["metadata"]["relations"]["viewer"]["directly_related_user_types"].append(
        {"type": "user", "condition": "in_limit"})
    model["conditions"] = {"in_limit": {"name": "in_limit", "expression": expression, "parameters": {
        "amount": {"type_name": "TYPE_NAME_DOUBLE"}, "limit": {"type_name": "TYPE_NAME_DOUBLE"}}}}
    with pytest.raises(FgaError):  # what the engine says: the model cannot be served
        Engine().write_model(model)
    with pytest.raises(ModelError):
        load_model(model, rules="server")


# Found here (fixed: conditions are type-checked against their declared parameters, as OpenFGA does): `fga model
# validate` says "undeclared reference to 'amount'"; such a model used to print as DSL that does not parse.
@pytest.mark.parametrize("parameters", [{}, None], ids=["empty", "absent"])
def test_a_condition_naming_undeclared_parameters_is_refused(parameters: dict[str, Any] | None) -> None:
    model = json.loads(json.dumps(_DOC_MODEL))
    model["type_definitions"][1]["metadata"]["relations"]["viewer"]["directly_related_user_types"].append(
        {"type": "user", "condition": "in_limit"})
    condition: dict[str, Any] = {"name": "in_limit", "expression": "amount <= 1.0"}
    if parameters is not None:
        condition["parameters"] = parameters
    model["conditions"] = {"in_limit": condition}
    with pytest.raises(ModelError):
        load_model(model, rules="server")
    with pytest.raises(FgaError):
        Engine().write_model(model)


# -- tuples ---------------------------------------------------------------------------------------------------------

_TYPES = ["agent", "team", "server", "tool", "resource", "bucket", "ledger", "prompt", "nope", ""]
_RELATIONS = ["member", "caller", "blocked", "can_call", "reader", "refunder", "server", "admin", "nope", ""]
_IDS = st.sampled_from(["finance", "payments/refund", "example.org/ns/a", "*", "x y", "a:b", "", "#", "é"]) | st.text(
    max_size=12)


def _object(draw: st.DrawFn) -> str:
    return f"{draw(st.sampled_from(_TYPES))}:{draw(_IDS)}" if draw(st.integers(0, 9)) else draw(st.text(max_size=20))


# (object type, relation, user) shapes the demo model accepts, to reach the write path as often as its refusals.
_VALID_SHAPES = [("tool", "caller", "agent:{}"), ("tool", "caller", "team:{}#member"), ("tool", "caller", "agent:*"),
                 ("team", "member", "agent:{}"), ("bucket", "reader", "agent:{}"), ("server", "admin", "agent:{}"),
                 ("tool", "blocked", "agent:{}"), ("ledger", "refunder", "agent:{}"), ("tool", "server", "server:{}")]
_GOOD_IDS = st.sampled_from(["finance", "payments", "example.org/ns/a/sa/b", "q3", "a_b-c.d"])


@st.composite
def tuple_keys(draw: st.DrawFn) -> TupleKey:
    if draw(st.booleans()):
        object_type, relation, user_shape = draw(st.sampled_from(_VALID_SHAPES))
        user = user_shape.format(draw(_GOOD_IDS | _IDS))
        obj = f"{object_type}:{draw(_GOOD_IDS | _IDS)}"
    else:
        user = _object(draw)
        if draw(st.integers(0, 3)) == 0:
            user += f"#{draw(st.sampled_from(_RELATIONS))}"
        relation, obj = draw(st.sampled_from(_RELATIONS)), _object(draw)
    condition = draw(st.sampled_from([None, None, None, "amount_within_limit", "no_such_condition", ""]))
    context = draw(st.none() | st.dictionaries(st.sampled_from(["limit", "amount", "x"]),
                                              st.integers() | st.floats() | st.text(max_size=4), max_size=2))
    return TupleKey(user, relation, obj, condition, context if condition else None)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_random_tuples_raise_only_engine_errors_and_written_ones_hold(examples: int) -> None:
    engine = Engine()
    engine.write_model(MODEL_TEXT)
    engine.write(load_tuples(AUTHZ_DIR / "tuples.yaml"))
    outcomes = {"written": 0, "refused": 0}

    def check(key: TupleKey) -> None:
        result = engine.check(key.user, key.relation, key.object)
        assert result.outcome in (Outcome.ALLOWED, Outcome.DENIED, Outcome.ERROR)
        assert result.outcome is not Outcome.ERROR or result.error
        try:
            engine.write([key])
        except FgaError as exc:
            outcomes["refused"] += 1
            assert exc.message
            return
        except ValueError as exc:  # a tuple that already exists is OpenFGA's validation error too
            raise AssertionError(f"{type(exc).__name__} is not the engine's error: {exc}") from exc
        outcomes["written"] += 1
        if key.condition_name is None:
            after = engine.check(key.user, key.relation, key.object)
            assert after.outcome is Outcome.ALLOWED, (key, after)
        engine.delete([key])

    run(examples, tuple_keys(), check)
    print(f"\ntuples[{examples}]: {outcomes}")
    assert outcomes["refused"] > 0
