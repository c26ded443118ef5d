"""A filtered List* page is the same whether the whole list is filtered or only the prefix the page needs, and a
page asks the authorizer about the prefix only (ListTools over a large registry costs its page, not the registry)."""

from __future__ import annotations

from typing import Sequence

import grpc
from google.protobuf import struct_pb2

from mcp_grpc.client import AsyncClient
from mcp_grpc.contract import Principal, TargetKind
from mcp_grpc.server import McpApp
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2_grpc

from tests.server.server_support import HeaderAuthenticator, TableAuthorizer
from tests.support.servers import running

ALICE = "spiffe://example.org/alice"
TOOLS = 300
PAGE = 10


def visible_index(i: int) -> bool:
    return i % 7 == 3


class CountingAuthorizer(TableAuthorizer):
    """The table authorizer, recording how many names each visible() call was asked about."""

    def __init__(self, allowed: set) -> None:
        super().__init__(allowed)
        self.asked: list[int] = []

    async def visible(self, principal: Principal, server_name: str, kind: TargetKind, names: Sequence[str]) -> set[str]:
        self.asked.append(len(names))
        return await super().visible(principal, server_name, kind, names)


def many_tools_app() -> McpApp:
    app = McpApp("test-server")
    for i in range(TOOLS):

        async def tool(text: str) -> str:
            return text

        app.tool(f"t{i:03d}", description=f"tool {i}")(tool)
    return app


async def _page(channel: grpc.aio.Channel, cursor: struct_pb2.Value | None) -> pb.ListToolsResponse:
    request = pb.ListToolsRequest()
    if cursor is not None:
        request.common.metadata.fields["cursor"].CopyFrom(cursor)
    return await mcp_pb2_grpc.McpStub(channel).ListTools(
        request, timeout=10, metadata=(("x-test-identity", ALICE),)
    )


async def test_pages_of_a_prefix_filtered_list_are_the_pages_of_the_whole_list() -> None:
    allowed = {(ALICE, "can_call", f"tool:t{i:03d}") for i in range(TOOLS) if visible_index(i)}
    expected = [f"t{i:03d}" for i in range(TOOLS) if visible_index(i)]
    authorizer = CountingAuthorizer(allowed)
    async with running(many_tools_app(), authenticator=HeaderAuthenticator(), authorizer=authorizer,
                       insecure_local=True, page_size=PAGE) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            first = await _page(channel, None)
            asked_for_first = sum(authorizer.asked)
            pages = [[t.name for t in first.tools]]
            cursor = first.common.metadata.fields.get("nextCursor")
            while cursor is not None:
                response = await _page(channel, cursor)
                pages.append([t.name for t in response.tools])
                cursor = response.common.metadata.fields.get("nextCursor")
        async with AsyncClient(server.address, metadata=lambda: [("x-test-identity", ALICE)]) as client:
            listed = [tool.name for tool in await client.list_tools()]
    assert pages[0] == expected[:PAGE]
    assert [name for page in pages for name in page] == expected == listed
    assert all(len(page) == PAGE for page in pages[:-1]) and 0 < len(pages[-1]) <= PAGE
    # The first page needs 11 visible names (its 10 and one more, for the next cursor): 11 of every 7th tool lie
    # in the first 77 tools, so a chunk or two were asked about, not all 300.
    assert asked_for_first < TOOLS
