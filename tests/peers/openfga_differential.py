"""A second oracle for the embedded engine: a real OpenFGA server (``openfga run``) answering the random stores of
tests/authz/differential/fga_differential.py.

The generator, the answer keys, the comparison (``Comparison``, ``compare_answers``), the arbitration of list
answers by the oracle's own Check and the report (``summarize``) are the CLI differential's, reused: only the
oracle differs. For each test of a store file, a fresh store on the server gets the model (turned into JSON by the
``fga`` CLI's transformer, OpenFGA's own language package, not by our parser) and the store's tuples plus the test's
own; every Check, ListObjects and ListUsers of the file is asked over the server's HTTP API with the file's
contexts; the store is deleted afterwards.

Where the server and our engine differ, three things are ruled out before a mismatch counts against us, each said
in the report: the server answering the same store differently a second time (``fga_unstable``); a list answer
contradicted by the server's own Check on every item that differs, where our list agrees with that Check
(``fga_inconsistent``); and the ``fga`` CLI (which embeds another OpenFGA version) answering differently from the
server (``oracles_differ``).

Seen so far (500 stores, seeds 100000..100499): the server and the CLI differ on 3 ListObjects, where a tuple's
condition misses a parameter below an intersection or exclusion: OpenFGA v1.22.1's ListObjects pipeline, on by
default (pkg/server/config/config.go DefaultListObjectsPipelineEnabled), returns the tuple iterator's condition error
as the request's (internal/listobjects/pipeline/store.go, "iterator: %w"), where the CLI's OpenFGA v1.22.0, our
engine, and v1.22.1 itself with --listObjects-pipeline-enabled=false answer []. The server is run as deployed
(pipeline on), so these are said, not counted.

The HTTP calls use the standard library (tests/peers/openfga_peer.py), not OpenFgaBackend: the oracle shares no
code with what it judges.

    .venv/bin/python -m tests.peers.openfga_differential --stores 500 --seed 100000     (needs `make peers`)
"""

from __future__ import annotations

import functools
import json
import pathlib
import subprocess
import sys
from typing import Any, Iterable

import yaml

from tests.authz.differential import fga_differential as differential
from tests.authz.differential.fga_differential import Answer, Comparison, _key
from tests.peers.openfga_peer import OpenFgaError, OpenFgaServer

ORACLE = "openfga"


@functools.lru_cache(maxsize=64)
def model_json(dsl: str) -> str:
    """The model as JSON, by ``fga model transform`` (OpenFGA's language package), not by our parser."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".fga", encoding="utf-8") as handle:
        handle.write(dsl)
        handle.flush()
        completed = subprocess.run(
            [str(differential.FGA_BINARY), "model", "transform", "--file", handle.name,
             "--input-format", "fga", "--output-format", "json"],
            capture_output=True, text=True, timeout=30,
        )
    if completed.returncode != 0 or not completed.stdout.strip().startswith("{"):
        reason = (completed.stderr or completed.stdout).strip()
        raise OpenFgaError(0, f"fga model transform refused the model: {reason}")
    return completed.stdout


def _user_string(user: dict[str, Any]) -> str:
    """A ListUsers result as the CLI prints it: ``type:id``, ``type:id#relation`` or ``type:*``."""
    if "object" in user:
        return f"{user['object']['type']}:{user['object']['id']}"
    if "userset" in user:
        userset = user["userset"]
        return f"{userset['type']}:{userset['id']}#{userset['relation']}"
    return f"{user['wildcard']['type']}:*"


class ServerOracle:
    """Answers store documents on one running server (a ``DocumentOracle`` of fga_differential)."""

    def __init__(self, server: OpenFgaServer) -> None:
        self.server = server
        self.requests = 0

    def __call__(self, document: dict[str, Any]) -> tuple[dict[str, Answer] | None, str]:
        try:
            model = json.loads(model_json(document["model"]))
        except OpenFgaError as exc:
            return None, str(exc)
        answers: dict[str, Answer] = {}
        for test in document["tests"]:
            store_id = self.server.create_store("differential")
            try:
                refused = self._answer_test(store_id, model, document.get("tuples") or [], test, answers)
            finally:
                self._ask("DELETE", f"/stores/{store_id}")
            if refused is not None:
                return None, refused
        return answers, ""

    def _ask(self, method: str, path: str, body: Any = None) -> Any:
        self.requests += 1
        return self.server.request(method, path, body)

    def _answer_test(
        self, store_id: str, model: dict[str, Any], store_tuples: list[dict[str, Any]], test: dict[str, Any],
        answers: dict[str, Answer],
    ) -> str | None:
        """Answers of one test into ``answers``; the server's reason when it refuses the model or a tuple."""
        try:
            model_id = self.server.write_model(store_id, model)
            tuples = list(store_tuples) + list(test.get("tuples") or [])
            for start in range(0, len(tuples), 100):
                self._ask("POST", f"/stores/{store_id}/write", {
                    "writes": {"tuple_keys": tuples[start:start + 100]}, "authorization_model_id": model_id})
        except OpenFgaError as exc:
            return str(exc)
        name = test["name"]
        base = f"/stores/{store_id}"

        def ask(path: str, body: dict[str, Any], context: Any) -> Any:
            body["authorization_model_id"] = model_id
            if context:
                body["context"] = context
            return self._ask("POST", f"{base}/{path}", body)

        for entry in test.get("check") or []:
            context = entry.get("context")
            for relation in entry["assertions"]:
                key = _key("check", name, relation, user=entry["user"], target=entry["object"], context=context)
                try:
                    answer = ask("check", {"tuple_key": {"user": entry["user"], "relation": relation,
                                                         "object": entry["object"]}}, context)
                    answers[key] = Answer(bool(answer.get("allowed")), False)
                except OpenFgaError:
                    answers[key] = Answer(None, True)
        for entry in test.get("list_objects") or []:
            context = entry.get("context")
            for relation in entry["assertions"]:
                key = _key("list_objects", name, relation, user=entry["user"], target=entry["type"], context=context)
                try:
                    answer = ask("list-objects", {"type": entry["type"], "relation": relation, "user": entry["user"]},
                                 context)
                    answers[key] = Answer(sorted(answer.get("objects") or []), False)
                except OpenFgaError:
                    answers[key] = Answer(None, True)
        for entry in test.get("list_users") or []:
            context = entry.get("context")
            filters = entry["user_filter"]
            names = [f"{f['type']}#{f['relation']}" if f.get("relation") else f["type"] for f in filters]
            object_type, _, object_id = entry["object"].partition(":")
            for relation in entry["assertions"]:
                key = _key("list_users", name, relation, user=names, target=entry["object"], context=context)
                users: set[str] = set()
                try:
                    for user_filter in filters:  # the server takes exactly one filter per request
                        answer = ask("list-users", {"object": {"type": object_type, "id": object_id},
                                                    "relation": relation, "user_filters": [user_filter]}, context)
                        users.update(_user_string(u) for u in answer.get("users") or [])
                    answers[key] = Answer(sorted(users), False)
                except OpenFgaError:
                    answers[key] = Answer(None, True)
        return None


def compare_with_server(server: OpenFgaServer, path: pathlib.Path, *, consult_cli: bool = True) -> Comparison:
    """Our engine against ``server`` on the store file ``path`` (see the module's docstring for what is set aside)."""
    oracle = ServerOracle(server)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    comparison = Comparison(path, oracle=ORACLE)
    theirs, their_message = oracle(document)
    ours, our_message = differential.run_ours(path)
    if theirs is None or ours is None:
        if theirs is None and ours is None:
            comparison.both_refused = True
        else:
            comparison.store_failure = f"openfga: {their_message or 'ran'}; ours: {our_message or 'ran'}"
        return comparison
    differential.compare_answers(theirs, ours, comparison)
    if comparison.list_mismatches:
        differential.arbitrate_lists(comparison, oracle)
    if comparison.mismatches or comparison.error_mismatches:
        again, _ = oracle(document)
        if again is not None:
            differential.set_aside_unstable(comparison, theirs, again)
    if consult_cli and (comparison.mismatches or comparison.error_mismatches):
        cli, _ = differential.run_fga(path)
        if cli is not None:
            differential.set_aside_oracles_differ(comparison, theirs, cli, "the fga CLI")
    return comparison


def compare_seeds(server: OpenFgaServer, seeds: Iterable[int], directory: pathlib.Path,
                  workers: int = 2) -> list[Comparison]:
    from concurrent.futures import ThreadPoolExecutor

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in seeds:
        path = directory / f"seed-{seed}.fga.yaml"
        differential.write_store(differential.generate_store(seed), path)
        paths.append(path)
    # the server works in its own process, so threads overlap its answers with our engine's
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p: compare_with_server(server, p), paths))


def describe(comparison: Comparison) -> str:
    return comparison.describe(f"{comparison.path.name}: the engine and the OpenFGA server disagree")


def report(comparisons: list[Comparison]) -> str:
    """The summary line, then every line set aside (not counted) and every mismatch."""
    lines = []
    for comparison in comparisons:
        name = comparison.path.name
        lines.extend(f"{name}: (not counted) {line}" for line in comparison.fga_inconsistent)
        lines.extend(f"{name}: (skipped: the server disagrees with itself) {line}" for line in comparison.fga_unstable)
        lines.extend(f"{name}: (not counted: the CLI and the server differ) {line}"
                     for line in comparison.oracles_differ)
        if comparison.disagrees:
            lines.append(describe(comparison))
    return "\n".join([differential.summarize(comparisons), *lines])


def main(argv: list[str] | None = None) -> int:
    import argparse
    import shutil
    import tempfile

    from tests.peers import peer_binaries
    from tests.peers.openfga_peer import OPENFGA_KEY

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--keep", type=pathlib.Path, help="write the store files here and keep them")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not peer_binaries.available("openfga"):
        print(f"openfga {peer_binaries.OPENFGA_VERSION} is not built: run `make peers`", file=sys.stderr)
        return 2
    directory = args.keep or pathlib.Path(tempfile.mkdtemp(prefix="openfga-differential-"))
    from tests.peers.conftest import ORACLE_ARGS

    server = OpenFgaServer(peer_binaries.path("openfga"), preshared_keys=[OPENFGA_KEY], extra_args=ORACLE_ARGS).start()
    try:
        comparisons = compare_seeds(server, range(args.seed, args.seed + args.stores), directory, args.workers)
        print(report(comparisons))
        return 1 if any(c.disagrees for c in comparisons) else 0
    finally:
        server.stop()
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
