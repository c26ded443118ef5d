"""An OpenFGA HTTP API server for tests, on 127.0.0.1, answering from an ``AuthorizationBackend``.

No OpenFGA server binary runs here, so ``OpenFgaBackend`` is tested against this: it speaks OpenFGA's real HTTP API
(paths, JSON request and response shapes, error bodies ``{"code": ..., "message": ...}`` with OpenFGA's statuses)
for the calls we use, and answers from the embedded engine (or any backend with the same interface). Every request
is recorded (method, path, headers, JSON body) so tests can assert exactly what the SDK sent.

Faults for fail-closed tests: ``delay`` (seconds before answering), ``fail_status`` (answer every request with this
HTTP status and OpenFGA's matching error body), ``required_token`` (401 without ``Authorization: Bearer <token>``).

Usage::

    async with FakeOpenFga(backend, model=model_json) as fake:
        client = OpenFgaBackend(fake.url, fake.store_id, model_id=fake.model_id)
        ...
        assert fake.requests[-1].body == {...}
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Mapping

from aiohttp import web

from mcp_grpc.authz.backend import AuthorizationBackend, CheckRequest, Outcome, TupleKey
from mcp_grpc.authz.remote import OPENFGA_ERROR_CODES

STORE_ID = "01JDQ3N3WW2K7ZFDJ9Y9Q2X5AB"
MODEL_ID = "01JDQ3N3WW2K7ZFDJ9Y9Q2X5MD"

_ERROR_BODIES = {
    400: {"code": "validation_error", "message": "invalid request"},
    401: {"code": "unauthenticated", "message": "unauthenticated"},
    403: {"code": "forbidden", "message": "the principal is not authorized to perform the action"},
    404: {"code": "store_id_not_found", "message": "store not found"},
    422: {"code": "authorization_model_resolution_too_complex", "message": "resolution too complex"},
    429: {"code": "rate_limit_exceeded", "message": "rate limit exceeded"},
    500: {"code": "internal_error", "message": "Internal Server Error"},
    503: {"code": "unavailable", "message": "service unavailable"},
}


_CODE_NAMES = {code: name for name, code in OPENFGA_ERROR_CODES.items()}


@dataclasses.dataclass
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


def _tuple_key(raw: Mapping[str, Any]) -> TupleKey:
    condition = raw.get("condition") or {}
    return TupleKey(
        user=raw["user"],
        relation=raw["relation"],
        object=raw["object"],
        condition_name=condition.get("name"),
        condition_context=condition.get("context"),
    )


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def _user_json(user: str) -> dict[str, Any]:
    """OpenFGA's ListUsers user shape for ``type:id``, ``type:*`` or ``type:id#relation``."""
    base, _, relation = user.partition("#")
    user_type, _, user_id = base.partition(":")
    if relation:
        return {"userset": {"type": user_type, "id": user_id, "relation": relation}}
    if user_id == "*":
        return {"wildcard": {"type": user_type}}
    return {"object": {"type": user_type, "id": user_id}}


class FakeOpenFga:
    def __init__(
        self,
        backend: AuthorizationBackend,
        *,
        model: Mapping[str, Any] | None = None,
        store_id: str = STORE_ID,
        model_id: str = MODEL_ID,
    ) -> None:
        self.backend = backend
        self.model = dict(model or {"schema_version": "1.1", "type_definitions": []})
        self.store_id = store_id
        self.model_id = model_id
        self.requests: list[RecordedRequest] = []
        self.delay = 0.0
        self.fail_status: int | None = None
        self.required_token: str | None = None
        self.oauth_clients: dict[str, str] = {}
        """client_id -> client_secret accepted by the OAuth2 token endpoint (``POST /oauth/token``)."""
        self.token_requests: list[dict[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------------------------------------

    async def start(self) -> FakeOpenFga:
        app = web.Application(middlewares=[self._middleware])
        base = "/stores/{store_id}"
        app.router.add_post(base + "/check", self._check)
        app.router.add_post(base + "/batch-check", self._batch_check)
        app.router.add_post(base + "/list-objects", self._list_objects)
        app.router.add_post(base + "/list-users", self._list_users)
        app.router.add_post(base + "/write", self._write)
        app.router.add_get(base + "/authorization-models", self._list_models)
        app.router.add_get(base + "/authorization-models/{model_id}", self._read_model)
        app.router.add_post("/oauth/token", self._oauth_token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenFga:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]

    # -- plumbing ----------------------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/oauth/token":
            return await handler(request)
        body = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "validation_error", "invalid JSON body")
        self.requests.append(RecordedRequest(request.method, request.path_qs, dict(request.headers), body))
        if self.delay:
            try:  # interrupted by stop(), so a stalled answer never holds up teardown
                await asyncio.wait_for(self._released.wait(), self.delay)
            except asyncio.TimeoutError:
                pass
        if self.required_token is not None:
            if request.headers.get("Authorization") != f"Bearer {self.required_token}":
                return _error(401, "unauthenticated", "unauthenticated")
        if self.fail_status is not None:
            payload = _ERROR_BODIES.get(self.fail_status, {"code": "internal_error", "message": "error"})
            return web.json_response(payload, status=self.fail_status)
        if request.match_info.get("store_id") not in (None, self.store_id):
            return _error(404, "store_id_not_found", f"store '{request.match_info['store_id']}' not found")
        return await handler(request)

    def _check_model_id(self, body: Mapping[str, Any]) -> web.Response | None:
        model_id = body.get("authorization_model_id")
        if model_id and model_id != self.model_id:
            return _error(400, "authorization_model_not_found", f"Authorization Model '{model_id}' not found")
        return None

    @staticmethod
    def _contextual(body: Mapping[str, Any], *, wrapped: bool = True) -> tuple[TupleKey, ...]:
        raw = body.get("contextual_tuples") or {}
        keys = raw.get("tuple_keys", []) if wrapped else raw
        return tuple(_tuple_key(t) for t in keys)

    def _request(self, item: Mapping[str, Any]) -> CheckRequest:
        key = item["tuple_key"]
        return CheckRequest(
            user=key["user"],
            relation=key["relation"],
            object=key["object"],
            context=item.get("context"),
            contextual_tuples=self._contextual(item),
        )

    # -- API ---------------------------------------------------------------------------------------------------

    async def _check(self, request: web.Request) -> web.Response:
        body = self.requests[-1].body or {}
        if (bad := self._check_model_id(body)) is not None:
            return bad
        try:
            check = self._request(body)
        except (KeyError, TypeError):
            return _error(400, "validation_error", "invalid CheckRequest.TupleKey: value is required")
        result = await self.backend.check(check, consistency=body.get("consistency"))
        if result.outcome is Outcome.ERROR:
            return _error(400, _CODE_NAMES.get(result.error_code or 0, "validation_error"), result.error or "error")
        return web.json_response({"allowed": result.outcome is Outcome.ALLOWED, "resolution": ""})

    async def _batch_check(self, request: web.Request) -> web.Response:
        body = self.requests[-1].body or {}
        if (bad := self._check_model_id(body)) is not None:
            return bad
        items = body.get("checks") or []
        if not items:
            return _error(400, "validation_error", "invalid BatchCheckRequest.Checks: value must contain at least 1 item(s)")
        if len(items) > 50:
            return _error(400, "validation_error", "batchCheck received 51 checks, the maximum allowed is 50")
        ids = [item.get("correlation_id") for item in items]
        if any(not i for i in ids) or len(set(ids)) != len(ids):
            return _error(400, "validation_error", "correlation_id must be unique and non-empty")
        results = await self.backend.batch_check([self._request(i) for i in items], consistency=body.get("consistency"))
        out: dict[str, Any] = {}
        for correlation_id, result in zip(ids, results):
            if result.outcome is Outcome.ERROR:
                out[correlation_id] = {
                    "allowed": False,
                    "error": {
                        "input_error": _CODE_NAMES.get(result.error_code or 0, "validation_error"),
                        "message": result.error or "error",
                    },
                }
            else:
                out[correlation_id] = {"allowed": result.outcome is Outcome.ALLOWED}
        return web.json_response({"result": out})

    async def _list_objects(self, request: web.Request) -> web.Response:
        body = self.requests[-1].body or {}
        if (bad := self._check_model_id(body)) is not None:
            return bad
        result = await self.backend.list_objects(
            body["user"], body["relation"], body["type"],
            context=body.get("context"), contextual_tuples=self._contextual(body),
        )
        if result.error is not None:
            return _error(400, "validation_error", result.error)
        return web.json_response({"objects": list(result.items)})

    async def _list_users(self, request: web.Request) -> web.Response:
        body = self.requests[-1].body or {}
        if (bad := self._check_model_id(body)) is not None:
            return bad
        obj = body["object"]
        if len(body.get("user_filters") or ()) != 1:  # as OpenFGA v1.22 answers (tests/peers saw it)
            return _error(400, "validation_error",
                          "invalid ListUsersRequest.UserFilters: value must contain exactly 1 item(s)")
        filters = [f["type"] + (f"#{f['relation']}" if f.get("relation") else "") for f in body["user_filters"]]
        result = await self.backend.list_users(
            f"{obj['type']}:{obj['id']}", body["relation"], filters,
            context=body.get("context"),
            contextual_tuples=tuple(_tuple_key(t) for t in body.get("contextual_tuples") or ()),
        )
        if result.error is not None:
            return _error(400, "validation_error", result.error)
        return web.json_response({"users": [_user_json(u) for u in result.items]})

    async def _write(self, request: web.Request) -> web.Response:
        body = self.requests[-1].body or {}
        if (bad := self._check_model_id(body)) is not None:
            return bad
        writes = [_tuple_key(t) for t in (body.get("writes") or {}).get("tuple_keys", [])]
        deletes = [_tuple_key(t) for t in (body.get("deletes") or {}).get("tuple_keys", [])]
        if not writes and not deletes:
            return _error(400, "invalid_write_input", "Invalid input. Make sure you provide at least one write or delete")
        write = getattr(self.backend, "write", None) or self.backend.engine.write  # type: ignore[attr-defined]
        try:
            outcome = write(writes, deletes)
            if asyncio.iscoroutine(outcome):
                outcome = await outcome
        except Exception as exc:  # noqa: BLE001 - reported as OpenFGA does
            return _error(400, "write_failed_due_to_invalid_input", str(exc))
        return web.json_response({})

    async def _list_models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"authorization_models": [{"id": self.model_id, **self.model}], "continuation_token": ""}
        )

    async def _read_model(self, request: web.Request) -> web.Response:
        model_id = request.match_info["model_id"]
        if model_id != self.model_id:
            return _error(404, "authorization_model_not_found", f"Authorization Model '{model_id}' not found")
        return web.json_response({"authorization_model": {"id": self.model_id, **self.model}})

    async def _oauth_token(self, request: web.Request) -> web.Response:
        """OAuth2 client credentials (RFC 6749 4.4): a form post answered with a bearer token."""
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        client_id = str(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials" or self.oauth_clients.get(client_id) != form.get("client_secret"):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"token-for-{client_id}"
        self.required_token = token
        return web.json_response({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})
