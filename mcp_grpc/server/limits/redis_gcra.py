"""GCRA buckets in Redis, shared by every replica of a server: one atomic Lua script per call, Redis's clock.

Needs the ``redis`` package (``pip install 'mcp-grpc[redis]'``). A call's buckets are read and written by one
``EVALSHA`` (all or none, like ``MemoryGcra``); keys expire once their bucket is full again. Time is ``TIME`` on
the Redis server, so replicas with skewed clocks still share one limit. A Redis that does not answer within
``timeout`` (or refuses the connection) raises ``StoreUnavailable``; for ``backoff`` seconds after that, calls do not
wait on it again and get ``StoreUnavailable`` at once. The keys are not hash-tagged: one Redis (or a primary with
replicas), not Redis Cluster, when a call's limits span several buckets.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.parse
from typing import Any, Callable, Sequence

from mcp_grpc.contract.bounds import clip
from mcp_grpc.server.limits.gcra import ALLOWED, Bucket, StoreUnavailable, Verdict

__all__ = ["GCRA_SCRIPT", "RedisGcra", "redacted"]

log = logging.getLogger("mcp_grpc.server.limits")

#: KEYS: the buckets; ARGV: (interval in microseconds, burst) per bucket. Returns {allowed, wait in us, index}.
GCRA_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait, index = 0, 0
local new = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local next_tat = tat + interval
  local allow_at = next_tat - burst * interval
  if allow_at > now and allow_at - now > wait then
    wait, index = allow_at - now, i
  end
  new[i] = next_tat
end
if index > 0 then
  return {0, math.ceil(wait), index - 1}
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.0f', new[i]), 'PX', math.ceil((new[i] - now) / 1000) + 1000)
end
return {1, 0, -1}
"""


def redacted(url: str) -> str:
    """``url`` without its password (for log lines)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class RedisGcra:
    """A ``GcraStore`` in the Redis at ``url`` (``redis://host:port/db``, ``rediss://`` for TLS, ``unix://``)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 0.25,
        backoff: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError:  # pragma: no cover - the optional extra
            raise ImportError("the Redis rate limiter needs the redis package: pip install 'mcp-grpc[redis]'") from None
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self.url = url
        self.timeout = timeout
        self.backoff = backoff
        self._clock = clock
        self._client: Any = redis.asyncio.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0),
        )
        self._script = self._client.register_script(GCRA_SCRIPT)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError, asyncio.TimeoutError)
        self._down_until = 0.0
        self._down_reason = ""

    async def take(self, buckets: Sequence[Bucket]) -> Verdict:
        if not buckets:
            return ALLOWED
        if self._down_until and self._clock() < self._down_until:
            raise StoreUnavailable(self._down_reason)
        args: list[int] = []
        for bucket in buckets:
            args += (max(1, round(bucket.interval * 1_000_000)), bucket.burst)
        try:
            reply = await asyncio.wait_for(
                self._script(keys=[bucket.key for bucket in buckets], args=args), self.timeout * 2
            )
            allowed, wait_us, index = (int(value) for value in reply)
        except self._errors as exc:
            self._down_until = self._clock() + self.backoff
            self._down_reason = f"the shared rate-limit store did not answer ({type(exc).__name__})"
            log.warning("Redis rate-limit store %s failed: %s: %s", redacted(self.url), type(exc).__name__,
                        clip(str(exc)))
            raise StoreUnavailable(self._down_reason) from None
        except (TypeError, ValueError):
            raise StoreUnavailable("the shared rate-limit store gave a malformed answer") from None
        self._down_until = 0.0
        if allowed:
            return ALLOWED
        return Verdict(False, wait_us / 1_000_000, index)

    async def close(self) -> None:
        try:
            await self._client.aclose()
        except self._errors:  # closing a connection to a Redis that is gone
            pass
