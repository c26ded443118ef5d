"""What a call wants to use: the target the server resolved and validated (step 2), as authorization sees it."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Mapping, Sequence

__all__ = ["CallTarget", "Check", "InvalidTargetArguments", "TargetKind"]


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One required relationship: the caller must have ``relation`` on ``object_template``.

    ``object_template`` is ``type:id`` where the id may name validated arguments in braces, e.g. ``bucket:{bucket}``
    or ``tool:{server}/{tool}``. Example: ``@app.tool(authorize=[Check("can_read", "bucket:{bucket}")])``.
    """

    relation: str
    object_template: str


class TargetKind(str, enum.Enum):
    TOOL = "tool"
    RESOURCE = "resource"
    RESOURCE_TEMPLATE = "resource_template"
    PROMPT = "prompt"
    COMPLETION = "completion"
    METHOD = "method"  # a typed proto-first gRPC method or another non-MCP rpc


@dataclasses.dataclass(frozen=True, slots=True)
class CallTarget:
    """What a call wants to use. ``arguments`` are the validated ones (empty for the default check)."""

    server_name: str
    service: str  # full gRPC service name, e.g. model_context_protocol.Mcp
    method: str  # rpc name, e.g. CallTool
    kind: TargetKind
    name: str  # tool or prompt name, resource URI, or the rpc's full method name
    arguments: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    required_checks: Sequence[Check] = ()
    """Checks the target declared (decorator ``authorize=`` or proto option), in addition to the default one."""
    peer: str = ""
    consistency: str | None = None  # e.g. HIGHER_CONSISTENCY asked by the caller (metadata ``mcp-authz-consistency``)


class InvalidTargetArguments(ValueError):
    """Raised by an Authorizer when the call's arguments cannot form the objects its checks need (a missing argument,
    a value that is not a valid object id). The server answers INVALID_ARGUMENT with the message, which must be
    safe to return: it names the argument and the check, never the model."""
