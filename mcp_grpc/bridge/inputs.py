"""Input requests (MRTR) through the bridge, for both eras of JSON-RPC clients.

A 2026-07-28 client gets the gRPC server's INPUT_REQUIRED as its own ``InputRequiredResult`` (``inputRequests``,
``requestState`` passed through unread: the gRPC server sealed it) and retries with ``inputResponses``, which go to
the gRPC server as they came. A 2025-11-25 session never retries that way; for it the bridge asks each question
itself, as a server-to-client request on the session (``elicitation/create``, ``sampling/createMessage``,
``roots/list``), and retries the gRPC call with the answers. Only the client's declared capabilities travel from the
request's ``_meta`` (the gRPC server checks them before it asks).
"""

from __future__ import annotations

from typing import Any, Mapping

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import TypeAdapter, ValidationError

from mcp_grpc.client import InputRequiredError

__all__ = ["forwarded", "input_required_result", "is_session_era", "session_answerer"]

_MODERN = "2026-07-28"
_REQUESTS: TypeAdapter[Any] = TypeAdapter(types.InputRequest)
_RESULTS = {
    "elicitation/create": types.ElicitResult,
    "sampling/createMessage": types.CreateMessageResult,
    "roots/list": types.ListRootsResult,
}


def is_session_era(ctx: ServerRequestContext) -> bool:
    """Whether the client speaks a revision before 2026-07-28 (it answers server-to-client requests instead)."""
    version = getattr(ctx, "protocol_version", None)
    return version is not None and version < _MODERN


def _json(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    return value


def forwarded(ctx: ServerRequestContext, params: Any) -> dict[str, Any]:
    """The MRTR fields of a JSON-RPC request as keyword arguments of the gRPC client's call."""
    out: dict[str, Any] = {}
    responses = getattr(params, "input_responses", None)
    if responses is not None:
        if not isinstance(responses, Mapping):
            raise MCPError(code=types.INVALID_PARAMS, message="inputResponses: expected an object")
        out["input_responses"] = {key: _json(value) for key, value in responses.items()}
    state = getattr(params, "request_state", None)
    if state is not None:
        out["request_state"] = state
    meta = ctx.meta
    capabilities = meta.get(types.CLIENT_CAPABILITIES_META_KEY) if meta else None
    if capabilities is not None:
        out["meta"] = {types.CLIENT_CAPABILITIES_META_KEY: _json(capabilities)}
    return out


def input_required_result(error: InputRequiredError) -> types.InputRequiredResult:
    """The gRPC server's INPUT_REQUIRED as the protocol's result."""
    try:
        requests = {key: _REQUESTS.validate_python(value) for key, value in error.requests.items()}
    except ValidationError as exc:
        raise MCPError(code=types.INTERNAL_ERROR, message=f"the server asked for input the bridge cannot send: {exc}")
    return types.InputRequiredResult(input_requests=requests or None, request_state=error.request_state)


def session_answerer(ctx: ServerRequestContext):  # type: ignore[no-untyped-def]
    """An ``on_input`` for a session-era client: each question becomes a request to the client on its session."""

    async def answer(requests: Mapping[str, Any]) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for key, request in requests.items():
            message = request.to_json()
            typed = _REQUESTS.validate_python(message)
            result = await ctx.session.send_request(typed, _RESULTS[message["method"]])
            answers[key] = _json(result)
        return answers

    return answer
