"""Titles, icons and ``_meta`` declared on the decorators: on the gRPC wire, in mcp_grpc.client's info types, and
through the bridge to an official-SDK JSON-RPC client (issue 11)."""

from __future__ import annotations

from typing import AsyncIterator

import mcp
import pytest

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, serve_http
from mcp_grpc.client import AsyncClient
from mcp_grpc.server import Icon, McpApp, Server
from tests.support.servers import running

LOGO = Icon("https://example.com/logo.png", mime_type="image/png", sizes=("48x48", "96x96"), theme="dark")
DOT = Icon("data:image/svg+xml;base64,PHN2Zy8+")
LOGO_JSON = {"src": "https://example.com/logo.png", "mimeType": "image/png", "sizes": ["48x48", "96x96"],
             "theme": "dark"}
DOT_JSON = {"src": "data:image/svg+xml;base64,PHN2Zy8+"}


def presented_app() -> McpApp:
    app = McpApp("presented")

    @app.tool(title="Look up", icons=[LOGO, DOT], meta={"vendor": {"tier": 2}, "beta": True})
    def lookup(key: str) -> str:
        """Find a key."""
        return key

    @app.tool()
    def plain() -> str:
        """Nothing declared."""
        return ""

    @app.resource("data://config", title="Config", icons=[DOT], meta={"source": "etcd"})
    def config() -> str:
        return "{}"

    @app.resource("data://users/{user}", title="User", icons=[LOGO], meta={"pii": True})
    def user(user: str) -> str:
        return user

    @app.prompt(title="Greeting", icons=[LOGO], meta={"lang": "en"})
    def greeting(name: str) -> str:
        return f"hello {name}"

    return app


@pytest.fixture
async def grpc_server() -> AsyncIterator[Server]:
    async with running(presented_app()) as server:
        yield server


async def test_the_grpc_client_sees_titles_icons_and_meta(grpc_server: Server):
    async with AsyncClient(grpc_server.address, timeout=10) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
        prompts = await client.list_prompts()
    lookup = tools["lookup"]
    assert lookup.title == "Look up"
    assert lookup.icons == (LOGO_JSON, DOT_JSON)
    assert lookup.meta == {"vendor": {"tier": 2}, "beta": True}
    assert tools["plain"].icons == () and tools["plain"].meta is None
    (config,) = resources
    assert (config.title, config.icons, config.meta) == ("Config", (DOT_JSON,), {"source": "etcd"})
    (user,) = templates
    assert (user.title, user.icons, user.meta) == ("User", (LOGO_JSON,), {"pii": True})
    (prompt,) = prompts
    assert (prompt.title, prompt.icons, prompt.meta) == ("Greeting", (LOGO_JSON,), {"lang": "en"})


async def test_the_bridge_hands_them_to_a_jsonrpc_client(grpc_server: Server):
    backend = GrpcBackend.insecure_local(grpc_server.address, timeout=10)
    try:
        async with serve_http(build_bridge_server(backend), host="127.0.0.1", port=0) as endpoint:
            async with mcp.Client(endpoint.url) as client:
                tools = {tool.name: tool for tool in (await client.list_tools()).tools}
                resources = (await client.list_resources()).resources
                templates = (await client.list_resource_templates()).resource_templates
                prompts = (await client.list_prompts()).prompts
    finally:
        await backend.close()
    lookup = tools["lookup"]
    assert lookup.title == "Look up" and lookup.meta == {"vendor": {"tier": 2}, "beta": True}
    assert [icon.model_dump(by_alias=True, exclude_none=True) for icon in lookup.icons] == [LOGO_JSON, DOT_JSON]
    assert tools["plain"].icons is None and tools["plain"].meta is None
    assert resources[0].title == "Config" and resources[0].meta == {"source": "etcd"}
    assert str(resources[0].icons[0].src) == DOT_JSON["src"]
    assert templates[0].icons[0].theme == "dark" and templates[0].meta == {"pii": True}
    assert prompts[0].title == "Greeting" and prompts[0].meta == {"lang": "en"}
    assert prompts[0].icons[0].sizes == ["48x48", "96x96"]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Icon("http://example.com/a.png"), ValueError, "icon src must be an https: or data: URI, not "
                                                                "'http://example.com/a.png'"),
        (lambda: Icon("https://x/a.png", theme="blue"), ValueError, "icon theme must be 'light', 'dark' or None"),
        (lambda: Icon("https://x/a.png", sizes="48x48"), ValueError, "not the string '48x48'"),
        (lambda: McpApp().tool(icons=["https://x/a.png"])(lambda: 1), TypeError,
         "tool '<lambda>': icons takes Icon values, not str"),
        (lambda: McpApp().prompt("p", meta=[("k", 1)])(lambda: "x"), TypeError,
         "prompt 'p': meta must be a mapping (MCP _meta), not list"),
        (lambda: McpApp().resource("data://x", icons=[{"src": "https://x"}]), TypeError,
         "resource 'data://x': icons takes Icon values, not dict"),
    ],
)
def test_bad_icons_and_meta_are_refused_at_registration(make, error, message):
    with pytest.raises(error) as caught:
        make()
    assert message in str(caught.value)


async def test_a_mounted_sdk_servers_icons_and_meta_reach_the_grpc_client(caplog):
    import mcp_types
    from mcp.server.mcpserver import MCPServer

    from mcp_grpc.bridge import mount_official

    sdk = MCPServer("sdk")
    logo = mcp_types.Icon(src="https://example.com/logo.png", mime_type="image/png", sizes=["48x48"], theme="dark")
    plain_http = mcp_types.Icon(src="http://example.com/insecure.png")

    @sdk.tool(title="Weather", icons=[logo, plain_http], meta={"ui": "card"})
    def weather(city: str) -> str:
        """Forecast."""
        return city

    @sdk.prompt(title="Brief", icons=[logo])  # MCPServer.prompt takes no meta
    def brief() -> str:
        """A brief."""
        return "hi"

    app = McpApp("mounted")
    with caplog.at_level("WARNING", logger="mcp_grpc.bridge"):
        mount_official(app, sdk)
    assert "not publishing an icon of tool 'weather': icon src must be an https: or data: URI" in caplog.text
    async with running(app) as server:
        async with AsyncClient(server.address, timeout=10) as client:
            (tool,) = await client.list_tools()
            (prompt,) = await client.list_prompts()
    expected = {"src": "https://example.com/logo.png", "mimeType": "image/png", "sizes": ["48x48"], "theme": "dark"}
    assert (tool.title, tool.icons, tool.meta) == ("Weather", (expected,), {"ui": "card"})
    assert (prompt.title, prompt.icons, prompt.meta) == ("Brief", (expected,), None)
