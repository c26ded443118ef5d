"""Rate limits and concurrency caps of tool calls, enforced between authentication and authorization.

``Limiter`` (``limiter``) decides; ``MemoryGcra`` (``gcra``, the default) and ``RedisGcra`` (``redis_gcra``, the
optional extra ``redis``) keep the GCRA buckets. The limits are declared on tools (``@app.tool(limits=[...])``)
and in the security team's ``limits.yaml`` (``mcp_grpc.authz.limits``).
"""

from __future__ import annotations

from mcp_grpc.server.limits.gcra import Bucket, GcraStore, MemoryGcra, StoreUnavailable, Verdict
from mcp_grpc.server.limits.limiter import Admission, Limiter, Membership, authorizer_membership

__all__ = [
    "Admission",
    "Bucket",
    "GcraStore",
    "Limiter",
    "Membership",
    "MemoryGcra",
    "StoreUnavailable",
    "Verdict",
    "authorizer_membership",
]
