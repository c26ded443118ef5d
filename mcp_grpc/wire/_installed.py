"""Proto files that come from installed Python packages, as descriptors protoc and buf can compile against.

A service's .proto may import files it does not carry: ``buf/validate/validate.proto`` (protovalidate's rules) or
``google/api/field_behavior.proto``. Installed packages register those files in protobuf's default pool when their
generated module is imported (``buf.validate.validate_pb2``, ``google.api.field_behavior_pb2``); some ship the
``.proto`` source too, some only the generated code. The registered descriptors are the same in both cases, so
:func:`registered_files` exports them (with everything they import) into a ``FileDescriptorSet`` for
``protoc --descriptor_set_in``: generation and lint run offline, and no other project's files are copied in.
"""

from __future__ import annotations

import importlib
import pathlib
import re
from typing import Iterable, Sequence

from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pb2

__all__ = ["MissingImport", "external_imports", "module_of", "registered_files"]

_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"(?P<file>[^"]+)"\s*;', re.MULTILINE)


class MissingImport(Exception):
    """An imported proto file is neither on the include path nor registered by an installed package."""


def module_of(proto_file: str) -> str:
    """The Python module protoc generates for ``proto_file`` (``google/api/field_behavior.proto`` ->
    ``google.api.field_behavior_pb2``)."""
    stem = proto_file[: -len(".proto")] if proto_file.endswith(".proto") else proto_file
    return stem.replace("-", "_").replace("/", ".") + "_pb2"


def external_imports(proto_files: Iterable[str], roots: Sequence[pathlib.Path], known: Iterable[str] = ()) -> list[str]:
    """The files that ``proto_files`` import, directly or through each other, found under none of ``roots`` and
    not in ``known`` (already provided) nor protobuf's own ``google/protobuf/`` files (protoc carries those)."""
    provided = set(known)
    seen: set[str] = set()
    external: list[str] = []
    pending = list(proto_files)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = next((root / name for root in roots if (root / name).is_file()), None)
        if path is None:
            if name not in provided and not name.startswith("google/protobuf/"):
                external.append(name)
            continue
        pending.extend(match["file"] for match in _IMPORT.finditer(path.read_text(encoding="utf-8")))
    return sorted(external)


def registered_files(modules: Iterable[str], *, importer: str = "") -> descriptor_pb2.FileDescriptorSet:
    """The files registered by importing ``modules``, and every file they import, dependencies first.

    Raises ``MissingImport`` naming the module when one cannot be imported; ``importer`` says who needed it."""
    ordered: list[_descriptor.FileDescriptor] = []
    done: set[str] = set()

    def visit(file: _descriptor.FileDescriptor) -> None:
        if file.name in done:
            return
        done.add(file.name)
        for dependency in file.dependencies:
            visit(dependency)
        ordered.append(file)

    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            hint = " (pip install 'mcp-grpc[protovalidate]')" if module_name.startswith(("buf.", "google.")) else ""
            who = f"{importer} imports a proto file whose" if importer else "the"
            raise MissingImport(
                f"{who} generated module {module_name} cannot be imported: {exc}. Install the package that ships "
                f"it{hint}, or put the .proto file on the include path"
            ) from None
        visit(module.DESCRIPTOR)
    files = descriptor_pb2.FileDescriptorSet()
    for file in ordered:
        file.CopyToProto(files.file.add())
    return files
