"""``GrpcTransport``: the SDK's transport seam (a pair of memory streams of ``SessionMessage``) over mcp-grpc rpcs.

Each JSON-RPC request the ``ClientSession`` writes runs as one rpc of an ``AsyncClient`` in its own task and is
answered with a JSON-RPC response or error; ``notifications/cancelled`` cancels that task and with it the gRPC call.
tools/call with a ``progressToken`` runs on CallToolStream and each progress frame becomes ``notifications/progress``.
``subscriptions/listen`` (2026-07-28) and ``resources/subscribe`` (2025-11-25) ride ``McpStreaming.Listen``.
Input requests (MRTR) come back as the protocol's ``InputRequiredResult``; a retry's ``inputResponses`` and
``requestState`` go to the gRPC server as they came. No server-to-client requests are sent (the 2025-11-25 way).
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

import anyio
import anyio.abc
import mcp_types as types
from mcp.client._transport import TransportStreams
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp.shared.subscriptions import SUBSCRIPTION_ID_META_KEY

from mcp_grpc.client import AsyncClient, McpCallError, ProgressUpdate
from mcp_grpc.sdk import methods
from mcp_grpc.sdk.errors import error_data, unreachable
from mcp_grpc.wire.inputs import InputFormatError

__all__ = ["GrpcTransport"]

log = logging.getLogger("mcp_grpc.sdk")

_EVENT_METHODS = {
    "tools/list_changed": "notifications/tools/list_changed",
    "prompts/list_changed": "notifications/prompts/list_changed",
    "resources/list_changed": "notifications/resources/list_changed",
    "resources/updated": "notifications/resources/updated",
}


class GrpcTransport:
    """An async context manager yielding ``(read_stream, write_stream)`` for ``ClientSession``, served by ``client``.

    ``server_info``: what ``server/discover`` and ``initialize`` report (the wire has no rpc for it). The client is
    not closed here.
    """

    def __init__(self, client: AsyncClient, server_info: methods.ServerInfo) -> None:
        self._client = client
        self._info = server_info
        self._inflight: dict[Any, anyio.CancelScope] = {}
        self._subscriptions: dict[str, anyio.CancelScope] = {}
        self._group: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> TransportStreams:
        to_session, self._session_reads = anyio.create_memory_object_stream[SessionMessage | Exception](256)
        self._session_writes, from_session = anyio.create_memory_object_stream[SessionMessage](256)
        self._to_session = to_session
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._pump, from_session)
        return self._session_reads, self._session_writes

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._group is not None
        self._group.cancel_scope.cancel()
        try:
            return await self._group.__aexit__(*exc)
        finally:
            self._group = None
            for stream in (self._to_session, self._session_reads, self._session_writes):
                await stream.aclose()

    # -- from the session ---------------------------------------------------------------------------------------

    async def _pump(self, from_session: Any) -> None:
        assert self._group is not None
        async with from_session:
            async for item in from_session:
                message = item.message
                if isinstance(message, types.JSONRPCRequest):
                    self._group.start_soon(self._serve, message)
                elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
                    scope = self._inflight.get((message.params or {}).get("requestId"))
                    if scope is not None:
                        scope.cancel()
                # every other notification (initialized, roots/list_changed) and any response: nothing to forward

    async def _serve(self, request: types.JSONRPCRequest) -> None:
        params = request.params or {}
        with anyio.CancelScope() as scope:
            self._inflight[request.id] = scope
            try:
                result = await self._answer(request, params)
            except McpCallError as error:
                await self._send(types.JSONRPCError(jsonrpc="2.0", id=request.id, error=error_data(error)))
            except MCPError as error:
                await self._send(types.JSONRPCError(jsonrpc="2.0", id=request.id, error=error.error))
            except InputFormatError as error:  # inputResponses the protocol does not allow
                invalid = types.ErrorData(code=types.INVALID_PARAMS, message=str(error))
                await self._send(types.JSONRPCError(jsonrpc="2.0", id=request.id, error=invalid))
            except Exception as error:  # noqa: BLE001 - e.g. no SVID yet: the channel cannot be built
                log.info("%s failed before its rpc: %r", request.method, error)
                await self._send(types.JSONRPCError(jsonrpc="2.0", id=request.id, error=error_data(unreachable(error))))
            else:
                await self._send(types.JSONRPCResponse(jsonrpc="2.0", id=request.id, result=result))
            finally:
                self._inflight.pop(request.id, None)
        # cancelled: the session gave the request up and expects no answer

    async def _answer(self, request: types.JSONRPCRequest, params: Mapping[str, Any]) -> dict[str, Any]:
        method = request.method
        if method == "subscriptions/listen":
            return await self._listen(request.id, params)
        if method == "resources/subscribe":
            return await self._subscribe(str(params.get("uri") or ""))
        if method == "resources/unsubscribe":
            scope = self._subscriptions.pop(str(params.get("uri") or ""), None)
            if scope is not None:
                scope.cancel()
            return {}
        progress = None
        token = (params.get("_meta") or {}).get("progressToken")
        if method == "tools/call" and token is not None:

            async def progress(update: ProgressUpdate) -> None:
                await self._notify("notifications/progress", {
                    "progressToken": token, "progress": update.progress, "total": update.total,
                    "message": update.message or None,
                })

        return await methods.call(self._client, self._info, method, params, progress)

    # -- notifications ------------------------------------------------------------------------------------------

    async def _listen(self, request_id: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """One subscriptions/listen stream as one gRPC Listen stream; it ends when either side ends it."""
        wanted = params.get("notifications") or {}
        uris = list(wanted.get("resourceSubscriptions") or ())
        events = self._client.listen(
            tools=bool(wanted.get("toolsListChanged")), prompts=bool(wanted.get("promptsListChanged")),
            resources=bool(wanted.get("resourcesListChanged")), resource_uris=uris,
        )
        stamp = {SUBSCRIPTION_ID_META_KEY: request_id}
        try:
            async for kind, uri in events:
                if kind == "acknowledged":
                    await self._notify("notifications/subscriptions/acknowledged",
                                       {"notifications": dict(wanted), "_meta": stamp})
                elif kind in _EVENT_METHODS:
                    body: dict[str, Any] = {"_meta": stamp}
                    if uri is not None:
                        body["uri"] = uri
                    await self._notify(_EVENT_METHODS[kind], body)
        finally:
            await events.aclose()
        return {"_meta": {}, "resultType": "complete"}

    async def _subscribe(self, uri: str) -> dict[str, Any]:
        """resources/subscribe: answered once the server acknowledged a Listen stream for ``uri``; its updates come
        as notifications/resources/updated until resources/unsubscribe."""
        assert self._group is not None
        acknowledged = anyio.Event()
        failure: list[BaseException] = []

        async def follow() -> None:
            with anyio.CancelScope() as scope:
                self._subscriptions[uri] = scope
                events = self._client.listen(tools=False, prompts=False, resources=False, resource_uris=[uri])
                try:
                    async for kind, updated in events:
                        if kind == "acknowledged":
                            acknowledged.set()
                        elif kind == "resources/updated":
                            await self._notify("notifications/resources/updated", {"uri": updated or uri})
                except Exception as error:  # noqa: BLE001 - reported to the subscribe request, else logged
                    failure.append(error)
                    log.info("subscription to %s ended: %r", uri, error)
                finally:
                    acknowledged.set()
                    await events.aclose()
                    if self._subscriptions.get(uri) is scope:
                        del self._subscriptions[uri]

        previous = self._subscriptions.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self._group.start_soon(follow)
        await acknowledged.wait()
        if failure:
            raise failure[0]
        return {}

    # -- to the session -----------------------------------------------------------------------------------------

    async def _notify(self, method: str, params: dict[str, Any]) -> None:
        body = {key: value for key, value in params.items() if value is not None}
        await self._send(types.JSONRPCNotification(jsonrpc="2.0", method=method, params=body))

    async def _send(self, message: Any) -> None:
        try:
            await self._to_session.send(SessionMessage(message=message))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the session is gone: nobody is waiting for this
