"""Entries to protobuf messages, and the pagination of list responses.

Pagination: list requests carry an opaque cursor in ``common.metadata["cursor"]``; responses carry the next one in
``common.metadata["nextCursor"]``, absent on the last page. A cursor is only valid for the list that issued it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any, Sequence

from mcp_grpc import wire
from mcp_grpc.contract.bounds import MAX_MESSAGE, clip
from mcp_grpc.server.content import Audio, ContentBlock, EmbeddedResource, Image, ResourceContent, ResourceLink
from mcp_grpc.server.entries import ToolResult
from mcp_grpc.wire import errors
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire.structs import python_to_struct

__all__ = [
    "ListSettings", "content_block", "decode_cursor", "encode_cursor", "resource_contents", "tool_error",
    "presentation", "tool_message", "tool_response",
]

ROLES = {"user": pb.ROLE_USER, "assistant": pb.ROLE_ASSISTANT}


# -- pagination -------------------------------------------------------------------------------------------------


def encode_cursor(listing: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{listing}:{offset}".encode()).decode().rstrip("=")


def decode_cursor(common: pb.RequestFields, listing: str) -> int:
    """The offset a request's cursor points at (0 without a cursor). Raises INVALID_ARGUMENT for a bad cursor."""
    field = common.metadata.fields.get(wire.CURSOR_KEY) if common.HasField("metadata") else None
    if field is None or field.WhichOneof("kind") == "null_value":
        return 0
    if field.WhichOneof("kind") != "string_value":
        raise errors.invalid_params(f"invalid cursor: common.metadata.{wire.CURSOR_KEY} must be a string")
    cursor = field.string_value
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, offset_text = decoded.partition(":")
        offset = int(offset_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_params(f"invalid cursor {cursor[:64]!r}: not a cursor this server issued") from None
    if kind != listing or offset < 0 or not offset_text.isdigit():
        raise errors.invalid_params(f"invalid cursor {cursor[:64]!r}: not a cursor of the {listing} list")
    return offset


class ListSettings:
    """Page size, cache hints and the server's instructions of list and read responses (the protocol is stateless:
    no initialize result carries them, so these responses do, in ``common.instructions``)."""

    def __init__(
        self, page_size: int, ttl: datetime.timedelta | None, cache_scope: int, instructions: str | None = None
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.ttl = ttl
        self.cache_scope = cache_scope
        self.instructions = instructions

    def page(self, names: Sequence[str], offset: int, listing: str, common: pb.ResponseFields) -> Sequence[str]:
        """The names of one page; sets the next page's cursor on ``common`` unless this is the last page."""
        end = offset + self.page_size
        if end < len(names):
            common.metadata.fields[wire.NEXT_CURSOR_KEY].string_value = encode_cursor(listing, end)
        return names[offset:end]

    def cache_hints(self, response: Any) -> None:
        if self.instructions and hasattr(response, "common"):
            response.common.instructions = self.instructions
        if self.ttl is not None:
            response.ttl.FromTimedelta(self.ttl)
        response.cache_scope = self.cache_scope


# -- tools ------------------------------------------------------------------------------------------------------


_THEMES = {"light": pb.Icon.THEME_LIGHT, "dark": pb.Icon.THEME_DARK}


def presentation(message: Any, entry: Any) -> Any:
    """Set the ``icons`` and ``metadata`` (MCP ``_meta``) of a Tool, Resource, ResourceTemplate or Prompt message
    from an entry's ``icons`` and ``meta`` (entries without them, e.g. proto-first tools, publish none)."""
    for icon in getattr(entry, "icons", ()) or ():
        message.icons.add(src=icon.src, mime_type=icon.mime_type or "", sizes=list(icon.sizes),
                          theme=_THEMES.get(icon.theme or "", pb.Icon.THEME_UNSPECIFIED))
    meta = getattr(entry, "meta", None)
    if meta:
        python_to_struct(meta, message.metadata)
    return message


def tool_message(tool: Any) -> pb.Tool:
    message = pb.Tool(name=tool.name, title=tool.title or "", description=tool.description or "")
    presentation(message, tool)
    python_to_struct(tool.input_schema, message.input_schema)
    if tool.output_schema:
        python_to_struct(tool.output_schema, message.output_schema)
    hints = tool.annotations
    if any(value is not None for value in (hints.title, hints.read_only, hints.destructive, hints.idempotent, hints.open_world)):
        message.annotations.CopyFrom(
            pb.ToolAnnotations(
                title=hints.title or "",
                read_only_hint=bool(hints.read_only),
                destructive_hint=bool(hints.destructive),
                idempotent_hint=bool(hints.idempotent),
                open_world_hint=bool(hints.open_world),
            )
        )
    return message


def content_block(target: Any, block: ContentBlock) -> None:
    """Set the one field of ``target`` (a ``CallToolResponse.Content`` or a ``PromptMessage``) that ``block`` is."""
    if isinstance(block, str):
        target.text.text = block
    elif isinstance(block, Image):
        target.image.data, target.image.mime_type = block.data, block.mime_type
    elif isinstance(block, Audio):
        target.audio.data, target.audio.mime_type = block.data, block.mime_type
    elif isinstance(block, EmbeddedResource):
        resource_contents(target.embedded_resource.contents, block.resource)
    elif isinstance(block, ResourceLink):
        link = target.resource_link
        link.uri, link.name = block.uri, block.name
        link.title, link.description, link.mime_type = block.title or "", block.description or "", block.mime_type or ""
    else:
        raise TypeError(f"not a content block: {type(block).__name__}")


def resource_contents(target: pb.ResourceContents, item: ResourceContent) -> None:
    target.uri, target.mime_type = item.uri, item.mime_type or ""
    if item.blob is not None:
        target.blob = item.blob
    else:
        target.text = item.text or ""


def tool_response(result: ToolResult) -> pb.CallToolResponse:
    response = pb.CallToolResponse()  # a constructor keyword costs more than setting the field (proto3: unset is false)
    if result.is_error:
        response.is_error = True
    if result.text is not None:
        response.content.add().text.text = result.text
    for block in result.content:
        content_block(response.content.add(), block)
    if result.structured is not None:
        python_to_struct(result.structured, response.structured_content)
    return response


def tool_error(message: str) -> pb.CallToolResponse:
    """A tool error result; its text is bounded, as it often quotes what the caller sent."""
    return tool_response(ToolResult(text=clip(message, MAX_MESSAGE), is_error=True))
