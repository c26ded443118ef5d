"""The docs name only things that exist: every `mcp-grpc` flag they show is a flag of that command, every
`from mcp_grpc... import X` in their Python examples imports, every keyword those examples pass to an mcp-grpc
callable is one it takes, and every relative link points at a file of the repository."""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import pathlib
import re

import pytest

from tests.support.paths import REPO_ROOT

DOC_FILES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("**/*.md")])
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line, language, body) of each fenced block; nested fences of fewer backticks stay inside."""
    blocks: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening or (opening[1][0] == "`" and "`" in opening[2]):
            index += 1
            continue
        fence, info, start = opening[1], opening[2].strip(), index
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if closing and closing[1][0] == fence[0] and len(closing[1]) >= len(fence) and not closing[2].strip():
                break
            body.append(lines[index])
            index += 1
        index += 1
        blocks.append((start + 1, (info.split() or [""])[0], "\n".join(body)))
    return blocks


def _prose(text: str) -> str:
    """The text outside fenced blocks."""
    out, inside, fence = [], False, ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match and not inside and not (match[1][0] == "`" and "`" in match[2]):
            inside, fence = True, match[1]
            continue
        if match and inside and match[1][0] == fence[0] and len(match[1]) >= len(fence) and not match[2].strip():
            inside = False
            continue
        if not inside:
            out.append(line)
    return "\n".join(out)


# -- mcp-grpc flags ---------------------------------------------------------------------------------------------


def _commands() -> dict[tuple[str, ...], set[str]]:
    """Every command path of the console script with the option strings it accepts."""
    from mcp_grpc.cli.main import build_parser

    found: dict[tuple[str, ...], set[str]] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        options = {s for action in parser._actions for s in action.option_strings}
        found[path] = options
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + (name,))

    walk(build_parser(), ())
    return found


COMMANDS = _commands()
_SEGMENT_END = re.compile(r"\s(?:\||;|&&|\|\||#)\s|\$\(|`")


def _invocations(text: str) -> list[tuple[tuple[str, ...], list[str], str]]:
    """(command path, flags, the invocation's text) for each `mcp-grpc ...` in shell code."""
    found = []
    starts = [m.start() for m in re.finditer(r"(?<![\w/.-])mcp-grpc\b", text)]
    for start, end in zip(starts, starts[1:] + [len(text)]):
        invocation = text[start:end].split("\n", 1)[0]
        words = re.match(r"mcp-grpc((?:\s+[a-z][a-z-]*)*)", invocation)[1].split()
        path: tuple[str, ...] = ()
        for word in words:
            if path + (word,) in COMMANDS:
                path = path + (word,)
            else:
                break
        if not path and words:
            found.append((None, [], invocation.strip()))
            continue
        rest = _SEGMENT_END.split(invocation[len("mcp-grpc"):], maxsplit=1)[0]
        flags = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest)
        found.append((path, flags, invocation.strip()))
    return found


def _shell_texts() -> list[tuple[str, str]]:
    """(where, text): shell blocks with backslash continuations joined, and inline code spans of the prose."""
    texts = []
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(REPO_ROOT)
        for line, language, body in _fenced_blocks(text):
            if language in {"sh", "bash", "shell", "console", ""}:
                texts.append((f"{rel}:{line}", re.sub(r"\\\n\s*", " ", body)))
        for span in re.findall(r"`([^`\n]+)`", _prose(text)):
            if "mcp-grpc " in span:
                texts.append((f"{rel} (inline)", span))
    return texts


def test_every_mcp_grpc_flag_in_the_docs_exists() -> None:
    problems = []
    checked = 0
    for where, text in _shell_texts():
        for path, flags, invocation in _invocations(text):
            if path is None:
                problems.append(f"{where}: `{invocation}` names no mcp-grpc command")
                continue
            for flag in flags:
                checked += 1
                if flag not in COMMANDS[path]:
                    problems.append(f"{where}: `mcp-grpc {' '.join(path)}` has no {flag}")
    assert not problems, "\n".join(problems)
    assert checked > 30, "the docs should show the flags they talk about"


def test_the_flag_reader_attributes_flags_to_their_command() -> None:
    text = "mcp-grpc authz check --model m --tuples t u r o | grep -e --x && mcp-grpc serve app --uds s"
    assert [(path, flags) for path, flags, _ in _invocations(text)] == [
        (("authz", "check"), ["--model", "--tuples"]),
        (("serve",), ["--uds"]),
    ]
    assert _invocations("mcp-grpc --help")[0][:2] == ((), ["--help"])
    assert _invocations("mcp-grpc frobnicate --x")[0][0] is None


# -- Python examples --------------------------------------------------------------------------------------------


def _python_blocks() -> list[tuple[str, ast.Module]]:
    blocks = []
    for path in DOC_FILES:
        for line, language, body in _fenced_blocks(path.read_text(encoding="utf-8")):
            if language == "python":
                where = f"{path.relative_to(REPO_ROOT)}:{line}"
                try:
                    tree = ast.parse(body)
                except SyntaxError as exc:
                    pytest.fail(f"{where}: the Python example does not parse: {exc}")
                blocks.append((where, tree))
    return blocks


def _resolve(node: ast.expr, names: dict[str, object]) -> object | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, names)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def test_python_examples_import_and_call_what_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))  # examples.* as the docs import them
    problems = []
    calls = 0
    for where, tree in _python_blocks():
        names: dict[str, object] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in {"mcp_grpc", "examples"}:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    value = getattr(module, alias.name, None)
                    if value is None:
                        try:
                            value = importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            problems.append(f"{where}: {node.module} has no {alias.name}")
                            continue
                    names[alias.asname or alias.name] = value
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            target = _resolve(node.func, names)
            if target is None or not callable(target):
                continue
            try:
                signature = inspect.signature(target)
            except (TypeError, ValueError):
                continue
            parameters = signature.parameters.values()
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
                continue
            accepted = {p.name for p in parameters}
            for keyword in node.keywords:
                calls += 1
                if keyword.arg is not None and keyword.arg not in accepted:
                    problems.append(f"{where}: {ast.unparse(node.func)}() takes no keyword {keyword.arg!r}")
    assert not problems, "\n".join(problems)
    assert calls > 15


# -- links --------------------------------------------------------------------------------------------------------


def _anchors(path: pathlib.Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    anchors = set()
    for line in _prose(path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading[1].lower().replace("`", ""))
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_relative_links_point_at_files_of_the_repository() -> None:
    problems = []
    for path in DOC_FILES:
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(path.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            if resolved.exists():
                if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                    problems.append(f"{path.relative_to(REPO_ROOT)}: link to {target}: no such heading")
                continue
            problems.append(f"{path.relative_to(REPO_ROOT)}: link to {target} leads nowhere")
    assert not problems, "\n".join(problems)
