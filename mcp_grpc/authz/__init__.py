"""Authorization for mcp-grpc: OpenFGA checks on every call.

The call path's public API, imported lazily so that ``import mcp_grpc.authz`` stays cheap (the engine and the
model parser are subpackages; the OpenFGA SDK loads only when the remote backend is used)::

    from mcp_grpc.authz import FgaAuthorizer, CallPolicy, DecisionCache, JsonAuditSink, Check

    authorizer = FgaAuthorizer.from_authz_dir("authz/")                       # embedded engine
    authorizer = FgaAuthorizer.from_openfga("http://openfga:8080", store_id)   # remote OpenFGA

Modules: ``policy`` (which checks a call needs), ``authorizer`` (the ``Authorizer`` the server calls), ``cache``
(decision cache), ``shadow`` (a candidate model deciding beside the enforced one, never enforced), ``remote`` (``OpenFgaBackend``), ``audit`` (``JsonAuditSink``), ``telemetry`` (OpenTelemetry),
``backend`` (the backend interface), ``requirements`` (``Check``), ``engine`` and ``model`` (the embedded OpenFGA),
``names`` (OpenFGA's name grammar, and SPIFFE IDs as FGA users), ``files`` (tuple and model files) and ``storetest``
(``fga model test`` store files).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Check": "mcp_grpc.contract",
    "CallPolicy": "mcp_grpc.authz.policy",
    "CheckArgumentError": "mcp_grpc.authz.policy",
    "PolicyConfigError": "mcp_grpc.authz.policy",
    "encode_object_id": "mcp_grpc.authz.policy",
    "decode_object_id": "mcp_grpc.authz.policy",
    "FgaAuthorizer": "mcp_grpc.authz.authorizer",
    "AuthorizationUnavailable": "mcp_grpc.authz.authorizer",
    "AuthzDirectory": "mcp_grpc.authz.directory",
    "ShadowAuthorizer": "mcp_grpc.authz.shadow",
    "DecisionCache": "mcp_grpc.authz.cache",
    "ModelIndex": "mcp_grpc.authz.cache",
    "OpenFgaBackend": "mcp_grpc.authz.remote",
    "JsonAuditSink": "mcp_grpc.authz.audit",
    "AuthzTelemetry": "mcp_grpc.authz.telemetry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mcp_grpc.authz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
