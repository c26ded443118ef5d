"""The committed mcp_grpc/wire code is what the generator makes from protos/ today."""

from __future__ import annotations

import pathlib

import pytest

from mcp_grpc.wire import _generate


def test_committed_code_matches_a_fresh_generation():
    problems = _generate.check_core()
    assert not problems, "mcp_grpc/wire is stale: run make proto\n" + "\n".join(problems)


def test_regenerating_into_a_directory_reproduces_the_committed_files_byte_for_byte(tmp_path: pathlib.Path):
    written = _generate.generate_core(tmp_path)
    assert {p.name for p in written} == {
        "mcp_messages_pb2.py", "mcp_messages_pb2.pyi", "mcp_pb2.py", "mcp_pb2.pyi", "mcp_pb2_grpc.py",
        "options_pb2.py", "options_pb2.pyi", "streaming_pb2.py", "streaming_pb2.pyi", "streaming_pb2_grpc.py",
    }  # fmt: skip
    for path in written:
        assert path.read_bytes() == (_generate.CORE_OUT_DIR / path.name).read_bytes(), (
            f"{path.name} is stale: run make proto"
        )


def test_the_check_reports_an_edited_a_missing_and_an_orphaned_file(tmp_path: pathlib.Path):
    _generate.generate_core(tmp_path)
    edited = tmp_path / "options_pb2.py"
    edited.write_text(edited.read_text().replace("DO NOT EDIT!", "edited by hand"))
    (tmp_path / "streaming_pb2.pyi").unlink()
    (tmp_path / "old_pb2.py").write_text("# left over from a removed proto\n")
    problems = _generate.check_core(tmp_path)
    assert len(problems) == 3, problems
    assert problems[0].startswith("options_pb2.py: differs")
    assert any(p == "streaming_pb2.pyi: missing" for p in problems)
    assert any(p.startswith("old_pb2.py: generated from no proto file") for p in problems)


def test_generated_modules_live_only_inside_mcp_grpc_wire():
    for path in _generate.CORE_OUT_DIR.glob("*_pb2*.py*"):
        text = path.read_text()
        assert "from model_context_protocol import" not in text, path.name
        assert "from mcp_grpc.v1 import" not in text, path.name
        if path.name.endswith("_pb2.py"):
            assert f"BuildTopDescriptorsAndMessages(DESCRIPTOR, 'mcp_grpc.wire.{path.stem}', _globals)" in text


def test_command_line_check_passes(capsys: pytest.CaptureFixture[str]):
    assert _generate.main(["--check"]) == 0


def test_the_check_names_a_grpcio_tools_version_mismatch(tmp_path: pathlib.Path):
    _generate.generate_core(tmp_path)
    grpc_module = tmp_path / "mcp_pb2_grpc.py"
    text = grpc_module.read_text()
    assert "GRPC_GENERATED_VERSION = '" in text
    grpc_module.write_text(text.replace("GRPC_GENERATED_VERSION = '", "GRPC_GENERATED_VERSION = '0.", 1))
    problems = _generate.check_core(tmp_path)
    assert problems[0].startswith("mcp_pb2_grpc.py: differs")
    assert problems[-1].startswith("note: the committed code was generated with grpcio-tools 0.")
