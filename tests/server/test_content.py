"""Issue 11, content: tools and prompts return images, audio, embedded resources and resource links (and bytes),
carried as bytes on the gRPC wire and as MCP's JSON through the bridge."""

from __future__ import annotations

import base64

import mcp
import pytest

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, serve_http
from mcp_grpc.client import AsyncClient
from mcp_grpc.server import Audio, EmbeddedResource, Image, McpApp, PromptMessage, ResourceContent, ResourceLink
from tests.support.servers import running

PNG = b"\x89PNG\r\n\x1a\n\x00\xff"  # not valid UTF-8: the bytes must survive as bytes


def content_app() -> McpApp:
    app = McpApp("content")

    @app.tool
    def picture() -> Image:
        """One image."""
        return Image(PNG, "image/png")

    @app.tool
    def mixed() -> list[str | Image | Audio | EmbeddedResource | ResourceLink]:
        """Every kind of block, in order."""
        return ["caption", Image(PNG, "image/png"), Audio(b"RIFF\x00\x01", "audio/wav"),
                EmbeddedResource(ResourceContent("docs://a", text="embedded", mime_type="text/plain")),
                ResourceLink("docs://b", "b", description="the other one", mime_type="text/markdown")]

    @app.tool
    def raw() -> bytes:
        return PNG

    @app.prompt
    def show() -> list:
        return ["Look at this:", PromptMessage("user", Image(PNG, "image/png"))]

    return app


async def test_blocks_travel_as_bytes_over_grpc():
    app = content_app()
    assert app.tools["picture"].output_schema is None and app.tools["raw"].output_schema is None
    async with running(app) as server:
        async with AsyncClient(server.address) as client:
            picture = await client.call_tool("picture", {})
            mixed = await client.call_tool("mixed", {})
            raw = await client.call_tool("raw", {})
            prompt = await client.get_prompt("show")
    [block] = picture.raw.content
    assert (block.image.data, block.image.mime_type) == (PNG, "image/png")
    assert not picture.is_error and picture.raw.structured_content == type(picture.raw.structured_content)()
    kinds = [block.ListFields()[0][0].name for block in mixed.raw.content]  # the one field each block sets
    assert kinds == ["text", "image", "audio", "embedded_resource", "resource_link"]
    assert mixed.raw.content[2].audio.data == b"RIFF\x00\x01"
    assert mixed.raw.content[3].embedded_resource.contents.text == "embedded"
    link = mixed.raw.content[4].resource_link
    assert (link.uri, link.name, link.description, link.mime_type) == ("docs://b", "b", "the other one",
                                                                      "text/markdown")
    [blob] = raw.raw.content
    assert blob.embedded_resource.contents.blob == PNG
    assert blob.embedded_resource.contents.mime_type == "application/octet-stream"
    assert [m.text.text for m in prompt.raw.messages][0] == "Look at this:"
    assert prompt.raw.messages[1].image.data == PNG


async def test_blocks_reach_an_mcp_client_through_the_bridge():
    async with running(content_app()) as server:
        backend = GrpcBackend.insecure_local(server.address)
        try:
            async with serve_http(build_bridge_server(backend), port=0) as endpoint:
                async with mcp.Client(endpoint.url, mode="2026-07-28") as client:
                    mixed = await client.call_tool("mixed", {})
                    prompt = await client.get_prompt("show")
        finally:
            await backend.close()
    assert [block.type for block in mixed.content] == ["text", "image", "audio", "resource", "resource_link"]
    assert base64.b64decode(mixed.content[1].data) == PNG and mixed.content[1].mime_type == "image/png"
    assert prompt.messages[1].content.type == "image" and base64.b64decode(prompt.messages[1].content.data) == PNG


def test_a_prompt_returning_something_else_names_what_it_accepts():
    app = McpApp("bad")

    @app.prompt
    def broken() -> list:
        return [42]

    import asyncio

    with pytest.raises(TypeError, match="expected str, PromptMessage or a content block"):
        asyncio.run(app.prompts["broken"].render({}, None, None))  # type: ignore[arg-type]


async def test_server_instructions_reach_the_client_and_a_bridged_mcp_client():
    """Issue 11: McpApp(instructions=...) was stored and never sent; list responses now carry it."""
    from mcp_grpc.cli.bridge_commands import _server_instructions

    app = McpApp("guided", instructions="Refunds above 100 need a review.")

    @app.tool
    def noop() -> str:
        return "ok"

    async with running(app) as server:
        async with AsyncClient(server.address) as client:
            assert client.instructions is None
            await client.list_tools()
            assert client.instructions == "Refunds above 100 need a review."
        backend = GrpcBackend.insecure_local(server.address)
        try:
            instructions = await _server_instructions(backend)
            async with serve_http(build_bridge_server(backend, instructions=instructions), port=0) as endpoint:
                async with mcp.Client(endpoint.url, mode="auto") as bridged:  # server/discover says them
                    assert bridged.instructions == "Refunds above 100 need a review."
        finally:
            await backend.close()
    async with running(content_app()) as silent:
        async with AsyncClient(silent.address) as client:
            await client.list_tools()
            assert client.instructions is None  # an app without instructions sends none


async def test_refusals_carry_their_own_mcp_error_codes_over_grpc_and_through_the_bridge():
    """Issue 11, errors: PERMISSION_DENIED, UNAUTHENTICATED and UNAVAILABLE carry distinct mcp-error-code values
    (they carried none, and the bridge answered -32603 "Internal error" for all three)."""
    import grpc

    from mcp_grpc.client import McpCallError
    from mcp_grpc.wire import errors
    from tests.server.server_support import HeaderAuthenticator, TableAuthorizer

    agent = "spiffe://example.org/agent"

    def as_agent() -> list[tuple[str, str]]:
        return [("x-test-identity", agent)]

    async def code_of(call) -> tuple[grpc.StatusCode, int | None]:
        with pytest.raises(McpCallError) as failed:
            await call
        return failed.value.status, failed.value.mcp_code

    app = content_app()
    for mode, expected in (("normal", (grpc.StatusCode.PERMISSION_DENIED, errors.PERMISSION_DENIED)),
                           ("unavailable", (grpc.StatusCode.UNAVAILABLE, errors.UNAVAILABLE))):
        async with running(app, TableAuthorizer(set(), mode=mode), authenticator=HeaderAuthenticator(),
                           insecure_local=True) as server:
            async with AsyncClient(server.address, metadata=as_agent, retry=None) as client:
                assert await code_of(client.get_prompt("show")) == expected
            async with AsyncClient(server.address, retry=None) as anonymous:
                assert await code_of(anonymous.get_prompt("show")) == (grpc.StatusCode.UNAUTHENTICATED,
                                                                       errors.UNAUTHENTICATED)
    assert len({errors.PERMISSION_DENIED, errors.UNAUTHENTICATED, errors.UNAVAILABLE, errors.RESOURCE_EXHAUSTED,
                errors.INTERNAL_ERROR}) == 5

    async with running(app, TableAuthorizer(set()), authenticator=HeaderAuthenticator(), insecure_local=True) as server:
        backend = GrpcBackend(server.address, lambda: AsyncClient(server.address, metadata=as_agent, retry=None),
                              _noop, identity=agent)
        async with serve_http(build_bridge_server(backend), port=0) as endpoint:
            async with mcp.Client(endpoint.url, mode="2026-07-28") as client:
                with pytest.raises(mcp.MCPError) as denied:
                    await client.get_prompt("show")
    assert denied.value.error.code == errors.PERMISSION_DENIED
    assert denied.value.error.data == {"grpcStatus": "PERMISSION_DENIED"}


async def _noop() -> None:
    return None


def test_a_handlers_key_error_says_its_message_not_pythons_repr():
    """Issue 16: KeyError("no invoice INV-9") reached callers as "'no invoice INV-9'"."""
    from mcp_grpc.server.entries import error_text

    assert error_text(KeyError("no invoice INV-9")) == "no invoice INV-9"
    assert error_text(KeyError(42)) == "42" and error_text(KeyError()) == "KeyError"
    assert error_text(ValueError("bad")) == "bad" and error_text(RuntimeError()) == "RuntimeError"


async def test_a_tool_raising_key_error_reads_as_its_message():
    app = McpApp("keys")

    @app.tool
    def lookup(invoice_id: str) -> str:
        raise KeyError(f"no invoice {invoice_id}")

    async with running(app) as server:
        async with AsyncClient(server.address) as client:
            result = await client.call_tool("lookup", {"invoice_id": "INV-9"})
    assert result.is_error and result.text == "no invoice INV-9"
