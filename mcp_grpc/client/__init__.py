"""MCP-over-gRPC clients: ``AsyncClient`` (asyncio) and ``Client`` (blocking), with the same methods.

    from mcp_grpc.client import Client
    with Client("127.0.0.1:50051") as client:
        for tool in client.list_tools():
            print(tool.name)
"""

from mcp_grpc.client.channel import AddressError, RetryPolicy, channel_target, make_channel, resolve_target
from mcp_grpc.client.client import (
    AsyncClient,
    CompletionResult,
    InputRequiredError,
    LogEntry,
    McpCallError,
    ProgressUpdate,
    PromptInfo,
    PromptResult,
    ResourceContents,
    ResourceInfo,
    ToolCallResult,
    ToolInfo,
)
from mcp_grpc.client.identity import ClientIdentity
from mcp_grpc.contract.inputs import Elicit, ElicitAnswer, ListRoots, Root, Sample, SampleAnswer
from mcp_grpc.client.sync import Client

__all__ = [
    "AddressError",
    "AsyncClient",
    "Client",
    "ClientIdentity",
    "CompletionResult",
    "Elicit",
    "ElicitAnswer",
    "ListRoots",
    "Root",
    "Sample",
    "SampleAnswer",
    "InputRequiredError",
    "LogEntry",
    "McpCallError",
    "ProgressUpdate",
    "PromptInfo",
    "PromptResult",
    "ResourceContents",
    "ResourceInfo",
    "RetryPolicy",
    "ToolCallResult",
    "ToolInfo",
    "channel_target",
    "make_channel",
    "resolve_target",
]
