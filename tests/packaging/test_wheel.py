"""The wheel a user installs: built here (offline, with the venv's setuptools) and read back.

It must carry the LICENSE, the SPDX license, classifiers and project URLs, every distribution the package imports,
and the .proto files proto-first users import (``mcp_grpc/v1/options.proto``), where ``mcp-grpc proto-path`` finds
them once installed.
"""

from __future__ import annotations

import ast
import email.parser
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata

import pytest

from tests.support.paths import REPO_ROOT

_SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "LICENSE", "README.md", "mcp_grpc", "protos")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in _SOURCES:  # a copy, so the build leaves no build/ or egg-info in the checkout
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out),
         str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("mcp_grpc-*.whl")
    return zipfile.ZipFile(built)


def _metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(wheel.read(name).decode())


def test_build_requires_a_setuptools_that_understands_the_license_string():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    (setuptools,) = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert re.fullmatch(r"setuptools>=(\d+)", setuptools) and int(setuptools.split(">=")[1]) >= 77


def test_the_wheel_carries_the_license_classifiers_and_urls(wheel):
    names = wheel.namelist()
    (license_file,) = [n for n in names if re.search(r"\.dist-info/licenses/LICENSE$", n)]
    assert b"Apache License" in wheel.read(license_file) and b"Version 2.0" in wheel.read(license_file)
    info = _metadata(wheel)
    assert info["License-Expression"] == "Apache-2.0"
    classifiers = info.get_all("Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers and "Topic :: Security" in classifiers
    urls = dict(value.split(", ", 1) for value in info.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)


def test_the_wheel_ships_the_protos_as_an_include_root(wheel):
    names = set(wheel.namelist())
    expected = {str(path.relative_to(REPO_ROOT / "protos")) for path in (REPO_ROOT / "protos").rglob("*.proto")}
    assert "mcp_grpc/v1/options.proto" in expected
    assert {f"mcp_grpc/proto/{name}" for name in expected} <= names
    assert wheel.read("mcp_grpc/proto/mcp_grpc/v1/options.proto") == (
        REPO_ROOT / "protos/mcp_grpc/v1/options.proto"
    ).read_bytes()


def test_installed_protos_are_found_and_compile_with_protoc(wheel, tmp_path):
    """Unpacked as pip installs it: proto-path names the wheel's copy and protoc resolves our import against it."""
    site = tmp_path / "site"
    wheel.extractall(site)
    found = subprocess.run(
        [sys.executable, "-c", "from mcp_grpc.wire.proto_files import include_dir; print(include_dir())"],
        capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert found.returncode == 0, found.stderr
    include = pathlib.Path(found.stdout.strip())
    assert include == site / "mcp_grpc" / "proto"
    grpc_tools = pytest.importorskip("grpc_tools")
    user_proto = tmp_path / "protos" / "storage.proto"
    user_proto.parent.mkdir()
    user_proto.write_text(
        'syntax = "proto3";\npackage storage.v1;\nimport "mcp_grpc/v1/options.proto";\n'
        "message Req { string bucket = 1; }\nmessage Res {}\n"
        "service StorageService { rpc List(Req) returns (Res) { option (mcp_grpc.v1.tool) = { read_only: true }; } }\n"
    )
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    compiled = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{include}", f"-I{well_known}", f"-I{user_proto.parent}",
         f"--python_out={tmp_path}", str(user_proto)],
        capture_output=True, text=True, timeout=60,
    )
    assert compiled.returncode == 0, compiled.stderr
    assert (tmp_path / "storage_pb2.py").exists()


# The modules that belong to an optional extra (their package checks for it first: mcp_grpc/contract/extras.py) and
# may import its distributions at module level; every other module imports only [project.dependencies] there.
EXTRA_MODULES = {
    "mcp_grpc/bridge/": "bridge",
    "mcp_grpc/sdk/": "bridge",
    "mcp_grpc/client/as_mcp.py": "bridge",
    "mcp_grpc/authz/remote.py": "openfga",
}


def _extra_of(path: pathlib.Path) -> str | None:
    relative = path.relative_to(REPO_ROOT).as_posix()
    return next((extra for prefix, extra in EXTRA_MODULES.items() if relative.startswith(prefix)), None)


def _module_level_imports() -> dict[str | None, set[str]]:
    """Top-level names the package imports at module level (a function-level import is an optional feature), by the
    extra whose modules import them (None: the core)."""
    names: dict[str | None, set[str]] = {}
    for path in (REPO_ROOT / "mcp_grpc").rglob("*.py"):
        found = names.setdefault(_extra_of(path), set())
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {
        extra: {name for name in found if name not in sys.stdlib_module_names and name not in ("mcp_grpc", "__future__")}
        for extra, found in names.items()
    }


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(wheel, extra: str | None) -> set[str]:
    """The distributions of the core's Requires-Dist, or of one extra's."""
    wanted = None if extra is None else re.compile(rf"extra\s*==\s*['\"]{re.escape(extra)}['\"]")
    return {
        _normalise(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0])
        for requirement in _metadata(wheel).get_all("Requires-Dist")
        if ("extra ==" not in requirement if wanted is None else wanted.search(requirement))
    }


def test_every_imported_distribution_is_declared(wheel):
    core = _declared(wheel, None)
    providers = metadata.packages_distributions()
    undeclared = {}
    for extra, names in _module_level_imports().items():
        declared = core | (_declared(wheel, extra) if extra else set())
        assert extra is None or _declared(wheel, extra), f"no extra {extra!r} in the wheel's metadata"
        undeclared.update({
            (extra or "core", name): providers.get(name)
            for name in names
            if not declared & {_normalise(dist) for dist in providers.get(name, [name])}
        })
    assert not undeclared, f"imported at module level but not declared (core, or the module's extra): {undeclared}"
    assert "pyjwt" in core  # identity/workload_dev signs JWT-SVIDs with it
    assert {"mcp", "openfga-sdk", "opentelemetry-sdk", "cel-expr-python"}.isdisjoint(core)  # extras, not the core
