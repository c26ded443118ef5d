"""Helpers of the server tests: the test app and tiny real implementations of the Authenticator, Authorizer and
AuditSink hooks (``running``, the server on 127.0.0.1 port 0, is tests.support.servers)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import threading
import time
from typing import Annotated, Any, Literal, Optional, Sequence

from pydantic import BaseModel, Field

from mcp_grpc.server import Context, McpApp, ToolAnnotations
from mcp_grpc.contract import (
    Check,
    Principal,
    ProofKind,
    AuditEvent,
    AuthenticationFailed,
    CallTarget,
    CheckOutcome,
    Decision,
    DecisionStatus,
    TargetKind,
)


class Inner(BaseModel):
    label: Annotated[str, Field(description="A label.")]
    weight: int = 1


class Report(BaseModel):
    count: int
    ratio: float
    mode: str
    label: str
    maybe: Optional[str]


@dataclasses.dataclass
class Observed:
    """What handlers saw, for assertions."""

    started: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    calls: list[str] = dataclasses.field(default_factory=list)
    principals: list[str] = dataclasses.field(default_factory=list)
    metadata: list[dict] = dataclasses.field(default_factory=list)
    sync_started: threading.Event = dataclasses.field(default_factory=threading.Event)
    sync_cancelled: threading.Event = dataclasses.field(default_factory=threading.Event)


def build_app(observed: Observed) -> McpApp:
    app = McpApp("test-server")

    @app.tool(annotations=ToolAnnotations(read_only=True))
    def echo(text: Annotated[str, Field(description="What to say back.")]) -> str:
        """Say it back."""
        observed.calls.append("echo")
        return text

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        observed.calls.append("add")
        assert type(a) is int and type(b) is int  # Struct doubles must arrive as int
        return a + b

    @app.tool()
    def typed(
        count: int,
        ratio: float,
        mode: Literal["fast", "slow"],
        inner: Inner,
        maybe: Optional[str] = None,
    ) -> Report:
        """Exercise the schema."""
        observed.calls.append("typed")
        return Report(count=count, ratio=ratio, mode=mode, label=inner.label, maybe=maybe)

    @app.tool()
    def fails() -> str:
        """Always fails."""
        observed.calls.append("fails")
        raise ValueError("the disk is on fire")

    @app.tool(authorize=[Check("can_read", "bucket:{bucket}")])
    def read_bucket(bucket: str, ctx: Context) -> dict[str, str]:
        """Needs can_read on the bucket."""
        observed.calls.append("read_bucket")
        observed.principals.append(ctx.principal.spiffe_id)
        observed.metadata.append(dict(ctx.metadata))
        return {"bucket": bucket, "caller": ctx.principal.spiffe_id}

    @app.tool()
    async def wait_forever(ctx: Context) -> str:
        """Blocks until cancelled."""
        observed.calls.append("wait_forever")
        observed.started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            observed.cancelled.set()
            raise
        return "never"

    @app.tool()
    def sync_wait(ctx: Context) -> str:
        """A sync handler that stops when its call is cancelled."""
        observed.sync_started.set()
        if ctx.cancel_event.wait(10):
            observed.sync_cancelled.set()
            return "cancelled"
        return "not cancelled"

    @app.tool()
    async def progress(steps: int, ctx: Context) -> int:
        """Reports progress steps times."""
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
            await asyncio.sleep(0)
        return steps

    @app.tool()
    def sync_progress(steps: int, ctx: Context) -> int:
        """Reports progress from the thread pool."""
        for step in range(1, steps + 1):
            ctx.report_progress(step, steps)
        return steps

    @app.tool()
    def sleep_sync(seconds: float) -> float:
        """Blocks its thread (never the event loop)."""
        time.sleep(seconds)
        return seconds

    @app.resource("config://app", mime_type="application/json")
    def app_config() -> dict[str, int]:
        """The configuration."""
        return {"version": 3}

    @app.resource("files://{+path}")
    def file(path: str) -> str:
        """A file by path."""
        if path == "missing.txt":
            raise FileNotFoundError(path)
        return f"content of {path}"

    @app.resource("blobs://{id}")
    def blob(id: int) -> bytes:
        """Binary data by numeric id."""
        return bytes([id % 256]) * 3

    @app.prompt()
    def summarize(topic: Annotated[str, Field(description="The topic.")], length: int = 3) -> str:
        """Summarize a topic."""
        return f"Summarize {topic} in {length} sentences."

    @app.completion(prompt="summarize", argument="topic")
    def topics(value: str, arguments: dict[str, str]) -> list[str]:
        return [topic for topic in ("grpc", "graphql", "rest") if topic.startswith(value)]

    return app


# -- tiny real implementations of the hooks ---------------------------------------------------------------------


class HeaderAuthenticator:
    """Trusts an ``x-test-identity`` header (a stand-in for the SPIFFE authenticator in these tests)."""

    def __init__(self) -> None:
        self.calls = 0

    def authenticate(self, auth_context: Any, metadata: dict[str, str]) -> Principal:
        self.calls += 1
        identity = metadata.get("x-test-identity")
        if identity is None:
            raise AuthenticationFailed("no client identity presented")
        if identity == "explode":
            raise RuntimeError("authenticator bug")
        if identity.startswith("expired:"):
            return Principal(identity[8:], "example.org", ProofKind.JWT,
                             datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
        return Principal(identity, identity.removeprefix("spiffe://").split("/")[0], ProofKind.JWT, None)


class TableAuthorizer:
    """Allows (principal, relation, object) triples from a table; ``mode`` forces errors."""

    def __init__(self, allowed: set[tuple[str, str, str]], mode: str = "normal") -> None:
        self.allowed = allowed
        self.mode = mode
        self.targets: list[CallTarget] = []

    async def authorize(self, principal: Principal, target: CallTarget) -> Decision:
        self.targets.append(target)
        if self.mode == "raise":
            raise ConnectionError("backend down")
        if self.mode == "unavailable":
            return Decision(DecisionStatus.UNAVAILABLE, "authorization backend timed out")
        checks = [Check("can_call", f"{target.kind.value}:{target.name}"), *target.required_checks]
        outcomes = []
        for check in checks:
            obj = check.object_template.format(**{k: v for k, v in target.arguments.items()})
            ok = (principal.spiffe_id, check.relation, obj) in self.allowed
            outcomes.append(CheckOutcome(check.relation, obj, "allowed" if ok else "denied"))
            if not ok:
                return Decision(DecisionStatus.DENY, f"{principal.spiffe_id} lacks {check.relation} on {obj}", outcomes)
        return Decision(DecisionStatus.ALLOW, "", outcomes)

    def validate_declared(self, checks: Sequence[Check]) -> None:
        """Every declared check is one this authorizer can answer."""

    async def visible(self, principal: Principal, server_name: str, kind: TargetKind, names: Sequence[str]) -> set[str]:
        if self.mode == "raise":
            raise ConnectionError("backend down")
        return {name for name in names if (principal.spiffe_id, "can_call", f"{kind.value}:{name}") in self.allowed}


class ListAuditSink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent) -> None:
        self.events.append(event)
