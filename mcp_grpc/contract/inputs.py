"""What a handler may ask the client for in the middle of a call, and the client's answers (MCP 2026-07-28 MRTR).

A server handler asks with ``Elicit`` (the user fills a form or visits a URL), ``Sample`` (the client's model
completes a conversation) or ``ListRoots`` (the client's filesystem roots); the client answers with an
``ElicitAnswer``, a ``SampleAnswer`` or a list of ``Root``. Each converts to and from the protocol's JSON shapes
(``to_json`` / ``answer_from_json``), which ``mcp_grpc.wire.inputs`` carries over Protobuf.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Mapping, Sequence, Union

__all__ = [
    "ELICIT",
    "LIST_ROOTS",
    "SAMPLE",
    "Answer",
    "Elicit",
    "ElicitAnswer",
    "InputRequest",
    "ListRoots",
    "Root",
    "Sample",
    "SampleAnswer",
    "answer_from_json",
    "answer_to_json",
    "request_from_json",
]

ELICIT = "elicitation/create"
SAMPLE = "sampling/createMessage"
LIST_ROOTS = "roots/list"


@dataclasses.dataclass(frozen=True, slots=True)
class Elicit:
    """Ask the user, through the client: a form (``schema``, a flat JSON Schema object of primitive properties) or,
    with ``url`` and ``elicitation_id``, to complete an interaction out of band at that URL."""

    message: str
    schema: Mapping[str, Any] | None = None
    url: str | None = None
    elicitation_id: str | None = None

    method = ELICIT

    def to_json(self) -> dict[str, Any]:
        if self.url is not None:
            return {"method": ELICIT, "params": {
                "mode": "url", "message": self.message, "url": self.url, "elicitationId": self.elicitation_id or "",
            }}
        schema = dict(self.schema) if self.schema is not None else {"type": "object", "properties": {}}
        return {"method": ELICIT, "params": {"mode": "form", "message": self.message, "requestedSchema": schema}}


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """Ask the client's model to continue ``messages`` (a string is one user message; otherwise the protocol's
    ``SamplingMessage`` objects ``{"role": ..., "content": {"type": "text", "text": ...}}``)."""

    messages: str | Sequence[Mapping[str, Any]]
    max_tokens: int = 1000
    system_prompt: str | None = None
    temperature: float | None = None
    stop_sequences: Sequence[str] = ()
    model_hints: Sequence[str] = ()

    method = SAMPLE

    def to_json(self) -> dict[str, Any]:
        if isinstance(self.messages, str):
            messages: list[Any] = [{"role": "user", "content": {"type": "text", "text": self.messages}}]
        else:
            messages = [dict(message) for message in self.messages]
        params: dict[str, Any] = {"messages": messages, "maxTokens": self.max_tokens}
        if self.system_prompt is not None:
            params["systemPrompt"] = self.system_prompt
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.stop_sequences:
            params["stopSequences"] = list(self.stop_sequences)
        if self.model_hints:
            params["modelPreferences"] = {"hints": [{"name": hint} for hint in self.model_hints]}
        return {"method": SAMPLE, "params": params}


@dataclasses.dataclass(frozen=True, slots=True)
class ListRoots:
    """Ask for the client's roots (``file:`` URIs the server may work in)."""

    method = LIST_ROOTS

    def to_json(self) -> dict[str, Any]:
        return {"method": LIST_ROOTS, "params": {}}


InputRequest = Union[Elicit, Sample, ListRoots]


@dataclasses.dataclass(frozen=True, slots=True)
class ElicitAnswer:
    """What the user did: ``accept`` (``content`` holds the form), ``decline`` or ``cancel``."""

    action: Literal["accept", "decline", "cancel"]
    content: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.action == "accept"


@dataclasses.dataclass(frozen=True, slots=True)
class SampleAnswer:
    """The client model's reply: its ``text`` (empty for image or audio content, which ``content`` holds)."""

    text: str
    model: str = ""
    stop_reason: str = ""
    role: str = "assistant"
    content: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Root:
    """One of the client's roots."""

    uri: str
    name: str = ""


Answer = Union[ElicitAnswer, SampleAnswer, "list[Root]"]


def request_from_json(request: Mapping[str, Any]) -> InputRequest:
    """A request as the client receives it, from ``{"method": ..., "params": {...}}`` (well formed: checked by the
    wire conversion). Unknown methods raise ``ValueError``."""
    method = request.get("method")
    params = request.get("params") or {}
    if method == ELICIT:
        if params.get("mode") == "url":
            return Elicit(params.get("message", ""), url=params.get("url", ""),
                          elicitation_id=params.get("elicitationId", ""))
        return Elicit(params.get("message", ""), params.get("requestedSchema"))
    if method == SAMPLE:
        hints = [hint.get("name", "") for hint in (params.get("modelPreferences") or {}).get("hints") or []]
        return Sample(
            list(params.get("messages") or []), params.get("maxTokens", 1000), params.get("systemPrompt"),
            params.get("temperature"), tuple(params.get("stopSequences") or ()), tuple(hints),
        )
    if method == LIST_ROOTS:
        return ListRoots()
    raise ValueError(f"not an input request method: {str(method)[:64]!r}")


def answer_from_json(method: str, response: Any) -> Answer | None:
    """The answer to a request of ``method`` from the client's result object; None when the object is not a result
    of that method (the request is then asked again)."""
    if not isinstance(response, Mapping):
        return None
    if method == ELICIT:
        action = response.get("action")
        content = response.get("content")
        if action not in ("accept", "decline", "cancel") or (content is not None and not isinstance(content, Mapping)):
            return None
        return ElicitAnswer(action, dict(content or {}))
    if method == SAMPLE:
        content = response.get("content")
        if not isinstance(content, Mapping) or "role" not in response:
            return None
        text = content.get("text", "") if content.get("type") == "text" else ""
        return SampleAnswer(
            str(text), str(response.get("model", "")), str(response.get("stopReason", "")),
            str(response.get("role", "assistant")), dict(content),
        )
    if method == LIST_ROOTS:
        roots = response.get("roots")
        if not isinstance(roots, list) or not all(isinstance(root, Mapping) and "uri" in root for root in roots):
            return None
        return [Root(str(root["uri"]), str(root.get("name", ""))) for root in roots]
    return None


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """An answer as the protocol's result object (what a client sends back)."""
    if isinstance(answer, ElicitAnswer):
        out: dict[str, Any] = {"action": answer.action}
        if answer.action == "accept":
            out["content"] = dict(answer.content)
        return out
    if isinstance(answer, SampleAnswer):
        content = dict(answer.content) if answer.content else {"type": "text", "text": answer.text}
        out = {"role": answer.role, "content": content}
        if answer.model:
            out["model"] = answer.model
        if answer.stop_reason:
            out["stopReason"] = answer.stop_reason
        return out
    if isinstance(answer, list):
        return {"roots": [{"uri": root.uri, **({"name": root.name} if root.name else {})} for root in answer]}
    raise TypeError(f"not an answer to an input request: {type(answer).__name__}")
