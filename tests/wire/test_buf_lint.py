"""buf lint passes on protos/ and on the proto-first example (offline, its imports from installed packages), and
the exceptions stay as narrow as buf.yaml says."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

from tests.support.paths import REPO_ROOT


@pytest.fixture(scope="module")
def buf() -> str:
    candidate = REPO_ROOT / ".venv" / "bin" / "buf"
    found = str(candidate) if candidate.is_file() else shutil.which("buf")
    if found is None:
        pytest.skip("the buf binary is missing (pip install buf-bin, part of the test extras: make venv)")
    return found


def lint(buf: str, root: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([buf, "lint"], cwd=root, capture_output=True, text=True, timeout=60)


def test_buf_lint_passes(buf: str):
    done = lint(buf, REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_exceptions_do_not_cover_new_violations(buf: str, tmp_path: pathlib.Path):
    shutil.copy(REPO_ROOT / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(REPO_ROOT / "protos", tmp_path / "protos")
    options = tmp_path / "protos" / "mcp_grpc" / "v1" / "options.proto"
    options.write_text(options.read_text() + "\nenum Shade {\n  NONE = 0;\n}\n")
    messages = tmp_path / "protos" / "model_context_protocol" / "mcp_messages.proto"
    messages.write_text(messages.read_text() + "\nmessage bad_name {\n  string BadField = 1;\n}\n")
    done = lint(buf, tmp_path)
    assert done.returncode != 0
    out = done.stdout
    # ENUM_ZERO_VALUE_SUFFIX and ENUM_VALUE_PREFIX are excepted only for the published file.
    assert 'options.proto' in out and 'Enum zero value name "NONE" should be suffixed with "_UNSPECIFIED"' in out
    assert 'Enum value name "NONE" should be prefixed with "SHADE_"' in out
    # Rules never excepted still apply to the published package's directory.
    assert 'Message name "bad_name" should be PascalCase' in out
    assert 'Field name "BadField" should be lower_snake_case' in out


EXAMPLE_PROTOS = REPO_ROOT / "examples" / "proto_tools" / "protos"
STANDARD = '{"version":"v2","lint":{"use":["STANDARD"]}}'


def lint_image(buf: str, proto_root: pathlib.Path, proto_file: str, tmp_path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    from mcp_grpc.wire._generate import build_image

    image = tmp_path / "image.binpb"
    image.write_bytes(build_image(proto_root, [proto_file]))
    return subprocess.run(
        [buf, "lint", str(image), "--path", proto_file, "--config", STANDARD],
        capture_output=True, text=True, timeout=60,
    )


def test_the_example_lints_offline_with_imports_from_installed_packages(buf: str, tmp_path: pathlib.Path):
    text = (EXAMPLE_PROTOS / "acme/storage/v1/storage.proto").read_text()
    assert 'import "buf/validate/validate.proto";' in text and 'import "google/api/field_behavior.proto";' in text
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # the repository's own files: the venv's installed packages do ship these protos
    assert not [p for p in tracked if p.endswith(("/validate.proto", "/field_behavior.proto"))]
    done = lint_image(buf, EXAMPLE_PROTOS, "acme/storage/v1/storage.proto", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_buf_checks_the_buf_validate_rules_themselves(buf: str, tmp_path: pathlib.Path):
    root = tmp_path / "protos"
    (root / "x" / "v1").mkdir(parents=True)
    (root / "x" / "v1" / "x.proto").write_text(
        'syntax = "proto3";\npackage x.v1;\nimport "buf/validate/validate.proto";\n'
        "message Thing {\n  string name = 1 [(buf.validate.field).string = {min_len: 5, max_len: 2}];\n}\n"
    )
    done = lint_image(buf, root, "x/v1/x.proto", tmp_path)
    assert done.returncode != 0
    assert "string.max_len, which must be higher than value 5 for (buf.validate.field).string.min_len" in done.stdout
