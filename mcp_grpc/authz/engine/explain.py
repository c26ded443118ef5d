"""Explain one Check: the resolution path that allowed or denied it, for a security engineer to read.

The same resolver as Check runs with hooks that record a tree: every ``object#relation@user`` resolved, every
rewrite tried (direct, computed userset, tuple to userset, union, intersection, exclusion), every tuple read, and
every condition evaluated with the parameter values it saw. Because operators short-circuit exactly as in Check,
operands that were not needed for the answer are absent from the tree.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

from .conditions import ConditionError
from .resolver import CYCLE, Failure, Resolver
from .strategy import DEFAULT
from .tuples import Tuple, UserRef
from .typesystem import COMPUTED, DIFFERENCE, INTERSECTION, REWRITE_NAMES, THIS, TTU, UNION

__all__ = ["ExplainNode", "Explanation", "TracingResolver", "outcome_name"]


def outcome_name(result: Any) -> str:
    if result is True:
        return "allowed"
    if result is CYCLE:
        return "denied (cycle)"
    if isinstance(result, Failure):
        return "error"
    return "denied"


@dataclasses.dataclass
class ExplainNode:
    """One step. ``kind``: check, direct, computed, tuple_to_userset, union, intersection, exclusion, tuple, skipped,
    strategy (a userset or tuple-to-userset answered by OpenFGA's weight2 or recursive strategy)."""

    kind: str
    label: str
    outcome: str = "denied"
    tuple: str | None = None
    condition: dict[str, Any] | None = None
    error: str | None = None
    children: list["ExplainNode"] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "label": self.label, "outcome": self.outcome}
        if self.tuple is not None:
            out["tuple"] = self.tuple
        if self.condition is not None:
            out["condition"] = self.condition
        if self.error is not None:
            out["error"] = self.error
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


@dataclasses.dataclass
class Explanation:
    """The answer of one Check and the tree that produced it."""

    user: str
    relation: str
    object: str
    outcome: str
    error: str | None
    error_code: int | None
    root: ExplainNode | None
    model_id: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user, "relation": self.relation, "object": self.object, "outcome": self.outcome,
            "error": self.error, "error_code": self.error_code, "model_id": self.model_id,
            "path": self.root.to_dict() if self.root else None,
        }

    def render(self) -> str:
        """An indented text rendering, one step per line."""
        head = f"{self.user} {self.relation} {self.object}: {self.outcome.upper()}"
        if self.error:
            head += f" ({self.error}; code {self.error_code})"
        lines = [head]
        if self.root is not None:
            _render(self.root, 1, lines)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


_MARK = {"allowed": "+", "denied": "-", "denied (cycle)": "~", "error": "!"}


def _render(node: ExplainNode, depth: int, lines: list[str]) -> None:
    text = f"{'  ' * depth}{_MARK.get(node.outcome, '?')} {node.label}"
    if node.tuple:
        text += f"  [tuple {node.tuple}]"
    if node.condition:
        cond = node.condition
        values = json.dumps(cond.get("values", {}), sort_keys=True, default=str)
        text += f"  [condition {cond['name']}: {cond['expression']} with {values} -> {cond['result']}]"
    if node.error:
        text += f"  [error: {node.error}]"
    text += f"  => {node.outcome}"
    lines.append(text)
    for child in node.children:
        _render(child, depth + 1, lines)


class TracingResolver(Resolver):
    """A Resolver that records what it does. Slower; only for explain."""

    __slots__ = ("stack", "root", "fast_match")

    tracing = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stack: list[ExplainNode] = []
        self.root: ExplainNode | None = None
        self.fast_match: str | None = None
        """The object's side item a weight2 strategy matched (for the explanation)."""

    def _open(self, node: ExplainNode) -> ExplainNode:
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)
        return node

    def _close(self, node: ExplainNode, result: Any) -> Any:
        node.outcome = outcome_name(result)
        if isinstance(result, Failure) and node.error is None and not any(
                c.outcome == "error" for c in node.children):
            node.error = result.message
        self.stack.pop()
        return result

    def resolve(self, obj: str, otype: str, relation: str, user: UserRef, user_str: str, depth: int) -> Any:
        node = self._open(ExplainNode("check", f"{obj}#{relation}@{user_str}"))
        result = super().resolve(obj, otype, relation, user, user_str, depth)
        if result is CYCLE and not node.children:
            node.error = None
            node.label += " (already being resolved on this path: cycle)"
        elif result is False and not node.children:
            node.label += " (no path from this type of user: pruned)"
        return self._close(node, result)

    def rewrite(self, rw: tuple, obj: str, otype: str, info: Any, user: UserRef, user_str: str,
                depth: int) -> Any:
        relation = info.relation
        kind = rw[0]
        if kind == THIS:
            label = f"direct relationships of {obj}#{relation}"
        elif kind == COMPUTED:
            label = f"computed userset: {relation} includes {rw[1]}"
        elif kind == TTU:
            strategy = DEFAULT if user.relation is not None else self.strategies.for_ttu(
                otype, relation, rw[1], rw[2], user.type)
            label = f"tuple to userset: {rw[2]} from {rw[1]} ({strategy} strategy)"
        elif kind == UNION:
            label = "union (any operand)"
        elif kind == INTERSECTION:
            label = "intersection (every operand)"
        elif kind == DIFFERENCE:
            label = "exclusion (base but not subtract)"
        else:
            label = REWRITE_NAMES.get(kind, "rewrite")
        node = self._open(ExplainNode(REWRITE_NAMES.get(kind, "rewrite").replace(" ", "_"), label))
        result = super().rewrite(rw, obj, otype, info, user, user_str, depth)
        return self._close(node, result)

    def condition(self, t: Tuple) -> Any:
        result = super().condition(t)
        return result

    def _condition_info(self, t: Tuple, result: Any) -> dict[str, Any] | None:
        name = t.condition_name
        if name is None:
            return None
        cond = self.ts.conditions.get(name)
        info: dict[str, Any] = {"name": name, "expression": cond.expression if cond else None,
                                "tuple_context": dict(t.condition_context or {})}
        if cond is not None:
            try:
                info["values"] = {k: _jsonable(v) for k, v in cond.bind(self.context, t.condition_context).items()}
            except ConditionError as exc:
                info["values"] = {}
                info["error"] = str(exc)
        info["result"] = outcome_name(result) if not isinstance(result, bool) else result
        return info

    def on_direct_tuple(self, t: Tuple, result: Any) -> Any:
        node = ExplainNode("tuple", "tuple matches", tuple=str(_plain(t)), condition=self._condition_info(t, result))
        node.outcome = outcome_name(result)
        if isinstance(result, Failure):
            node.error = result.message
        self.stack[-1].children.append(node)
        return result

    def on_strategy(self, strategy: str, label: str, result: Any) -> None:
        node = ExplainNode("strategy", f"{strategy} strategy: {label}")
        node.outcome = outcome_name(result)
        if isinstance(result, Failure):
            node.error = result.message
        self.stack[-1].children.append(node)

    def on_skipped(self, t: Tuple, result: Any) -> None:
        why = "could not be evaluated" if isinstance(result, Failure) else "is false"
        node = ExplainNode("skipped", f"tuple skipped: its condition {why}", tuple=str(_plain(t)),
                           condition=self._condition_info(t, result))
        node.outcome = outcome_name(result)
        if isinstance(result, Failure):
            node.error = result.message
        self.stack[-1].children.append(node)

    def dispatch(self, via: Tuple, obj: str, otype: str, relation: str, user: UserRef, user_str: str,
                 depth: int) -> Any:
        node = self._open(ExplainNode("via", f"via tuple", tuple=str(_plain(via)),
                                      condition=self._condition_info(via, True)))
        result = super().dispatch(via, obj, otype, relation, user, user_str, depth)
        return self._close(node, result)


def _plain(t: Tuple) -> str:
    return f"{t.object}#{t.relation}@{t.user}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
