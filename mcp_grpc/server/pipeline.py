"""The one pipeline every call goes down, in this order:

1. authenticate: the ``Authenticator`` turns the peer (auth context + metadata) into a ``Principal``; failure is
   UNAUTHENTICATED. Without an authenticator only insecure-local mode is possible, where every caller gets the
   insecure-local principal. Then the MCP protocol revision is checked (UNIMPLEMENTED for one we do not speak).
   A tool call then meets its rate limits and concurrency caps (``mcp_grpc.server.limits``): over one is
   RESOURCE_EXHAUSTED (audited ``limited``) before any validation or FGA work.
2. resolve and validate: the rpc's declaration finds its target in the registry and validates the arguments
   (pydantic; a proto-first tool's input schema and proto rules, ``proto_first.validation``). An unknown name or
   invalid arguments are answered only after the target's default check passed, so a caller who may not use a name
   cannot tell whether it exists or what its schema is.
3. authorize: the ``Authorizer`` decides on the ``CallTarget`` with the validated arguments (the policy reads
   them); DENY is PERMISSION_DENIED with its reason, UNAVAILABLE or an authorizer fault is UNAVAILABLE (fail closed).
4. handle: the declaration's ``answer`` runs the handler. A tool, prompt or resource handler may ask the client for
   input (MRTR, ``mcp_grpc.server.inputs``): the retry's ``request_state`` is opened first (sealed, bound to the
   caller, the target and its arguments, single use: ``mcp_grpc.server.request_state``; a bad one is refused and
   audited), and a handler missing answers ends the call INPUT_REQUIRED with a new sealed state (audited ``allow``
   with the keys it asked). A tool declared with ``confirm`` is asked to confirm here, before its handler runs.
5. audit: exactly one ``AuditEvent`` (``mcp_grpc.server.call``), whatever the outcome.

Nothing after a denial runs. An rpc is one declaration: a ``TargetRpc`` (one target: CallTool, ReadResource,
GetPrompt, Complete) or a ``ListRpc`` (List*: the registry filtered by what the caller may use). Proto-first
methods and streams use the same steps (``admit``, ``authorize``) around their own handling.

Telemetry (``mcp_grpc.server.telemetry``): a span per call from ``admit`` to that audit event, current while the
call is authorized and handled, child of the caller's trace context; its trace id is the audit record's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, Awaitable, Callable, Generic, Mapping, Sequence, TypeVar

import grpc
import pydantic_core

from mcp_grpc import wire
from mcp_grpc.contract import (
    AuditDecision,
    AuditSink,
    AuthenticationFailed,
    Authenticator,
    Authorizer,
    CallTarget,
    Check,
    Decision,
    DecisionStatus,
    InvalidTargetArguments,
    Principal,
    ProofKind,
    TargetKind,
)
from mcp_grpc.contract.bounds import clip
from mcp_grpc.contract.inputs import Elicit, ElicitAnswer
from mcp_grpc.server.call import Call, Rejected, abort, metadata_dict
from mcp_grpc.server.inputs import InputRequired, Inputs
from mcp_grpc.server.request_state import RequestStateKeys, RequestStateSealer, StateRefused, arguments_digest
from mcp_grpc.server.schema import ArgumentError
from mcp_grpc.server.telemetry import CallTelemetry
from mcp_grpc.wire import inputs as wire_inputs
from mcp_grpc.wire import mcp_messages_pb2 as wire_pb
from mcp_grpc.wire.errors import INVALID_PARAMS, McpError, internal

__all__ = [
    "CONFIRM_KEY",
    "CONSISTENCY_KEY",
    "INSECURE_LOCAL_PRINCIPAL",
    "Answer",
    "Handling",
    "ListRpc",
    "Pipeline",
    "Resolution",
    "TargetRpc",
]

log = logging.getLogger("mcp_grpc.server")

#: The principal of every caller in ``--insecure-local`` mode when no Authenticator is configured.
INSECURE_LOCAL_PRINCIPAL = Principal(
    spiffe_id="spiffe://insecure.local/dev",
    trust_domain="insecure.local",
    proven_by=ProofKind.INSECURE_LOCAL,
    not_after=None,
)

#: The input request key of a tool's confirmation (``@app.tool(confirm=...)``).
CONFIRM_KEY = "mcp-grpc/confirm"

#: Request metadata key asking the authorizer for stronger consistency (e.g. HIGHER_CONSISTENCY).
CONSISTENCY_KEY = "mcp-authz-consistency"

Request = TypeVar("Request")
Response = TypeVar("Response")


@dataclasses.dataclass(frozen=True, slots=True)
class Resolution:
    """What a call targets, as step 2 found it. ``entry`` None: no such name, ``missing`` is the answer."""

    kind: TargetKind
    name: str
    entry: Any = None
    missing: McpError | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The arguments as they arrived (what the audit record shows when they do not validate)."""
    checks: Sequence[Check] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Handling:
    """Everything step 4 gets: the call, what it targets, the validated arguments, the request and its context."""

    call: Call
    resolution: Resolution
    arguments: Any
    request: Any
    context: Any
    progress: Callable[[Any], None] | None = None
    inputs: Inputs | None = None
    """The call's input answers; None for an rpc whose handler may not ask (Complete)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Answer(Generic[Response]):
    response: Response
    reason: str = ""
    """What the audit record says beside "allow" (e.g. "tool error: ...")."""


@dataclasses.dataclass(frozen=True, slots=True)
class TargetRpc(Generic[Request, Response]):
    """An rpc about one target: how it is resolved and validated, and how it is answered."""

    method: str
    resolve: Callable[[Request], Resolution]
    """Find the target (a malformed request raises McpError at once: it names nothing to probe)."""
    validate: Callable[[Resolution, Request], Any]
    """The validated arguments of a found target; raises ArgumentError."""
    answer: Callable[[Handling], Awaitable[Answer[Response]]]
    invalid: Callable[[Resolution, ArgumentError], Response] | None = None
    """The answer to invalid arguments when it is a response (a tool error), not a protocol error."""
    invalid_error: Callable[[Resolution, ArgumentError], McpError] | None = None
    service: str = wire.MCP_SERVICE
    response_type: Any = None
    """The response message, when its handler may answer INPUT_REQUIRED (tools, prompts, resources)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ListRpc(Generic[Request, Response]):
    """A List* rpc: the names the caller may use, one page of them."""

    method: str
    kind: TargetKind
    names: Callable[[], Mapping[str, Any]]
    answer: Callable[[Request, Mapping[str, Any], Sequence[str]], Response]
    """Fill the response from the entries and the visible names (in registry order)."""
    service: str = wire.MCP_SERVICE
    needed: Callable[[Request], int | None] | None = None
    """How many visible names (from the first) ``answer`` reads for this request: its page's end plus one, to
    know whether a next page exists. None (or no function): all of them. Lets a long list filter only its prefix."""


LIST_CHUNK = 64
"""Names per authorization filtering when only a prefix of a list is needed: under FgaAuthorizer's threshold for
ListObjects (100), so each chunk is one BatchCheck of its own names rather than a listing of the whole type."""


class Pipeline:
    """The steps every call goes through, built by the server from its ``ServerConfig``."""

    def __init__(
        self,
        *,
        server_name: str,
        authenticator: Authenticator | None,
        authorizer: Authorizer | None,
        audit_sink: AuditSink | None,
        insecure_local: bool,
        audit_arguments: bool = False,
        supported_versions: Sequence[str] = wire.SUPPORTED_PROTOCOL_VERSIONS,
        telemetry: CallTelemetry | None = None,
        audit_required: bool = False,
        max_reply_bytes: int | None = None,
        limiter: Any = None,
        request_state_keys: RequestStateKeys | None = None,
        request_state_ttl: float = 600.0,
    ) -> None:
        if authenticator is None and not insecure_local:
            raise ValueError("an Authenticator is required unless insecure_local is set")
        self.server_name = server_name
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.audit_sink = audit_sink
        self.insecure_local = insecure_local
        self.audit_arguments = audit_arguments
        self.supported_versions = tuple(supported_versions)
        #: The server's max send message size: a larger reply is refused (and audited) before grpc would fail it.
        self.max_reply_bytes = max_reply_bytes
        #: With ``audit_required``, the sink whose ``writable`` must be true for a call to go on.
        self.audit_gate: Any = audit_sink if audit_required else None
        if audit_required and not hasattr(audit_sink, "writable"):
            raise ValueError("audit_required needs an audit sink that reports whether it can write (writable)")
        #: Spans and metrics of calls; the default follows the global OpenTelemetry providers. None turns it off.
        self.telemetry: CallTelemetry | None = telemetry if telemetry is not None else CallTelemetry()
        #: The ``mcp_grpc.server.limits.Limiter`` of tool calls, or None.
        self.limiter = limiter
        self._state_keys = request_state_keys
        self._state_ttl = request_state_ttl
        self._sealer: RequestStateSealer | None = None

    @property
    def sealer(self) -> RequestStateSealer:
        """Seals and opens ``request_state`` (made on first use: most servers never ask for input)."""
        sealer = self._sealer
        if sealer is None:
            sealer = self._sealer = RequestStateSealer(self._state_keys, ttl=self._state_ttl)
        return sealer

    # -- the whole pipeline, per rpc shape ------------------------------------------------------------------------

    async def unary(self, rpc: TargetRpc[Any, Response], request: Any, context: Any) -> Response:
        """Steps 1-5 for one target; a rejection ends the RPC with its status after it was audited."""
        call = await self.admit(context, rpc.service, rpc.method)
        try:
            return await self.run(call, rpc, request, context)
        except asyncio.CancelledError:
            call.fail(Rejected.cancelled())
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status and an audit record
            await self.reject(call, context, exc)
            raise  # reject always raises; this is for type checkers

    async def listing(self, rpc: ListRpc[Any, Response], request: Any, context: Any) -> Response:
        """Steps 1-5 for a List*: authorization filters the names instead of deciding one target."""
        call = await self.admit(context, rpc.service, rpc.method)
        try:
            entries = dict(rpc.names())
            needed = rpc.needed(request) if rpc.needed is not None else None
            if needed is None or needed >= len(entries):
                names = await self.visible(call, rpc.kind, list(entries))
            else:
                names = await self.visible_prefix(call, rpc.kind, list(entries), needed)
            response = rpc.answer(request, entries, names)
            self.check_reply(response)
            call.finish()
            return response
        except Exception as exc:  # noqa: BLE001
            await self.reject(call, context, exc)
            raise

    async def run(
        self,
        call: Call,
        rpc: TargetRpc[Any, Response],
        request: Any,
        context: Any,
        progress: Callable[[Any], None] | None = None,
    ) -> Response:
        """Steps 2-5 of an admitted call. Raises what ends the call (``reject`` turns it into a status)."""
        resolution = rpc.resolve(request)
        limiter = self.limiter
        if limiter is not None and resolution.kind is TargetKind.TOOL and limiter.applies(resolution.entry):
            await self.limit(call, resolution.name, resolution.entry)  # no coroutine per call when nothing limits
        if resolution.entry is None:
            await self.authorize(call, self.target(call, resolution.kind, resolution.name))
            raise resolution.missing or McpError(grpc.StatusCode.NOT_FOUND, INVALID_PARAMS, "not found")
        try:
            arguments = rpc.validate(resolution, request)
        except ArgumentError as exc:
            await self.authorize(call, self.target(call, resolution.kind, resolution.name))
            call.target = self.target(call, resolution.kind, resolution.name, resolution.raw, resolution.checks)
            if rpc.invalid is not None:
                response = rpc.invalid(resolution, exc)
                call.fail(Rejected(grpc.StatusCode.OK, exc.message, AuditDecision.INVALID_ARGUMENT))
                return response
            assert rpc.invalid_error is not None
            raise rpc.invalid_error(resolution, exc) from None
        target = self.target(
            call, resolution.kind, resolution.name, self._arguments_for_target(arguments), resolution.checks
        )
        await self.authorize(call, target)
        inputs = self.inputs(call, resolution, request) if rpc.response_type is not None else None
        try:
            if inputs is not None and getattr(resolution.entry, "confirm", None) is not None:
                self.confirm(call, resolution, arguments, inputs)
            answer = await rpc.answer(Handling(call, resolution, arguments, request, context, progress, inputs))
        except InputRequired as needed:
            if inputs is None:
                raise internal(
                    f"{call.method} cannot ask the client for input (only tools, prompts and resources can)"
                ) from None
            response = self.input_required(call, rpc, resolution, inputs, needed)
            self.check_reply(response)
            call.finish("input required: " + ", ".join(clip(key, 64) for key in needed.requests))
            return response
        self.check_reply(answer.response)
        call.finish(answer.reason)
        return answer.response

    # -- step 4: input from the client (MRTR) ---------------------------------------------------------------------

    def inputs(self, call: Call, resolution: Resolution, request: Any) -> Inputs:
        """The answers a retry brings: its ``input_responses`` over what its ``request_state`` carries (opened and
        checked here: a state that fails is ``Rejected``, audited by the caller of ``run``)."""
        common = request.common
        has_state = common.HasField("request_state")
        if not has_state and not common.input_responses:  # a first round: nothing to decode (the common case)
            return Inputs()
        responses: dict[str, Any] = {}
        for key, response in common.input_responses.items():
            try:
                responses[key] = wire_inputs.response_to_json(response)
            except wire_inputs.InputFormatError:
                continue  # no answer: the handler asks again
        if not has_state:
            return Inputs(responses)
        assert call.principal is not None
        try:
            claims = self.sealer.open(
                common.request_state, principal=call.principal.spiffe_id, server=self.server_name,
                kind=resolution.kind.value, name=resolution.name, digest=arguments_digest(resolution.raw),
            )
        except StateRefused as refused:
            mcp_code = INVALID_PARAMS if refused.status is grpc.StatusCode.INVALID_ARGUMENT else None
            raise Rejected(refused.status, refused.reason, refused.decision, mcp_code=mcp_code) from None
        return Inputs(responses, carried=claims.answers, asked=claims.asked, round=claims.round + 1)

    def input_required(
        self, call: Call, rpc: TargetRpc[Any, Any], resolution: Resolution, inputs: Inputs, needed: InputRequired
    ) -> Any:
        """The INPUT_REQUIRED response asking ``needed.requests``, with the state the retry must bring back."""
        response = rpc.response_type()
        common = response.common
        common.result_type = wire_pb.RESULT_TYPE_INPUT_REQUIRED
        for key, asked in needed.requests.items():
            try:
                wire_inputs.request_from_json(asked.to_json(), f"input request {key!r}", common.input_requests[key])
            except wire_inputs.InputFormatError as exc:
                raise internal(
                    f"{resolution.kind.value} {resolution.name!r} asked for input the protocol cannot carry: {exc}"
                ) from None
        assert call.principal is not None
        sealer = self.sealer
        claims = sealer.new_claims(
            principal=call.principal.spiffe_id, server=self.server_name, kind=resolution.kind.value,
            name=resolution.name, digest=arguments_digest(resolution.raw), round=inputs.round,
            answers=inputs.used, asked={key: asked.method for key, asked in needed.requests.items()},
        )
        try:
            common.request_state = sealer.seal(claims)
        except StateRefused as refused:
            raise Rejected(refused.status, refused.reason, refused.decision) from None
        return response

    def confirm(self, call: Call, resolution: Resolution, arguments: Any, inputs: Inputs) -> None:
        """A tool declared with ``confirm``: the user must accept its message, asked for by this very call (the
        answer is taken only with the state that asked, so it is bound to this caller and these arguments)."""
        entry = resolution.entry
        message = entry.confirmation(arguments)
        if message is None:  # the tool's rule says these arguments need no confirmation
            return
        answer = inputs.ask({CONFIRM_KEY: Elicit(message)}, require_asked=True)[CONFIRM_KEY]
        assert isinstance(answer, ElicitAnswer)
        if not answer.accepted:
            raise Rejected(
                grpc.StatusCode.PERMISSION_DENIED,
                f"not confirmed: the user answered {answer.action!r} to {clip(message, 200)!r}",
                AuditDecision.DENY,
            )
        call.note = (call.note + "; " if call.note else "") + "confirmed by the user"

    def check_reply(self, response: Any) -> None:
        """Refuse a reply grpc could not send (over the max send message size): the caller would get
        RESOURCE_EXHAUSTED from grpc while the audit record said allow. Raises ``Rejected``."""
        limit = self.max_reply_bytes
        if limit is not None and limit >= 0:
            size = response.ByteSize()
            if size > limit:
                raise Rejected(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"the reply is {size} bytes, over this server's limit of {limit} bytes per message; "
                    "nothing was sent",
                    AuditDecision.ERROR,
                )

    # -- step 1 ---------------------------------------------------------------------------------------------------

    async def admit(self, context: Any, service: str, method: str, *, check_version: bool = True) -> Call:
        """Authenticate the caller and check its protocol revision; a rejection is audited and ends the RPC."""
        try:
            return self.begin(context, service, method, check_version=check_version)
        except Rejected as rejected:
            await abort(context, rejected)
            raise

    def begin(self, context: Any, service: str, method: str, *, check_version: bool = True) -> Call:
        """Open the call and authenticate it. Raises ``Rejected`` (already audited)."""
        metadata = metadata_dict(context)
        telemetry = self.telemetry
        call = Call(
            service, method, metadata, context.peer() or "",
            sink=self.audit_sink, telemetry=telemetry, audit_arguments=self.audit_arguments,
        )
        if telemetry is not None and (telemetry.enabled or call.started >= telemetry.next_check) and telemetry.active(
            call.started
        ):
            try:
                call.span = telemetry.start(service, method, metadata)
            except Exception:  # noqa: BLE001 - telemetry must never change a call's outcome
                log.exception("telemetry failed to start a span for %s/%s", service, method)
        try:
            call.principal = self._authenticate(context, metadata)
            if check_version:
                self._check_version(metadata)
            if self.audit_gate is not None and not self.audit_gate.writable:
                raise Rejected(
                    grpc.StatusCode.UNAVAILABLE,
                    "audit unavailable: this server refuses calls while it cannot write audit records",
                    AuditDecision.UNAVAILABLE,
                )
        except Rejected as rejected:
            call.fail(rejected)
            raise
        return call

    def _check_version(self, metadata: Mapping[str, str]) -> None:
        version = metadata.get(wire.PROTOCOL_VERSION_METADATA_KEY)
        if version is not None and version not in self.supported_versions:
            raise Rejected(
                grpc.StatusCode.UNIMPLEMENTED,
                f"unsupported MCP protocol version {version[:64]!r}; supported versions: "
                + ", ".join(self.supported_versions),
                AuditDecision.INVALID_ARGUMENT,
                mcp_code=INVALID_PARAMS,
            )

    def _authenticate(self, context: Any, metadata: Mapping[str, str]) -> Principal:
        if self.authenticator is None:
            return INSECURE_LOCAL_PRINCIPAL
        unauthenticated = AuditDecision.UNAUTHENTICATED
        try:
            principal = self.authenticator.authenticate(context.auth_context(), metadata)
        except AuthenticationFailed as exc:
            raise Rejected(grpc.StatusCode.UNAUTHENTICATED, exc.reason, unauthenticated) from None
        except Exception as exc:  # noqa: BLE001 - fail closed on any authenticator fault
            log.exception("authenticator raised")
            raise Rejected(
                grpc.StatusCode.UNAUTHENTICATED, f"authentication failed: internal error ({type(exc).__name__})",
                unauthenticated,
            ) from None
        if principal is None:
            raise Rejected(grpc.StatusCode.UNAUTHENTICATED, "authentication failed: no identity", unauthenticated)
        if principal.expired():
            raise Rejected(
                grpc.StatusCode.UNAUTHENTICATED,
                f"the credential of {principal.spiffe_id} expired at {principal.not_after}",
                unauthenticated,
            )
        return principal

    # -- between steps 1 and 3: limits ----------------------------------------------------------------------------

    async def limit(self, call: Call, tool: str, entry: Any) -> None:
        """The tool call's rate limits and concurrency caps. Raises ``Rejected`` (after auditing) over one."""
        limiter = self.limiter
        if limiter is None or not limiter.applies(entry):
            return
        assert call.principal is not None
        try:
            admission = await limiter.admit(call.principal, tool, entry)
        except Exception as exc:  # noqa: BLE001 - fail closed on a limiter fault
            if isinstance(exc, Rejected):
                rejected = exc
            else:
                log.exception("limiter raised for tool %r", clip(tool))
                rejected = Rejected(
                    grpc.StatusCode.UNAVAILABLE, f"rate limits unavailable: internal error ({type(exc).__name__})",
                    AuditDecision.UNAVAILABLE,
                )
            call.target = self.target(call, TargetKind.TOOL, tool)
            call.fail(rejected)
            raise rejected from None
        call.release = admission.release
        call.note = admission.note

    # -- step 3 ---------------------------------------------------------------------------------------------------

    async def authorize(self, call: Call, target: CallTarget) -> None:
        """Decide ``target`` for the call's principal. Raises ``Rejected`` (after auditing) unless allowed."""
        call.target = target
        authorizer = self.authorizer
        if authorizer is None:
            return
        assert call.principal is not None
        try:
            decision: Decision = await authorizer.authorize(call.principal, target)
        except InvalidTargetArguments as exc:  # the caller's arguments cannot name the objects to check
            rejected = Rejected(
                grpc.StatusCode.INVALID_ARGUMENT, str(exc), AuditDecision.INVALID_ARGUMENT, mcp_code=INVALID_PARAMS
            )
            call.fail(rejected)
            raise rejected from None
        except Exception as exc:  # noqa: BLE001 - fail closed: an authorizer fault is a denial
            log.exception("authorizer raised for %s %r", target.kind.value, clip(target.name))
            rejected = Rejected(
                grpc.StatusCode.UNAVAILABLE, f"authorization unavailable: {type(exc).__name__}",
                AuditDecision.UNAVAILABLE,
            )
            call.fail(rejected)
            raise rejected from None
        call.checks = decision.checks
        shadow = getattr(decision, "shadow", None)
        if shadow is not None:  # a shadow model's verdict, for the audit record only (mcp_grpc.authz.shadow)
            call.shadow = shadow
        status = decision.status
        if status is DecisionStatus.ALLOW:
            return
        if status is DecisionStatus.DENY:
            rejected = Rejected(
                grpc.StatusCode.PERMISSION_DENIED, decision.reason or "permission denied", AuditDecision.DENY
            )
        else:
            rejected = Rejected(
                grpc.StatusCode.UNAVAILABLE, decision.reason or "authorization unavailable", AuditDecision.UNAVAILABLE
            )
        call.fail(rejected)
        raise rejected

    async def visible(self, call: Call, kind: TargetKind, names: Sequence[str]) -> Sequence[str]:
        """The names the caller may see, in their original order (List* filtering)."""
        authorizer = self.authorizer
        if authorizer is None or not names:
            return names
        assert call.principal is not None
        try:
            allowed = await authorizer.visible(call.principal, self.server_name, kind, names)
        except Exception as exc:  # noqa: BLE001 - fail closed
            log.exception("authorizer.visible raised for %s", kind.value)
            rejected = Rejected(
                grpc.StatusCode.UNAVAILABLE, f"authorization unavailable: {type(exc).__name__}",
                AuditDecision.UNAVAILABLE,
            )
            call.fail(rejected)
            raise rejected from None
        return [name for name in names if name in allowed]

    async def visible_prefix(self, call: Call, kind: TargetKind, names: Sequence[str], needed: int) -> Sequence[str]:
        """The first ``needed`` names the caller may see (all of them when fewer), in their original order: the
        names are filtered chunk by chunk, stopping once enough are visible. A page is the same as it would be cut
        from the whole filtered list, at a cost in proportion to the page's end, not to the registry (ListTools'
        first page over 10,000 tools: 404 checks instead of 10,000)."""
        if self.authorizer is None:
            return names
        out: list[str] = []
        for start in range(0, len(names), LIST_CHUNK):
            out.extend(await self.visible(call, kind, names[start:start + LIST_CHUNK]))
            if len(out) >= needed:
                break
        return out

    def target(
        self,
        call: Call,
        kind: TargetKind,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        checks: Sequence[Check] = (),
    ) -> CallTarget:
        # Positional, in CallTarget's field order (tests/server/test_audit_fields.py holds it): keywords cost a third
        # of building it, on every call.
        return CallTarget(
            self.server_name,  # server_name
            call.service,  # service
            call.method,  # method
            kind,  # kind
            name,  # name
            arguments if arguments is not None else {},  # arguments
            tuple(checks),  # required_checks
            call.peer,  # peer
            call.metadata.get(CONSISTENCY_KEY),  # consistency
        )

    def _arguments_for_target(self, arguments: Any) -> Any:
        """Validated arguments as JSON values (what the policy's templates and the audit record read)."""
        if self.authorizer is None and not self.audit_arguments:
            return arguments
        return pydantic_core.to_jsonable_python(arguments)

    # -- the end of a rejected call -------------------------------------------------------------------------------

    async def reject(self, call: Call | None, context: Any, error: BaseException) -> None:
        """Audit the exception that ended a call and send its status. Always raises."""
        rejected = Rejected.from_exception(error, call.method if call is not None else "?")
        if call is not None:
            call.fail(rejected)
        await abort(context, rejected)
