"""Runs every shell block of the docs that is marked runnable, so the docs cannot drift from the product.

The convention (also described in docs/README.md): a fenced block whose info string is a shell language followed
by the word ``runnable`` is run by this test::

    ```sh runnable
    mcp-grpc --help
    ```

- Languages: ``sh``, ``bash``, ``shell``. Other blocks (```` ```text ````, ```` ```python ````, ```` ```sh ```` without
  ``runnable``) are documentation only and never run.
- Each block runs on its own in ``bash -euo pipefail``, with the repository root as working directory and the
  virtualenv's ``bin`` first on ``PATH`` (so ``mcp-grpc`` and ``fga`` resolve), under a timeout (120 s, or
  ``timeout=N`` in the info string). Any non-zero exit fails the test with the block's file and line.
- A block that starts servers stops them itself (``trap 'kill $(jobs -p)' EXIT``) and listens only on Unix sockets
  or ports it picked; after the block, whatever it left in its process group is killed anyway.
- A ```` ```text ```` block right after a runnable block (blank lines between at most) is its output: every line of
  it must appear, stripped, in what the block prints on stdout or stderr, in any order. Lines with a temporary path
  (``/tmp/``) or a timestamp differ from run to run and are not compared.
- Searched: README.md and docs/**/*.md.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile

import pytest

from tests.support.paths import REPO_ROOT


DOC_FILES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("**/*.md")])
SHELLS = frozenset({"sh", "bash", "shell"})
DEFAULT_TIMEOUT = 120.0
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class DocFormatError(ValueError):
    """A doc file whose fences cannot be read (an unterminated or malformed runnable block)."""


@dataclasses.dataclass(frozen=True)
class Block:
    path: pathlib.Path
    line: int  # 1-based line of the opening fence
    info: str
    body: str
    timeout: float
    expected: tuple[str, ...] = ()
    """The lines of a ```text block right after this one: output the block must print (see ``volatile``)."""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT) if self.path.is_relative_to(REPO_ROOT) else self.path}:{self.line}"


def runnable_blocks(path: pathlib.Path, text: str | None = None) -> list[Block]:
    """The runnable shell blocks of one Markdown file, in order."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        if fence[0] == "`" and "`" in info:  # not a fence (CommonMark): an inline code span
            index += 1
            continue
        words = info.split()
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence) and not closing["info"].strip():
                break
            body.append(lines[index])
            index += 1
        else:
            if "runnable" in words:
                raise DocFormatError(f"{path}:{start + 1}: runnable block is never closed")
            break
        index += 1
        if "runnable" not in words:
            continue
        if not words or words[0] not in SHELLS:
            raise DocFormatError(f"{path}:{start + 1}: runnable block must be sh, bash or shell, not {info!r}")
        timeout = DEFAULT_TIMEOUT
        for word in words[1:]:
            if word.startswith("timeout="):
                try:
                    timeout = float(word.removeprefix("timeout="))
                except ValueError:
                    raise DocFormatError(f"{path}:{start + 1}: bad {word!r} (expected timeout=SECONDS)") from None
            elif word != "runnable":
                raise DocFormatError(f"{path}:{start + 1}: unknown word {word!r} in the info string {info!r}")
        blocks.append(Block(path, start + 1, info, "\n".join(body) + "\n", timeout, _output_after(lines, index)))
    return blocks


def _output_after(lines: list[str], index: int) -> tuple[str, ...]:
    """The body of a ```text block that follows line ``index`` with only blank lines between, else ()."""
    while index < len(lines) and not lines[index].strip():
        index += 1
    opening = _FENCE.match(lines[index]) if index < len(lines) else None
    if opening is None or opening["info"].split()[:1] != ["text"]:
        return ()
    body = []
    for line in lines[index + 1 :]:
        closing = _FENCE.match(line)
        if closing and closing["fence"][0] == opening["fence"][0] and len(closing["fence"]) >= len(opening["fence"]):
            return tuple(body)
        body.append(line)
    return ()


#: Output lines that differ from run to run: temporary paths and timestamps. They are shown, not compared.
_VOLATILE = re.compile(r"/tmp/|\d{4}-\d\d-\d\dT\d\d:\d\d")


def missing_output(expected: tuple[str, ...], stdout: str, stderr: str) -> list[str]:
    """The expected lines (stripped, volatile ones skipped) that the block did not print on stdout or stderr."""
    printed = {_normal(line) for line in (stdout + "\n" + stderr).splitlines()}
    return [line for line in expected if line.strip() and not _VOLATILE.search(line) and _normal(line) not in printed]


def _normal(line: str) -> str:
    """A line without surrounding space or a trailing comma: JSON objects print their keys in varying order."""
    return line.strip().removesuffix(",")


def _all_blocks() -> list[Block]:
    return [block for path in DOC_FILES for block in runnable_blocks(path)]


def _bin_dirs() -> list[str]:
    dirs = [REPO_ROOT / ".venv" / "bin", pathlib.Path(sys.executable).parent]
    return list(dict.fromkeys(str(d) for d in dirs if d.is_dir()))


def run_block(block: Block) -> subprocess.CompletedProcess[str]:
    """Run one block as the convention says; kill what it left behind in its process group."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*_bin_dirs(), env.get("PATH", "")])
    env.pop("SPIFFE_ENDPOINT_SOCKET", None)  # the blocks say which identity they use
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as script:
        script.write(block.body)
    try:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", script.name],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=block.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            stdout, stderr = process.communicate()
            stderr += f"\n[timed out after {block.timeout:g}s]"
            return subprocess.CompletedProcess(process.args, -9, stdout, stderr)
        finally:
            _kill_group(process.pid)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    finally:
        os.unlink(script.name)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


BLOCKS = _all_blocks()


@pytest.mark.parametrize("block", BLOCKS, ids=[block.where for block in BLOCKS])
def test_runnable_block(block: Block) -> None:
    done = run_block(block)
    assert done.returncode == 0, (
        f"{block.where}: the runnable block exited with {done.returncode}\n"
        f"--- block\n{block.body}--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )
    missing = missing_output(block.expected, done.stdout, done.stderr)
    assert not missing, (
        f"{block.where}: the output shown after the block is not what it prints; missing lines:\n"
        + "\n".join(missing)
        + f"\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )


def test_the_docs_run_what_a_new_user_runs_first() -> None:
    """The commands the docs promise are tested stay marked runnable."""
    scripts = "\n".join(block.body for block in BLOCKS)
    for command in (
        "mcp-grpc --help",
        "mcp-grpc serve examples/quickstart/server.py:app",
        "mcp-grpc tools",
        "mcp-grpc call",
        "mcp-grpc identity dev",
        "--authz-dir authz/",
        "mcp-grpc authz test authz/demo.fga.yaml",
        "mcp-grpc authz check",
    ):
        assert command in scripts, f"no runnable block in README.md or docs/ runs {command!r}"


# -- the reader of the convention ----------------------------------------------------------------------------------


def test_only_shell_blocks_marked_runnable_are_collected() -> None:
    text = "\n".join(
        [
            "```sh runnable",
            "echo one",
            "```",
            "```sh",
            "echo not run",
            "```",
            "````markdown",
            "```sh runnable",
            "echo inside another fence: not run",
            "```",
            "````",
            "~~~bash runnable timeout=5",
            "echo two",
            "~~~",
        ]
    )
    blocks = runnable_blocks(REPO_ROOT / "x.md", text)
    assert [(b.line, b.body, b.timeout, b.expected) for b in blocks] == [
        (1, "echo one\n", 120.0, ()),
        (12, "echo two\n", 5.0, ()),
    ]


def test_a_text_block_right_after_a_runnable_one_is_its_expected_output() -> None:
    text = "```sh runnable\necho hi\n```\n\n```text\nhi\n/tmp/tmp.x1/a.sock\n```\n```sh runnable\ntrue\n```\nprose\n```text\nx\n```\n"
    first, second = runnable_blocks(REPO_ROOT / "x.md", text)
    assert first.expected == ("hi", "/tmp/tmp.x1/a.sock") and second.expected == ()
    assert missing_output(first.expected, "hi\n", "") == []  # the temporary path is not compared
    assert missing_output(("hi", "exit code 1"), "  hi", "") == ["exit code 1"]
    assert missing_output(('{"time":"2026-11-27T16:01:48.215Z"}',), "", "") == []
    assert missing_output(('  "a": 1,', '  "b": 2'), '{\n  "b": 2,\n  "a": 1\n}', "") == []  # any key order


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("intro\n```sh runnable\necho never closed\n", "x.md:2: runnable block is never closed"),
        ("```python runnable\nprint(1)\n```\n", "x.md:1: runnable block must be sh, bash or shell"),
        ("```sh runnable timeout=soon\ntrue\n```\n", "x.md:1: bad 'timeout=soon'"),
        ("```sh runable runnable\ntrue\n```\n", "x.md:1: unknown word 'runable'"),
    ],
)
def test_malformed_runnable_blocks_are_errors_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(DocFormatError, match=re.escape(message)):
        runnable_blocks(REPO_ROOT / "x.md", text)


def test_a_failing_block_reports_its_exit_code_and_a_hanging_one_is_killed(tmp_path: pathlib.Path) -> None:
    failing = Block(tmp_path / "f.md", 3, "sh runnable", "true\nfalse\necho not reached\n", 10.0)
    done = run_block(failing)
    assert done.returncode == 1 and "not reached" not in done.stdout
    unset = Block(tmp_path / "u.md", 1, "sh runnable", 'echo "$NOT_SET_ANYWHERE"\n', 10.0)
    assert run_block(unset).returncode != 0  # -u: an unset variable is an error
    hanging = Block(tmp_path / "h.md", 1, "sh runnable", "sleep 30 &\nsleep 30\n", 1.0)
    done = run_block(hanging)
    assert done.returncode == -9 and "timed out after 1s" in done.stderr
