"""Every ``mcp-grpc`` command's ``--help`` ends with an example, and each example names flags the command has."""

from __future__ import annotations

import argparse
import shlex

import pytest

from mcp_grpc.cli.examples import EXAMPLES, _walk
from mcp_grpc.cli.main import build_parser

COMMANDS = [path for path, _ in _walk(build_parser(), "")]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: path or "mcp-grpc")
def test_every_command_shows_an_example(path):
    parser = dict(_walk(build_parser(), ""))[path]
    text = parser.format_help()
    assert "\nexample:\n  mcp-grpc " in text or "\nexamples:\n  mcp-grpc " in text, text


def _example_lines():
    for path, example in EXAMPLES.items():
        for line in example.replace("\\\n", " ").splitlines():
            for segment in line.split("|"):
                words = shlex.split(segment, comments=True)
                if words[:1] == ["mcp-grpc"] and "COMMAND" not in words:
                    yield path, words[1:]


@pytest.mark.parametrize(("path", "words"), list(_example_lines()), ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_every_example_parses(path, words):
    """An example that names a flag the command lacks would teach the wrong thing: argparse must accept it."""
    args, extra = build_parser().parse_known_args(words)
    assert not extra
    assert getattr(args, "handler", None) is not None
    assert [word for word in words if word in path.split()] == path.split()  # an example of this command


def test_missing_examples_would_be_caught():
    parser = argparse.ArgumentParser(prog="x")
    assert "example" not in parser.format_help()
