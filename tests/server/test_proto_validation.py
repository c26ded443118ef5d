"""Proto-first rules enforced at both doors, before the checks that read the arguments: a typed call gets
INVALID_ARGUMENT with google.rpc.BadRequest in its status details, an MCP call a tool error; both are audited."""

from __future__ import annotations

import importlib
import pathlib
import sys

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from mcp_grpc.client import AsyncClient
from mcp_grpc.contract import AuditDecision, TargetKind
from mcp_grpc.server import McpApp
from mcp_grpc.server.proto_first import validation
from mcp_grpc.wire._generate import generate

from tests.server.server_support import HeaderAuthenticator, ListAuditSink, TableAuthorizer
from tests.support.servers import running

PROTOS = pathlib.Path(__file__).resolve().parent / "protos"
ALICE = "spiffe://example.org/alice"
VALID = {
    "project": "proj", "key": "abc", "count": 1, "owner": "me", "colour": "COLOUR_RED", "region": "eu", "low": 0,
    "high": 1, "note": "n",
}

# (case, arguments over VALID, field path, rule id, protovalidate's message)
CASES = [
    ("min_len", {"project": "ab"}, "project", "string.min_len", "must be at least 3 characters"),
    ("max_len", {"project": "abcdefghi"}, "project", "string.max_len", "must be at most 8 characters"),
    ("pattern", {"key": "ABC"}, "key", "string.pattern", "does not match regex pattern `^[a-z]+$`"),
    ("gte", {"count": 0}, "count", "int32.gte_lte", "must be greater than or equal to 1 and less than or equal to 10"),
    ("lte", {"count": 11}, "count", "int32.gte_lte", "must be greater than or equal to 1 and less than or equal to 10"),
    ("max_items", {"items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}, "items", "repeated.max_items",
     "must contain no more than 2 item(s)"),
    ("nested", {"items": [{"name": "a"}, {"name": ""}]}, "items[1].name", "string.min_len",
     "must be at least 1 characters"),
    ("required", {"owner": ""}, "owner", "required", "value is required"),
    ("field_behavior", {"note": ""}, "note", "required", "value is required"),
    ("defined_only", {"colour": 7}, "colour", "enum.defined_only", "value must be one of the defined enum values"),
    ("in", {"region": "asia"}, "region", "string.in", "must be in list [eu, us]"),
    ("not_in", {"level": 13}, "level", "int32.not_in", "must not be in list [13]"),
    ("field_cel", {"tag": "a b"}, "tag", "tag.no_spaces", "must not contain spaces"),
    ("message_cel", {"low": 5, "high": 1}, "", "low_below_high", "low must be below high"),
]


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    """The test service's generated code, generated now from tests/server/protos and imported once."""
    if "validated_gen.validated_pb2" not in sys.modules:
        out = tmp_path_factory.mktemp("gen")
        generate(PROTOS, ["validated/v1/validated.proto"], out / "validated_gen", "validated_gen")
        (out / "validated_gen" / "__init__.py").write_text("")
        sys.path.insert(0, str(out))
    pb2 = importlib.import_module("validated_gen.validated_pb2")
    return pb2, importlib.import_module("validated_gen.validated_pb2_grpc")


class Servicer:
    def __init__(self, pb2) -> None:
        self.pb2 = pb2
        self.seen: list = []

    async def Submit(self, request, context):
        self.seen.append(request)
        return self.pb2.SubmitResponse(accepted=request.project)

    def Plain(self, request, context):  # sync: runs in the thread pool
        self.seen.append(request)
        return self.pb2.PlainResponse(text=request.text, n=request.n)

    async def Upload(self, request_iterator, context):
        async for item in request_iterator:
            self.seen.append(item)
        return self.pb2.SubmitResponse(accepted=",".join(item.name for item in self.seen))


def build(gen):
    pb2, _ = gen
    servicer = Servicer(pb2)
    app = McpApp("checked")
    app.add_proto_service(servicer, pb2.DESCRIPTOR.services_by_name["CheckedService"])
    return app, servicer


def submit_request(pb2, overrides):
    from google.protobuf import json_format

    return json_format.ParseDict({**VALID, **overrides}, pb2.SubmitRequest())


@pytest.mark.parametrize("case, overrides, path, rule, message", CASES, ids=[case[0] for case in CASES])
async def test_a_typed_call_breaking_a_rule_is_invalid_argument_with_bad_request(gen, case, overrides, path, rule, message):
    pb2, pb2_grpc = gen
    app, servicer = build(gen)
    audit = ListAuditSink()
    async with running(app, audit_sink=audit) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = pb2_grpc.CheckedServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Submit(submit_request(pb2, overrides), timeout=10)
            ok = await stub.Submit(submit_request(pb2, {}), timeout=10)
    error = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    shown = f"{path or '(request)'}: {message} [{rule}]"
    assert error.details() == f"invalid validated.v1.SubmitRequest: {shown}"
    status = rpc_status.from_call(error)  # checks the details' code and message match the call's
    assert status is not None and len(status.details) == 1
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.reason, v.description) for v in bad_request.field_violations] == [(path, rule, message)]
    assert ok.accepted == "proj" and [r.project for r in servicer.seen] == ["proj"]  # the invalid one never ran
    refused, allowed = audit.events
    assert refused.decision == AuditDecision.INVALID_ARGUMENT and refused.reason == error.details()
    assert (refused.kind, refused.target, refused.method) == ("tool", "submit", "Submit")
    assert allowed.decision == AuditDecision.ALLOW


@pytest.mark.parametrize("case, overrides, path, rule, message", CASES, ids=[case[0] for case in CASES])
async def test_an_mcp_call_breaking_a_rule_is_a_tool_error(gen, case, overrides, path, rule, message):
    app, servicer = build(gen)
    audit = ListAuditSink()
    async with running(app, audit_sink=audit) as server:
        async with AsyncClient(server.address) as client:
            result = await client.call_tool("submit", {**VALID, **overrides})
            ok = await client.call_tool("submit", VALID)
    assert result.is_error
    if case == "defined_only":  # the schema lists the defined names as strings: a number is the wrong type
        assert result.text == (
            "invalid arguments: colour: 7 is not of type 'string'; "
            "colour: 7 is not one of ['COLOUR_UNSPECIFIED', 'COLOUR_RED', 'COLOUR_BLUE']"
        )
    else:
        assert result.text == f"invalid arguments: {path or '(request)'}: {message} [{rule}]"
    assert ok.structured == {"accepted": "proj"} and len(servicer.seen) == 1
    refused, allowed = audit.events
    assert refused.decision == AuditDecision.INVALID_ARGUMENT and refused.reason == result.text
    assert (refused.kind, refused.target) == ("tool", "submit") and allowed.decision == AuditDecision.ALLOW


async def test_every_violation_is_reported_and_the_schema_keeps_its_words_for_missing_arguments(gen):
    pb2, pb2_grpc = gen
    app, _ = build(gen)
    async with running(app) as server:
        async with AsyncClient(server.address) as client:
            several = await client.call_tool("submit", {**VALID, "project": "ab", "key": "ABC", "level": 13})
            missing = await client.call_tool("submit", {k: v for k, v in VALID.items() if k != "note"} | {"key": "A"})
        async with grpc.aio.insecure_channel(server.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pb2_grpc.CheckedServiceStub(channel).Submit(submit_request(pb2, {"project": "", "note": ""}))
    assert several.text == (
        "invalid arguments: project: must be at least 3 characters [string.min_len]; "
        "key: does not match regex pattern `^[a-z]+$` [string.pattern]; level: must not be in list [13] "
        "[int32.not_in]"
    )
    assert missing.text == (
        "invalid arguments: key: does not match regex pattern `^[a-z]+$` [string.pattern]; "
        "note: required argument is missing"
    )
    bad_request = error_details_pb2.BadRequest()
    rpc_status.from_call(caught.value).details[0].Unpack(bad_request)
    # project: min_len only (protovalidate reports it; field_behavior REQUIRED adds nothing at the same path)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [
        ("project", "string.min_len"), ("note", "required"),
    ]


async def test_validation_comes_before_the_checks_that_read_the_arguments(gen):
    """A caller who may call the tool but not write the project gets the violation, not a denial; the authorizer
    saw only the default check. One who may not call the tool learns nothing of its rules."""
    pb2, pb2_grpc = gen
    app, servicer = build(gen)
    authorizer = TableAuthorizer({(ALICE, "can_call", "tool:submit")})
    audit = ListAuditSink()
    async with running(
        app, authenticator=HeaderAuthenticator(), authorizer=authorizer, audit_sink=audit, insecure_local=True
    ) as server:
        alice = [("x-test-identity", ALICE)]
        bob = [("x-test-identity", "spiffe://example.org/bob")]
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = pb2_grpc.CheckedServiceStub(channel)
            answers = []
            for metadata, overrides in ((alice, {"count": 0}), (alice, {}), (bob, {"count": 0})):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.Submit(submit_request(pb2, overrides), metadata=metadata)
                answers.append(caught.value.code())
        async with AsyncClient(server.address, metadata=lambda: alice) as client:
            via_mcp = await client.call_tool("submit", {**VALID, "count": 0})
    assert answers == [
        grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.PERMISSION_DENIED,
    ]
    assert via_mcp.is_error and "count: must be" in via_mcp.text
    assert [(t.kind, t.name, dict(t.arguments), tuple(t.required_checks)) for t in authorizer.targets][0] == (
        TargetKind.TOOL, "submit", {}, (),
    )
    assert authorizer.targets[1].arguments["project"] == "proj" and authorizer.targets[1].required_checks
    assert not servicer.seen
    assert [e.decision for e in audit.events] == [
        AuditDecision.INVALID_ARGUMENT, AuditDecision.DENY, AuditDecision.DENY, AuditDecision.INVALID_ARGUMENT,
    ]
    assert "lacks can_call on tool:submit" in audit.events[2].reason  # bob: the default check, not the rules


async def test_each_message_of_a_client_stream_is_held_to_its_rules(gen):
    pb2, pb2_grpc = gen
    app, servicer = build(gen)
    audit = ListAuditSink()
    async with running(app, audit_sink=audit) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = pb2_grpc.CheckedServiceStub(channel)
            ok = await stub.Upload(iter([pb2.Item(name="a"), pb2.Item(name="b")]), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Upload(iter([pb2.Item(name="c"), pb2.Item(name=""), pb2.Item(name="d")]), timeout=10)
    assert ok.accepted == "a,b"
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request = error_details_pb2.BadRequest()
    rpc_status.from_call(caught.value).details[0].Unpack(bad_request)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [("name", "string.min_len")]
    assert [item.name for item in servicer.seen] == ["a", "b", "c"]  # the stream ended at the invalid one
    assert [e.decision for e in audit.events] == [AuditDecision.ALLOW, AuditDecision.INVALID_ARGUMENT]
    assert audit.events[1].reason == caught.value.details() and audit.events[1].kind == "method"


async def test_a_message_without_rules_is_served_as_before(gen):
    pb2, pb2_grpc = gen
    app, servicer = build(gen)
    assert app.tools["plain"].method.validator is None and app.tools["submit"].method.validator is not None
    async with running(app) as server:
        async with AsyncClient(server.address) as client:
            via_mcp = await client.call_tool("plain", {"text": "", "n": -5})
            mistyped = await client.call_tool("plain", {"n": "x"})
        async with grpc.aio.insecure_channel(server.address) as channel:
            typed = await pb2_grpc.CheckedServiceStub(channel).Plain(pb2.PlainRequest(text="", n=-5), timeout=10)
    assert via_mcp.structured == {"text": "", "n": -5} and (typed.text, typed.n) == ("", -5)
    assert mistyped.is_error and mistyped.text == "invalid arguments: n: 'x' is not of type 'integer'"
    assert len(servicer.seen) == 2


async def test_without_protovalidate_nothing_is_enforced(gen, monkeypatch):
    """The extra is optional: without it (its one import answering None) typed calls reach the servicer as before."""
    pb2, pb2_grpc = gen
    monkeypatch.setattr(validation, "_engine", lambda: None)
    app, servicer = build(gen)
    assert app.tools["submit"].method.validator is None
    async with running(app) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            done = await pb2_grpc.CheckedServiceStub(channel).Submit(submit_request(pb2, {"count": 0}), timeout=10)
    assert done.accepted == "proj" and servicer.seen[0].count == 0


def test_protovalidate_is_imported_in_one_place():
    package = pathlib.Path(validation.__file__).resolve().parents[2]
    importing = sorted(
        str(path.relative_to(package)) for path in package.rglob("*.py") if "import protovalidate" in path.read_text()
    )
    assert importing == ["server/proto_first/validation.py"]


async def test_the_example_refuses_an_empty_key_at_both_doors():
    """examples/proto_tools: PutObject's key is field_behavior REQUIRED; the servicer no longer checks it."""
    from examples.proto_tools.gen import storage_pb2, storage_pb2_grpc
    from examples.proto_tools.server import StorageService

    app = McpApp("storage")
    app.add_proto_service(StorageService(), storage_pb2.DESCRIPTOR.services_by_name["StorageService"])
    async with running(app) as server:
        async with AsyncClient(server.address) as client:
            via_mcp = await client.call_tool("put_object", {"bucket": "b", "key": ""})
        async with grpc.aio.insecure_channel(server.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await storage_pb2_grpc.StorageServiceStub(channel).PutObject(
                    storage_pb2.PutObjectRequest(bucket="b", key=""), timeout=10
                )
    assert via_mcp.is_error and via_mcp.text == "invalid arguments: key: value is required [required]"
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request = error_details_pb2.BadRequest()
    rpc_status.from_call(caught.value).details[0].Unpack(bad_request)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [("key", "required")]


def test_a_rule_that_does_not_compile_is_refused_at_registration(gen):
    pb2, _ = gen

    class Broken:
        async def Do(self, request, context):
            return pb2.PlainResponse()

    with pytest.raises(ValueError, match=r"validated.v1.BrokenRequest: its buf.validate rules do not compile"):
        McpApp("broken").add_proto_service(Broken(), pb2.DESCRIPTOR.services_by_name["BrokenService"])


async def test_a_proto_first_resource_is_held_to_its_rules_at_both_doors():
    from examples.proto_tools.gen import storage_pb2, storage_pb2_grpc
    from examples.proto_tools.server import StorageService
    from mcp_grpc.client import McpCallError

    app = McpApp("storage")
    app.add_proto_service(StorageService(), storage_pb2.DESCRIPTOR.services_by_name["StorageService"])
    audit = ListAuditSink()
    async with running(app, audit_sink=audit) as server:
        async with AsyncClient(server.address) as client:
            with pytest.raises(McpCallError) as via_mcp:
                await client.read_resource("storage://BAD!/index")
        async with grpc.aio.insecure_channel(server.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as typed:
                await storage_pb2_grpc.StorageServiceStub(channel).GetBucketIndex(
                    storage_pb2.GetBucketIndexRequest(bucket="BAD!"), timeout=10
                )
    rule = "bucket: does not match regex pattern `^[a-z0-9][a-z0-9.-]*$` [string.pattern]"
    assert via_mcp.value.status == grpc.StatusCode.INVALID_ARGUMENT and via_mcp.value.mcp_code == -32602
    assert via_mcp.value.message == f"resource 'storage://BAD!/index': invalid arguments: {rule}"
    assert typed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert typed.value.details() == f"invalid acme.storage.v1.GetBucketIndexRequest: {rule}"
    assert [(e.decision, e.kind) for e in audit.events] == [(AuditDecision.INVALID_ARGUMENT, "resource")] * 2
