"""Helpers of the bridge tests: a real Authorizer (the hooks.py protocol) that denies one tool and cannot decide one
resource, an mcp-grpc test app, an official-SDK test server, and a development Workload API for the mTLS test."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from typing import Annotated, Sequence

from pydantic import BaseModel, Field

from mcp.server.mcpserver import AssistantMessage, Context as SdkContext, MCPServer, UserMessage
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import Completion as SdkCompletion
from mcp.types import PromptReference, ToolAnnotations as SdkToolAnnotations
from mcp_grpc.contract import Principal
from mcp_grpc.server import Context, McpApp, ToolAnnotations
from mcp_grpc.contract import CallTarget, Decision, DecisionStatus, TargetKind
from mcp_grpc.server import Context, McpApp, Server, ServerConfig, ToolAnnotations
from mcp_grpc.contract import CallTarget, Check, Decision, DecisionStatus, TargetKind

DENIED_TOOL = "delete_everything"
UNDECIDABLE_RESOURCE = "secret://plans"


@dataclasses.dataclass
class Seen:
    principal: str
    kind: TargetKind
    name: str
    checks: tuple


class DenyOneAuthorizer:
    """Allows everything except: the tool ``denied_tool`` (PERMISSION_DENIED) and the resource ``undecidable``
    (UNAVAILABLE, as a backend that cannot answer; hidden from lists). Records every decision it was asked for."""

    def __init__(self, denied_tool: str = DENIED_TOOL, undecidable: str = UNDECIDABLE_RESOURCE) -> None:
        self.denied_tool = denied_tool
        self.undecidable = undecidable
        self.seen: list[Seen] = []

    async def authorize(self, principal: Principal, target: CallTarget) -> Decision:
        self.seen.append(Seen(principal.spiffe_id, target.kind, target.name, tuple(target.required_checks)))
        if target.kind is TargetKind.TOOL and target.name == self.denied_tool:
            return Decision(DecisionStatus.DENY, f"{principal.spiffe_id} lacks can_call on tool:{target.name}")
        if target.kind is TargetKind.RESOURCE and target.name == self.undecidable:
            return Decision(DecisionStatus.UNAVAILABLE, "authorization backend timed out")
        return Decision(DecisionStatus.ALLOW)

    def validate_declared(self, checks: Sequence[Check]) -> None:
        """Every declared check is one this authorizer can answer."""

    async def visible(self, principal: Principal, server_name: str, kind: TargetKind, names: Sequence[str]) -> set[str]:
        """Every name but the undecidable resource (List* hides it; subscribing to it is refused)."""
        return set(names) - {self.undecidable}


class Sum(BaseModel):
    total: int


def build_native_app() -> McpApp:
    """An mcp-grpc app written with the framework's own decorators (what the bridge exposes)."""
    app = McpApp("bridge-test")

    @app.tool(title="Echo", annotations=ToolAnnotations(read_only=True, idempotent=True))
    def echo(text: Annotated[str, Field(description="What to say back.")]) -> str:
        """Say it back."""
        return text

    @app.tool()
    def add(a: int, b: int) -> Sum:
        """Add two integers."""
        return Sum(total=a + b)

    @app.tool()
    async def count(n: int, ctx: Context) -> int:
        """Count to n with progress."""
        for i in range(1, n + 1):
            await ctx.report_progress(i, n, f"step {i}")
        return n

    @app.tool(annotations=ToolAnnotations(destructive=True))
    def delete_everything() -> str:
        """Never allowed."""
        raise AssertionError("the authorizer must stop this call before the handler")

    @app.tool()
    def fail() -> str:
        """Always fails."""
        raise RuntimeError("disk on fire")

    @app.resource("notes://hello", mime_type="text/plain")
    def hello() -> str:
        """A greeting note."""
        return "hello, world"

    @app.resource("notes://{name}", mime_type="text/markdown")
    def note(name: str) -> str:
        """A note by name."""
        if name != "todo":
            raise KeyError(name)
        return "- write tests"

    @app.resource(UNDECIDABLE_RESOURCE)
    def plans() -> str:
        """Nobody reads this: authorization cannot decide."""
        raise AssertionError("unreachable")

    @app.completion(resource="notes://{name}", argument="name")
    def complete_note(value: str, arguments: dict[str, str]) -> list[str]:
        return [name for name in ("todo", "today", "ideas") if name.startswith(value)]

    @app.prompt(title="Summarize")
    def summarize(topic: Annotated[str, Field(description="What to summarize.")]) -> str:
        """Summarize a topic."""
        return f"Summarize {topic} in one line."

    return app


@dataclasses.dataclass
class SdkCalls:
    handler_runs: list[str] = dataclasses.field(default_factory=list)


def build_sdk_server(calls: SdkCalls) -> MCPServer:
    """A server written with the official SDK, as its docs show (fresh per test: it keeps no global state)."""
    sdk = MCPServer("sdk-under-test", instructions="SDK test server")

    @sdk.tool(title="Divide", annotations=SdkToolAnnotations(read_only_hint=True, open_world_hint=False))
    def divide(a: float, b: Annotated[float, Field(description="The divisor.")]) -> float:
        """Divide a by b."""
        calls.handler_runs.append("divide")
        if b == 0:
            raise ToolError("division by zero")
        return a / b

    @sdk.tool()
    def crash() -> str:
        """Crashes with internals the caller must not see."""
        raise RuntimeError("secret internals")

    @sdk.tool()
    async def slow_count(n: Annotated[int, Field(ge=1, le=5)], ctx: SdkContext) -> str:
        """Count with progress."""
        for i in range(1, n + 1):
            await ctx.report_progress(i, n, f"at {i}")
        return f"counted to {n}"

    @sdk.tool()
    async def announce(ctx: SdkContext) -> str:
        """Announce a tools change."""
        await ctx.notify_tools_changed()
        return "announced"

    @sdk.tool()
    async def ask(ctx: SdkContext) -> str:
        """Needs the client to answer a question."""

        class Answer(BaseModel):
            ok: bool

        result = await ctx.elicit("ok?", Answer)
        return str(result)

    @sdk.tool()
    async def read_config(ctx: SdkContext) -> str:
        """Reads another resource of the same server through the SDK context."""
        contents = list(await ctx.read_resource("data://config"))
        return contents[0].content

    @sdk.resource("data://config", mime_type="application/json")
    def config() -> str:
        """The configuration."""
        return '{"mode": "test"}'

    @sdk.resource("data://logo", mime_type="image/png")
    def logo() -> bytes:
        """Binary data."""
        return b"\x89PNG\x00\x01"

    @sdk.resource("data://users/{user_id}/profile")
    def profile(user_id: str) -> str:
        """A user's profile."""
        if user_id != "42":
            raise ResourceNotFoundError(f"no user {user_id}")
        return "Ada, user 42"

    @sdk.resource("search://items{?q}")
    def search(q: str = "") -> str:
        """A query template (RFC 6570 level 3)."""
        return f"results for {q!r}"

    @sdk.resource("odd://{id}}")
    def odd(id: str) -> str:
        """A template the SDK reads with a literal '}' and mcp-grpc refuses."""
        return id

    @sdk.prompt(title="Greeting")
    def greeting(name: str, tone: str = "warm") -> str:
        """Greet someone."""
        return f"Write a {tone} greeting for {name}."

    @sdk.prompt()
    def dialogue(topic: str) -> list:
        """A two-turn dialogue."""
        return [UserMessage(f"Tell me about {topic}."), AssistantMessage(f"{topic} is interesting.")]

    @sdk.completion()
    async def complete(ref, argument, context):
        if isinstance(ref, PromptReference) and argument.name == "tone":
            return SdkCompletion(values=[t for t in ("warm", "wry", "formal") if t.startswith(argument.value)])
        if argument.name == "user_id":
            return SdkCompletion(values=["42"])
        return None

    return sdk


# -- a real SPIFFE Workload API (``mcp-grpc identity dev``) for the mTLS bridge test ---------------------------------

TRUST_DOMAIN = "example.org"
SERVER_ID = f"spiffe://{TRUST_DOMAIN}/ns/tools/sa/tool-server"
BRIDGE_ID = f"spiffe://{TRUST_DOMAIN}/ns/tools/sa/mcp-bridge"
DOOMED_BRIDGE_ID = f"spiffe://{TRUST_DOMAIN}/ns/tools/sa/doomed-bridge"
SERVER_DNS = "tools.example.org"


class WorkloadApi:
    """``python -m mcp_grpc identity dev`` in its own process, serving the tool server's and the bridge's SVIDs."""

    def __init__(self) -> None:
        import tempfile

        self.socket_dir = tempfile.mkdtemp(prefix="brwl")  # short: Unix socket paths stay under 108 bytes
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> "WorkloadApi":
        import threading

        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "mcp_grpc", "identity", "dev", "--socket-dir", self.socket_dir,
                "--trust-domain", TRUST_DOMAIN,
                "--workload", f"server={SERVER_ID}", "--dns-name", f"server={SERVER_DNS}",
                "--workload", f"bridge={BRIDGE_ID}",
                "--workload", f"doomed={DOOMED_BRIDGE_ID}",
                "--x509-ttl", "1h",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        ready = threading.Event()

        def watch() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                if line.startswith("ready:"):
                    ready.set()
            ready.set()

        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(timeout) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("the development Workload API did not become ready")
        return self

    def socket(self, name: str) -> str:
        return f"unix://{self.socket_dir}/{name}.sock"

    def remove_identity(self, name: str) -> None:
        from mcp_grpc.identity.workload_dev.admin import ADMIN_SOCKET_NAME, admin_request

        admin_request(f"{self.socket_dir}/{ADMIN_SOCKET_NAME}", "remove-identity", name=name)

    def stop(self) -> None:
        import shutil

        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
