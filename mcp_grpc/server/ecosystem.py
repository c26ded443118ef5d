"""The gRPC ecosystem services beside MCP: server reflection down the pipeline, and the plaintext health port.

Reflection tells a caller every service and message the server has, so it is a call like any other: the caller is
authenticated (UNAUTHENTICATED otherwise), must be allowed the server-level check ``can_call`` on
``method:{server}/{REFLECTION_METHOD}`` (``caller`` on the server grants it in the shipped model), and each stream is
audited when it opens. ``ServerConfig.reflection`` decides whether it is served at all: by default only in
insecure-local development.

Health on the main port is behind mTLS like the rest. The plaintext health port (``health_port``, for probes that
cannot present an SVID) answers only the overall status, ``""``: any other service name is NOT_FOUND whether the
server has it or not, so the port confirms nothing to whoever reaches it, unless ``health_port_services`` says to
mirror every service's status there.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterable

from grpc_health.v1 import health, health_pb2
from grpc_reflection.v1alpha import _async as reflection_aio
from grpc_reflection.v1alpha import reflection, reflection_pb2

from mcp_grpc.contract import TargetKind

__all__ = ["REFLECTION_METHOD", "GuardedReflection", "ProbeHealth"]

REFLECTION_METHOD = f"/{reflection.SERVICE_NAME}/ServerReflectionInfo"
"""The name reflection is authorized under, as a proto-first method is: ``method:{server}/{REFLECTION_METHOD}``."""


class GuardedReflection(reflection_aio.ReflectionServicer):
    """grpcio-reflection's servicer, opened only to an authenticated, authorized caller, and audited."""

    def __init__(self, service_names: Iterable[str], pipeline: Any) -> None:
        super().__init__(tuple(service_names))
        self.pipeline = pipeline

    async def ServerReflectionInfo(  # type: ignore[override]
        self, request_iterator: AsyncIterator[reflection_pb2.ServerReflectionRequest], context: Any
    ) -> AsyncIterator[reflection_pb2.ServerReflectionResponse]:
        pipeline = self.pipeline
        call = await pipeline.admit(context, reflection.SERVICE_NAME, "ServerReflectionInfo", check_version=False)
        try:
            await pipeline.authorize(call, pipeline.target(call, TargetKind.METHOD, REFLECTION_METHOD))
        except Exception as exc:  # noqa: BLE001 - audited and sent by reject, which always raises
            await pipeline.reject(call, context, exc)
        call.finish()
        async for response in super().ServerReflectionInfo(request_iterator, context):
            yield response


class ProbeHealth:
    """The statuses the plaintext health port answers: the overall one, or every service's with ``services``."""

    def __init__(self, *, services: bool) -> None:
        self.servicer = health.aio.HealthServicer()
        self.services = services

    async def set(self, name: str, status: Any) -> None:
        if name == "" or self.services:
            await self.servicer.set(name, status)

    async def serving(self, names: Iterable[str]) -> None:
        for name in ("", *names):
            await self.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def enter_graceful_shutdown(self) -> None:
        await self.servicer.enter_graceful_shutdown()
