"""The five RPCs of the SPIFFE Workload API (service ``SpiffeWorkloadAPI``) for one workload socket, on grpc.aio.

Uses py-spiffe's generated modules (``spiffe._proto``): the Workload API proto has no package, so a second generated
copy in the same process would collide in protobuf's default pool.

Behaviour follows SPIRE's agent: every call needs the ``workload.spiffe.io: true`` header (InvalidArgument "security
header missing from request" otherwise); a socket whose workload has no identity gets PermissionDenied "no identity
issued" on the SVID and bundle streams; streams send the full state at once and again on every change; an empty
audience is InvalidArgument. Methods this server does not know answer Unimplemented (grpc's own behaviour).
"""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Callable, Mapping

import grpc
import jwt
from google.protobuf import struct_pb2
from spiffe._proto import workload_pb2, workload_pb2_grpc

from mcp_grpc.identity.workload_dev.ca_inputs import CaError
from mcp_grpc.identity.workload_dev.state import DevState

__all__ = ["SECURITY_HEADER", "WorkloadApiServicer", "add_workload_api", "validate_jwt_svid"]

SECURITY_HEADER = ("workload.spiffe.io", "true")
_log = logging.getLogger("mcp_grpc.identity.dev")

#: The signature algorithms the JWT-SVID standard allows.
_JWT_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"})


class JwtValidationError(Exception):
    """The JWT-SVID is not valid for the audience; the message says why."""


def validate_jwt_svid(
    token: str, audience: str, keys_for: Callable[[str], Mapping[str, Any] | None]
) -> tuple[str, dict[str, Any]]:
    """Validate a JWT-SVID against the keys of its subject's trust domain; return (SPIFFE ID, claims)."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise JwtValidationError(f"unable to parse JWT token: {exc}") from None
    alg = header.get("alg")
    if alg not in _JWT_ALGORITHMS:
        raise JwtValidationError(f"unsupported token signature algorithm {alg!r}")
    kid = header.get("kid")
    if not kid or not isinstance(kid, str):
        raise JwtValidationError("token header missing key id")
    sub = unverified.get("sub")
    if not isinstance(sub, str) or not sub:
        raise JwtValidationError("token missing subject claim")
    if not sub.startswith("spiffe://"):
        raise JwtValidationError(f"token has an invalid subject claim: {sub!r} is not a SPIFFE ID")
    trust_domain = sub[len("spiffe://") :].partition("/")[0]
    keys = keys_for(trust_domain)
    if keys is None:
        raise JwtValidationError(f"no keys found for trust domain {trust_domain!r}")
    key = keys.get(kid)
    if key is None:
        raise JwtValidationError(f"public key {kid!r} not found in trust domain {trust_domain!r}")
    try:
        claims = jwt.decode(
            token, key, algorithms=[alg], audience=audience, options={"require": ["sub", "aud", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise JwtValidationError("token has expired") from None
    except jwt.InvalidAudienceError:
        raise JwtValidationError(f"expected audience in {audience!r} (audience={unverified.get('aud')!r})") from None
    except jwt.PyJWTError as exc:
        raise JwtValidationError(f"unable to validate JWT token: {exc}") from None
    return sub, claims


class WorkloadApiServicer(workload_pb2_grpc.SpiffeWorkloadAPIServicer):
    """The Workload API as seen from one workload's socket (the socket is the attestation)."""

    def __init__(self, state: DevState, workload: str) -> None:
        self._state = state
        self._name = workload

    # --------------------------------------------------------------------------------------------- X.509
    async def FetchX509SVID(  # noqa: N802 (gRPC method name)
        self, request: workload_pb2.X509SVIDRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[workload_pb2.X509SVIDResponse]:
        await _require_header(context)
        last: bytes | None = None
        while True:
            version = self._state.version
            svid = self._state.svid(self._name)
            if svid is None:
                await context.abort(grpc.StatusCode.PERMISSION_DENIED, "no identity issued")
            bundles = self._state.x509_bundles_der()
            own_key = f"spiffe://{self._state.authority.trust_domain}"
            own = bundles.pop(own_key)
            message = workload_pb2.X509SVIDResponse(
                svids=[
                    workload_pb2.X509SVID(
                        spiffe_id=svid.spiffe_id,
                        x509_svid=svid.chain_der(),
                        x509_svid_key=svid.key_pkcs8_der(),
                        bundle=own,
                    )
                ],
                federated_bundles=bundles,
            )
            data = message.SerializeToString(deterministic=True)
            if data != last:
                last = data
                yield message
            await self._state.wait_changed(version)

    async def FetchX509Bundles(  # noqa: N802
        self, request: workload_pb2.X509BundlesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[workload_pb2.X509BundlesResponse]:
        await _require_header(context)
        last: bytes | None = None
        while True:
            version = self._state.version
            await self._require_identity(context)
            message = workload_pb2.X509BundlesResponse(bundles=self._state.x509_bundles_der())
            data = message.SerializeToString(deterministic=True)
            if data != last:
                last = data
                yield message
            await self._state.wait_changed(version)

    # --------------------------------------------------------------------------------------------- JWT
    async def FetchJWTSVID(  # noqa: N802
        self, request: workload_pb2.JWTSVIDRequest, context: grpc.aio.ServicerContext
    ) -> workload_pb2.JWTSVIDResponse:
        await _require_header(context)
        if not request.audience or any(not a for a in request.audience):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "audience must be specified")
        if request.spiffe_id and not request.spiffe_id.startswith("spiffe://"):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"invalid requested SPIFFE ID: {request.spiffe_id!r}"
            )
        spec = self._state.workloads[self._name]
        if not self._state.has_identity(self._name) or request.spiffe_id not in ("", spec.spiffe_id):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "no identity issued")
        try:
            token = self._state.authority.issue_jwt_svid(spec.spiffe_id, list(request.audience))
        except CaError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"could not issue JWT-SVID: {exc}")
        return workload_pb2.JWTSVIDResponse(svids=[workload_pb2.JWTSVID(spiffe_id=spec.spiffe_id, svid=token)])

    async def FetchJWTBundles(  # noqa: N802
        self, request: workload_pb2.JWTBundlesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[workload_pb2.JWTBundlesResponse]:
        await _require_header(context)
        last: bytes | None = None
        while True:
            version = self._state.version
            await self._require_identity(context)
            message = workload_pb2.JWTBundlesResponse(bundles=self._state.jwt_bundles())
            data = message.SerializeToString(deterministic=True)
            if data != last:
                last = data
                yield message
            await self._state.wait_changed(version)

    async def ValidateJWTSVID(  # noqa: N802
        self, request: workload_pb2.ValidateJWTSVIDRequest, context: grpc.aio.ServicerContext
    ) -> workload_pb2.ValidateJWTSVIDResponse:
        await _require_header(context)
        if not request.audience:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "audience must be specified")
        if not request.svid:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "svid must be specified")
        try:
            spiffe_id, claims = validate_jwt_svid(request.svid, request.audience, self._state.jwt_keys_for)
        except JwtValidationError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        struct = struct_pb2.Struct()
        struct.update(claims)
        return workload_pb2.ValidateJWTSVIDResponse(spiffe_id=spiffe_id, claims=struct)

    async def _require_identity(self, context: grpc.aio.ServicerContext) -> None:
        if not self._state.has_identity(self._name):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "no identity issued")


async def _require_header(context: grpc.aio.ServicerContext) -> None:
    values = [v for k, v in (context.invocation_metadata() or ()) if k == SECURITY_HEADER[0]]
    if values != [SECURITY_HEADER[1]]:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "security header missing from request")


def add_workload_api(server: grpc.aio.Server, state: DevState, workload: str) -> None:
    """Register the Workload API for ``workload`` on ``server``."""
    workload_pb2_grpc.add_SpiffeWorkloadAPIServicer_to_server(WorkloadApiServicer(state, workload), server)
