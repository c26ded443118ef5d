"""A call's input requests (MRTR): the answers it has, and what it still asks.

A handler asks through its ``Context`` (``elicit``, ``sample``, ``list_roots``, ``ask``); each question has a key.
An answer is found under that key among the retry's ``input_responses`` and the earlier rounds' answers carried by the
sealed ``request_state`` (``mcp_grpc.server.request_state``). When some are missing the handler is stopped with
``InputRequired``, which the pipeline turns into an INPUT_REQUIRED result asking exactly those; the client answers
and retries, and the handler runs again from the top with one more round of answers. An answer of the wrong kind
(an elicitation result for a sampling question, a malformed object) is no answer: the question is asked again.

A question may insist that its answer was asked for (``require_asked``): the framework's own confirmation does, so
a client cannot pre-answer a confirmation it never saw; the state binds that answer to the caller and the arguments.
"""

from __future__ import annotations

from typing import Any, Mapping

from mcp_grpc.contract.inputs import Answer, InputRequest, answer_from_json

__all__ = ["InputRequired", "Inputs"]


class InputRequired(Exception):
    """Raised by ``Context.ask`` when answers are missing: the call ends INPUT_REQUIRED asking ``requests``.

    A handler must let it through (``except Exception`` around an ``await ctx.elicit(...)`` would swallow it).
    """

    def __init__(self, requests: Mapping[str, InputRequest]) -> None:
        super().__init__("input required: " + ", ".join(requests))
        self.requests = dict(requests)


class Inputs:
    """The answers a call has (this round's responses over the state's), and the keys its handler used."""

    __slots__ = ("round", "_responses", "_carried", "_asked", "used", "_counts")

    def __init__(
        self,
        responses: Mapping[str, Any] | None = None,
        *,
        carried: Mapping[str, Any] | None = None,
        asked: Mapping[str, str] | None = None,
        round: int = 1,
    ) -> None:
        #: 1 on the first call, n on the n-th retry.
        self.round = round
        self._responses = dict(responses) if responses else {}
        self._carried = dict(carried) if carried else {}
        self._asked = dict(asked) if asked else {}
        #: key -> the protocol's result object, for every answer the handler read (what the next state carries).
        self.used: dict[str, Any] = {}
        self._counts: dict[str, int] = {}

    def key_for(self, prefix: str) -> str:
        """A default key: ``prefix`` and how many such questions this run asked so far (stable across rounds as long
        as the handler asks in the same order)."""
        count = self._counts.get(prefix, 0) + 1
        self._counts[prefix] = count
        return f"{prefix}_{count}"

    def answer(self, key: str, request: InputRequest, *, require_asked: bool = False) -> Answer | None:
        """The answer under ``key`` if there is one of the right kind, else None."""
        if require_asked and self._asked.get(key) != request.method:
            return None
        for source in (self._responses, self._carried):
            if key in source:
                found = answer_from_json(request.method, source[key])
                if found is not None:
                    self.used[key] = source[key]
                    return found
        return None

    def ask(self, requests: Mapping[str, InputRequest], *, require_asked: bool = False) -> dict[str, Answer]:
        """Every answer, or ``InputRequired`` naming all the missing ones at once."""
        answers: dict[str, Answer] = {}
        missing: dict[str, InputRequest] = {}
        for key, request in requests.items():
            if not isinstance(key, str) or not key:
                raise ValueError("an input request's key must be a non-empty string")
            found = self.answer(key, request, require_asked=require_asked)
            if found is None:
                missing[key] = request
            else:
                answers[key] = found
        if missing:
            raise InputRequired(missing)
        return answers
