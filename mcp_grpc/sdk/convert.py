"""What the gRPC client returns, as the JSON-RPC result dicts of MCP 2026-07-28 that the SDK's ``ClientSession`` parses.

Every result carries ``resultType: "complete"``; list results carry ``cacheScope: "private"`` and ``ttlMs: 0``, since
the server filters each list by the caller's permissions.
"""

from __future__ import annotations

from typing import Any, Iterable

import mcp_types as types
from pydantic import BaseModel

from mcp_grpc.client import PromptResult, ResourceContents, ToolCallResult
from mcp_grpc.client.as_mcp import (
    content_block,
    prompt,
    prompt_messages,
    resource,
    resource_contents,
    resource_template,
    tool,
)

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


def call_tool_result(result: ToolCallResult) -> dict[str, Any]:
    return dump(
        types.CallToolResult(
            content=[content_block(block) for block in result.raw.content],
            structured_content=result.structured,
            is_error=result.is_error,
        )
    )


def read_result(contents: list[ResourceContents]) -> dict[str, Any]:
    return dump(types.ReadResourceResult(contents=[resource_contents(item) for item in contents]))


def prompt_result(result: PromptResult) -> dict[str, Any]:
    return dump(types.GetPromptResult(description=result.description or None, messages=prompt_messages(result)))


def completion_result(values: list[str], total: int, has_more: bool) -> dict[str, Any]:
    """At most 100 values, as MCP allows."""
    return dump(
        types.CompleteResult(completion=types.Completion(values=values[:100], total=total, has_more=has_more))
    )
