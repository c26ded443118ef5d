"""How ``mcp-grpc call`` answers a tool's input requests (MCP 2026-07-28 MRTR: elicitation, sampling, roots).

    mcp-grpc call ADDRESS greet --answer 'user_name={"name": "Alice"}'
    mcp-grpc call ADDRESS greet --answer 'user_name={"action": "decline"}'
    mcp-grpc call ADDRESS capital --answer-file answers.json     # {"q": {"role": "assistant", "content": ...}}

An answer is the protocol's result object under the request's key; for an elicitation a bare JSON object (one that
is not ``{"action": ...}``) means "accept with this content". A question without an answer is asked on the terminal
when standard input is one (each form field typed by its schema; accept, decline or cancel); otherwise the command
stops at once (exit 2) naming the key, the question and the flag that answers it, so a script never hangs. Sampling
and roots are never asked on the terminal: only ``--answer``/``--answer-file`` answer them.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import sys
from typing import Any, Mapping, TextIO

from mcp_grpc.cli.client_options import CommandError, UsageError
from mcp_grpc.contract.inputs import ELICIT, Elicit, InputRequest, ListRoots, Sample, answer_from_json

__all__ = ["Answerer", "parse_answers", "prompt_elicitation", "shown"]

_RESULT_KEYS = {"action", "content", "_meta"}
_SHOWN_LIMIT = 300


def shown(text: Any, limit: int = _SHOWN_LIMIT) -> str:
    """Server-controlled text made safe to print: control characters (terminal escapes) escaped, length bounded."""
    value = str(text)
    cleaned = "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in value).replace("\n", " ")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


# -- the flags ------------------------------------------------------------------------------------------------------


def parse_answers(answers: list[str], answer_file: str | None) -> dict[str, tuple[Any, str]]:
    """``--answer KEY=JSON`` flags over ``--answer-file FILE``: key -> (JSON value, where it came from)."""
    parsed: dict[str, tuple[Any, str]] = {}
    if answer_file is not None:
        try:
            text = pathlib.Path(answer_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--answer-file {answer_file}: cannot read it: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--answer-file {answer_file}: not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--answer-file {answer_file} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"--answer-file {answer_file} must be a JSON object of key -> result, got {_kind(data)}")
        for key, value in data.items():
            if not key:
                raise UsageError(f"--answer-file {answer_file}: an empty key")
            if not isinstance(value, (dict, list)):
                raise UsageError(f"--answer-file {answer_file}: the answer to {key!r} must be a JSON object, "
                                 f"got {_kind(value)}")
            parsed[key] = (value, f"--answer-file {answer_file} key {key!r}")
    for flag in answers:
        key, sep, text = flag.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--answer {shown(flag, 80)!r}: expected KEY=JSON, e.g. --answer 'user_name={{\"name\": "
                             f"\"Alice\"}}'")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--answer {key}: the answer is not valid JSON: {exc}") from None
        if not isinstance(value, (dict, list)):
            raise UsageError(f"--answer {key}: the answer must be a JSON object (the protocol's result), "
                             f"got {_kind(value)}")
        parsed[key] = (value, f"--answer {key}")
    return parsed


def _kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _as_result(request: InputRequest, value: Any, where: str) -> Any:
    """A given answer as the result object for ``request``; a precise UsageError when it is not one."""
    if isinstance(request, Elicit):
        if isinstance(value, dict) and not (value.get("action") in ("accept", "decline", "cancel")
                                            and set(value) <= _RESULT_KEYS):
            value = {"action": "accept", "content": value}  # a bare object: accept with these fields
        if answer_from_json(ELICIT, value) is None:
            raise UsageError(f"{where}: not an elicitation result: expected {{\"action\": \"accept\"|\"decline\"|"
                             f"\"cancel\", \"content\": {{...}}}} or a bare object of the form's fields")
        return value
    if isinstance(request, ListRoots) and isinstance(value, list):
        value = {"roots": value}  # a bare list of roots
    if answer_from_json(request.method, value) is None:
        raise UsageError(f"{where}: not a {request.method} result: expected {_EXAMPLE[request.method]}")
    return value


_EXAMPLE = {
    "sampling/createMessage": '{"role": "assistant", "content": {"type": "text", "text": "..."}, "model": "..."}',
    "roots/list": '{"roots": [{"uri": "file:///...", "name": "..."}]}',
}


# -- describing a question ------------------------------------------------------------------------------------------


def _describe(key: str, request: InputRequest) -> str:
    if isinstance(request, Elicit):
        if request.url is not None:
            return f"{key!r} (elicitation, visit a URL): {shown(request.message)!r} at {shown(request.url, 200)}"
        fields = ", ".join(
            f"{shown(name, 40)}: {_field_type(spec)}{' (required)' if name in _required(request) else ''}"
            for name, spec in _properties(request).items()
        )
        return f"{key!r} (elicitation): {shown(request.message)!r}" + (f"; fields: {fields}" if fields else "")
    if isinstance(request, Sample):
        return f"{key!r} (sampling: the client's model is asked to continue a conversation)"
    return f"{key!r} (roots: the client's filesystem roots)"


def _how_to_answer(key: str, request: InputRequest) -> str:
    if isinstance(request, Elicit):
        example = {name: "..." for name in _properties(request)} or {}
        return (f"--answer '{key}={json.dumps(example)}' to accept (or {{\"action\": \"decline\"}} / "
                f"{{\"action\": \"cancel\"}})")
    return f"--answer '{key}={_EXAMPLE[request.method]}'"


def _properties(request: Elicit) -> dict[str, Any]:
    properties = (request.schema or {}).get("properties") or {}
    return {str(name): spec for name, spec in properties.items() if isinstance(spec, Mapping)} if isinstance(
        properties, Mapping) else {}


def _required(request: Elicit) -> set[str]:
    required = (request.schema or {}).get("required") or []
    return {str(name) for name in required} if isinstance(required, list) else set()


def _choices(spec: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    """(value, label) of a single-select enum: ``enum`` (with legacy ``enumNames``) or SEP-1330 ``oneOf`` consts."""
    if isinstance(spec.get("enum"), list):
        names = spec.get("enumNames")
        labels = names if isinstance(names, list) and len(names) == len(spec["enum"]) else spec["enum"]
        return [(value, str(label)) for value, label in zip(spec["enum"], labels)]
    options = spec.get("oneOf") or spec.get("anyOf")
    if isinstance(options, list) and options and all(isinstance(o, Mapping) and "const" in o for o in options):
        return [(o["const"], str(o.get("title", o["const"]))) for o in options]
    return None


def _field_type(spec: Mapping[str, Any]) -> str:
    choices = _choices(spec)
    if choices is not None:
        return "one of " + "|".join(shown(value, 40) for value, _ in choices)
    return str(spec.get("type", "string"))


# -- the terminal ---------------------------------------------------------------------------------------------------


class _EndOfInput(Exception):
    """Standard input ended in the middle of a form: the user's answer is cancel."""


def _read(prompt: str, stdin: TextIO, stderr: TextIO) -> str:
    stderr.write(prompt)
    stderr.flush()
    line = stdin.readline()
    if not line:
        raise _EndOfInput
    return line.rstrip("\r\n")


def prompt_elicitation(key: str, request: Elicit, stdin: TextIO, stderr: TextIO) -> dict[str, Any]:
    """Ask one elicitation on a terminal (prompts on ``stderr``, answers from ``stdin``): accept, decline or cancel,
    then each form field typed by its schema. End of input is cancel. Returns the protocol's result object."""
    stderr.write(f"\nThe tool asks ({shown(key, 60)}): {shown(request.message)}\n")
    if request.url is not None:
        stderr.write(f"  open this URL to continue: {shown(request.url, 2000)}\n")
    try:
        while True:
            choice = _read("  [a]ccept, [d]ecline or [c]ancel? [a] ", stdin, stderr).strip().lower()
            if choice in ("", "a", "accept", "y", "yes"):
                break
            if choice in ("d", "decline", "n", "no"):
                return {"action": "decline"}
            if choice in ("c", "cancel"):
                return {"action": "cancel"}
            stderr.write("  please answer a, d or c\n")
        if request.url is not None:
            return {"action": "accept"}
        content: dict[str, Any] = {}
        required = _required(request)
        for name, spec in _properties(request).items():
            value = _prompt_field(name, spec, name in required, stdin, stderr)
            if value is not None:
                content[name] = value
        return {"action": "accept", "content": content}
    except _EndOfInput:
        stderr.write("\n  (end of input: cancelled)\n")
        return {"action": "cancel"}


def _prompt_field(name: str, spec: Mapping[str, Any], required: bool, stdin: TextIO, stderr: TextIO) -> Any:
    title = shown(spec.get("title") or name, 80)
    description = f" - {shown(spec['description'], 200)}" if spec.get("description") else ""
    default = spec.get("default")
    choices = _choices(spec)
    kind = spec.get("type", "string")
    if choices is not None:
        stderr.write(f"  {title}{description}\n")
        for number, (value, label) in enumerate(choices, 1):
            stderr.write(f"    {number}. {shown(label, 80)}" + (f" ({shown(value, 40)})" if label != str(value) else "")
                         + "\n")
    hint = "one of the numbers" if choices is not None else ("y/n" if kind == "boolean" else kind)
    suffix = f" [{shown(json.dumps(default), 60)}]" if default is not None else ("" if required else " (optional)")
    while True:
        text = _read(f"  {title} ({hint}){suffix}{'' if choices else description}: ", stdin, stderr).strip()
        if not text:
            if default is not None:
                return default
            if not required:
                return None
            stderr.write("  this field is required\n")
            continue
        value, problem = _convert(text, kind, choices, spec)
        if problem is None:
            return value
        stderr.write(f"  {problem}\n")


def _convert(text: str, kind: Any, choices: list[tuple[Any, str]] | None, spec: Mapping[str, Any]) -> tuple[Any, str | None]:
    if choices is not None:
        if text.isdigit() and 1 <= int(text) <= len(choices):
            return choices[int(text) - 1][0], None
        for value, label in choices:
            if text in (str(value), label):
                return value, None
        return None, f"choose 1-{len(choices)}"
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("y", "yes", "true", "1"):
            return True, None
        if lowered in ("n", "no", "false", "0"):
            return False, None
        return None, "answer y or n"
    if kind in ("number", "integer"):
        try:
            number: Any = int(text) if kind == "integer" else float(text)
        except ValueError:
            return None, f"not {'an integer' if kind == 'integer' else 'a number'}: {shown(text, 40)}"
        if kind == "number" and number.is_integer() and "." not in text and "e" not in text.lower():
            number = int(number)
        if "minimum" in spec and number < spec["minimum"]:
            return None, f"at least {spec['minimum']}"
        if "maximum" in spec and number > spec["maximum"]:
            return None, f"at most {spec['maximum']}"
        return number, None
    if "minLength" in spec and len(text) < spec["minLength"]:
        return None, f"at least {spec['minLength']} characters"
    if "maxLength" in spec and len(text) > spec["maxLength"]:
        return None, f"at most {spec['maxLength']} characters"
    return text, None


# -- the on_input handler -----------------------------------------------------------------------------------------


class Answerer:
    """``AsyncClient.call_tool``'s ``on_input`` for the CLI: the given answers first, then the terminal, else stop."""

    def __init__(self, given: dict[str, tuple[Any, str]], *, stdin: TextIO | None = None,
                 stderr: TextIO | None = None, interactive: bool | None = None) -> None:
        #: key -> (answer, where it came from), from the flags.
        self.given = given
        self._stdin = stdin if stdin is not None else sys.stdin
        self._stderr = stderr if stderr is not None else sys.stderr
        self._interactive = interactive
        self._answered: set[str] = set()
        #: the keys of ``given`` a question used (the rest were never asked for).
        self.used: set[str] = set()

    def _is_tty(self) -> bool:
        if self._interactive is not None:
            return self._interactive
        try:
            return self._stdin.isatty()
        except (AttributeError, ValueError):
            return False

    async def __call__(self, requests: Mapping[str, InputRequest]) -> dict[str, Any]:
        again = sorted(key for key in requests if key in self._answered)
        if again:
            raise CommandError(
                "the tool asked again for " + ", ".join(repr(shown(k, 60)) for k in again)
                + ": it did not accept the answer given (a different kind of result, or content it refused)")
        answers: dict[str, Any] = {}
        unanswered: dict[str, InputRequest] = {}
        for key, request in requests.items():
            if key in self.given:
                value, where = self.given[key]
                answers[key] = _as_result(request, value, where)
                self.used.add(key)
            else:
                unanswered[key] = request
        if unanswered:
            tty = self._is_tty()
            cannot = {k: r for k, r in unanswered.items() if not (tty and isinstance(r, Elicit))}
            if cannot:
                raise CommandError(self._missing(cannot, tty))
            for key, request in unanswered.items():
                assert isinstance(request, Elicit)
                answers[key] = await asyncio.to_thread(prompt_elicitation, key, request, self._stdin, self._stderr)
        self._answered.update(answers)
        return answers

    @staticmethod
    def _missing(requests: Mapping[str, InputRequest], tty: bool) -> str:
        if tty:
            why = "sampling and roots are not asked on the terminal: only --answer/--answer-file answer them"
        else:
            why = "standard input is not a terminal, so it cannot be asked"
        lines = [f"the tool asks for input that no --answer gives ({why}):"]
        for key, request in requests.items():
            lines.append(f"  {_describe(key, request)}")
            lines.append(f"    answer with {_how_to_answer(key, request)}")
        lines.append("  or put key -> result in a JSON file and pass --answer-file FILE")
        return "\n".join(lines)
