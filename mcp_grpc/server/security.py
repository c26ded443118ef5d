"""Compose identity and authorization for a server: the one place where SPIFFE and OpenFGA meet MCP.

    identity = ServerIdentity.from_workload_api("/run/spire/agent.sock")        # mTLS + SpiffeAuthenticator
    authorizer = authorizer_from_authz_dir("authz/")                            # embedded OpenFGA engine
    config = ServerConfig(port=50051, **identity.config_fields(), authorizer=authorizer, audit_sink=audit)

``mcp_grpc.identity`` and ``mcp_grpc.authz`` never import each other; the server composes them here. The client's
counterpart is ``mcp_grpc.client.ClientIdentity``.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
from typing import Any, Callable, Sequence

import grpc

from mcp_grpc.contract import AuditSink
from mcp_grpc.server.runtime import DEFAULT_CONNECTION_AGE_GRACE

log = logging.getLogger("mcp_grpc.server")


@dataclasses.dataclass
class ServerIdentity:
    """What a server needs from SPIFFE: rotating mTLS credentials and the authenticator that checks every call."""

    workload: Any  # mcp_grpc.identity.sources.WorkloadIdentity
    accepted_trust_domains: tuple[str, ...]
    authenticator: Any
    max_connection_age: float
    client_auth: str = "mtls"
    """``mtls``: callers present an X.509-SVID (and may add their own JWT-SVID); ``jwt``: TLS authenticates the
    server only and every call carries a JWT-SVID (callers behind an L7 proxy that ends their TLS)."""
    max_connection_age_grace: float = DEFAULT_CONNECTION_AGE_GRACE
    """Seconds calls still running on a connection past ``max_connection_age`` get before it is closed."""

    def credentials(self, accepted_trust_domains: Sequence[str] | None = None) -> grpc.ServerCredentials:
        """New rotating mTLS credentials: grpcio hands a dynamic credentials object's first certificate to one
        server only, so every server (a second port, a restart in process) needs its own. Client certificates of
        ``accepted_trust_domains`` (default: the ones this identity accepts) complete the handshake."""
        from mcp_grpc.identity.credentials import spiffe_server_credentials

        domains = self.accepted_trust_domains if accepted_trust_domains is None else tuple(accepted_trust_domains)
        return spiffe_server_credentials(self.workload.x509, accepted_trust_domains=domains,
                                         require_client_certificate=self.client_auth == "mtls")

    @classmethod
    def from_workload_api(
        cls,
        socket_path: str | None = None,
        *,
        accepted_trust_domains: Sequence[str] | None = None,
        jwt_audience: str | None = None,
        client_auth: str = "mtls",
        jwt_delegates: Sequence[str] = (),
        jwt_max_lifetime: datetime.timedelta | None = None,
        authorize: Callable[[Any], None] | None = None,
        max_connection_age: float = 300.0,
        max_connection_age_grace: float = DEFAULT_CONNECTION_AGE_GRACE,
        timeout: float = 10.0,
    ) -> "ServerIdentity":
        """Connect to the Workload API (``socket_path`` or ``$SPIFFE_ENDPOINT_SOCKET``) and wait for the first SVID.

        ``accepted_trust_domains`` None accepts our own trust domain only (fail closed: federated domains must be
        named). ``jwt_audience`` enables JWT-SVID bearer tokens for that audience. ``client_auth="jwt"`` is the
        listener for callers behind an L7 proxy: TLS authenticates the server only and every call must carry a
        JWT-SVID (needs ``jwt_audience``). ``jwt_delegates``: SPIFFE IDs whose mTLS connections may carry other
        callers' JWT-SVIDs (they are then authorized as the token's subject, audited with the delegate as actor).
        ``jwt_max_lifetime``: the longest a JWT-SVID may live (default one hour). ``max_connection_age`` and
        ``max_connection_age_grace``: connections close after the first, calls still on them get the second.
        """
        from mcp_grpc.identity.authenticator import SpiffeAuthenticator
        from mcp_grpc.identity.sources import WorkloadIdentity

        if client_auth not in ("mtls", "jwt"):
            raise ValueError(f"client_auth must be 'mtls' or 'jwt', not {client_auth!r}")
        if client_auth == "jwt" and not jwt_audience:
            raise ValueError("client_auth 'jwt' (callers behind an L7 proxy) needs a JWT audience (--jwt-audience)")
        if jwt_delegates and not jwt_audience:
            raise ValueError("JWT delegates need a JWT audience (--jwt-audience)")
        workload = WorkloadIdentity(socket_path, timeout=timeout, jwt=bool(jwt_audience))
        try:
            own_domain = workload.x509.svid.spiffe_id.trust_domain.name
            domains = list(accepted_trust_domains) if accepted_trust_domains else [own_domain]
            authenticator = SpiffeAuthenticator(
                workload.trust_bundles,
                accepted_trust_domains=domains,
                jwt_audience=jwt_audience,
                allow_jwt=bool(jwt_audience),
                require_jwt=client_auth == "jwt",
                jwt_delegates=jwt_delegates,
                authorize=authorize,
                **({"jwt_max_lifetime": jwt_max_lifetime} if jwt_max_lifetime is not None else {}),
            )
        except BaseException:
            workload.close()
            raise
        log.info("SPIFFE identity %s; accepting trust domains %s", workload.x509.svid.spiffe_id, ", ".join(domains))
        return cls(workload, tuple(domains), authenticator, max_connection_age, client_auth, max_connection_age_grace)

    def svid_not_after(self) -> datetime.datetime:
        """When the server's current X.509-SVID expires (it rotates before that while the Workload API is up)."""
        return self.workload.x509.svid.leaf.not_valid_after_utc

    def config_fields(self) -> dict[str, Any]:
        """``ServerConfig`` keyword arguments for one server: new credentials, the authenticator, a bounded
        connection age and its grace (so a long stream cannot keep a connection past its age)."""
        return {
            "credentials": self.credentials(),
            "authenticator": self.authenticator,
            "max_connection_age": self.max_connection_age,
            "max_connection_age_grace": self.max_connection_age_grace,
        }

    def close(self) -> None:
        self.workload.close()


def authorizer_from_authz_dir(
    path: str | os.PathLike[str], *, cache: bool = True, timeout: float = 1.0, metrics: bool = True
) -> Any:
    """The embedded OpenFGA engine over an ``authz/`` folder (model and tuples), reloaded when files change.
    ``metrics=False``: its decisions are not counted in the decision metrics (a shadow model's are not)."""
    from mcp_grpc.authz.authorizer import FgaAuthorizer

    return FgaAuthorizer.from_authz_dir(path, cache=cache, timeout=timeout, telemetry=_telemetry(metrics))


def _telemetry(metrics: bool) -> Any:
    if metrics:
        return None
    from mcp_grpc.authz.shadow import quiet_telemetry

    return quiet_telemetry()


def shadow_authorizer(enforced: Any, shadow: Any, *, timeout: float = 1.0) -> Any:
    """``enforced`` decides every call; ``shadow`` decides it too, after it and never enforced, for the audit record
    (``mcp_grpc.authz.shadow``)."""
    from mcp_grpc.authz.shadow import ShadowAuthorizer

    return ShadowAuthorizer(enforced, shadow, timeout=timeout)


def authorizer_from_openfga(
    api_url: str,
    store_id: str,
    *,
    model_id: str | None = None,
    api_token: str | None = None,
    consistency: str | None = None,
    timeout: float = 1.0,
    cache: bool = True,
    metrics: bool = True,
) -> Any:
    """A remote OpenFGA server through openfga-sdk; unreachable or slow means UNAVAILABLE, never allow."""
    from mcp_grpc.authz.authorizer import FgaAuthorizer

    return FgaAuthorizer.from_openfga(
        api_url,
        store_id,
        model_id=model_id,
        api_token=api_token,
        consistency=consistency,
        timeout=timeout,
        cache=cache,
        telemetry=_telemetry(metrics),
    )


def limiter(limits: str | os.PathLike[str] | None = None, *, redis_url: str | None = None) -> Any:
    """The tool-call limiter: the limits file ``limits`` (reloaded on change; None: only limits declared on tools)
    with its buckets in this process, or in the Redis at ``redis_url`` (shared by replicas; ``mcp-grpc[redis]``)."""
    from mcp_grpc.server.limits import Limiter

    store = None
    if redis_url:
        from mcp_grpc.server.limits.redis_gcra import RedisGcra

        store = RedisGcra(redis_url)
    return Limiter(limits, store=store)


def json_audit_sink(path: str | None = None, *, include_arguments: bool = False) -> AuditSink:
    """One JSON line per decision on logger ``mcp_grpc.audit``; into ``path`` when given, else wherever logging goes."""
    from mcp_grpc.authz.audit import JsonAuditSink

    handler: logging.Handler | None = None
    if path:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
    return JsonAuditSink(handler=handler, include_arguments=include_arguments)
