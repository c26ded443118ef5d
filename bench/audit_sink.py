"""What one audit record costs the server: ``JsonAuditSink`` (``mcp_grpc/authz/audit.py``) writing to a file, in
process, with a steady stream of events the size of a CallTool decision.

Reported per event: the caller's CPU in ``emit`` (the event loop's share), and the whole process's CPU once every
record is written (``emit`` + the writer thread: record building, ``json.dumps``, ``logging``, the file write),
plus the same for its building blocks alone (record + ``json.dumps``; ``logging`` to a file), so that the cost can be
attributed.

Run: python -m bench.audit_sink [--events 20000]   (prints JSON)
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import tempfile
import time
from typing import Any

from mcp_grpc.authz.audit import JsonAuditSink, audit_record
from mcp_grpc.contract import AuditEvent, CheckOutcome


class DequeAuditSink:
    """A prototype, NOT used by the product: ``JsonAuditSink`` with its ``queue.Queue`` replaced by a ``deque`` that
    the writer thread drains every ``interval`` seconds. ``emit`` is then one atomic ``append`` (no lock, no
    ``Condition.notify`` waking the writer, no GIL hand-off per call); records go out through the same ``logging``
    path in batches. Bounded like the original (events past ``max_pending`` are dropped and counted).

    Exists to measure the fix suggested for ``mcp_grpc/authz/audit.py`` (see BENCHMARKS.md)."""

    def __init__(self, *, logger: str, handler: logging.Handler, interval: float = 0.05,
                 max_pending: int = 100_000) -> None:
        import collections
        import threading

        self.logger = logging.getLogger(logger)
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(handler)
        self.logger.propagate = False
        self._handler = handler
        self._pending: collections.deque[AuditEvent] = collections.deque()
        self._max_pending = max_pending
        self._interval = interval
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="audit-deque", daemon=True)
        self._thread.start()

    def emit(self, event: AuditEvent) -> None:
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            return
        self._pending.append(event)

    def _drain(self) -> None:
        pending = self._pending
        while pending:
            event = pending.popleft()
            self.logger.info(json.dumps(audit_record(event), separators=(",", ":"), default=str))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._drain()
        self._drain()

    def flush(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._pending

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.logger.removeHandler(self._handler)
        self._handler.close()


def event() -> AuditEvent:
    return AuditEvent(
        time=time.time(),
        principal="spiffe://bench.example/bench/agent",
        proven_by="x509",
        service="model_context_protocol.Mcp",
        method="CallTool",
        kind="tool",
        target="echo",
        decision="allow",
        reason="",
        checks=(CheckOutcome("can_call", "tool:bench/echo", "allowed"),),
        latency_ms=0.021,
        peer="ipv4:127.0.0.1:40000",
        arguments={"text": "hi"},
    )


def measure(events: int) -> dict[str, Any]:
    sample = event()
    results: dict[str, Any] = {"events": events}
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        # The sink as the full-stack server uses it (json_audit_sink(path)).
        handler = logging.FileHandler(pathlib.Path(tmp) / "audit.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        sink = JsonAuditSink(logger="bench.audit.sink", handler=handler)
        process0, thread0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
        for _ in range(events):
            sink.emit(sample)
        emit_thread = time.thread_time() - thread0
        drained = sink.flush(timeout=120)
        results["json_audit_sink"] = {
            "drained": drained,
            "dropped": sink.dropped,
            "emit_caller_cpu_us": round(1e6 * emit_thread / events, 2),
            "process_cpu_us_per_record": round(1e6 * (time.process_time() - process0) / events, 2),
            "wall_us_per_record": round(1e6 * (time.perf_counter() - wall0) / events, 2),
        }
        sink.close()

        # Paced like a server at ~2,000 calls/s: between two events the caller busy-works 500 µs, so the writer
        # thread goes idle and is woken for nearly every event (a futex wake, then GIL hand-offs with the caller).
        # The cost per record is the process CPU minus the same loop without the sink.
        def paced(emit: Any, n: int) -> float:
            process0 = time.process_time()
            for _ in range(n):
                emit(sample)
                until = time.perf_counter() + 0.0005
                while time.perf_counter() < until:
                    pass
            return time.process_time() - process0

        n = max(1, events // 10)
        baseline = paced(lambda e: None, n)
        for name, factory in (("json_audit_sink", JsonAuditSink), ("deque_prototype", DequeAuditSink)):
            handler = logging.FileHandler(pathlib.Path(tmp) / f"paced-{name}.log", encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(message)s"))
            sink = factory(logger=f"bench.audit.paced.{name}", handler=handler)
            process0 = time.process_time()
            paced(sink.emit, n)
            sink.flush(timeout=60)
            spent = time.process_time() - process0
            sink.close()
            results[f"{name}_paced_2000_per_s"] = {
                "events": n,
                "process_cpu_us_per_record": round(1e6 * (spent - baseline) / n, 2),
            }

        # Building blocks, on one thread.
        cpu0 = time.thread_time()
        for _ in range(events):
            json.dumps(audit_record(sample), separators=(",", ":"), default=str)
        results["record_and_json_us"] = round(1e6 * (time.thread_time() - cpu0) / events, 2)

        logger = logging.getLogger("bench.audit.plain")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        plain = logging.FileHandler(pathlib.Path(tmp) / "plain.log", encoding="utf-8")
        plain.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(plain)
        line = json.dumps(audit_record(sample), separators=(",", ":"))
        cpu0 = time.thread_time()
        for _ in range(events):
            logger.info(line)
        results["logging_to_file_per_line_us"] = round(1e6 * (time.thread_time() - cpu0) / events, 2)
        logger.removeHandler(plain)
        plain.close()

        with open(pathlib.Path(tmp) / "batched.log", "a", encoding="utf-8") as f:
            cpu0 = time.thread_time()
            batch: list[str] = []
            for i in range(events):
                batch.append(line)
                if len(batch) == 256:
                    f.write("\n".join(batch) + "\n")
                    batch.clear()
            f.write("\n".join(batch) + "\n")
            f.flush()
        results["batched_file_write_per_line_us"] = round(1e6 * (time.thread_time() - cpu0) / events, 2)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.events), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
