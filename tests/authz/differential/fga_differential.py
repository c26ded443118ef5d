"""Differential testing of the embedded engine against the real OpenFGA engine inside the ``fga`` CLI.

``generate_store(seed)`` builds a random but valid store test file (a model with direct relations, wildcards,
usersets, computed usersets, tuple-to-userset including recursive parents, union / intersection / exclusion, and
sometimes a condition; tuples; Check, ListObjects and ListUsers queries). Both engines answer every query of the same
file: ``fga model test --verbose`` and our ``storetest`` runner. Expectations in the file are placeholders; only the
two engines' answers are compared. Where they differ, fga answers the file a second time and an assertion it answers
differently in its two runs is set aside (``Comparison.fga_unstable``, counted in ``summarize``), since OpenFGA is not
deterministic everywhere (issue 13, item 7).

Run more stores than ``make test`` does::

    .venv/bin/python -m tests.authz.differential.fga_differential --stores 1000 --seed 7 --keep /tmp/diff
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import random
import shutil
import subprocess
import sys
from typing import Any, Callable, Iterable

import yaml

from tests.support.paths import REPO_ROOT


def _find_fga() -> pathlib.Path:
    """The repository's .venv fga, else the one beside the running interpreter (a worktree runs the main checkout's
    venv with PYTHONPATH=.), else fga on PATH; the .venv path when there is none (callers test ``.exists()``)."""
    local = REPO_ROOT / ".venv" / "bin" / "fga"
    beside = pathlib.Path(sys.executable).parent / "fga"
    on_path = shutil.which("fga")
    for candidate in (local, beside, pathlib.Path(on_path) if on_path else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return local


FGA_BINARY = _find_fga()

USER_TYPE = "user"
USER_IDS = ("u0", "u1", "u2", "u3")
OBJECT_IDS = ("a", "b", "c")
CONDITION_DSL = {
    "lt": "condition lt(x: int, limit: int) {\n  x < limit\n}",
    "flag": "condition flag(enabled: bool) {\n  enabled\n}",
    "in_net": "condition in_net(ip: ipaddress, cidr: string) {\n  ip.in_cidr(cidr)\n}",
    "before": "condition before(now: timestamp, deadline: timestamp) {\n  now < deadline\n}",
    "tagged": "condition tagged(tags: list<string>, tag: string) {\n  tag in tags\n}",
    "under": "condition under(amount: double, limit: double) {\n  amount <= limit\n}",
    "fresh": "condition fresh(age: duration, max_age: duration) {\n  age < max_age\n}",
}

# Per condition: (parameter a tuple usually carries, its values), (parameter a request usually carries, its values).
# Values include wrong types now and then, so both engines' conversion errors are compared too.
CONDITION_VALUES: dict[str, tuple[tuple[str, tuple[Any, ...]], tuple[str, tuple[Any, ...]]]] = {
    "lt": (("limit", (0, 3, 7, 10)), ("x", (1, 5, 9, "5"))),
    "flag": (("enabled", (True, False)), ("enabled", (True, False, "yes"))),
    "in_net": (("cidr", ("10.0.0.0/8", "192.168.0.0/16")), ("ip", ("10.1.2.3", "192.168.4.5", "8.8.8.8", "nope"))),
    "before": (
        ("deadline", ("2030-01-01T00:00:00Z", "2020-06-01T12:00:00Z")),
        ("now", ("2025-03-04T05:06:07Z", "2019-01-01T00:00:00Z", "yesterday")),
    ),
    "tagged": (("tag", ("red", "blue")), ("tags", (["red"], ["blue", "green"], [], "red"))),
    "under": (("limit", (10.5, 100)), ("amount", (5, 10.5, 99.99, 1000))),
    "fresh": (("max_age", ("10s", "1h")), ("age", ("5s", "30m", "2h", 7))),
}


# --- model ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Restriction:
    type: str
    relation: str | None = None
    wildcard: bool = False
    condition: str | None = None

    def dsl(self) -> str:
        text = f"{self.type}:*" if self.wildcard else (f"{self.type}#{self.relation}" if self.relation else self.type)
        return f"{text} with {self.condition}" if self.condition else text


@dataclasses.dataclass
class Relation:
    name: str
    direct: list[Restriction]
    rewrite: str | None  # DSL text after the direct part; None for direct only
    tupleset: bool = False

    def dsl(self) -> str:
        parts = []
        if self.direct:
            parts.append("[" + ", ".join(r.dsl() for r in self.direct) + "]")
        if self.rewrite:
            parts.append(self.rewrite)
        return self.rewrite_joiner.join(parts) if len(parts) == 2 else parts[0]

    rewrite_joiner: str = " or "


@dataclasses.dataclass
class TypeDef:
    name: str
    relations: list[Relation]

    def relation(self, name: str) -> Relation | None:
        return next((r for r in self.relations if r.name == name), None)


@dataclasses.dataclass
class Model:
    types: list[TypeDef]
    conditions: list[str]

    def dsl(self) -> str:
        lines = ["model", "  schema 1.1"]
        for type_def in self.types:
            lines.append(f"type {type_def.name}")
            if type_def.relations:
                lines.append("  relations")
                lines.extend(f"    define {r.name}: {r.dsl()}" for r in type_def.relations)
        for name in self.conditions:
            lines.append(CONDITION_DSL[name])
        return "\n".join(lines) + "\n"

    def type(self, name: str) -> TypeDef:
        return next(t for t in self.types if t.name == name)


def generate_model(rng: random.Random) -> Model:
    """A valid model: relations refer only to earlier relations of their type or to earlier/self types."""
    type_count = rng.randint(2, 3)
    types = [TypeDef(USER_TYPE, [])]
    use_conditions = rng.random() < 0.35
    conditions_used: set[str] = set()
    for index in range(1, type_count + 1):
        type_def = TypeDef(f"t{index}", [])
        types.append(type_def)
        earlier = types[1:index]  # object types before this one
        # A tupleset relation first (sometimes): parent-like, to an earlier type or to itself (recursion).
        if rng.random() < 0.7:
            targets = [type_def.name] if not earlier or rng.random() < 0.4 else []
            if earlier:
                targets.append(rng.choice(earlier).name)
            targets = sorted(set(targets))
            type_def.relations.append(Relation("p", [Restriction(t) for t in targets], None, tupleset=True))
        relation_count = rng.randint(2, 4)
        for r_index in range(relation_count):
            name = f"r{r_index}"
            type_def.relations.append(_generate_relation(rng, name, type_def, types, use_conditions, conditions_used))
    # only the conditions some restriction still names (a relation may have dropped its direct part)
    named = {r.condition for t in types for rel in t.relations for r in rel.direct if r.condition}
    return Model(types, sorted(named))


def _restrictions(
    rng: random.Random, type_def: TypeDef, types: list[TypeDef], use_conditions: bool, used: set[str]
) -> list[Restriction]:
    choices: list[Restriction] = [Restriction(USER_TYPE)]
    if rng.random() < 0.3:
        choices.append(Restriction(USER_TYPE, wildcard=True))
    if use_conditions and rng.random() < 0.6:
        condition = rng.choice(sorted(CONDITION_DSL))
        used.add(condition)
        choices.append(Restriction(USER_TYPE, condition=condition))
        if rng.random() < 0.5:
            choices = [c for c in choices if c.condition or c.wildcard] or choices  # only the conditional one
    # usersets: type#relation on earlier types, or on this type (self-referencing usersets, defined so far)
    for other in types[1:]:
        candidates = [r.name for r in other.relations if not r.tupleset]
        if other is type_def:
            candidates = [r.name for r in type_def.relations if not r.tupleset]
        if candidates and rng.random() < 0.3:
            choices.append(Restriction(other.name, relation=rng.choice(candidates)))
    if rng.random() < 0.15 and len(types) > 2:
        other = rng.choice(types[1:])
        if other is not type_def:
            choices.append(Restriction(other.name))
    unique: dict[str, Restriction] = {}
    for choice in choices:
        unique.setdefault(choice.dsl(), choice)
    return list(unique.values())


def _generate_relation(
    rng: random.Random, name: str, type_def: TypeDef, types: list[TypeDef], use_conditions: bool, used: set[str]
) -> Relation:
    computed = [r.name for r in type_def.relations if not r.tupleset]
    tuplesets = [r for r in type_def.relations if r.tupleset]

    def leaf() -> str | None:
        options = []
        if computed:
            options.append(lambda: rng.choice(computed))
        for tupleset in tuplesets:
            targets = [types_by_name[t.type] for t in tupleset.direct]
            common = set.intersection(*(set(r.name for r in t.relations if not r.tupleset) for t in targets))
            common.discard(name) if any(t is type_def for t in targets) else None
            if common:
                options.append(lambda tupleset=tupleset, common=common: f"{rng.choice(sorted(common))} from {tupleset.name}")
        if not options:
            return None
        return rng.choice(options)()

    types_by_name = {t.name: t for t in types}
    shape = rng.random()
    direct = _restrictions(rng, type_def, types, use_conditions, used)
    if not computed or shape < 0.3:
        relation = Relation(name, direct, None)
    elif shape < 0.55:
        # union of direct and one or two leaves
        leaves = [leaf() for _ in range(rng.randint(1, 2))]
        leaves = [l for l in dict.fromkeys(leaves) if l]
        relation = Relation(name, direct if rng.random() < 0.7 else [], " or ".join(leaves) or None)
    elif shape < 0.7:
        # intersection
        leaves = [l for l in dict.fromkeys(leaf() for _ in range(2)) if l]
        if rng.random() < 0.5 or len(leaves) < 2:
            relation = Relation(name, direct, " and ".join(leaves) or None)
            relation.rewrite_joiner = " and "
        else:
            relation = Relation(name, [], " and ".join(leaves))
    elif shape < 0.85:
        # exclusion
        base = leaf()
        subtract = leaf()
        if rng.random() < 0.5 or not base:
            relation = Relation(name, direct, f"but not {subtract}" if subtract else None)
            relation.rewrite_joiner = " "
        else:
            relation = Relation(name, [], f"{base} but not {subtract}" if subtract and subtract != base else base)
    else:
        # nested: (a or b) and c / a or (b but not c)
        a, b, c = leaf(), leaf(), leaf()
        if rng.random() < 0.5:
            rewrite = f"({a} or {b}) and {c}"
        else:
            rewrite = f"{a} or ({b} but not {c})"
        relation = Relation(name, [], rewrite)
    # recursive tuple-to-userset on a self-typed tupleset: `[..] or name from p` (needs the direct entry point)
    self_tuplesets = [t for t in tuplesets if any(r.type == type_def.name for r in t.direct) and len(t.direct) == 1]
    if self_tuplesets and relation.rewrite is None and rng.random() < 0.5:
        relation.rewrite = f"{name} from {self_tuplesets[0].name}"
        relation.rewrite_joiner = " or "
    if not relation.direct and not relation.rewrite:
        relation.direct = direct
    return relation


# --- tuples and queries ----------------------------------------------------------------------------------------------


def _condition_context(rng: random.Random, condition: str, *, for_tuple: bool) -> dict[str, Any] | None:
    """A tuple's or a request's context for ``condition``: usually its own parameter, sometimes the other one too
    (the tuple's value wins), sometimes nothing (a missing parameter is an error)."""
    (tuple_param, tuple_values), (request_param, request_values) = CONDITION_VALUES[condition]
    own, own_values = (tuple_param, tuple_values) if for_tuple else (request_param, request_values)
    other, other_values = (request_param, request_values) if for_tuple else (tuple_param, tuple_values)
    context: dict[str, Any] = {}
    if rng.random() < 0.85:
        context[own] = rng.choice(own_values)
    if other != own and rng.random() < 0.15:
        context[other] = rng.choice(other_values)
    return context or None


def _user_for(rng: random.Random, restriction: Restriction) -> str:
    if restriction.wildcard:
        return f"{restriction.type}:*"
    if restriction.type == USER_TYPE:
        return f"user:{rng.choice(USER_IDS)}"
    base = f"{restriction.type}:{rng.choice(OBJECT_IDS)}"
    return f"{base}#{restriction.relation}" if restriction.relation else base


def generate_tuples(rng: random.Random, model: Model, count: int) -> list[dict[str, Any]]:
    slots = [(t, r) for t in model.types for r in t.relations if r.direct]
    tuples: dict[tuple[str, str, str], dict[str, Any]] = {}
    for _ in range(count * 3):
        if len(tuples) >= count or not slots:
            break
        type_def, relation = rng.choice(slots)
        restriction = rng.choice(relation.direct)
        entry: dict[str, Any] = {
            "user": _user_for(rng, restriction),
            "relation": relation.name,
            "object": f"{type_def.name}:{rng.choice(OBJECT_IDS)}",
        }
        key = (entry["user"], entry["relation"], entry["object"])
        if key in tuples:
            continue
        if restriction.condition:
            condition: dict[str, Any] = {"name": restriction.condition}
            context = _condition_context(rng, restriction.condition, for_tuple=True)
            if context:
                condition["context"] = context
            entry["condition"] = condition
        tuples[key] = entry
    return list(tuples.values())


def _query_users(rng: random.Random, model: Model) -> list[str]:
    users = [f"user:{u}" for u in USER_IDS]
    if rng.random() < 0.3:
        users.append("user:*")
    for type_def in model.types[1:]:
        for relation in type_def.relations:
            if not relation.tupleset and rng.random() < 0.25:
                users.append(f"{type_def.name}:{rng.choice(OBJECT_IDS)}#{relation.name}")
    return users


def _query_context(rng: random.Random, model: Model) -> dict[str, Any] | None:
    if not model.conditions or rng.random() < 0.3:
        return None
    context: dict[str, Any] = {}
    for condition in model.conditions:
        context.update(_condition_context(rng, condition, for_tuple=False) or {})
    return context or None


def generate_store(seed: int) -> dict[str, Any]:
    """A store test file (as data) for ``seed``; the same seed always gives the same file."""
    rng = random.Random(seed)
    model = generate_model(rng)
    tuples = generate_tuples(rng, model, rng.randint(4, 22))
    users = _query_users(rng, model)
    object_types = model.types[1:]
    checks: dict[str, dict[str, Any]] = {}
    for _ in range(rng.randint(8, 16)):
        type_def = rng.choice(object_types)
        relations = [r.name for r in type_def.relations]
        entry: dict[str, Any] = {"user": rng.choice(users), "object": f"{type_def.name}:{rng.choice(OBJECT_IDS)}"}
        context = _query_context(rng, model)
        if context:
            entry["context"] = context
        entry["assertions"] = {r: False for r in rng.sample(relations, k=min(len(relations), rng.randint(1, 3)))}
        checks.setdefault(json.dumps([entry["user"], entry["object"], context], sort_keys=True), entry)
    list_objects: dict[str, dict[str, Any]] = {}
    for _ in range(rng.randint(2, 5)):
        type_def = rng.choice(object_types)
        relations = [r.name for r in type_def.relations]
        entry = {"user": rng.choice(users), "type": type_def.name}
        context = _query_context(rng, model)
        if context:
            entry["context"] = context
        entry["assertions"] = {r: [] for r in rng.sample(relations, k=min(len(relations), rng.randint(1, 2)))}
        list_objects.setdefault(json.dumps([entry["user"], entry["type"], context], sort_keys=True), entry)
    list_users: dict[str, dict[str, Any]] = {}
    for _ in range(rng.randint(2, 5)):
        type_def = rng.choice(object_types)
        relations = [r.name for r in type_def.relations]
        user_filter: dict[str, str] = {"type": USER_TYPE}
        if rng.random() < 0.3:
            other = rng.choice(object_types)
            candidates = [r.name for r in other.relations if not r.tupleset]
            user_filter = {"type": other.name, "relation": rng.choice(candidates)} if candidates else user_filter
        entry = {"object": f"{type_def.name}:{rng.choice(OBJECT_IDS)}", "user_filter": [user_filter]}
        context = _query_context(rng, model)
        if context:
            entry["context"] = context
        entry["assertions"] = {
            r: {"users": []} for r in rng.sample(relations, k=min(len(relations), rng.randint(1, 2)))
        }
        list_users.setdefault(json.dumps([entry["object"], user_filter, context], sort_keys=True), entry)
    test: dict[str, Any] = {"name": "random", "check": list(checks.values())}
    if list_objects:
        test["list_objects"] = list(list_objects.values())
    if list_users:
        test["list_users"] = list(list_users.values())
    tests = [test]
    if rng.random() < 0.3:
        # a second test on its own store: the store tuples plus a few of its own, asked the same checks
        extra = [t for t in generate_tuples(rng, model, rng.randint(1, 4))
                 if (t["user"], t["relation"], t["object"]) not in {(u["user"], u["relation"], u["object"]) for u in tuples}]
        if extra:
            tests.append({"name": "with own tuples", "tuples": extra, "check": test["check"]})
    return {"name": f"differential seed {seed}", "model": model.dsl(), "tuples": tuples, "tests": tests}


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (the model) as YAML block literals, so the files read like hand-written ones."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def write_store(store: dict[str, Any], path: pathlib.Path) -> None:
    path.write_text(yaml.dump(store, Dumper=_BlockDumper, sort_keys=False, width=1000), encoding="utf-8")


# --- running and comparing ---------------------------------------------------------------------------------------------


def _key(kind: str, test: str, relation: str, *, user: Any = None, target: Any = None, context: Any = None) -> str:
    return json.dumps([test, kind, user, target, relation, context or None], sort_keys=True)


@dataclasses.dataclass
class Answer:
    got: Any
    error: bool


def start_fga(path: pathlib.Path) -> subprocess.Popen[str]:
    """Start ``fga model test`` on ``path``; collect it with ``finish_fga`` (so our engine can run meanwhile)."""
    return subprocess.Popen(
        [str(FGA_BINARY), "model", "test", "--tests", path.name, "--verbose", "--suppress-summary"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=path.parent,
    )


def run_fga(path: pathlib.Path, timeout: float = 60.0) -> tuple[dict[str, Answer] | None, str]:
    """The ``fga`` CLI's answers per assertion key, or None and the CLI's message when the file as a whole failed."""
    return finish_fga(start_fga(path), timeout)


def finish_fga(process: subprocess.Popen[str], timeout: float = 60.0) -> tuple[dict[str, Answer] | None, str]:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    out = stdout.strip()
    if not out.startswith("["):
        return None, (stderr or stdout).strip()
    answers: dict[str, Answer] = {}
    for test in json.loads(out):
        name = test["name"]
        for result in test.get("check_results") or []:
            request = result["request"]
            key = _key("check", name, request["relation"], user=request["user"], target=request["object"],
                       context=request.get("context"))
            answers[key] = Answer(result["got"], result["error"] is not None)
        for result in test.get("list_objects_results") or []:
            request = result["request"]
            key = _key("list_objects", name, request["relation"], user=request["user"], target=request["type"],
                       context=request.get("context"))
            got = None if result["got"] is None else sorted(result["got"])
            answers[key] = Answer(got, result["error"] is not None)
        for result in test.get("list_users_results") or []:
            request = result["request"]
            obj = f"{request['object']['type']}:{request['object']['id']}"
            filters = [f"{f['type']}#{f['relation']}" if f.get("relation") else f["type"] for f in request["user_filters"]]
            key = _key("list_users", name, request["relation"], user=filters, target=obj, context=request.get("context"))
            users = (result.get("got") or {}).get("users")
            answers[key] = Answer(None if result["error"] is not None else sorted(users or []), result["error"] is not None)
    return answers, ""


def run_ours(path: pathlib.Path) -> tuple[dict[str, Answer] | None, str]:
    """Our engine's answers per assertion key, or None and the reason when the file as a whole was refused."""
    from mcp_grpc.authz.files import FileFormatError
    from mcp_grpc.authz.storetest import load_store_test, run_store_test

    try:
        suite = load_store_test(path)
    except FileFormatError as exc:
        return None, str(exc)
    answers: dict[str, Answer] = {}
    for record in run_store_test(suite):
        if record.error is not None and record.error.startswith("cannot set up the store"):
            return None, record.error
        if record.kind == "check":
            key = _key("check", record.test, record.relation, user=record.user, target=record.object, context=record.context)
            got = record.got
        elif record.kind == "list_objects":
            key = _key("list_objects", record.test, record.relation, user=record.user, target=record.type,
                       context=record.context)
            got = None if record.got is None else sorted(record.got)
        else:
            key = _key("list_users", record.test, record.relation, user=list(record.user_filter or ()),
                       target=record.object, context=record.context)
            got = None if record.got is None else sorted(record.got)
        answers[key] = Answer(got, record.error is not None)
    return answers, ""


@dataclasses.dataclass
class Comparison:
    path: pathlib.Path
    oracle: str = "fga"
    """Who answered ``theirs``: ``fga`` (the CLI) here, ``openfga`` for a real server
    (tests/peers/openfga_differential.py); it names their side in every line."""
    agreed: int = 0
    both_errors: int = 0
    mismatches: list[str] = dataclasses.field(default_factory=list)
    """Both answered, differently: ``key: fga=... ours=...``."""
    error_mismatches: list[str] = dataclasses.field(default_factory=list)
    """One engine answered, the other reported an error."""
    store_failure: str | None = None
    """The file as a whole: both refused it (fine, counted) or only one did (a mismatch)."""
    both_refused: bool = False
    fga_inconsistent: list[str] = dataclasses.field(default_factory=list)
    """A list answer where fga's ListObjects/ListUsers disagrees with fga's own Check on every item that differs
    from ours, and our list agrees with that Check: an OpenFGA inconsistency, not counted against us."""
    fga_unstable: list[str] = dataclasses.field(default_factory=list)
    """An assertion fga answered one way in the first run and another in a second run on the same file (issue 13,
    item 7: OpenFGA returns the cycle flag of whichever falsy operand of an intersection or exclusion finishes
    first, and its planner sometimes picks the default strategy over weight2). Skipped, said, not counted."""
    oracles_differ: list[str] = dataclasses.field(default_factory=list)
    """An assertion where two OpenFGAs answer differently (the real server and the ``fga`` CLI, which embeds another
    OpenFGA version): OpenFGA disagreeing with itself, said, not counted against us."""
    list_mismatches: list[tuple[str, Any, Any]] = dataclasses.field(default_factory=list, repr=False)
    line_keys: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    """The assertion key of each line in ``mismatches`` and ``error_mismatches``."""

    @property
    def disagrees(self) -> bool:
        """A difference counted against us: an answer, an error, or a store only one side refused."""
        return bool(self.mismatches or self.error_mismatches or self.store_failure)

    def describe(self, headline: str) -> str:
        """``headline``, then each counted difference on a line of its own."""
        lines = [headline]
        if self.store_failure:
            lines.append(f"  store refused by one side only: {self.store_failure}")
        lines.extend(f"  answer: {line}" for line in self.mismatches)
        lines.extend(f"  error:  {line}" for line in self.error_mismatches)
        return "\n".join(lines)


def compare_file(path: pathlib.Path, *, rerun_fga: bool = True) -> Comparison:
    """Both engines' answers on ``path``. Where they differ, fga runs the file a second time: an assertion it answers
    differently in the two runs moves to ``fga_unstable`` (fga disagreeing with itself is not a difference)."""
    comparison = Comparison(path)
    fga = start_fga(path)  # the CLI works in its own process while our engine answers here
    try:
        ours, our_message = run_ours(path)
    finally:
        theirs, their_message = finish_fga(fga)
    if theirs is None or ours is None:
        if theirs is None and ours is None:
            comparison.both_refused = True
        else:
            comparison.store_failure = (
                f"fga: {their_message or 'ran'}; ours: {our_message or 'ran'}"
            )
        return comparison
    compare_answers(theirs, ours, comparison)
    if comparison.list_mismatches:
        arbitrate_lists(comparison)
    if rerun_fga and (comparison.mismatches or comparison.error_mismatches):
        again, _ = run_fga(path)
        if again is not None:
            set_aside_unstable(comparison, theirs, again)
    return comparison


def set_aside_unstable(comparison: Comparison, first: dict[str, Answer], second: dict[str, Answer]) -> Comparison:
    """Move every disagreement whose fga answer changed between two fga runs (``first``, ``second``) from
    ``mismatches`` / ``error_mismatches`` to ``fga_unstable``."""
    return _set_aside(comparison, first, second, comparison.fga_unstable,
                      lambda said: f"{comparison.oracle} answered {said} in a second run")


def set_aside_oracles_differ(
    comparison: Comparison, first: dict[str, Answer], other: dict[str, Answer], other_name: str
) -> Comparison:
    """Move every disagreement where another OpenFGA (``other``, e.g. the ``fga`` CLI) answers differently from
    ``first`` (e.g. a real server) to ``oracles_differ``: the two OpenFGAs disagree, which is not ours to count."""
    return _set_aside(comparison, first, other, comparison.oracles_differ,
                      lambda said: f"{other_name} answered {said}")


def _set_aside(
    comparison: Comparison, first: dict[str, Answer], second: dict[str, Answer], into: list[str],
    why: Callable[[str], str],
) -> Comparison:
    for lines in (comparison.mismatches, comparison.error_mismatches):
        for line in list(lines):
            key = comparison.line_keys.get(line)
            if key is None or first.get(key) == second.get(key):
                continue
            again = second.get(key)
            said = "nothing" if again is None else ("error" if again.error else again.got)
            lines.remove(line)
            into.append(f"{line} ({why(said)})")
    return comparison


#: Answers every assertion of a store document (the data of a ``.fga.yaml`` file): answers per ``_key``, or None
#: and a message when the store as a whole was refused. ``run_fga`` on a file is one; a real server is another.
DocumentOracle = Callable[[dict[str, Any]], "tuple[dict[str, Answer] | None, str]"]


def fga_document_oracle(beside: pathlib.Path) -> DocumentOracle:
    """The ``fga`` CLI as a DocumentOracle: the document is written next to ``beside`` (``*.probe.fga.yaml``)."""
    def answer(document: dict[str, Any]) -> tuple[dict[str, Answer] | None, str]:
        probe_path = beside.with_name(beside.name.replace(".fga.yaml", ".probe.fga.yaml"))
        write_store(document, probe_path)
        return run_fga(probe_path)
    return answer


def arbitrate_lists(comparison: Comparison, oracle: DocumentOracle | None = None) -> None:
    """Ask the oracle's own Check (fga's unless ``oracle`` says otherwise) about every item where the two lists
    differ (same store, same context). Where that Check sides with our list on every such item, move the mismatch
    to ``fga_inconsistent``."""
    oracle = oracle or fga_document_oracle(comparison.path)
    name = comparison.oracle
    document = yaml.safe_load(comparison.path.read_text(encoding="utf-8"))
    tests_by_name = {test["name"]: test for test in document["tests"]}
    probes: list[tuple[str, dict[str, Any], bool]] = []  # (mismatch key, check entry, our membership)
    for key, theirs, ours in comparison.list_mismatches:
        test_name, kind, subject, target, relation, context = json.loads(key)
        for item in sorted(set(theirs) ^ set(ours)):
            if kind == "list_users" and item not in ours and not _matches_filters(item, subject):
                continue  # fga listed a user its own filter excludes: not an answer to hold against us
            if kind == "list_objects":
                entry = {"user": subject, "object": item}
            else:
                entry = {"user": item, "object": target}
            if context:
                entry["context"] = context
            entry["assertions"] = {relation: item in ours}
            probes.append((key, {"test": test_name, **entry}, item in ours))
    if not probes:
        _side_with_us(comparison, {key: True for key, _, _ in comparison.list_mismatches},
                      f"outside {name}'s own filter")
        return
    probe_tests = []
    for index, (key, entry, _) in enumerate(probes):
        source = tests_by_name[entry.pop("test")]
        test: dict[str, Any] = {"name": f"probe {index}", "check": [entry]}
        if source.get("tuples"):
            test["tuples"] = source["tuples"]
        probe_tests.append(test)
    answers, _ = oracle({**document, "tests": probe_tests})
    if answers is None:
        return
    sides_with_us: dict[str, bool] = {key: True for key, _, _ in comparison.list_mismatches}
    for index, (key, entry, ours_has) in enumerate(probes):
        relation = next(iter(entry["assertions"]))
        probe_key = _key("check", f"probe {index}", relation, user=entry["user"], target=entry["object"],
                         context=entry.get("context"))
        answer = answers.get(probe_key)
        agrees = answer is not None and not answer.error and answer.got == ours_has
        sides_with_us[key] = sides_with_us.get(key, True) and agrees
    _side_with_us(comparison, sides_with_us, f"{name}'s own Check agrees with ours")


def _side_with_us(comparison: Comparison, sides_with_us: dict[str, bool], why: str) -> None:
    for key, theirs, ours in list(comparison.list_mismatches):
        if sides_with_us.get(key):
            line = f"{key}: {comparison.oracle}={theirs} ours={ours}"
            comparison.mismatches.remove(line)
            comparison.fga_inconsistent.append(f"{line} ({why})")


def _matches_filters(user: str, filters: list[str]) -> bool:
    """Does a ListUsers result match one of its filters (``type`` -> ``type:id``/``type:*``, ``type#rel`` ->
    ``type:id#rel``)?"""
    base, _, relation = user.partition("#")
    user_type = base.split(":", 1)[0]
    for entry in filters:
        filter_type, _, filter_relation = entry.partition("#")
        if user_type == filter_type and relation == filter_relation:
            return True
    return False


def compare_answers(theirs: dict[str, Answer], ours: dict[str, Answer], comparison: Comparison) -> Comparison:
    """Fill ``comparison`` from two engines' answers keyed alike."""
    name = comparison.oracle
    for key in sorted(set(theirs) | set(ours)):
        their = theirs.get(key)
        our = ours.get(key)
        if their is None or our is None:
            line = f"{key}: present only in {'ours' if their is None else name}"
            comparison.mismatches.append(line)
        elif their.error and our.error:
            comparison.both_errors += 1
            continue
        elif their.error != our.error:
            line = f"{key}: {name}={'error' if their.error else their.got} ours={'error' if our.error else our.got}"
            comparison.error_mismatches.append(line)
        elif their.got != our.got:
            line = f"{key}: {name}={their.got} ours={our.got}"
            comparison.mismatches.append(line)
            if isinstance(their.got, list):
                comparison.list_mismatches.append((key, their.got, our.got))
        else:
            comparison.agreed += 1
            continue
        comparison.line_keys[line] = key
    return comparison


def compare_seeds(seeds: Iterable[int], directory: pathlib.Path, workers: int = 2) -> list[Comparison]:
    from concurrent.futures import ThreadPoolExecutor

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in seeds:
        path = directory / f"seed-{seed}.fga.yaml"
        write_store(generate_store(seed), path)
        paths.append(path)
    # fga runs in subprocesses, so threads overlap its work with ours
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(compare_file, paths))


def summarize(comparisons: list[Comparison]) -> str:
    name = comparisons[0].oracle if comparisons else "fga"
    agreed = sum(c.agreed for c in comparisons)
    both_errors = sum(c.both_errors for c in comparisons)
    mismatches = sum(len(c.mismatches) for c in comparisons)
    error_mismatches = sum(len(c.error_mismatches) for c in comparisons)
    refused = sum(c.both_refused for c in comparisons)
    inconsistent = sum(len(c.fga_inconsistent) for c in comparisons)
    unstable = sum(len(c.fga_unstable) for c in comparisons)
    store_failures = sum(c.store_failure is not None for c in comparisons)
    differ = sum(len(c.oracles_differ) for c in comparisons)
    return (
        f"{len(comparisons)} stores: {agreed} assertions agreed, {both_errors} errors on both sides, "
        f"{mismatches} answer mismatches, {error_mismatches} error mismatches, "
        f"{refused} stores refused by both, {store_failures} stores refused by one side only, "
        f"{inconsistent} {name} list answers contradicted by {name}'s own Check (not counted), "
        f"{unstable} assertions {name} answered differently in two runs (skipped)"
        + (f", {differ} assertions where two OpenFGAs answer differently (not counted)" if differ else "")
    )


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--keep", type=pathlib.Path, help="write the store files here and keep them")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    directory = args.keep or pathlib.Path(tempfile.mkdtemp(prefix="fga-differential-"))
    try:
        comparisons = compare_seeds(range(args.seed, args.seed + args.stores), directory, args.workers)
        for comparison in comparisons:
            for line in comparison.mismatches + comparison.error_mismatches:
                print(f"{comparison.path.name}: {line}")
            for line in comparison.fga_inconsistent:
                print(f"{comparison.path.name}: (not counted) {line}")
            for line in comparison.fga_unstable:
                print(f"{comparison.path.name}: (skipped: fga disagrees with itself) {line}")
            if comparison.store_failure:
                print(f"{comparison.path.name}: store refused by one side: {comparison.store_failure}")
        print(summarize(comparisons))
        bad = any(c.disagrees for c in comparisons)
        return 1 if bad else 0
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())


def minimize(path: pathlib.Path, out: pathlib.Path) -> pathlib.Path | None:
    """Shrink a store with a disagreement to the first disagreeing assertion and as few tuples as still disagree.

    Writes the reproducer to ``out`` and returns it, or None when ``path`` shows no disagreement.
    """
    document = yaml.safe_load(path.read_text(encoding="utf-8"))

    def disagrees(candidate: dict[str, Any]) -> bool:
        write_store(candidate, out)
        comparison = compare_file(out)
        return comparison.disagrees

    if not disagrees(document):
        return None
    # one assertion: try each (kind, entry, relation) alone and keep the first that still disagrees
    singles: list[dict[str, Any]] = []
    for test in document["tests"]:
        own = {"tuples": test["tuples"]} if test.get("tuples") else {}
        for kind in ("check", "list_objects", "list_users"):
            for entry in test.get(kind) or []:
                for relation, expected in entry["assertions"].items():
                    single = {**entry, "assertions": {relation: expected}}
                    singles.append({"name": test["name"], **own, kind: [single]})
    for single in singles:
        candidate = {**document, "tests": [single]}
        if disagrees(candidate):
            document = candidate
            break
    # tuples: drop one at a time while the disagreement remains (bounded: one pass per remaining tuple)
    index = 0
    while index < len(document.get("tuples") or []):
        tuples = document["tuples"]
        candidate = {**document, "tuples": tuples[:index] + tuples[index + 1:]}
        if candidate["tuples"] and disagrees(candidate):
            document = candidate
        else:
            index += 1
    write_store(document, out)
    return out


# --- model validation: which models OpenFGA accepts ----------------------------------------------------------------


def generate_loose_model(seed: int) -> str:
    """A random model, valid or not: relations may refer to any relation name (later ones, themselves, names that
    do not exist), so cycles, missing entry points and undefined names all occur."""
    rng = random.Random(seed)
    type_names = [f"t{i}" for i in range(1, rng.randint(2, 3) + 1)]
    names = [f"r{i}" for i in range(rng.randint(2, 4))]
    defined = {t: names[: rng.randint(1, len(names))] for t in type_names}
    lines = ["model", "  schema 1.1", "type user"]
    for type_name in type_names:
        lines += [f"type {type_name}", "  relations"]
        parents = rng.sample(type_names, k=rng.randint(1, len(type_names)))
        lines.append(f"    define p: [{', '.join(parents)}]")

        def pick(candidates: list[str]) -> str:
            # mostly a defined name; now and then any name (undefined ones make the model invalid)
            return rng.choice(candidates) if candidates and rng.random() < 0.9 else rng.choice(names)

        def leaf() -> str:
            if rng.random() < 0.5:
                others = [r for r in defined[type_name] if r != current[0]]
                return pick(others if rng.random() < 0.9 else defined[type_name])  # itself, now and then: a cycle
            on_parents = sorted(set.intersection(*(set(defined[t]) for t in parents)))
            return f"{pick(on_parents)} from {'p' if rng.random() < 0.95 else rng.choice(names)}"

        current = [""]
        for relation in defined[type_name]:
            current[0] = relation
            direct = ["user"] if rng.random() < 0.8 else []
            if rng.random() < 0.3:
                other = rng.choice(type_names)
                direct.append(f"{other}#{pick(defined[other])}")
            if rng.random() < 0.15:
                direct.append("user:*")
            shape = rng.random()
            if shape < 0.25 and direct:
                body = f"[{', '.join(direct)}]"
            elif shape < 0.5:
                body = " or ".join(([f"[{', '.join(direct)}]"] if direct else []) + [leaf() for _ in range(rng.randint(1, 2))])
            elif shape < 0.7:
                body = " and ".join(([f"[{', '.join(direct)}]"] if direct else []) + [leaf() for _ in range(rng.randint(1, 2))])
                if " and " not in body:
                    body += f" and {leaf()}"
            elif shape < 0.85:
                base = f"[{', '.join(direct)}]" if direct else leaf()
                body = f"{base} but not {leaf()}"
            else:
                body = f"({leaf()} or {leaf()}) and {leaf()}" if rng.random() < 0.5 else f"{leaf()} or ({leaf()} but not {leaf()})"
            lines.append(f"    define {relation}: {body}")
    return "\n".join(lines) + "\n"


def fga_validates(path: pathlib.Path, timeout: float = 60.0) -> tuple[bool, str]:
    """``fga model validate``: (valid, OpenFGA's message)."""
    completed = subprocess.run(
        [str(FGA_BINARY), "model", "validate", "--file", path.name],
        capture_output=True, text=True, timeout=timeout, cwd=path.parent,
    )
    try:
        answer = json.loads(completed.stdout)
    except json.JSONDecodeError:
        return False, (completed.stderr or completed.stdout).strip()
    return bool(answer.get("is_valid")), str(answer.get("error") or "")


def we_validate(path: pathlib.Path) -> tuple[bool, str]:
    """Our model loading, as ``mcp-grpc authz`` does it: (valid, our message)."""
    from mcp_grpc.authz.files import FileFormatError, load_model_file

    try:
        load_model_file(path)
    except FileFormatError as exc:
        return False, exc.reason
    return True, ""
