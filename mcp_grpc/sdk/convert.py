"""What the gRPC client returns, as the JSON-RPC result dicts of MCP 2026-07-28 that the SDK's ``ClientSession`` parses.

Every result carries ``resultType: "complete"``; list results carry ``cacheScope: "private"`` and ``ttlMs: 0``, since
the server filters each list by the caller's permissions.
"""

from __future__ import annotations

import base64
from typing import Any, Iterable

import mcp_types as types
from pydantic import BaseModel

from mcp_grpc.client import PromptInfo, PromptResult, ResourceContents, ResourceInfo, ToolCallResult, ToolInfo

__all__ = [
    "call_tool_result",
    "completion_result",
    "dump",
    "list_result",
    "prompt",
    "prompt_result",
    "read_result",
    "resource",
    "resource_template",
    "tool",
]


def dump(model: BaseModel) -> dict[str, Any]:
    """A result model as its wire dict, with the 2026-07-28 ``resultType``."""
    data = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    data.setdefault("resultType", "complete")
    return data


def list_result(key: str, items: Iterable[BaseModel]) -> dict[str, Any]:
    """A whole list (the client follows the wire's cursors), private to the caller and not to be cached."""
    return {
        key: [item.model_dump(by_alias=True, mode="json", exclude_none=True) for item in items],
        "cacheScope": "private",
        "ttlMs": 0,
        "resultType": "complete",
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _hint(value: Any) -> bool | None:
    """The wire's plain bools cannot say "unstated": false is passed on as unstated, so MCP's cautious defaults
    (destructive, open-world) apply."""
    return True if value else None


def tool(info: ToolInfo) -> types.Tool:
    hints = info.annotations
    annotations = None
    if hints:
        annotations = types.ToolAnnotations(
            title=hints.get("title") or None,
            read_only_hint=_hint(hints.get("read_only")),
            destructive_hint=_hint(hints.get("destructive")),
            idempotent_hint=_hint(hints.get("idempotent")),
            open_world_hint=_hint(hints.get("open_world")),
        )
    return types.Tool(
        name=info.name,
        title=info.title or None,
        description=info.description or None,
        input_schema=info.input_schema or {"type": "object"},
        output_schema=info.output_schema,
        annotations=annotations,
    )


def _contents(item: Any) -> types.TextResourceContents | types.BlobResourceContents:
    if item.blob:
        return types.BlobResourceContents(uri=item.uri, mime_type=item.mime_type or None, blob=_b64(item.blob))
    return types.TextResourceContents(uri=item.uri, mime_type=item.mime_type or None, text=item.text or "")


def _content_block(block: Any) -> types.ContentBlock:
    if block.HasField("image"):
        return types.ImageContent(type="image", data=_b64(block.image.data), mime_type=block.image.mime_type)
    if block.HasField("audio"):
        return types.AudioContent(type="audio", data=_b64(block.audio.data), mime_type=block.audio.mime_type)
    if block.HasField("embedded_resource"):
        return types.EmbeddedResource(type="resource", resource=_contents(block.embedded_resource.contents))
    if block.HasField("resource_link"):
        link = block.resource_link
        return types.ResourceLink(
            type="resource_link", name=link.name, uri=link.uri, title=link.title or None,
            description=link.description or None, mime_type=link.mime_type or None,
        )
    return types.TextContent(type="text", text=block.text.text)


def call_tool_result(result: ToolCallResult) -> dict[str, Any]:
    return dump(
        types.CallToolResult(
            content=[_content_block(block) for block in result.raw.content],
            structured_content=result.structured,
            is_error=result.is_error,
        )
    )


def resource(r: ResourceInfo) -> types.Resource:
    return types.Resource(
        uri=r.uri, name=r.name, title=r.title or None, description=r.description or None,
        mime_type=r.mime_type or None,
    )


def resource_template(t: ResourceInfo) -> types.ResourceTemplate:
    return types.ResourceTemplate(
        uri_template=t.uri, name=t.name, title=t.title or None, description=t.description or None,
        mime_type=t.mime_type or None,
    )


def read_result(contents: list[ResourceContents]) -> dict[str, Any]:
    return dump(types.ReadResourceResult(contents=[_contents(item) for item in contents]))


def prompt(p: PromptInfo) -> types.Prompt:
    return types.Prompt(
        name=p.name, title=p.title or None, description=p.description or None,
        arguments=[
            types.PromptArgument(name=a["name"], description=a["description"] or None, required=a["required"])
            for a in p.arguments
        ],
    )


def prompt_result(result: PromptResult) -> dict[str, Any]:
    """A prompt's messages, each with its content block; a role MCP does not know is sent as ``user``."""
    roles = [role if role in ("user", "assistant") else "user" for role, _ in result.messages]
    if result.raw is None:
        messages = [types.PromptMessage(role=role, content=types.TextContent(type="text", text=text))
                    for role, (_, text) in zip(roles, result.messages)]
    else:
        messages = [types.PromptMessage(role=role, content=_content_block(message))
                    for role, message in zip(roles, result.raw.messages)]
    return dump(types.GetPromptResult(description=result.description or None, messages=messages))


def completion_result(values: list[str], total: int, has_more: bool) -> dict[str, Any]:
    """At most 100 values, as MCP allows."""
    return dump(
        types.CompleteResult(completion=types.Completion(values=values[:100], total=total, has_more=has_more))
    )
