"""The one pipeline: authenticate, resolve and validate, authorize, handle, audit, with tiny real Authenticator/Authorizer/AuditSink."""

from __future__ import annotations

from typing import Annotated

import grpc
import pytest
from pydantic import AfterValidator

from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server import ConfigError, Server, ServerConfig
from mcp_grpc.server.pipeline import INSECURE_LOCAL_PRINCIPAL
from mcp_grpc.contract import TargetKind

from tests.server.server_support import HeaderAuthenticator, ListAuditSink, TableAuthorizer
from tests.support.servers import running

ALICE = "spiffe://example.org/alice"
BOB = "spiffe://example.org/bob"


def identity(spiffe_id: str):
    return lambda: [("x-test-identity", spiffe_id)]


LISTEN = "method:/mcp_grpc.v1.McpStreaming/Listen"

ALLOWED = {
    (ALICE, "can_call", "tool:read_bucket"),
    (ALICE, "can_read", "bucket:reports"),
    (ALICE, "can_call", "tool:echo"),
    (BOB, "can_call", "tool:read_bucket"),
}


@pytest.fixture
async def secured(app):
    authenticator = HeaderAuthenticator()
    authorizer = TableAuthorizer(set(ALLOWED))
    audit = ListAuditSink()
    async with running(
        app, authenticator=authenticator, authorizer=authorizer, audit_sink=audit, insecure_local=True
    ) as server:
        yield server, authenticator, authorizer, audit


async def test_allowed_call_runs_with_the_principal_and_is_audited(secured, observed):
    server, _, authorizer, audit = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        result = await client.call_tool("read_bucket", {"bucket": "reports"})
    assert result.structured == {"bucket": "reports", "caller": ALICE}
    assert observed.principals == [ALICE]
    assert observed.metadata[0]["x-test-identity"] == ALICE
    target = authorizer.targets[-1]
    assert (target.kind, target.name, dict(target.arguments)) == (TargetKind.TOOL, "read_bucket", {"bucket": "reports"})
    assert target.server_name == "test-server" and target.service == "model_context_protocol.Mcp"
    assert [(c.relation, c.object_template) for c in target.required_checks] == [("can_read", "bucket:{bucket}")]
    [event] = audit.events
    assert (event.principal, event.decision, event.target, event.kind) == (ALICE, "allow", "read_bucket", "tool")
    assert [c.object for c in event.checks] == ["tool:read_bucket", "bucket:reports"]
    assert event.arguments is None  # arguments stay out of the audit log unless configured


async def test_denied_call_never_runs_and_names_relation_and_object(secured, observed):
    server, _, _, audit = secured
    async with AsyncClient(server.address, metadata=identity(BOB)) as client:
        with pytest.raises(McpCallError) as caught:
            await client.call_tool("read_bucket", {"bucket": "reports"})
    assert caught.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert "can_read" in caught.value.message and "bucket:reports" in caught.value.message
    assert observed.calls == []
    [event] = audit.events
    assert (event.principal, event.decision) == (BOB, "deny")
    assert "bucket:reports" in event.reason


@pytest.mark.parametrize("mode", ["raise", "unavailable"])
async def test_authorizer_failure_is_unavailable_and_fails_closed(app, observed, mode):
    audit = ListAuditSink()
    async with running(
        app, authenticator=HeaderAuthenticator(), authorizer=TableAuthorizer(set(ALLOWED), mode),
        audit_sink=audit, insecure_local=True,
    ) as server:
        async with AsyncClient(server.address, metadata=identity(ALICE), retry=None) as client:
            with pytest.raises(McpCallError) as caught:
                await client.call_tool("read_bucket", {"bucket": "reports"})
            if mode == "raise":  # visible() raising must not fall back to showing everything
                with pytest.raises(McpCallError) as listed:
                    await client.list_tools()
                assert listed.value.status == grpc.StatusCode.UNAVAILABLE
    assert caught.value.status == grpc.StatusCode.UNAVAILABLE
    assert observed.calls == []
    assert {event.decision for event in audit.events} == {"unavailable"}


@pytest.mark.parametrize(
    ("presented", "phrase"),
    [(None, "no client identity presented"), ("explode", "internal error"), ("expired:" + ALICE, "expired")],
)
async def test_authentication_failure_is_unauthenticated_and_nothing_runs(secured, observed, presented, phrase):
    server, _, authorizer, audit = secured
    hook = identity(presented) if presented else None
    async with AsyncClient(server.address, metadata=hook) as client:
        with pytest.raises(McpCallError) as caught:
            await client.call_tool("echo", {"text": "hi"})
    assert caught.value.status == grpc.StatusCode.UNAUTHENTICATED
    assert phrase in caught.value.message
    assert observed.calls == [] and authorizer.targets == []
    [event] = audit.events
    assert event.decision == "unauthenticated" and event.principal is None


async def test_lists_are_filtered_by_visibility(secured):
    server, _, _, _ = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        alice_tools = [tool.name for tool in await client.list_tools()]
    async with AsyncClient(server.address, metadata=identity(BOB)) as client:
        bob_tools = [tool.name for tool in await client.list_tools()]
    assert alice_tools == ["echo", "read_bucket"]
    assert bob_tools == ["read_bucket"]


async def test_validation_failure_is_audited_after_only_the_default_check(secured, observed):
    server, _, authorizer, audit = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        result = await client.call_tool("read_bucket", {})
    assert result.is_error and "bucket:" in result.text
    # Only the tool's own check ran: no arguments, none of the argument-derived checks.
    [target] = authorizer.targets
    assert (target.name, dict(target.arguments), tuple(target.required_checks)) == ("read_bucket", {}, ())
    assert observed.calls == []
    assert audit.events[-1].decision == "invalid_argument"


async def test_validation_errors_are_not_shown_to_a_caller_denied_the_tool(secured, observed):
    server, _, _, audit = secured
    carol = "spiffe://example.org/carol"  # holds no tuple at all
    async with AsyncClient(server.address, metadata=identity(carol)) as client:
        with pytest.raises(McpCallError) as caught:
            await client.call_tool("read_bucket", {})
    assert caught.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert "bucket" not in caught.value.message.replace("read_bucket", "")  # nothing about the schema
    assert observed.calls == []
    assert audit.events[-1].decision == "deny"


async def test_audit_records_every_outcome_once(secured):
    server, _, _, audit = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        await client.call_tool("echo", {"text": "a"})
        with pytest.raises(McpCallError):
            await client.call_tool("no_such_tool")
        await client.list_tools()
    assert [(e.method, e.decision) for e in audit.events] == [
        ("CallTool", "allow"),
        ("CallTool", "deny"),  # an unknown tool is denied to a caller not granted a tool of that name
        ("ListTools", "allow"),
    ]
    assert all(event.latency_ms >= 0 for event in audit.events)


async def test_audit_arguments_only_when_configured(app):
    audit = ListAuditSink()
    async with running(app, audit_sink=audit, audit_arguments=True) as server:
        async with AsyncClient(server.address) as client:
            await client.call_tool("echo", {"text": "secret"})
    assert audit.events[0].arguments == {"text": "secret"}
    assert audit.events[0].principal == INSECURE_LOCAL_PRINCIPAL.spiffe_id
    assert audit.events[0].proven_by == "insecure-local"


async def test_a_broken_audit_sink_does_not_break_calls(app):
    class Broken:
        def emit(self, event):
            raise OSError("disk full")

    async with running(app, audit_sink=Broken()) as server:
        async with AsyncClient(server.address) as client:
            assert (await client.call_tool("echo", {"text": "ok"})).text == "ok"


def test_configurations_that_must_not_serve_are_refused(app):
    with pytest.raises(ConfigError, match="without transport security"):
        Server(app, ServerConfig())
    with pytest.raises(ConfigError, match="without an authenticator"):
        Server(app, ServerConfig(credentials=grpc.local_server_credentials()))
    with pytest.raises(ConfigError, match="loopback"):
        Server(app, ServerConfig(insecure_local=True, host="0.0.0.0"))
    Server(app, ServerConfig(insecure_local=True, host="::1"))
    Server(app, ServerConfig(insecure_local=True, host="0.0.0.0", uds="/tmp/x.sock"))


async def test_insecure_local_warns_at_every_start(app, caplog):
    for _ in range(2):
        async with running(app):
            pass
    warnings = [r for r in caplog.records if "insecure-local" in r.getMessage() and r.levelname == "WARNING"]
    assert len(warnings) == 2


async def test_any_server_credentials_are_accepted(app, tmp_path):
    # local credentials over a Unix socket stand in for the SPIFFE mTLS credentials of the identity layer.
    authenticator = HeaderAuthenticator()
    async with running(
        app, uds=str(tmp_path / "s.sock"), credentials=grpc.local_server_credentials(grpc.LocalConnectionType.UDS),
        authenticator=authenticator, insecure_local=False,
    ) as server:
        async with AsyncClient(
            server.address, credentials=grpc.local_channel_credentials(grpc.LocalConnectionType.UDS),
            metadata=identity(ALICE),
        ) as client:
            assert (await client.call_tool("echo", {"text": "local creds"})).text == "local creds"
    assert authenticator.calls == 1


async def test_listen_refuses_subscriptions_to_resources_the_caller_cannot_see(app):
    authorizer = TableAuthorizer({(ALICE, "can_call", "resource:config://app"), (ALICE, "can_call", LISTEN)})
    audit = ListAuditSink()
    async with running(
        app, authenticator=HeaderAuthenticator(), authorizer=authorizer, audit_sink=audit, insecure_local=True
    ) as server:
        async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
            allowed = client.listen(resource_uris=["config://app"])
            assert await allowed.__anext__() == ("acknowledged", None)
            await allowed.aclose()
            refused = client.listen(resource_uris=["config://app", "files://secret.txt"])
            with pytest.raises(McpCallError) as caught:
                await refused.__anext__()
    assert caught.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert "files://secret.txt" in caught.value.message
    assert [(e.method, e.decision) for e in audit.events] == [("Listen", "allow"), ("Listen", "deny")]


async def test_listen_without_a_grant_on_its_method_is_denied_and_audited(app):
    authorizer = TableAuthorizer({(BOB, "can_call", "resource:config://app")})
    audit = ListAuditSink()
    async with running(
        app, authenticator=HeaderAuthenticator(), authorizer=authorizer, audit_sink=audit, insecure_local=True
    ) as server:
        async with AsyncClient(server.address, metadata=identity(BOB)) as client:
            with pytest.raises(McpCallError) as caught:
                await client.listen(resource_uris=["config://app"]).__anext__()
    assert caught.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert LISTEN in caught.value.message
    [event] = audit.events
    assert (event.method, event.decision, event.kind, event.target) == (
        "Listen", "deny", "method", "/mcp_grpc.v1.McpStreaming/Listen")


async def test_an_argument_that_cannot_name_an_object_is_invalid_argument(app, observed, tmp_path):
    """The real FGA authorizer refuses a bucket value that is not a valid object id: INVALID_ARGUMENT, not UNAVAILABLE."""
    from mcp_grpc.authz.authorizer import FgaAuthorizer

    (tmp_path / "model.fga").write_text(
        "model\n  schema 1.1\ntype agent\ntype tool\n  relations\n    define can_call: [agent]\n"
        "type bucket\n  relations\n    define can_read: [agent]\n"
    )
    (tmp_path / "tuples.yaml").write_text(
        "- {user: 'agent:insecure.local/dev', relation: can_call, object: 'tool:test-server/read_bucket'}\n"
    )
    audit = ListAuditSink()
    async with running(
        app, authorizer=FgaAuthorizer.from_authz_dir(tmp_path), audit_sink=audit, insecure_local=True
    ) as server:
        async with AsyncClient(server.address) as client:
            with pytest.raises(McpCallError) as caught:
                await client.call_tool("read_bucket", {"bucket": "reports#admin"})
    assert caught.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert "bucket" in caught.value.message
    assert observed.calls == []
    assert audit.events[-1].decision == "invalid_argument"


async def test_a_malformed_declared_check_fails_the_start(tmp_path):
    from mcp_grpc.authz.authorizer import FgaAuthorizer
    from mcp_grpc.contract import Check
    from mcp_grpc.server import McpApp

    (tmp_path / "model.fga").write_text("model\n  schema 1.1\ntype agent\n")
    broken = McpApp("broken")

    @broken.tool(authorize=[Check("can_read", "no-type-separator")])
    def read(bucket: str) -> str:
        return bucket

    with pytest.raises(ConfigError, match="tool 'read': bad authorize= check"):
        async with running(broken, authorizer=FgaAuthorizer.from_authz_dir(tmp_path), insecure_local=True):
            pass


async def test_unknown_names_are_not_found_only_for_callers_who_may_call_them(app, observed):
    """NOT_FOUND versus PERMISSION_DENIED must not let a caller without rights probe which tools exist."""
    allowed = set(ALLOWED) | {(ALICE, "can_call", "tool:no_such_tool")}
    async with running(
        app, authenticator=HeaderAuthenticator(), authorizer=TableAuthorizer(allowed), insecure_local=True
    ) as server:
        async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
            with pytest.raises(McpCallError) as found:
                await client.call_tool("no_such_tool", {})
        async with AsyncClient(server.address, metadata=identity(BOB)) as client:
            with pytest.raises(McpCallError) as probed:
                await client.call_tool("no_such_tool", {})
    assert found.value.status == grpc.StatusCode.NOT_FOUND
    assert probed.value.status == grpc.StatusCode.PERMISSION_DENIED


async def test_an_authorization_outage_is_not_retried_by_the_clients_retry_policy(app, observed):
    """The default client retry policy retries UNAVAILABLE; an authorization outage carries a no-retry pushback."""
    audit = ListAuditSink()
    authorizer = TableAuthorizer(set(ALLOWED), "unavailable")
    async with running(
        app, authenticator=HeaderAuthenticator(), authorizer=authorizer, audit_sink=audit, insecure_local=True
    ) as server:
        async with AsyncClient(server.address, metadata=identity(ALICE)) as client:  # default RetryPolicy()
            with pytest.raises(McpCallError) as caught:
                await client.call_tool("echo", {"text": "hi"})
    assert caught.value.status == grpc.StatusCode.UNAVAILABLE
    assert len(authorizer.targets) == 1 and [e.decision for e in audit.events] == ["unavailable"]


_VALIDATED: list[str] = []


def _count_validation(value: int) -> int:
    _VALIDATED.append("validated")
    return value


@pytest.mark.parametrize(
    ("kind", "name", "ask"),
    [
        ("tool", "nope", lambda c: c.call_tool("nope", {})),
        ("resource", "mem://nope", lambda c: c.read_resource("mem://nope")),
        ("prompt", "nope", lambda c: c.get_prompt("nope")),
        ("completion", "nope", lambda c: c.complete("topic", "g", prompt="nope")),
    ],
)
async def test_every_rpc_checks_the_default_relation_before_it_says_not_found(app, kind, name, ask):
    """The pipeline authorizes an unknown name's default check first, for every rpc with a target (Complete too):
    NOT_FOUND only to a caller allowed on that name, PERMISSION_DENIED (and no hint) to everyone else."""
    allowed = {(ALICE, "can_call", f"{kind}:{name}")}
    audit = ListAuditSink()
    async with running(
        app, authenticator=HeaderAuthenticator(), authorizer=TableAuthorizer(allowed), audit_sink=audit,
        insecure_local=True,
    ) as server:
        async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
            with pytest.raises(McpCallError) as found:
                await ask(client)
        async with AsyncClient(server.address, metadata=identity(BOB)) as client:
            with pytest.raises(McpCallError) as probed:
                await ask(client)
    assert found.value.status == grpc.StatusCode.NOT_FOUND
    assert probed.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert "unknown" not in probed.value.message and "not found" not in probed.value.message
    assert [(e.principal, e.decision, e.kind, e.target) for e in audit.events] == [
        (ALICE, "invalid_argument", kind, name),
        (BOB, "deny", kind, name),
    ]


async def test_a_prompt_is_validated_once_and_the_handler_gets_the_validated_values():
    """GetPrompt validates in the pipeline (the policy reads those values) and renders what it validated."""
    from mcp_grpc.server import McpApp

    seen = _VALIDATED
    seen.clear()
    prompts = McpApp("prompts")

    @prompts.prompt
    def repeat(times: Annotated[int, AfterValidator(_count_validation)]) -> str:
        return f"{type(times).__name__} {times}"

    async with running(prompts, insecure_local=True) as server:
        async with AsyncClient(server.address) as client:
            result = await client.get_prompt("repeat", {"times": "3"})
    assert seen == ["validated"]
    assert result.messages == [("user", "int 3")]


async def test_the_caller_is_authenticated_before_its_protocol_version_is_read(app):
    """An unauthenticated caller learns nothing, not even which MCP revisions the server speaks."""
    audit = ListAuditSink()
    async with running(app, authenticator=HeaderAuthenticator(), audit_sink=audit, insecure_local=True) as server:
        channel = grpc.aio.insecure_channel(server.address)
        try:
            from mcp_grpc.wire import mcp_messages_pb2 as pb
            from mcp_grpc.wire import mcp_pb2_grpc

            stub = mcp_pb2_grpc.McpStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as anonymous:
                await stub.ListTools(pb.ListToolsRequest(), metadata=[("mcp-protocol-version", "1999-01-01")])
            with pytest.raises(grpc.aio.AioRpcError) as known:
                await stub.ListTools(
                    pb.ListToolsRequest(),
                    metadata=[("mcp-protocol-version", "1999-01-01"), ("x-test-identity", ALICE)],
                )
        finally:
            await channel.close()
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "1999" not in (anonymous.value.details() or "")
    assert known.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert [e.decision for e in audit.events] == ["unauthenticated", "invalid_argument"]
