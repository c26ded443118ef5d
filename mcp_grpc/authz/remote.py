"""``OpenFgaBackend``: the ``AuthorizationBackend`` over a real OpenFGA server, through openfga-sdk's async client.

Every failure comes back as an ERROR result (``CheckResult.outcome`` / ``ListResult.error``): HTTP 4xx/5xx, an
unreachable server, a timeout, a malformed answer. Nothing here raises for a denial, and nothing allows on error.

Usage::

    backend = OpenFgaBackend("http://127.0.0.1:8080", "01HVMMBCMGZNT3SED4Z17ECXCA", api_token="secret")
    result = await backend.check(CheckRequest("agent:example.org/a", "can_call", "tool:billing/refund"))
    await backend.close()

- Credentials: ``api_token`` (sent as ``Authorization: Bearer``) or ``client_id`` + ``client_secret`` +
  ``api_issuer`` (+ ``api_audience``) for OAuth2 client credentials; neither for an open server.
- ``consistency``: the default preference (``MINIMIZE_LATENCY`` or ``HIGHER_CONSISTENCY``); a per-call argument wins.
- ``timeout``: seconds per HTTP request (the SDK's ``timeout_millisec``); ``max_retry``: the SDK's retries on 429
  and 5xx (0 by default: the call path has its own deadline and fails closed instead of waiting).
- ``batch_check`` uses the server-side BatchCheck API (``POST /stores/{id}/batch-check``), 50 checks per request.
- ``list_users`` sends one ListUsers request per user filter (the server takes exactly one) and merges the answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Mapping, Sequence

from mcp_grpc.contract.extras import require

require("openfga_sdk", extra="openfga", needed_by="the remote OpenFGA backend", what="the OpenFGA SDK (openfga-sdk)")

from openfga_sdk import ClientConfiguration, OpenFgaClient  # noqa: E402 - after the extra's clear error
from openfga_sdk.client.models import (
    ClientBatchCheckItem,
    ClientBatchCheckRequest,
    ClientCheckRequest,
    ClientListObjectsRequest,
    ClientTuple,
    ClientWriteRequest,
)
from openfga_sdk.client.models.list_users_request import ClientListUsersRequest
from openfga_sdk.configuration import RetryParams
from openfga_sdk.credentials import CredentialConfiguration, Credentials
from openfga_sdk.exceptions import ApiException
from openfga_sdk.models.fga_object import FgaObject
from openfga_sdk.models.relationship_condition import RelationshipCondition
from openfga_sdk.models.user_type_filter import UserTypeFilter

from mcp_grpc.authz.backend import CheckRequest, CheckResult, ListResult, Outcome, TupleKey

__all__ = ["OpenFgaBackend", "OPENFGA_ERROR_CODES"]

log = logging.getLogger(__name__)

#: OpenFGA's HTTP error ``code`` strings and their numeric codes (openfga/api ErrorCode).
OPENFGA_ERROR_CODES: Mapping[str, int] = {
    "validation_error": 2000,
    "authorization_model_not_found": 2001,
    "authorization_model_resolution_too_complex": 2002,
    "invalid_write_input": 2003,
    "cannot_allow_duplicate_tuples_in_one_request": 2004,
    "invalid_tuple_set": 2008,
    "invalid_check_input": 2009,
    "latest_authorization_model_not_found": 2020,
    "type_not_found": 2021,
    "relation_not_found": 2022,
    "invalid_user": 2025,
    "invalid_tuple": 2027,
}

_BATCH_SIZE = 50


def _error_result(exc: BaseException, operation: str) -> tuple[str, int | None]:
    """A precise, single-line reason and OpenFGA's numeric code where the server gave one."""
    if isinstance(exc, ApiException):
        code_name: str | None = None
        message: str | None = None
        try:  # the SDK parses known error bodies into parsed_exception and keeps raw bodies otherwise
            code_name = exc.code
            if exc.parsed_exception is not None:
                message = exc.error_message
            elif exc.body:
                body = json.loads(exc.body)
                if isinstance(body, dict):
                    code_name = code_name or body.get("code")
                    message = body.get("message")
        except (TypeError, ValueError, AttributeError):
            pass
        text = f"openfga {operation}: HTTP {exc.status}"
        if code_name:
            text += f" {code_name}"
        if message:
            text += f": {message}"
        return text, OPENFGA_ERROR_CODES.get(code_name or "")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"openfga {operation}: timed out", None
    return f"openfga {operation}: {type(exc).__name__}: {exc}", None


def _client_tuple(t: TupleKey) -> ClientTuple:
    condition = None
    if t.condition_name:
        condition = RelationshipCondition(name=t.condition_name, context=dict(t.condition_context or {}) or None)
    return ClientTuple(user=t.user, relation=t.relation, object=t.object, condition=condition)


def _user_string(user: Any) -> str | None:
    """``{"object":{type,id}}`` | ``{"userset":{type,id,relation}}`` | ``{"wildcard":{type}}`` -> OpenFGA string."""
    if user.object is not None:
        return f"{user.object.type}:{user.object.id}"
    if user.userset is not None:
        return f"{user.userset.type}:{user.userset.id}#{user.userset.relation}"
    if user.wildcard is not None:
        return f"{user.wildcard.type}:*"
    return None


class OpenFgaBackend:
    """An ``AuthorizationBackend`` for a remote OpenFGA server (see the module docstring)."""

    def __init__(
        self,
        api_url: str,
        store_id: str,
        *,
        model_id: str | None = None,
        api_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_issuer: str | None = None,
        api_audience: str | None = None,
        consistency: str | None = None,
        timeout: float = 1.0,
        max_retry: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if api_token and client_id:
            raise ValueError("give either api_token or client credentials, not both")
        credentials = None
        if api_token:
            credentials = Credentials(method="api_token", configuration=CredentialConfiguration(api_token=api_token))
        elif client_id:
            if not (client_secret and api_issuer):
                raise ValueError("client credentials need client_id, client_secret and api_issuer")
            credentials = Credentials(
                method="client_credentials",
                configuration=CredentialConfiguration(
                    client_id=client_id,
                    client_secret=client_secret,
                    api_issuer=api_issuer,
                    api_audience=api_audience,
                ),
            )
        self.configuration = ClientConfiguration(
            api_url=api_url.rstrip("/"),
            store_id=store_id,
            authorization_model_id=model_id or None,
            credentials=credentials,
            timeout_millisec=max(1, int(timeout * 1000)),
            retry_params=RetryParams(max_retry=max_retry, min_wait_in_ms=50),
            headers=dict(headers) if headers else None,
        )
        self.configuration.is_valid()  # raise now for a malformed url, store or model id
        self.consistency = consistency
        self.timeout = timeout
        self._client: OpenFgaClient | None = None

    @property
    def client(self) -> OpenFgaClient:
        """The SDK client, created on first use (it needs a running event loop)."""
        if self._client is None:
            self._client = OpenFgaClient(self.configuration)
        return self._client

    def _options(self, consistency: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {}
        chosen = consistency or self.consistency
        if chosen:
            options["consistency"] = chosen
        return options

    # -- AuthorizationBackend --------------------------------------------------------------------------------------

    async def check(self, request: CheckRequest, *, consistency: str | None = None) -> CheckResult:
        body = ClientCheckRequest(
            user=request.user,
            relation=request.relation,
            object=request.object,
            contextual_tuples=[_client_tuple(t) for t in request.contextual_tuples] or None,
            context=dict(request.context) if request.context else None,
        )
        try:
            response = await self.client.check(body, self._options(consistency))
        except Exception as exc:  # noqa: BLE001 - every failure is an ERROR result
            reason, code = _error_result(exc, "check")
            return CheckResult(Outcome.ERROR, reason, code)
        return CheckResult(Outcome.ALLOWED if response.allowed is True else Outcome.DENIED)

    async def batch_check(
        self, requests: Sequence[CheckRequest], *, consistency: str | None = None
    ) -> list[CheckResult]:
        """Server-side BatchCheck; answers in request order. Correlation ids are the request indexes."""
        if not requests:
            return []
        checks = [
            ClientBatchCheckItem(
                user=r.user,
                relation=r.relation,
                object=r.object,
                correlation_id=str(i),
                contextual_tuples=[_client_tuple(t) for t in r.contextual_tuples] or None,
                context=dict(r.context) if r.context else None,
            )
            for i, r in enumerate(requests)
        ]
        options = self._options(consistency)
        options["max_batch_size"] = _BATCH_SIZE
        try:
            response = await self.client.batch_check(ClientBatchCheckRequest(checks=checks), options)
        except Exception as exc:  # noqa: BLE001 - every failure is an ERROR result
            reason, code = _error_result(exc, "batch-check")
            return [CheckResult(Outcome.ERROR, reason, code)] * len(requests)
        answers: list[CheckResult] = [
            CheckResult(Outcome.ERROR, "openfga batch-check: no answer for this check")
        ] * len(requests)
        for single in response.result or ():
            try:
                index = int(single.correlation_id)
            except (TypeError, ValueError):
                continue
            if not 0 <= index < len(requests):
                continue
            if single.error is not None:
                error = single.error
                code_name = getattr(error, "input_error", None) or getattr(error, "internal_error", None)
                message = getattr(error, "message", None) or "error"
                answers[index] = CheckResult(
                    Outcome.ERROR,
                    f"openfga batch-check: {code_name or 'error'}: {message}",
                    OPENFGA_ERROR_CODES.get(str(code_name or "")),
                )
            else:
                answers[index] = CheckResult(Outcome.ALLOWED if single.allowed is True else Outcome.DENIED)
        return answers

    async def list_objects(
        self,
        user: str,
        relation: str,
        object_type: str,
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[TupleKey] = (),
    ) -> ListResult:
        body = ClientListObjectsRequest(
            user=user,
            relation=relation,
            type=object_type,
            contextual_tuples=[_client_tuple(t) for t in contextual_tuples] or None,
            context=dict(context) if context else None,
        )
        try:
            response = await self.client.list_objects(body, self._options(None))
        except Exception as exc:  # noqa: BLE001
            reason, code = _error_result(exc, "list-objects")
            return ListResult(error=reason, error_code=code)
        return ListResult(items=tuple(response.objects or ()))

    async def list_users(
        self,
        object: str,
        relation: str,
        user_filters: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[TupleKey] = (),
    ) -> ListResult:
        """OpenFGA's ListUsers takes exactly one user filter per request (v1.22 answers 400 "value must contain
        exactly 1 item(s)" otherwise), so each filter is its own request, sent together; the answers are merged in
        filter order without duplicates. One failed request makes the whole answer an error (fail closed: a partial
        list is not the list)."""
        if not user_filters:
            return ListResult(error="openfga list-users: at least one user filter is required", error_code=2000)
        object_type, _, object_id = object.partition(":")
        tuples = [_client_tuple(t) for t in contextual_tuples] or None
        bodies = []
        for user_filter in dict.fromkeys(user_filters):
            filter_type, _, filter_relation = user_filter.partition("#")
            bodies.append(ClientListUsersRequest(
                object=FgaObject(type=object_type, id=object_id),
                relation=relation,
                user_filters=[UserTypeFilter(type=filter_type, relation=filter_relation or None)],
                contextual_tuples=tuples,
                context=dict(context) if context else None,
            ))
        answers = await asyncio.gather(
            *(self.client.list_users(body, self._options(None)) for body in bodies), return_exceptions=True
        )
        merged: dict[str, None] = {}
        for answer in answers:
            if isinstance(answer, BaseException):
                if not isinstance(answer, Exception):
                    raise answer  # cancellation and the like are not answers
                reason, code = _error_result(answer, "list-users")
                return ListResult(error=reason, error_code=code)
            for user in answer.users or ():
                if (text := _user_string(user)) is not None:
                    merged.setdefault(text)
        return ListResult(items=tuple(merged))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    # -- administration (used by tools and tests, not by the call path) ---------------------------------------

    async def write(self, writes: Sequence[TupleKey] = (), deletes: Sequence[TupleKey] = ()) -> str | None:
        """Write and delete tuples in one transaction. Returns None on success, else the error reason."""
        body = ClientWriteRequest(
            writes=[_client_tuple(t) for t in writes] or None,
            deletes=[_client_tuple(t) for t in deletes] or None,
        )
        try:
            await self.client.write(body)
        except Exception as exc:  # noqa: BLE001
            return _error_result(exc, "write")[0]
        return None

    async def read_authorization_model(self, model_id: str | None = None) -> dict[str, Any]:
        """The model in OpenFGA's JSON form: ``model_id``, else the configured one, else the latest.

        Raises ``RuntimeError`` with a precise reason on failure (this is not on the call path)."""
        try:
            chosen = model_id or self.configuration.authorization_model_id
            if chosen:
                response = await self.client.read_authorization_model({"authorization_model_id": chosen})
            else:
                response = await self.client.read_latest_authorization_model({})
        except Exception as exc:  # noqa: BLE001
            raise RuntimeError(_error_result(exc, "read-authorization-model")[0]) from None
        model = response.authorization_model
        if model is None:
            raise RuntimeError("openfga read-authorization-model: the store has no authorization model")
        return self.client._api_client.sanitize_for_serialization(model)
