"""Time per Check of the embedded OpenFGA engine, side by side with the ``fga`` CLI's in-memory OpenFGA.

The store is realistic for a tool server: several thousand tuples, teams nested three levels deep (usersets),
folder chains six levels deep (tuple-to-userset), an exclusion (``blocked``), a public wildcard, and one
conditional relation (a CEL condition on the request context).

Embedded engine: each check is timed alone (uncached: the engine has no decision cache), reporting p50/p90/p99 of
wall time over every query of the set, repeated, and the p50 of the thread's CPU time (less sensitive to other load
on a shared machine). Two query sets: random (user, document) pairs, mostly denied, which walk every folder chain
and team to the end (the worst case), and pairs that are allowed (what a tool server mostly answers). The ``fga`` CLI: the same checks as assertions of a ``fga model test`` store file;
the CLI's own start-up and store loading are removed by timing a file with 1 check and one with N checks, and
reporting the marginal time per check = (time(N) - time(1)) / (N - 1). Both engines' answers are compared.

Run::

    .venv/bin/python bench/authz_engine.py [--tuples 5000] [--queries 300] [--repeat 20] [--cli-checks 300]

Prints a table and writes ``bench/out/authz_engine.json``. Before and after an engine change, side by side::

    git worktree add --detach /tmp/engine-before <commit>
    .venv/bin/python bench/authz_engine.py --no-cli --engine-root /tmp/engine-before --out bench/out/before.json
    .venv/bin/python bench/authz_engine.py --no-cli

OpenFGA's check strategies (weight2 and recursive, ``mcp_grpc/authz/engine/strategy.py`` and ``fastpath.py``),
measured this way against 2b587f6 (the engine before them), two interleaved runs each on a 2-core machine, p50 µs:
random pairs 18.0 / 18.5 before, 19.7 / 20.2 after (+9%; p99 27-28 → 33-34); allowed pairs 3.5 / 4.0 before,
3.6 / 3.8 after; mixed 4.5 / 5.0 before, 4.7 / 4.9 after. The realistic model's one recursive relation
(``team#member``) takes the recursive strategy, whose breadth-first walk costs a little more than three nested
lookups; the first version cost +70% on random pairs (imports inside the hot functions, a sort per call).

The userset read skipped when an ``object#relation`` has no tuples, and a plain user's computed operand of a union
resolved straight into its direct relationships (issue 15 item 5), against a2148a9, three interleaved runs at load
average ~2, p50 µs: random pairs 25.7 / 25.3 / 24.9 before, 22.4 / 22.4 / 22.2 after (-12%); allowed pairs unchanged
(5.1-5.3). ``bench/engine_scale.py`` times the same model grown to 1,000,000 tuples.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _engine_root(argv: list[str]) -> str | None:
    """``--engine-root DIR``: time the engine of another checkout (a ``git worktree`` of an older commit) with this
    script's store and queries, so a change to the engine is measured before and after by the same code."""
    for i, arg in enumerate(argv):
        if arg == "--engine-root" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--engine-root="):
            return arg.split("=", 1)[1]
    return None


def _shown(root: pathlib.Path) -> str:
    """The engine's checkout as reports show it: relative to this repository ("." for itself), so a tracked report
    names no path of the machine that ran it; another checkout as ``--engine-root`` gave it."""
    try:
        return str(root.relative_to(REPO_ROOT)) or "."
    except ValueError:
        return ENGINE_ROOT or str(root)


ENGINE_ROOT = _engine_root(sys.argv[1:])
if ENGINE_ROOT:
    sys.path.insert(0, str(pathlib.Path(ENGINE_ROOT).resolve()))

from mcp_grpc.authz.engine import Engine  # noqa: E402

MODEL_DSL = """\
model
  schema 1.1

type user

type team
  relations
    define member: [user, team#member]

type org
  relations
    define member: [user, team#member]
    define admin: [user]

type folder
  relations
    define parent: [folder]
    define owner: [user, team#member]
    define viewer: [user, team#member, org#member] or owner or viewer from parent

type document
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user, team#member] or owner
    define viewer: [user, user:*, team#member with in_hours] or editor or viewer from parent
    define blocked: [user]
    define can_view: viewer but not blocked

condition in_hours(hour: int, start: int, end: int) {
  hour >= start && hour < end
}
"""


def build_store(n_tuples: int, seed: int = 7) -> tuple[list[dict], dict]:
    """Tuples for the model: nested teams, folder chains, documents; returns (tuples, shape summary)."""
    rng = random.Random(seed)
    tuples: list[dict] = []

    def add(user: str, relation: str, obj: str, condition: dict | None = None) -> None:
        t = {"user": user, "relation": relation, "object": obj}
        if condition:
            t["condition"] = condition
        tuples.append(t)

    n_users = max(50, n_tuples // 10)
    users = [f"user:u{i}" for i in range(n_users)]
    # Teams three levels deep: t0_k contains t1_k's members, which contains t2_k's members, which has users.
    n_teams = max(4, n_tuples // 250)
    for k in range(n_teams):
        add(f"team:t1_{k}#member", "member", f"team:t0_{k}")
        add(f"team:t2_{k}#member", "member", f"team:t1_{k}")
        for u in rng.sample(users, 8):
            add(u, "member", f"team:t2_{k}")
    for j in range(3):
        add(f"team:t0_{j}#member", "member", f"org:o{j}")
        add(rng.choice(users), "admin", f"org:o{j}")
    # Folder chains six levels deep.
    n_chains = max(4, n_tuples // 200)
    leaves = []
    for c in range(n_chains):
        prev = None
        for level in range(6):
            f = f"folder:c{c}_l{level}"
            if prev:
                add(prev, "parent", f)
            prev = f
        leaves.append(prev)
        root = f"folder:c{c}_l0"
        add(f"team:t0_{c % n_teams}#member", "viewer", root)
        add(rng.choice(users), "owner", f"folder:c{c}_l2")
        if c % 5 == 0:
            add(f"org:o{c % 3}#member", "viewer", f"folder:c{c}_l1")
    # Documents fill the rest.
    d = 0
    while len(tuples) < n_tuples:
        doc = f"document:d{d}"
        add(rng.choice(leaves), "parent", doc)
        add(rng.choice(users), "owner", doc)
        r = d % 10
        if r == 0:
            add(f"team:t2_{rng.randrange(n_teams)}#member", "viewer", doc,
                {"name": "in_hours", "context": {"start": 9, "end": 17}})
        elif r == 1:
            add("user:*", "viewer", doc)
        elif r == 2:
            add(rng.choice(users), "blocked", doc)
        else:
            add(rng.choice(users), "editor", doc)
        d += 1
    shape = {"tuples": len(tuples), "users": n_users, "teams": n_teams * 3, "team_depth": 3,
             "folder_chains": n_chains, "folder_depth": 6, "documents": d}
    return tuples, shape


def build_queries(tuples: list[dict], n: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    docs = sorted({t["object"] for t in tuples if t["object"].startswith("document:")})
    users = sorted({t["user"] for t in tuples if t["user"].startswith("user:u")})
    queries = []
    for i in range(n):
        queries.append({
            "user": rng.choice(users),
            "relation": rng.choice(["can_view", "can_view", "viewer", "editor"]),
            "object": rng.choice(docs),
            "context": {"hour": rng.choice([8, 10, 12, 18])},
        })
    return queries


def dsl_to_model(dsl: str) -> dict:
    try:
        from mcp_grpc.authz.model import parse_dsl

        return parse_dsl(dsl)
    except ImportError:
        with tempfile.NamedTemporaryFile("w", suffix=".fga", delete=False) as fh:
            fh.write(dsl)
        try:
            out = subprocess.run([str(fga_cli()), "model", "transform", "--input-format", "fga", "--file", fh.name],
                                 check=True, capture_output=True, text=True).stdout
        finally:
            os.unlink(fh.name)
        return json.loads(out)


def fga_cli() -> pathlib.Path | None:
    local = REPO_ROOT / ".venv" / "bin" / "fga"
    if local.exists():
        return local
    found = shutil.which("fga")
    return pathlib.Path(found) if found else None


def allowed_queries(engine: Engine, tuples: list[dict], n: int, seed: int = 13) -> list[dict]:
    """Queries that are allowed (what a tool server mostly sees): owners, editors, team members via folders."""
    rng = random.Random(seed)
    docs = [t for t in tuples if t["object"].startswith("document:") and t["relation"] in ("owner", "editor")]
    members = [t["user"] for t in tuples if t["relation"] == "member" and t["user"].startswith("user:")]
    out: list[dict] = []
    for _ in range(50 * n):
        if len(out) >= n:
            break
        if rng.random() < 0.5:
            t = rng.choice(docs)
            q = {"user": t["user"], "relation": rng.choice(["can_view", "viewer", "editor"]), "object": t["object"]}
        else:
            q = {"user": rng.choice(members), "relation": "can_view", "object": rng.choice(docs)["object"]}
        q["context"] = {"hour": 10}
        if engine.check(q["user"], q["relation"], q["object"], context=q["context"]).allowed:
            out.append(q)
    return out


def _time_checks(engine: Engine, queries: list[dict], rounds: int) -> dict:
    """Per-check wall time and thread CPU time; p50 per round, reported as the median and best round."""
    check = engine.check
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    round_p50_wall, round_p50_cpu, all_wall = [], [], []
    for _ in range(rounds):
        w_samples, c_samples = [], []
        for q in queries:
            w0, c0 = wall(), cpu()
            check(q["user"], q["relation"], q["object"], context=q["context"])
            c_samples.append(cpu() - c0)
            w_samples.append(wall() - w0)
        w_samples.sort()
        c_samples.sort()
        round_p50_wall.append(w_samples[len(w_samples) // 2] / 1000.0)
        round_p50_cpu.append(c_samples[len(c_samples) // 2] / 1000.0)
        all_wall.extend(w_samples)
    all_wall.sort()

    def pct(p: float) -> float:
        return all_wall[min(len(all_wall) - 1, int(p * len(all_wall)))] / 1000.0

    return {
        "checks": len(all_wall),
        "p50_us": pct(0.50), "p90_us": pct(0.90), "p99_us": pct(0.99),
        "mean_us": statistics.fmean(all_wall) / 1000.0,
        "p50_us_best_round": min(round_p50_wall),
        "p50_cpu_us_median_round": statistics.median(round_p50_cpu),
        "p50_cpu_us_best_round": min(round_p50_cpu),
    }


def bench_engine(tuples: list[dict], queries: list[dict], repeat: int) -> tuple[dict, list[bool]]:
    engine = Engine()
    t0 = time.perf_counter()
    engine.write_model(dsl_to_model(MODEL_DSL))
    engine.write(tuples)
    load_s = time.perf_counter() - t0
    answers = []
    for q in queries:  # warm-up (imports, condition compilation) and answers for the CLI comparison
        r = engine.check(q["user"], q["relation"], q["object"], context=q["context"])
        assert r.error is None, r
        answers.append(r.allowed)
    granted = allowed_queries(engine, tuples, len(queries))
    stats = {
        "load_seconds": load_s,
        "random": {**_time_checks(engine, queries, repeat), "allowed_fraction": sum(answers) / len(answers)},
        "allowed": _time_checks(engine, granted, repeat),
        "mixed": _time_checks(engine, queries + granted, repeat),
    }
    return stats, answers


def _store_file(path: pathlib.Path, tuples_file: str, queries: list[dict], answers: list[bool]) -> None:
    checks = [{"user": q["user"], "object": q["object"], "context": q["context"],
               "assertions": {q["relation"]: a}} for q, a in zip(queries, answers)]
    doc = {"name": "bench", "model_file": "model.fga", "tuple_file": tuples_file,
           "tests": [{"name": "bench", "check": checks}]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def bench_cli(tuples: list[dict], queries: list[dict], answers: list[bool], n_checks: int, runs: int) -> dict | None:
    cli = fga_cli()
    if cli is None:
        return None
    n = min(n_checks, len(queries))
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        (d / "model.fga").write_text(MODEL_DSL)
        (d / "tuples.yaml").write_text(yaml.safe_dump(tuples, sort_keys=False))
        _store_file(d / "one.fga.yaml", "tuples.yaml", queries[:1], answers[:1])
        _store_file(d / "many.fga.yaml", "tuples.yaml", queries[:n], answers[:n])

        def run(name: str) -> tuple[float, dict]:
            start = time.perf_counter()
            proc = subprocess.run([str(cli), "model", "test", "--tests", str(d / name), "--verbose",
                                   "--suppress-summary"], capture_output=True, text=True, timeout=600)
            elapsed = time.perf_counter() - start
            return elapsed, {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}

        one = [run("one.fga.yaml")[0] for _ in range(runs)]
        many_runs = [run("many.fga.yaml") for _ in range(runs)]
        many = [t for t, _ in many_runs]
        last = many_runs[-1][1]
    disagreements = _count_disagreements(last["stdout"])
    t1, tn = statistics.median(one), statistics.median(many)
    return {
        "checks_in_file": n,
        "runs": runs,
        "time_1_check_s": t1,
        "time_n_checks_s": tn,
        "marginal_us_per_check": (tn - t1) / (n - 1) * 1e6 if n > 1 else None,
        "exit_code": last["rc"],
        "disagreements_with_engine": disagreements,
    }


def _count_disagreements(stdout: str) -> int | None:
    """Assertions the CLI marks failed: each is a check where OpenFGA and the engine answered differently."""
    try:
        results = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    failed = 0
    seen = 0
    for test in results if isinstance(results, list) else [results]:
        for check in test.get("check_results", []) or []:
            seen += 1
            if check.get("got") != check.get("expected") or check.get("error"):
                failed += 1
    return failed if seen else None


# --- CEL library comparison (--cel) --------------------------------------------------------------------------------

def _cel_adapters() -> dict[str, Any]:
    """name -> compile(CompiledCondition) -> evaluate(values) -> result, for each candidate CEL library."""
    import ipaddress as _ip

    from mcp_grpc.authz.engine import conditions as C

    def in_cidr(ip: Any, cidr: Any) -> bool:
        return _ip.ip_address(str(ip)) in _ip.ip_network(str(cidr), strict=False)

    adapters: dict[str, Any] = {}

    def rust(cond: Any) -> Any:
        # The engine's own evaluation (common-expression-language), unpatched.
        return lambda values: C.CompiledCondition.__dict__["_rust_evaluate_bound"](cond, values)

    adapters["common-expression-language (Rust)"] = rust

    try:
        from cel_expr_python import cel as gcel

        def gtype(pt: Any) -> Any:
            simple = {"int": gcel.Type.INT, "uint": gcel.Type.UINT, "double": gcel.Type.DOUBLE,
                      "bool": gcel.Type.BOOL, "string": gcel.Type.STRING, "bytes": gcel.Type.BYTES,
                      "duration": gcel.Type.DURATION, "timestamp": gcel.Type.TIMESTAMP,
                      "ipaddress": gcel.Type.STRING, "any": gcel.Type.DYN}
            if pt.name == "list":
                return gcel.Type.List(gtype(pt.generic))
            if pt.name == "map":
                return gcel.Type.Map(gcel.Type.STRING, gtype(pt.generic))
            return simple[pt.name]

        def cpp(cond: Any) -> Any:
            decl = gcel.FunctionDecl("in_cidr", [gcel.Overload(
                "string_in_cidr_string", gcel.Type.BOOL, [gcel.Type.STRING, gcel.Type.STRING], is_member=True,
                impl=in_cidr)])
            env = gcel.NewEnv(variables={k: gtype(v) for k, v in cond.parameters.items()}, functions=[decl])
            expr = env.compile(cond.expression)
            return lambda values: expr.eval(data=values).value()

        adapters["cel-expr-python (C++)"] = cpp
    except ImportError:
        pass

    try:
        import datetime as _dt

        import celpy
        from celpy import celtypes

        def to_cel(v: Any) -> Any:
            if isinstance(v, bool):
                return celtypes.BoolType(v)
            if isinstance(v, int):
                return celtypes.IntType(v)
            if isinstance(v, float):
                return celtypes.DoubleType(v)
            if isinstance(v, str):
                return celtypes.StringType(v)
            if isinstance(v, bytes):
                return celtypes.BytesType(v)
            if isinstance(v, _dt.datetime):
                return celtypes.TimestampType(v)
            if isinstance(v, _dt.timedelta):
                return celtypes.DurationType(v)
            if isinstance(v, list):
                return celtypes.ListType([to_cel(x) for x in v])
            if isinstance(v, dict):
                return celtypes.MapType({celtypes.StringType(k): to_cel(x) for k, x in v.items()})
            return v

        def py(cond: Any) -> Any:
            env = celpy.Environment()
            prog = env.program(env.compile(cond.expression), functions={"in_cidr": in_cidr})

            def run(values: Any) -> Any:
                out = prog.evaluate({k: to_cel(v) for k, v in values.items()})
                if isinstance(out, Exception):
                    raise out
                return bool(out) if isinstance(out, celtypes.BoolType) else out

            return run

        adapters["cel-python (pure Python)"] = py
    except ImportError:
        pass
    return adapters


def compare_cel_libraries() -> dict:
    """Run OpenFGA's conformance suite with each CEL library evaluating the conditions; time one evaluation."""
    from mcp_grpc.authz.engine import conditions as C
    from tests.authz.engine import engine_conformance

    original = C.CompiledCondition.evaluate_bound
    C.CompiledCondition._rust_evaluate_bound = original  # type: ignore[attr-defined]
    cases = [c for c in engine_conformance.load_cases()
             if c.file in ("abac_tests.yaml", "derived/check_matrix_tests.yaml",
                           "derived/listobjects_matrix_tests.yaml")]
    report: dict[str, Any] = {}
    samples = [
        ("x < 100", {"x": {"type_name": "TYPE_NAME_INT"}}, {"x": 10}),
        ('ts < timestamp("2023-10-11T10:00:00.000Z")', {"ts": {"type_name": "TYPE_NAME_TIMESTAMP"}},
         {"ts": "2023-01-01T00:00:00Z"}),
        ("user_ip.in_cidr(cidr)", {"user_ip": {"type_name": "TYPE_NAME_IPADDRESS"},
                                   "cidr": {"type_name": "TYPE_NAME_STRING"}},
         {"user_ip": "192.168.0.1", "cidr": "192.168.0.0/24"}),
    ]
    for name, make in _cel_adapters().items():
        compiled: dict[Any, Any] = {}

        def evaluate_bound(self: Any, values: Any, _make: Any = make, _compiled: Any = compiled) -> bool:
            key = (self.expression, tuple((k, str(v)) for k, v in self.parameters.items()))
            fn = _compiled.get(key)
            if fn is None:
                fn = _compiled[key] = _make(self)
            try:
                result = fn(values)
            except Exception as exc:  # noqa: BLE001
                raise C.ConditionError(str(exc)) from None
            if not isinstance(result, bool):
                raise C.ConditionError("non-bool")
            return result

        C.CompiledCondition.evaluate_bound = evaluate_bound  # type: ignore[method-assign]
        try:
            passed = total = 0
            t0 = time.perf_counter()
            for case in cases:
                for o in engine_conformance.run_case(case):
                    passed += o.passed
                    total += 1
            suite_s = time.perf_counter() - t0
        finally:
            C.CompiledCondition.evaluate_bound = original  # type: ignore[method-assign]
        timings = {}
        for expr, params, ctx in samples:
            cond = C.compile_condition("c", {"expression": expr, "parameters": params})
            fn = make(cond)
            values = cond.bind(ctx, None)
            n = 2000
            best = float("inf")
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(n):
                    fn(values)
                best = min(best, (time.perf_counter() - t0) / n * 1e6)
            timings[expr] = best
        report[name] = {"conformance_passed": passed, "conformance_total": total,
                        "suite_seconds": suite_s, "eval_us": timings}
        print(f"{name:36} conformance {passed}/{total}  " +
              "  ".join(f"{k[:18]!r}: {v:.1f} µs" for k, v in timings.items()))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tuples", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--cli-checks", type=int, default=300)
    parser.add_argument("--cli-runs", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument("--cel", action="store_true",
                        help="compare the CEL libraries on the conformance cases (conditions) instead")
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "out" / "authz_engine.json"))
    parser.add_argument("--engine-root", help="time the engine of this checkout instead (read before the import)")
    args = parser.parse_args(argv)
    if args.cel:
        report = compare_cel_libraries()
        out = pathlib.Path(args.out).with_name("authz_engine_cel.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        print(f"wrote {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out}")
        return 0

    tuples, shape = build_store(args.tuples)
    queries = build_queries(tuples, args.queries)
    engine_stats, answers = bench_engine(tuples, queries, args.repeat)
    cli_stats = None if args.no_cli else bench_cli(tuples, queries, answers, args.cli_checks, args.cli_runs)

    import mcp_grpc

    engine_root = _shown(pathlib.Path(mcp_grpc.__file__).resolve().parent.parent)
    print(f"engine: {engine_root}")
    print(f"store: {shape}")
    print(f"{'engine / query set':44} {'p50 µs':>8} {'p90 µs':>8} {'p99 µs':>8} {'mean µs':>8} {'p50 CPU µs':>11}")
    labels = {"random": "random pairs (mostly denied: full walk)", "allowed": "allowed pairs",
              "mixed": "mixed (random + allowed)"}
    for key, label in labels.items():
        st = engine_stats[key]
        print(f"{'embedded, ' + label:44} {st['p50_us']:8.1f} {st['p90_us']:8.1f} {st['p99_us']:8.1f} "
              f"{st['mean_us']:8.1f} {st['p50_cpu_us_median_round']:11.1f}")
    if cli_stats:
        print(f"{'fga CLI (OpenFGA in-memory), random pairs':44} {'':>8} {'':>8} {'':>8} "
              f"{cli_stats['marginal_us_per_check']:8.0f}   (marginal per check)")
        print(f"fga CLI: 1 check {cli_stats['time_1_check_s']:.2f} s, {cli_stats['checks_in_file']} checks "
              f"{cli_stats['time_n_checks_s']:.2f} s (median of {cli_stats['runs']}); "
              f"answers differing from the engine's: {cli_stats['disagreements_with_engine']}")
    result = {
        "benchmark": "authz_engine",
        "load_average": os.getloadavg(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "params": vars(args),
        "store": shape,
        "engine_root": engine_root,
        "embedded": engine_stats,
        "fga_cli": cli_stats,
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
