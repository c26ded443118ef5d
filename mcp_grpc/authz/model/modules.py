"""Modular models (schema 1.2): `fga.mod` manifests, `module` files, `extend type`, combined into one model.

Combination follows OpenFGA's `fga model write` for modular models: each file's types and conditions carry
`metadata.module` and `metadata.source_info.file`; relations added by `extend type` also carry the module
and file they came from; the combined model is then validated, with each error placed in the file (and
line) where the offending definition was written.
"""

from __future__ import annotations

import pathlib
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from .dsl import parse_dsl_with_errors
from .errors import ModelError, ModelIssue, Span
from .validate import collect_issues

__all__ = ["FgaMod", "ModuleError", "parse_fga_mod", "transform_modules", "load_modular", "module_names"]


class ModuleError(ModelError):
    """Errors while reading an fga.mod manifest or combining module files; issues carry `metadata['file']`."""

    kind = "module"


@dataclass(frozen=True)
class ModValue:
    value: Any
    line: Span
    column: Span

    def to_dict(self) -> dict[str, Any]:
        value = [v.to_dict() for v in self.value] if isinstance(self.value, list) else self.value
        return {
            "value": value,
            "line": {"start": self.line.start, "end": self.line.end},
            "column": {"start": self.column.start, "end": self.column.end},
        }


@dataclass(frozen=True)
class FgaMod:
    """A parsed fga.mod: the schema version and the module files it lists, with their positions."""

    schema: ModValue
    contents: ModValue

    @property
    def files(self) -> list[str]:
        return [item.value for item in self.contents.value]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema.to_dict(), "contents": self.contents.to_dict()}


def _span(node: yaml.Node) -> tuple[Span, Span]:
    return (
        Span(node.start_mark.line, node.end_mark.line),
        Span(node.start_mark.column, node.end_mark.column),
    )


def _shown(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else yaml.safe_dump(yaml.safe_load(yaml.serialize(node))).strip()


def _issue(message: str, node: yaml.Node | None) -> ModelIssue:
    if node is None:
        return ModelIssue(message, Span(0, 0), Span(0, 0))
    line, column = _span(node)
    return ModelIssue(message, line, column)


_BAD_PATH = re.compile(r"(^|[/\\])\.\.([/\\]|$)")


def _bad_path(path: str) -> bool:
    decoded = urllib.parse.unquote(path)
    return any(
        p.startswith(("/", "\\")) or _BAD_PATH.search(p) is not None or re.match(r"^[A-Za-z]:", p) is not None
        for p in (path, decoded)
    )


def parse_fga_mod(text: str) -> FgaMod:
    """Parse an fga.mod manifest (`schema: '1.2'`, `contents: [files]`); raise ModuleError with positions."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line, mark.column) if mark else (0, 0)
        raise ModuleError([ModelIssue(f"invalid fga.mod: {exc}", Span(line, line), Span(col, col))]) from None
    if not isinstance(root, yaml.MappingNode):
        raise ModuleError([_issue("fga.mod must be a mapping with schema and contents fields", root)])
    fields = {key.value: value for key, value in root.value if isinstance(key, yaml.ScalarNode)}
    issues: list[ModelIssue] = []
    schema = contents = None

    node = fields.get("schema")
    if node is None:
        issues.append(_issue("missing schema field", None))
    elif not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str"):
        issues.append(_issue(f"unexpected schema type, expected string got value {_shown(node)}", node))
    elif node.value != "1.2":
        issues.append(_issue("unsupported schema version, fga.mod only supported in version `1.2`", node))
    else:
        schema = ModValue(node.value, *_span(node))

    node = fields.get("contents")
    if node is None:
        issues.append(_issue("missing contents field", None))
    elif not isinstance(node, yaml.SequenceNode):
        issues.append(_issue(f"unexpected contents type, expected list of strings got value {_shown(node)}", node))
    else:
        items = []
        for item in node.value:
            if not (isinstance(item, yaml.ScalarNode) and item.tag == "tag:yaml.org,2002:str"):
                issues.append(_issue(f"unexpected contents item type, expected string got value {_shown(item)}", item))
            elif not item.value.endswith(".fga"):
                issues.append(_issue(f"contents items should use fga file extension, got {item.value}", item))
            elif _bad_path(item.value):
                issues.append(_issue(f"invalid contents item {item.value}", item))
            else:
                items.append(ModValue(item.value, *_span(item)))
        contents = ModValue(items, *_span(node))

    if issues:
        raise ModuleError(issues)
    assert schema is not None and contents is not None
    return FgaMod(schema, contents)


def _line_of(lines: list[str], pattern: str) -> int | None:
    rx = re.compile(pattern)
    for i, line in enumerate(lines):
        if rx.match(re.sub(r" {2,}", " ", line.strip())):
            return i
    return None


def _positioned(message: str, lines: list[str], line_index: int | None, symbol: str, file: str) -> ModelIssue:
    metadata = {"symbol": symbol, "file": file}
    if line_index is None:
        return ModelIssue(message, None, None, metadata)
    m = re.search(r"\b" + re.escape(symbol) + r"\b", lines[line_index])
    col = m.start() if m else 0
    return ModelIssue(message, Span(line_index, line_index), Span(col, col + len(symbol)), metadata)


def transform_modules(
    files: Mapping[str, str], schema_version: str = "1.2", *, rules: str = "language"
) -> dict[str, Any]:
    """Combine module files ({file name: DSL text}, in manifest order) into one validated 1.2 model.

    Raises ModuleError listing syntax errors (metadata `kind` = "syntax"), combination errors (duplicate types or
    conditions, extensions of unknown types, relations defined twice) and the combined model's validation
    errors, each with its `file`. `rules` as in `validate_model` ("server": what an OpenFGA server accepts).
    """
    issues: list[ModelIssue] = []
    type_defs: list[dict] = []
    by_type: dict[str, dict] = {}
    conditions: dict[str, dict] = {}
    extensions: list[tuple[str, dict]] = []

    for name, text in files.items():
        lines = text.split("\n")
        result = parse_dsl_with_errors(text)
        if result.issues:
            for issue in result.issues:
                issues.append(ModelIssue(issue.message, issue.line, issue.column, {**issue.metadata, "file": name, "kind": "syntax"}))
            continue
        if not result.modular:
            issues.append(ModelIssue("file is not a module", Span(0, 0), Span(0, 0), {"file": name}))
            continue
        for td in result.model.get("type_definitions") or []:
            type_name = td["type"]
            if type_name in result.extended_types:
                extensions.append((name, td))
                continue
            if type_name in by_type:
                line = _line_of(lines, r"type " + re.escape(type_name) + r"(?:[\s#]|$)")
                issues.append(_positioned(f"duplicate type definition {type_name}", lines, line, type_name, name))
                continue
            td.setdefault("metadata", {})["source_info"] = {"file": name}
            by_type[type_name] = td
            type_defs.append(td)
        for cond_name, cond in (result.model.get("conditions") or {}).items():
            if cond_name in conditions:
                line = _line_of(lines, r"condition " + re.escape(cond_name) + r" ?\(")
                issues.append(_positioned(f"duplicate condition {cond_name}", lines, line, cond_name, name))
                continue
            cond.setdefault("metadata", {})["source_info"] = {"file": name}
            conditions[cond_name] = cond

    for name, ext in extensions:
        lines = files[name].split("\n")
        type_name = ext["type"]
        original = by_type.get(type_name)
        if original is None:
            line = _line_of(lines, r"extend type " + re.escape(type_name) + r"(?:[\s#]|$)")
            issues.append(_positioned(f"extended type {type_name} does not exist", lines, line, type_name, name))
            continue
        ext_meta = (ext.get("metadata") or {}).get("relations") or {}
        relations = original.setdefault("relations", {})
        original_meta = original.setdefault("metadata", {})
        for relation, rewrite in (ext.get("relations") or {}).items():
            if relation in relations:
                line = _line_of(lines, r"define " + re.escape(relation) + r" ?:")
                issues.append(
                    _positioned(f"relation {relation} already exists on type {type_name}", lines, line, relation, name)
                )
                continue
            meta = dict(ext_meta.get(relation) or {"directly_related_user_types": []})
            meta["module"] = (ext.get("metadata") or {}).get("module")
            meta["source_info"] = {"file": name}
            relations[relation] = rewrite
            original_meta.setdefault("relations", {})[relation] = meta

    model: dict[str, Any] = {"schema_version": schema_version, "type_definitions": type_defs, "conditions": conditions}
    issues.extend(collect_issues(model, sources=dict(files), rules=rules))
    if issues:
        raise ModuleError(issues)
    return model


def load_modular(fga_mod_path: str | pathlib.Path, *, rules: str = "language") -> dict[str, Any]:
    """Read an fga.mod and the module files it lists (relative to it); return the combined, validated model."""
    path = pathlib.Path(fga_mod_path)
    manifest = parse_fga_mod(path.read_text())
    files = {}
    for item in manifest.contents.value:
        source = path.parent / item.value
        try:
            files[item.value] = source.read_text()
        except OSError as exc:
            raise ModuleError(
                [ModelIssue(f"cannot read module file {item.value}: {exc.strerror}", item.line, item.column)]
            ) from None
    return transform_modules(files, manifest.schema.value, rules=rules)


def module_names(model: Mapping[str, Any]) -> list[str]:
    """Sorted names of every module a combined model's types, relations and conditions come from."""
    names: set[str] = set()
    for td in model.get("type_definitions") or []:
        meta = td.get("metadata") or {}
        if meta.get("module"):
            names.add(meta["module"])
        for rel in (meta.get("relations") or {}).values():
            if (rel or {}).get("module"):
                names.add(rel["module"])
    for cond in (model.get("conditions") or {}).values():
        module = ((cond or {}).get("metadata") or {}).get("module")
        if module:
            names.add(module)
    return sorted(names)
