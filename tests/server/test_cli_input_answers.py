"""``mcp-grpc call`` answers a tool's input requests (MRTR) against a real server: --answer / --answer-file, a bare
object as an accepted form, the terminal prompt (a real pty), and a clear stop (exit 2, never a hang) without one."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import time

import pytest

from mcp_grpc.cli.input_answers import prompt_elicitation
from mcp_grpc.cli.main import main
from mcp_grpc.contract.inputs import Elicit
from mcp_grpc.server import Context, McpApp
from tests.support.servers import running

FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "age": {"type": "integer", "minimum": 0},
        "tall": {"type": "boolean"},
        "size": {"type": "string", "enum": ["S", "M", "L"]},
        "team": {"type": "string", "oneOf": [{"const": "red", "title": "Red team"}, {"const": "blue", "title": "Blue"}]},
        "score": {"type": "number"},
    },
    "required": ["name", "age"],
}


def input_app() -> McpApp:
    app = McpApp("inputs")

    @app.tool
    async def greet(ctx: Context) -> str:
        answer = await ctx.elicit("What is your name?", {"type": "object", "properties": {"name": {"type": "string"}},
                                                         "required": ["name"]}, key="user_name")
        return f"Hello, {answer.content['name']}!" if answer.accepted else f"no name ({answer.action})"

    @app.tool
    async def profile(ctx: Context) -> dict:
        answer = await ctx.elicit("Your profile?", FORM, key="profile")
        return {"action": answer.action, "content": dict(answer.content)}

    @app.tool
    async def capital(ctx: Context) -> str:
        reply = await ctx.sample("What is the capital of France?", key="q")
        roots = await ctx.list_roots(key="roots")
        return f"{reply.text} from {reply.model}; {[root.uri for root in roots]}"

    return app


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


@pytest.fixture
async def server():
    async with running(input_app()) as started:
        yield started


async def test_answer_flags_answer_an_elicitation_as_a_result_or_a_bare_object(server, capsys):
    result = '{"action": "accept", "content": {"name": "Alice"}}'
    assert await cli("call", server.address, "greet", "--answer", f"user_name={result}") == 0
    assert capsys.readouterr().out.strip() == "Hello, Alice!"
    assert await cli("call", server.address, "greet", "--answer", 'user_name={"name": "Bob"}') == 0
    assert capsys.readouterr().out.strip() == "Hello, Bob!"
    assert await cli("call", server.address, "greet", "--answer", 'user_name={"action": "decline"}') == 0
    assert capsys.readouterr().out.strip() == "no name (decline)"


async def test_sampling_and_roots_are_answered_from_a_file_and_unused_answers_are_noted(server, capsys, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({
        "q": {"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m1"},
        "roots": {"roots": [{"uri": "file:///work", "name": "work"}]},
        "extra": {"name": "x"},
    }))
    assert await cli("call", server.address, "capital", "--answer-file", str(answers)) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "Paris from m1; ['file:///work']"
    assert "never asked for 'extra'" in captured.err
    # a flag wins over the file, and a bare list answers roots
    assert await cli("call", server.address, "capital", "--answer-file", str(answers),
                     "--answer", 'roots=[{"uri": "file:///other"}]') == 0
    assert capsys.readouterr().out.strip() == "Paris from m1; ['file:///other']"


async def test_without_a_terminal_a_missing_answer_stops_at_once_naming_key_question_and_flag(server, capsys,
                                                                                                   monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a TTY
    started = time.monotonic()
    assert await cli("call", server.address, "greet") == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert "standard input is not a terminal" in err
    assert "'user_name' (elicitation): 'What is your name?'; fields: name: string (required)" in err
    assert "--answer 'user_name={\"name\": \"...\"}'" in err and "--answer-file FILE" in err

    # sampling answered, roots not: the message names roots and says how to answer it
    answer = '{"role": "assistant", "content": {"type": "text", "text": "Paris"}}'
    assert await cli("call", server.address, "capital", "--answer", f"q={answer}") == 2
    err = capsys.readouterr().err
    assert "'roots' (roots" in err and "--answer 'roots={\"roots\": [" in err


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("user_name", "--answer 'user_name': expected KEY=JSON"),
        ("user_name={name", "--answer user_name: the answer is not valid JSON: "),
        ('user_name="Alice"', "--answer user_name: the answer must be a JSON object (the protocol's result), got a string"),
        ('user_name={"action": "accept", "content": 3}', "--answer user_name: not an elicitation result"),
    ],
)
async def test_a_malformed_answer_is_a_usage_error_naming_the_flag_and_key(server, capsys, flag, message):
    assert await cli("call", server.address, "greet", "--answer", flag) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mcp-grpc call ") and message in err


async def test_a_sampling_answer_of_the_wrong_shape_names_the_key_and_the_expected_result(server, capsys):
    assert await cli("call", server.address, "capital", "--answer", 'q={"text": "Paris"}', "--answer",
                     "roots=[]") == 2
    assert "--answer q: not a sampling/createMessage result: expected {\"role\": \"assistant\"" in capsys.readouterr().err


def test_the_prompt_types_each_field_by_its_schema_and_asks_again_after_a_bad_value():
    typed = "\n".join(["", "Ada", "", "-1", "x", "36", "maybe", "y", "9", "M", "1", "2.5"]) + "\n"
    stderr = io.StringIO()
    result = prompt_elicitation("profile", Elicit("Your profile?", FORM), io.StringIO(typed), stderr)
    assert result == {"action": "accept", "content": {
        "name": "Ada", "age": 36, "tall": True, "size": "M", "team": "red", "score": 2.5}}
    shown = stderr.getvalue()
    assert "this field is required" in shown and "at least 0" in shown and "not an integer: x" in shown
    assert "answer y or n" in shown and "choose 1-3" in shown and "1. Red team (red)" in shown


def test_the_prompt_declines_cancels_and_treats_end_of_input_as_cancel():
    form = Elicit("Name?", {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
    assert prompt_elicitation("k", form, io.StringIO("d\n"), io.StringIO()) == {"action": "decline"}
    assert prompt_elicitation("k", form, io.StringIO("c\n"), io.StringIO()) == {"action": "cancel"}
    assert prompt_elicitation("k", form, io.StringIO("a\n"), io.StringIO()) == {"action": "cancel"}  # EOF mid-form
    stderr = io.StringIO()
    prompt_elicitation("k", Elicit("evil \x1b[2Jtext", form.schema), io.StringIO("d\n"), stderr)
    assert "\x1b" not in stderr.getvalue() and "\\x1b[2Jtext" in stderr.getvalue()


async def test_on_a_real_terminal_the_call_prompts_for_the_form_and_completes(server):
    """The CLI as a process whose stdin, stdout and stderr are a pty: it asks on the terminal and the retry
    completes with what was typed."""
    import pty

    main_fd, child_fd = pty.openpty()
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from mcp_grpc.cli.main import main; sys.exit(main())",
        "call", server.address, "greet", stdin=child_fd, stdout=child_fd, stderr=child_fd, env=env,
    )
    os.close(child_fd)
    seen = b""

    async def until(text: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 20
        while text not in seen:
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            try:
                chunk = await asyncio.to_thread(os.read, main_fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        assert text in seen, seen.decode(errors="replace")

    try:
        await until(b"[a]ccept, [d]ecline or [c]ancel?")
        assert b"What is your name?" in seen
        os.write(main_fd, b"a\n")
        await until(b"name (string):")
        os.write(main_fd, b"Grace\n")
        await until(b"Hello, Grace!")
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(main_fd)
