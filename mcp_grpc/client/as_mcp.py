"""What the gRPC client returns, as the MCP types of the official SDK (``mcp_types``): what the bridge answers its
JSON-RPC clients and what the SDK transport (``mcp_grpc.sdk``) hands a ``ClientSession``. Data on the wire is bytes;
here it becomes MCP's base64."""

from __future__ import annotations

import base64
from typing import Any

from mcp_grpc.contract.extras import require_installed

# used by the bridge and mcp_grpc.sdk only: without the [bridge] extra, a MissingExtra naming it
require_installed("mcp_types", extra="bridge", needed_by="mcp_grpc.client.as_mcp", what="the official MCP SDK (mcp)")

import mcp_types as types  # noqa: E402 - after the extra's clear error

from mcp_grpc.wire import mcp_messages_pb2 as pb  # noqa: E402

__all__ = ["content_block", "prompt", "prompt_messages", "resource", "resource_contents", "resource_template", "tool"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def content_block(block: pb.CallToolResponse.Content) -> types.ContentBlock:
    if block.HasField("image"):
        return types.ImageContent(type="image", data=_b64(block.image.data), mime_type=block.image.mime_type)
    if block.HasField("audio"):
        return types.AudioContent(type="audio", data=_b64(block.audio.data), mime_type=block.audio.mime_type)
    if block.HasField("embedded_resource"):
        return types.EmbeddedResource(type="resource", resource=resource_contents(block.embedded_resource.contents))
    if block.HasField("resource_link"):
        link = block.resource_link
        return types.ResourceLink(
            type="resource_link", name=link.name, uri=link.uri, title=link.title or None,
            description=link.description or None, mime_type=link.mime_type or None,
        )
    return types.TextContent(type="text", text=block.text.text)


def resource_contents(item: Any) -> types.TextResourceContents | types.BlobResourceContents:
    """Read or embedded resource contents: a blob if there is one, else text."""
    blob = item.blob
    if blob:
        return types.BlobResourceContents(uri=item.uri, mime_type=item.mime_type or None, blob=_b64(blob))
    return types.TextResourceContents(uri=item.uri, mime_type=item.mime_type or None, text=item.text or "")


def _hint(value: bool | None) -> bool | None:
    """A wire hint as an MCP hint. The wire's plain bools cannot say "unstated", so false is passed on as unstated:
    MCP clients then apply MCP's defaults (destructive and open-world unless told otherwise), which is never less
    cautious than the server meant."""
    return True if value else None


def _icons(info: Any) -> list[types.Icon] | None:
    """An info's icons (MCP ``Icon`` objects) as mcp_types', None when it has none."""
    icons = [types.Icon.model_validate(icon) for icon in getattr(info, "icons", ())]
    return icons or None


def tool(info: Any) -> types.Tool:
    hints = info.annotations
    return types.Tool(
        name=info.name,
        title=info.title or None,
        description=info.description or None,
        input_schema=info.input_schema or {"type": "object"},
        output_schema=info.output_schema,
        annotations=(
            types.ToolAnnotations(
                title=hints.get("title") or None,
                read_only_hint=_hint(hints.get("read_only")),
                destructive_hint=_hint(hints.get("destructive")),
                idempotent_hint=_hint(hints.get("idempotent")),
                open_world_hint=_hint(hints.get("open_world")),
            )
            if hints
            else None
        ),
        icons=_icons(info),
        _meta=getattr(info, "meta", None),
    )


def resource(r: Any) -> types.Resource:
    return types.Resource(
        uri=r.uri, name=r.name, title=r.title or None, description=r.description or None,
        mime_type=r.mime_type or None, icons=_icons(r), _meta=getattr(r, "meta", None),
    )


def resource_template(t: Any) -> types.ResourceTemplate:
    return types.ResourceTemplate(
        uri_template=t.uri, name=t.name, title=t.title or None, description=t.description or None,
        mime_type=t.mime_type or None, icons=_icons(t), _meta=getattr(t, "meta", None),
    )


def prompt(p: Any) -> types.Prompt:
    return types.Prompt(
        name=p.name, title=p.title or None, description=p.description or None,
        arguments=[
            types.PromptArgument(name=a["name"], description=a["description"] or None, required=a["required"])
            for a in p.arguments
        ],
        icons=_icons(p), _meta=getattr(p, "meta", None),
    )


def prompt_messages(result: Any) -> list[types.PromptMessage]:
    """A prompt's messages as MCP's, each with its content block; a role MCP does not know is sent as ``user``."""
    roles = [role if role in ("user", "assistant") else "user" for role, _ in result.messages]
    if result.raw is None:
        return [types.PromptMessage(role=role, content=types.TextContent(type="text", text=text))
                for role, (_, text) in zip(roles, result.messages)]
    return [types.PromptMessage(role=role, content=content_block(message))
            for role, message in zip(roles, result.raw.messages)]
