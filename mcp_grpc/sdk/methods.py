"""One JSON-RPC request of the SDK's ``ClientSession`` as one call of ``AsyncClient``, answered with its result dict.

``server/discover`` and ``initialize`` are answered here without a call: the gRPC wire is stateless (every rpc
carries its protocol revision), so there is no handshake to forward. ``ping`` is answered here too.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Awaitable, Callable, Mapping

import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION

from mcp_grpc import wire
from mcp_grpc.client import AsyncClient, InputRequiredError, ProgressUpdate
from mcp_grpc.sdk import convert

__all__ = ["UNSERVED_CAPABILITIES", "ServerInfo", "call", "capabilities"]

#: Client capabilities a 2025-11-25 session could only use through server-to-client requests, which are not carried.
UNSERVED_CAPABILITIES = ("sampling", "elicitation", "roots")

Progress = Callable[[ProgressUpdate], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """What discover and initialize answer with: the server's name, version and instructions (the wire has no
    rpc that returns them, so they are given to :func:`mcp_grpc.sdk.connect`)."""

    name: str
    version: str = ""
    instructions: str | None = None

    def implementation(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


def capabilities() -> dict[str, Any]:
    """What every mcp-grpc server serves: tools, resources with subscriptions, prompts, completions, and change
    notifications (over McpStreaming.Listen)."""
    return {
        "tools": {"listChanged": True},
        "resources": {"subscribe": True, "listChanged": True},
        "prompts": {"listChanged": True},
        "completions": {},
    }


def _discover(info: ServerInfo) -> dict[str, Any]:
    result: dict[str, Any] = {
        "supportedVersions": list(wire.SUPPORTED_PROTOCOL_VERSIONS),
        "capabilities": capabilities(),
        "cacheScope": "private",
        "ttlMs": 0,
        "resultType": "complete",
        "_meta": {types.SERVER_INFO_META_KEY: info.implementation()},
    }
    if info.instructions:
        result["instructions"] = info.instructions
    return result


def _refuse_unserved(capabilities: Any) -> None:
    """A session that declares sampling, elicitation or roots would wait for requests that never come: say so."""
    declared = [name for name in UNSERVED_CAPABILITIES if isinstance(capabilities, Mapping) and name in capabilities]
    if declared:
        raise MCPError(
            code=types.INVALID_REQUEST,
            message=f"client capabilities {', '.join(declared)} are not served to a 2025-11-25 session over mcp-grpc "
            "(no server-to-client requests); negotiate 2026-07-28, where input requests are InputRequiredResult",
            data={"grpcStatus": "UNIMPLEMENTED"},
        )


def _initialize(info: ServerInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy handshake, answered at the revision the session asked for when it knows it. The rpcs underneath
    still speak the wire's revision (``mcp-protocol-version`` metadata)."""
    asked = params.get("protocolVersion")
    result: dict[str, Any] = {
        "protocolVersion": asked if asked in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION,
        "capabilities": capabilities(),
        "serverInfo": info.implementation(),
    }
    if info.instructions:
        result["instructions"] = info.instructions
    return result


def _require(params: Mapping[str, Any], key: str) -> Any:
    value = params.get(key)
    if value is None:
        raise MCPError(code=types.INVALID_PARAMS, message=f"missing params.{key}")
    return value


async def _complete(client: AsyncClient, params: Mapping[str, Any]) -> dict[str, Any]:
    ref = _require(params, "ref")
    argument = _require(params, "argument")
    context = (params.get("context") or {}).get("arguments")
    if ref.get("type") == "ref/prompt":
        result = await client.complete(argument["name"], argument.get("value", ""), prompt=ref["name"],
                                       context_arguments=context)
    else:
        result = await client.complete(argument["name"], argument.get("value", ""), resource=ref["uri"],
                                       context_arguments=context)
    return convert.completion_result(result.values, result.total, result.has_more)


def _inputs(params: Mapping[str, Any]) -> dict[str, Any]:
    """A retry's MRTR fields (``inputResponses``, ``requestState``) and declared capabilities, for the client call."""
    out: dict[str, Any] = {}
    responses = params.get("inputResponses")
    if responses is not None:
        if not isinstance(responses, Mapping):
            raise MCPError(code=types.INVALID_PARAMS, message="inputResponses: expected an object")
        out["input_responses"] = responses
    if params.get("requestState") is not None:
        out["request_state"] = params["requestState"]
    declared = (params.get("_meta") or {}).get(types.CLIENT_CAPABILITIES_META_KEY)
    if declared is not None:
        out["meta"] = {types.CLIENT_CAPABILITIES_META_KEY: declared}
    return out


def _input_required(needed: InputRequiredError) -> dict[str, Any]:
    """The server's INPUT_REQUIRED as the protocol's ``InputRequiredResult`` (the state passes through unread)."""
    result: dict[str, Any] = {"resultType": "input_required", "inputRequests": needed.requests}
    if needed.request_state is not None:
        result["requestState"] = needed.request_state
    return result


async def call(
    client: AsyncClient, info: ServerInfo, method: str, params: Mapping[str, Any], progress: Progress | None
) -> dict[str, Any]:
    """The result dict of ``method``; raises ``McpCallError`` from the rpc, or ``MCPError`` for a method or params
    the wire cannot carry."""
    if method == "server/discover":  # 2026-07-28: input requests come back as InputRequiredResult
        return _discover(info)
    if method == "initialize":
        _refuse_unserved(params.get("capabilities"))
        return _initialize(info, params)
    if method == "ping":
        return {}
    if method == "tools/list":
        return convert.list_result("tools", map(convert.tool, await client.list_tools()))
    if method == "tools/call":
        try:
            result = await client.call_tool(
                _require(params, "name"), params.get("arguments") or {}, progress=progress, **_inputs(params)
            )
        except InputRequiredError as needed:
            return _input_required(needed)
        return convert.call_tool_result(result)
    if method == "resources/list":
        return convert.list_result("resources", map(convert.resource, await client.list_resources()))
    if method == "resources/templates/list":
        templates = await client.list_resource_templates()
        return convert.list_result("resourceTemplates", map(convert.resource_template, templates))
    if method == "resources/read":
        try:
            return convert.read_result(await client.read_resource(str(_require(params, "uri")), **_inputs(params)))
        except InputRequiredError as needed:
            return _input_required(needed)
    if method == "prompts/list":
        return convert.list_result("prompts", map(convert.prompt, await client.list_prompts()))
    if method == "prompts/get":
        arguments = {key: str(value) for key, value in (params.get("arguments") or {}).items()}
        try:
            return convert.prompt_result(
                await client.get_prompt(_require(params, "name"), arguments, **_inputs(params))
            )
        except InputRequiredError as needed:
            return _input_required(needed)
    if method == "completion/complete":
        return await _complete(client, params)
    if method == "logging/setLevel":
        return {}  # the wire carries no log messages: there is nothing to filter
    raise MCPError(code=types.METHOD_NOT_FOUND, message=f"{method} is not served over mcp-grpc",
                   data={"grpcStatus": "UNIMPLEMENTED"})
