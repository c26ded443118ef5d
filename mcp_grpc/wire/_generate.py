"""Generate Python code from .proto files with grpcio-tools, into one flat Python package.

``python -m mcp_grpc.wire._generate`` (``make proto``) regenerates the committed code of ``mcp_grpc.wire`` from
``protos/``; ``--check`` only reports whether it is stale. Other proto roots, such as an example's own service that
imports ``mcp_grpc/v1/options.proto``, are generated with :func:`generate` or the same command line::

    python -m mcp_grpc.wire._generate --proto-root examples/proto_tools/protos \\
        --out examples/proto_tools/gen --package examples.proto_tools.gen acme/storage/v1/storage.proto

What protoc writes is kept as is, with three changes:

- Modules are flattened into the output package (``model_context_protocol/mcp_pb2.py`` becomes
  ``mcp_grpc/wire/mcp_pb2.py``), so no top-level ``model_context_protocol`` or ``mcp_grpc.v1`` Python package
  exists and nothing shadows ``mcp_grpc``. Two proto files with the same base name in one package are refused.
- Imports between generated modules are rewritten to those packages: ``from mcp_grpc.v1 import options_pb2``
  becomes ``from mcp_grpc.wire import options_pb2``; so is the module name given to the message classes.
- Each ``*_pb2.py`` registers the proto comments of its file (protoc drops them from the runtime descriptors), so
  :func:`mcp_grpc.wire.leading_comments` can turn them into tool and schema descriptions.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib.resources
import pathlib
import re
import sys
import tempfile
from typing import Iterable, Mapping, Sequence, Union

from google.protobuf import descriptor_pb2

from mcp_grpc.wire._installed import MissingImport, external_imports, module_of, registered_files

__all__ = [
    "CORE_PACKAGE",
    "CORE_PROTO_FILES",
    "CORE_PROTO_ROOT",
    "GenerationError",
    "IncludePath",
    "build_image",
    "check_core",
    "generate",
    "generate_core",
]

PathLike = Union[str, pathlib.Path]
IncludePath = Union[PathLike, tuple[PathLike, str]]
"""An extra ``-I`` directory, optionally paired with the Python package its files were generated into."""

CORE_PACKAGE = "mcp_grpc.wire"
CORE_PROTO_ROOT = pathlib.Path(__file__).resolve().parents[2] / "protos"
CORE_OUT_DIR = pathlib.Path(__file__).resolve().parent
CORE_PROTO_FILES: tuple[str, ...] = (
    "model_context_protocol/mcp_messages.proto",
    "model_context_protocol/mcp.proto",
    "mcp_grpc/v1/options.proto",
    "mcp_grpc/v1/streaming.proto",
)
_CORE_MODULES = ("mcp_messages_pb2", "mcp_pb2", "options_pb2", "streaming_pb2")

_FROM_IMPORT = re.compile(r"^from (?P<parent>[\w.]+) import (?P<name>\w+_pb2)(?P<alias> as \w+)?$", re.MULTILINE)
_PLAIN_IMPORT = re.compile(r"^import (?P<name>\w+_pb2)(?P<alias> as \w+)?$", re.MULTILINE)
_MODULE_SCOPE_END = "# @@protoc_insertion_point(module_scope)\n"
_BUILDER_MODULE = re.compile(r"BuildTopDescriptorsAndMessages\(DESCRIPTOR, '[\w.]+', _globals\)")


class GenerationError(Exception):
    """protoc failed, or its output cannot be placed in the requested package."""


@dataclasses.dataclass(frozen=True)
class _Unit:
    """One proto file and the Python package it is generated into."""

    proto_file: str
    python_package: str

    @property
    def protoc_module(self) -> str:
        """The module name protoc gives the file (``mcp_grpc/v1/options.proto`` -> ``mcp_grpc.v1.options_pb2``)."""
        return _strip_proto(self.proto_file).replace("-", "_").replace("/", ".") + "_pb2"

    @property
    def flat_module(self) -> str:
        return self.protoc_module.rsplit(".", 1)[-1]


def _strip_proto(path: str) -> str:
    return path[: -len(".proto")] if path.endswith(".proto") else path


def _well_known_types_dir() -> pathlib.Path:
    return pathlib.Path(str(importlib.resources.files("grpc_tools") / "_proto"))


def _core_descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """Our core proto files, taken from the committed generated modules, so other roots can import them anywhere
    mcp_grpc is installed (the protos/ tree is not part of an installed package)."""
    import importlib

    files = descriptor_pb2.FileDescriptorSet()
    for module_name in _CORE_MODULES:
        module = importlib.import_module(f"{CORE_PACKAGE}.{module_name}")
        module.DESCRIPTOR.CopyToProto(files.file.add())
    return files


def _run_protoc(args: list[str]) -> None:
    from grpc_tools import protoc

    code = protoc.main(["grpc_tools.protoc", *args])
    if code != 0:
        raise GenerationError(f"protoc failed (exit {code}) for: {' '.join(args)}")


def _comments_by_name(file: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    """Leading comments (else trailing ones) of every element of ``file``, by the element's full name.

    Enum values are keyed ``<enum full name>.<VALUE>``; protobuf scopes them beside their enum, which is ambiguous.
    """
    names: dict[tuple[int, ...], str] = {}
    prefix = f"{file.package}." if file.package else ""

    def enum(path: tuple[int, ...], enum_type: descriptor_pb2.EnumDescriptorProto, scope: str) -> None:
        full = f"{scope}{enum_type.name}"
        names[path] = full
        for i, value in enumerate(enum_type.value):
            names[(*path, 2, i)] = f"{full}.{value.name}"

    def message(path: tuple[int, ...], msg: descriptor_pb2.DescriptorProto, scope: str) -> None:
        full = f"{scope}{msg.name}"
        names[path] = full
        for i, field in enumerate(msg.field):
            names[(*path, 2, i)] = f"{full}.{field.name}"
        for i, nested in enumerate(msg.nested_type):
            message((*path, 3, i), nested, f"{full}.")
        for i, nested_enum in enumerate(msg.enum_type):
            enum((*path, 4, i), nested_enum, f"{full}.")
        for i, oneof in enumerate(msg.oneof_decl):
            names[(*path, 8, i)] = f"{full}.{oneof.name}"

    for i, msg in enumerate(file.message_type):
        message((4, i), msg, prefix)
    for i, enum_type in enumerate(file.enum_type):
        enum((5, i), enum_type, prefix)
    for i, service in enumerate(file.service):
        names[(6, i)] = f"{prefix}{service.name}"
        for j, method in enumerate(service.method):
            names[(6, i, 2, j)] = f"{prefix}{service.name}.{method.name}"
    for i, extension in enumerate(file.extension):
        names[(7, i)] = f"{prefix}{extension.name}"

    comments: dict[str, str] = {}
    for location in file.source_code_info.location:
        name = names.get(tuple(location.path))
        text = location.leading_comments or location.trailing_comments
        if name is not None and text.strip():
            comments[name] = _clean_comment(text)
    return comments


def _clean_comment(text: str) -> str:
    lines = text.strip("\n").split("\n")
    # protoc keeps the space after "//" on every line; drop one common leading space.
    if all(not line or line.startswith(" ") for line in lines):
        lines = [line[1:] for line in lines]
    return "\n".join(line.rstrip() for line in lines).strip()


def _registration(file: descriptor_pb2.FileDescriptorProto) -> str:
    comments = _comments_by_name(file)
    body = "".join(f"    {name!r}: {text!r},\n" for name, text in sorted(comments.items()))
    return (
        "\n# Proto comments of this file, by full name (added by mcp_grpc.wire._generate).\n"
        "from mcp_grpc.wire import _comments as _mcp_grpc_comments\n"
        f"_mcp_grpc_comments.register(DESCRIPTOR, {{\n{body}}})\n"
    )


def _rewrite_imports(source: str, modules: Mapping[str, str], origin: str) -> str:
    """Point imports of generated modules at their flat Python packages; leave google.protobuf alone."""

    def target(protoc_module: str, alias: str | None, line: str) -> str:
        package = modules.get(protoc_module)
        if package is None:
            raise GenerationError(
                f"{origin}: '{line}' imports a generated module that is neither generated in this run nor a core "
                "mcp_grpc proto; pass its include directory with the Python package it was generated into, "
                "e.g. include_paths=[('other/protos', 'other.gen')]"
            )
        return f"from {package} import {protoc_module.rsplit('.', 1)[-1]}{alias or ''}"

    def from_import(match: re.Match[str]) -> str:
        parent = match["parent"]
        if parent == "google.protobuf" or parent.startswith("google.protobuf."):
            return match[0]
        return target(f"{parent}.{match['name']}", match["alias"], match[0])

    def plain_import(match: re.Match[str]) -> str:
        return target(match["name"], match["alias"], match[0])

    return _PLAIN_IMPORT.sub(plain_import, _FROM_IMPORT.sub(from_import, source))


def _normalize_include(entry: IncludePath) -> tuple[pathlib.Path, str | None]:
    if isinstance(entry, tuple):
        directory, package = entry
        return pathlib.Path(directory), package
    return pathlib.Path(entry), None


def _render(
    proto_root: pathlib.Path,
    proto_files: Sequence[str],
    python_package: str,
    include_paths: Iterable[IncludePath],
) -> dict[str, str]:
    """Run protoc and return the finished files by name (relative to the output package)."""
    proto_root = pathlib.Path(proto_root)
    if not proto_files:
        raise GenerationError("no proto files given")
    units = [_Unit(str(pathlib.PurePosixPath(f)), python_package) for f in proto_files]
    for unit in units:
        if not (proto_root / unit.proto_file).is_file():
            raise GenerationError(f"{unit.proto_file} not found under {proto_root}")
    by_flat: dict[str, str] = {}
    for unit in units:
        if unit.flat_module in by_flat:
            raise GenerationError(
                f"{unit.proto_file} and {by_flat[unit.flat_module]} would both become {unit.flat_module}.py in "
                f"{python_package}; generate them into different packages"
            )
        by_flat[unit.flat_module] = unit.proto_file

    modules = {unit.protoc_module: unit.python_package for unit in units}
    generating_core = set(units) == {_Unit(f, CORE_PACKAGE) for f in CORE_PROTO_FILES}
    includes = [_normalize_include(entry) for entry in include_paths]
    for directory, package in includes:
        if package is not None:
            for proto in directory.rglob("*.proto"):
                modules.setdefault(_Unit(proto.relative_to(directory).as_posix(), package).protoc_module, package)

    with tempfile.TemporaryDirectory(prefix="mcp-grpc-protoc-") as tmp:
        tmp_dir = pathlib.Path(tmp)
        out = tmp_dir / "out"
        out.mkdir()
        args = _include_args(tmp_dir, proto_root, units, includes, modules, generating_core)
        source_set = tmp_dir / "source.binpb"
        args += [
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            "--include_source_info",
            f"--descriptor_set_out={source_set}",
            *[unit.proto_file for unit in units],
        ]
        _run_protoc(args)
        descriptors = {
            file.name: file for file in descriptor_pb2.FileDescriptorSet.FromString(source_set.read_bytes()).file
        }

        rendered: dict[str, str] = {}
        for unit in units:
            file = descriptors[unit.proto_file]
            stem = _strip_proto(unit.proto_file).replace("-", "_")
            suffixes = ["_pb2.py", "_pb2.pyi"] + (["_pb2_grpc.py"] if file.service else [])
            for suffix in suffixes:
                generated = out / f"{stem}{suffix}"
                if not generated.is_file():
                    raise GenerationError(f"protoc wrote no {generated.name} for {unit.proto_file}")
                text = _rewrite_imports(generated.read_text(encoding="utf-8"), modules, unit.proto_file)
                if suffix == "_pb2.py":
                    if _MODULE_SCOPE_END not in text:
                        raise GenerationError(f"unexpected protoc output for {unit.proto_file}: no module scope end")
                    text = text.replace(_MODULE_SCOPE_END, _MODULE_SCOPE_END + _registration(file))
                    # The module name protoc records becomes the classes' __module__ (pickling, repr).
                    module_name = f"{unit.python_package}.{unit.flat_module}"
                    text, count = _BUILDER_MODULE.subn(
                        f"BuildTopDescriptorsAndMessages(DESCRIPTOR, '{module_name}', _globals)", text
                    )
                    if count != 1:
                        raise GenerationError(f"unexpected protoc output for {unit.proto_file}: no message builder")
                rendered[f"{unit.flat_module[: -len('_pb2')]}{suffix}"] = text
        return rendered


def _include_args(
    tmp_dir: pathlib.Path,
    proto_root: pathlib.Path,
    units: Sequence[_Unit],
    includes: Sequence[tuple[pathlib.Path, str | None]],
    modules: dict[str, str],
    generating_core: bool,
) -> list[str]:
    """protoc's include arguments: the proto root, our core files and the imported files of installed packages as
    a ``--descriptor_set_in``, the extra include directories, protobuf's own files. Records in ``modules`` the
    Python package of each module the generated code may import (installed ones keep their own)."""
    provided = descriptor_pb2.FileDescriptorSet()
    known: set[str] = set()
    if not generating_core:
        provided.file.extend(_core_descriptor_set().file)
        for core_file in CORE_PROTO_FILES:
            modules.setdefault(_Unit(core_file, CORE_PACKAGE).protoc_module, CORE_PACKAGE)
        known.update(CORE_PROTO_FILES)
    roots = [proto_root, *(directory for directory, _ in includes)]
    external = external_imports([unit.proto_file for unit in units], roots, known)
    if external:
        try:
            installed = registered_files(
                [module_of(name) for name in external], importer=", ".join(unit.proto_file for unit in units)
            )
        except MissingImport as exc:
            raise GenerationError(str(exc)) from None
        names = {file.name for file in provided.file}
        provided.file.extend(file for file in installed.file if file.name not in names)
        for name in external:
            module = module_of(name)
            if "." in module:
                modules.setdefault(module, module.rsplit(".", 1)[0])
    args = [f"-I{proto_root}"]
    if provided.file:
        provided_set = tmp_dir / "provided.binpb"
        provided_set.write_bytes(provided.SerializeToString())
        args.append(f"--descriptor_set_in={provided_set}")
    args += [f"-I{directory}" for directory, _ in includes]
    args.append(f"-I{_well_known_types_dir()}")
    return args


def build_image(proto_root: PathLike, proto_files: Sequence[str], include_paths: Iterable[IncludePath] = ()) -> bytes:
    """A ``FileDescriptorSet`` of ``proto_files`` with source info and every file they import: what ``buf lint``
    reads as an image (``buf lint IMAGE --path FILE``), so protos importing installed packages' files lint offline."""
    proto_root = pathlib.Path(proto_root)
    units = [_Unit(str(pathlib.PurePosixPath(f)), "") for f in proto_files]
    includes = [_normalize_include(entry) for entry in include_paths]
    generating_core = {unit.proto_file for unit in units} <= set(CORE_PROTO_FILES) and proto_root == CORE_PROTO_ROOT
    with tempfile.TemporaryDirectory(prefix="mcp-grpc-protoc-") as tmp:
        tmp_dir = pathlib.Path(tmp)
        image = tmp_dir / "image.binpb"
        args = _include_args(tmp_dir, proto_root, units, includes, {}, generating_core)
        args += ["--include_imports", "--include_source_info", f"--descriptor_set_out={image}", *proto_files]
        _run_protoc(args)
        return image.read_bytes()


def generate(
    proto_root: PathLike,
    proto_files: Sequence[str],
    out_dir: PathLike,
    python_package: str,
    include_paths: Iterable[IncludePath] = (),
) -> list[pathlib.Path]:
    """Generate ``*_pb2.py``, ``*_pb2.pyi`` and (for files with services) ``*_pb2_grpc.py`` for ``proto_files``
    (paths relative to ``proto_root``) into ``out_dir``, the directory of the Python package ``python_package``.

    Imports of ``mcp_grpc/v1/*.proto`` and ``model_context_protocol/*.proto`` resolve to ``mcp_grpc.wire``; other
    imports need their directory in ``include_paths`` as ``(directory, python_package)``. Returns the files written.
    """
    rendered = _render(pathlib.Path(proto_root), proto_files, python_package, include_paths)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(rendered.items()):
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def generate_core(out_dir: PathLike = CORE_OUT_DIR) -> list[pathlib.Path]:
    """Regenerate ``mcp_grpc.wire`` from ``protos/`` (``make proto``)."""
    return generate(CORE_PROTO_ROOT, CORE_PROTO_FILES, out_dir, CORE_PACKAGE)


def check_core(committed_dir: PathLike = CORE_OUT_DIR) -> list[str]:
    """Problems that make the committed ``mcp_grpc.wire`` code differ from a fresh generation; empty when fresh."""
    committed = pathlib.Path(committed_dir)
    fresh = _render(CORE_PROTO_ROOT, CORE_PROTO_FILES, CORE_PACKAGE, ())
    problems = []
    for name, text in sorted(fresh.items()):
        path = committed / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        current = path.read_text(encoding="utf-8")
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), f"committed/{name}", f"fresh/{name}", lineterm="", n=1
            )
            problems.append(f"{name}: differs\n" + "\n".join(list(diff)[:20]))
    for path in sorted(committed.glob("*_pb2*.py*")):
        if path.name not in fresh:
            problems.append(f"{path.name}: generated from no proto file in protos/ (remove it)")
    if problems:
        problems.extend(_tools_version_hint(committed))
    return problems


def _tools_version_hint(committed: pathlib.Path) -> list[str]:
    """Name a grpcio-tools version mismatch, the usual cause of a diff on a fresh clone."""
    import grpc_tools

    pattern = re.compile(r"^GRPC_GENERATED_VERSION = '([^']+)'$", re.MULTILINE)
    grpc_module = committed / "mcp_pb2_grpc.py"
    match = pattern.search(grpc_module.read_text(encoding="utf-8")) if grpc_module.is_file() else None
    installed = getattr(grpc_tools, "__version__", None)
    if installed is None:
        from importlib.metadata import version

        installed = version("grpcio-tools")
    if match and match[1] != installed:
        return [
            f"note: the committed code was generated with grpcio-tools {match[1]}, this environment has {installed}; "
            "install the pinned version (make venv) before regenerating"
        ]
    return []


def _includes(entries: Sequence[str]) -> list[IncludePath]:
    includes: list[IncludePath] = []
    for entry in entries:
        directory, _, package = entry.partition("=")
        includes.append((directory, package) if package else directory)
    return includes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_grpc.wire._generate",
        description="Generate Python gRPC code; without arguments, regenerate mcp_grpc.wire from protos/.",
    )
    parser.add_argument("--check", action="store_true", help="only report whether mcp_grpc.wire is stale")
    parser.add_argument("--proto-root", type=pathlib.Path, help="root directory of the proto files to generate")
    parser.add_argument("--out", type=pathlib.Path, help="directory of the output Python package")
    parser.add_argument("--package", help="dotted name of the output Python package")
    parser.add_argument(
        "--image", type=pathlib.Path, help="instead of generating, write a descriptor set for `buf lint IMAGE --path FILE`"
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="DIR[=PACKAGE]",
        help="extra import directory, with the Python package its files were generated into",
    )
    parser.add_argument("proto_files", nargs="*", help="proto files, relative to --proto-root")
    args = parser.parse_args(argv)

    try:
        if args.check:
            problems = check_core()
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("mcp_grpc/wire is stale: run make proto", file=sys.stderr)
            return 1 if problems else 0
        if args.proto_root is None:
            if args.proto_files or args.out or args.package or args.image:
                parser.error("--proto-root, --out and --package (or --image) go together")
            written = generate_core()
        elif args.image is not None:
            if not args.proto_files:
                parser.error("--image needs --proto-root and at least one proto file")
            args.image.parent.mkdir(parents=True, exist_ok=True)
            args.image.write_bytes(build_image(args.proto_root, args.proto_files, _includes(args.include)))
            written = [args.image]
        else:
            if not (args.out and args.package and args.proto_files):
                parser.error("--proto-root needs --out, --package and at least one proto file")
            written = generate(args.proto_root, args.proto_files, args.out, args.package, _includes(args.include))
    except GenerationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
