"""generate() on other proto roots: bad input gets a precise GenerationError, never a half-written package."""

from __future__ import annotations

import pathlib

import pytest

from mcp_grpc.wire._generate import GenerationError, generate, main


def write(root: pathlib.Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_two_files_with_one_base_name_are_refused(tmp_path: pathlib.Path):
    write(tmp_path / "p", "a/v1/store.proto", 'syntax = "proto3";\npackage a.v1;\nmessage A {}\n')
    write(tmp_path / "p", "b/v1/store.proto", 'syntax = "proto3";\npackage b.v1;\nmessage B {}\n')
    with pytest.raises(GenerationError, match=r"b/v1/store.proto and a/v1/store.proto would both become store_pb2"):
        generate(tmp_path / "p", ["a/v1/store.proto", "b/v1/store.proto"], tmp_path / "out", "gen")
    assert not (tmp_path / "out").exists()


def test_a_missing_proto_file_is_named(tmp_path: pathlib.Path):
    with pytest.raises(GenerationError, match=r"nope.proto not found under"):
        generate(tmp_path, ["nope.proto"], tmp_path / "out", "gen")


def test_no_proto_files_is_an_error(tmp_path: pathlib.Path):
    with pytest.raises(GenerationError, match="no proto files"):
        generate(tmp_path, [], tmp_path / "out", "gen")


def test_a_syntax_error_fails_with_protoc_s_message(tmp_path: pathlib.Path, capfd: pytest.CaptureFixture[str]):
    write(tmp_path, "bad.proto", 'syntax = "proto3";\nmessage {}\n')
    with pytest.raises(GenerationError, match="protoc failed"):
        generate(tmp_path, ["bad.proto"], tmp_path / "out", "gen")
    assert "bad.proto:2" in capfd.readouterr().err


def test_an_import_from_an_unmapped_include_directory_is_refused(tmp_path: pathlib.Path):
    write(tmp_path / "other", "other/v1/common.proto", 'syntax = "proto3";\npackage other.v1;\nmessage C {}\n')
    write(
        tmp_path / "p",
        "use/v1/use.proto",
        'syntax = "proto3";\npackage use.v1;\nimport "other/v1/common.proto";\nmessage U { other.v1.C c = 1; }\n',
    )
    with pytest.raises(GenerationError, match=r"imports a generated module .* include_paths"):
        generate(tmp_path / "p", ["use/v1/use.proto"], tmp_path / "out", "gen", [tmp_path / "other"])
    # Mapped to the package its code lives in, the import is rewritten to it.
    written = generate(tmp_path / "p", ["use/v1/use.proto"], tmp_path / "out", "gen", [(tmp_path / "other", "og")])
    assert "from og import common_pb2 as" in (tmp_path / "out" / "use_pb2.py").read_text()
    assert [p.name for p in written] == ["use_pb2.py", "use_pb2.pyi"]  # no _grpc module without a service


def test_imports_of_installed_packages_compile_from_their_registered_descriptors(tmp_path: pathlib.Path):
    """buf/validate/validate.proto ships as generated code only, google/api/field_behavior.proto also as source:
    both compile from what the installed modules register, and the generated imports stay theirs."""
    write(
        tmp_path / "p",
        "v/v1/v.proto",
        'syntax = "proto3";\npackage v.v1;\nimport "buf/validate/validate.proto";\n'
        'import "google/api/field_behavior.proto";\n'
        "message V {\n  string a = 1 [(buf.validate.field).string.min_len = 1, (google.api.field_behavior) = REQUIRED];\n}\n",
    )
    generate(tmp_path / "p", ["v/v1/v.proto"], tmp_path / "out", "gen")
    text = (tmp_path / "out" / "v_pb2.py").read_text()
    assert "from buf.validate import validate_pb2 as" in text
    assert "from google.api import field_behavior_pb2 as" in text


def test_an_import_no_installed_package_registers_is_named(tmp_path: pathlib.Path):
    write(
        tmp_path / "p",
        "w/v1/w.proto",
        'syntax = "proto3";\npackage w.v1;\nimport "nowhere/v1/gone.proto";\nmessage W {}\n',
    )
    with pytest.raises(GenerationError, match=r"w/v1/w.proto imports .* nowhere\.v1\.gone_pb2 cannot be imported"):
        generate(tmp_path / "p", ["w/v1/w.proto"], tmp_path / "out", "gen")


def test_command_line_needs_out_and_package_with_a_proto_root(tmp_path: pathlib.Path):
    with pytest.raises(SystemExit):
        main(["--proto-root", str(tmp_path), "x.proto"])
