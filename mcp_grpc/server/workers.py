"""``serve --workers N``: N worker processes on one port, and the supervisor that keeps them.

One Python process serves on one core (the GIL); N workers serve on N. Each worker is a fresh process running the
same ``serve`` command (never a fork of a process that already runs gRPC's threads), so each builds its own app,
authorization engine, decision cache and audit sink. They listen on the same host:port with ``SO_REUSEPORT``, and the
kernel spreads new connections over them (a connection stays with the worker that accepted it).

The supervisor (``Supervisor.run``):

- with port 0, binds a free port itself (``SO_REUSEPORT``, not listening) and gives that port to every worker, so
  they share one concrete port; it holds that socket until every worker listens, so nobody else takes the port;
- logs ``mcp-grpc serving 'NAME' on ADDRESS (N workers: pids ...)`` once, when every worker says it listens (the
  workers themselves do not log that line, so a script waiting for "serving" waits for all of them);
- forwards SIGTERM and SIGINT to every worker, so each drains (``runtime.serve``), waits ``drain_seconds`` plus a
  margin for them (then kills what is left), and exits 0 when every worker stopped cleanly, 1 otherwise;
- restarts a worker that exits while serving (a crash, ``kill -9``) after a backoff that doubles from
  ``min_backoff`` up to ``max_backoff`` and starts over once a worker has served ``stable_after`` seconds;
- stops every worker and exits 2 when a worker refuses to start (exit code 2: a bad configuration, a port in use)
  or when any worker exits before all of them first listened: restarting a worker that cannot start would only
  loop.

Each worker talks to the supervisor over one socketpair (``worker_started``): it writes one JSON line when it
listens; when the supervisor goes away (its end closes, even on ``kill -9``), the worker signals itself SIGTERM and
drains, so no worker outlives its supervisor.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from typing import Any, Callable, Mapping, Sequence

__all__ = ["FATAL_EXIT", "Supervisor", "reserve_port", "worker_started"]

log = logging.getLogger("mcp_grpc.server")

#: The exit code of a worker (and of ``serve``) that refuses to start.
FATAL_EXIT = 2


def reserve_port(host: str, port: int) -> tuple[int, socket.socket | None]:
    """``port`` itself when it is not 0; else a free port of ``host``, with the bound (not listening) socket that
    holds it. The socket has ``SO_REUSEPORT``, so the workers can bind the same port while it is held."""
    if port != 0:
        return port, None
    family, kind, proto, _, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    holder = socket.socket(family, kind, proto)
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(address)
    except OSError:
        holder.close()
        raise
    return holder.getsockname()[1], holder


def worker_started(fd: int) -> Callable[[Any], None]:
    """The ``on_started`` hook of a worker (``runtime.serve``): tell the supervisor on socket ``fd`` that this worker
    listens, then watch that socket and drain (SIGTERM to itself) when the supervisor is gone."""
    channel = socket.socket(fileno=fd)

    def started(server: Any) -> None:
        line = json.dumps({"pid": os.getpid(), "name": server.app.name, "address": server.address}) + "\n"
        try:
            channel.sendall(line.encode())
        except OSError:  # the supervisor is already gone: drain and exit now
            os.kill(os.getpid(), signal.SIGTERM)
            return
        threading.Thread(target=_watch_supervisor, args=(channel,), name="mcp-grpc-supervisor", daemon=True).start()

    return started


def _watch_supervisor(channel: socket.socket) -> None:
    try:
        while channel.recv(64):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


@dataclasses.dataclass
class _Slot:
    """One worker position: its index stays, its process changes on restart."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    channel: socket.socket | None = None
    buffer: bytes = b""
    ready: bool = False
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    returncode: int | None = None


class Supervisor:
    """Runs ``count`` workers, each the command ``command(index, fd)`` (``fd``: the worker's end of its socketpair,
    which it hands to ``worker_started``) with environment ``env`` (default: ours). See the module docstring for
    what it guarantees."""

    def __init__(
        self,
        count: int,
        command: Callable[[int, int], Sequence[str]],
        *,
        drain_seconds: float = 5.0,
        stop_margin: float = 10.0,
        min_backoff: float = 0.5,
        max_backoff: float = 10.0,
        stable_after: float = 10.0,
        port_holder: socket.socket | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self.count = count
        self._command = command
        self._stop_timeout = drain_seconds + stop_margin
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._stable_after = stable_after
        self._port_holder = port_holder
        self._env = dict(env) if env is not None else None
        self._slots = [_Slot(index) for index in range(count)]
        self._signal: int | None = None
        self._stopping_since: float | None = None
        self._stop_signal = int(signal.SIGTERM)
        self._announced = False
        self._result = 0
        self._address = ""
        self._name = ""

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers alive now."""
        return [s.process.pid for s in self._slots if s.process is not None and s.process.poll() is None]

    def run(self) -> int:
        """Start the workers and keep them until SIGTERM/SIGINT (or a worker that cannot start); the exit code."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in self._slots:
                self._spawn(slot)
            while not self._done():
                if self._signal is not None:  # handled here, not in the handler: Popen is not reentrant
                    signum, self._signal = self._signal, None
                    self._begin_stop(signum)
                self._step()
                time.sleep(0.05)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._release_port()
            for slot in self._slots:
                self._close(slot)
        return self._result

    # -- signals and stopping --

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._signal = signum

    def _begin_stop(self, signum: int) -> None:
        if self._stopping_since is None:
            self._stopping_since = time.monotonic()
            self._stop_signal = signum or signal.SIGTERM
            if signum != 0:
                log.info("signal received: stopping %d workers (each drains)", self.count)
        for slot in self._slots:
            slot.restart_at = None
            if slot.process is not None and slot.process.poll() is None:
                try:
                    slot.process.send_signal(signum or signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def _done(self) -> bool:
        if self._stopping_since is None:
            return False
        alive = [s for s in self._slots if s.process is not None and s.process.poll() is None]
        for slot in self._slots:  # collect the exit codes of the drain
            if slot.process is not None and slot.process.poll() is not None and slot.returncode is None:
                slot.returncode = slot.process.returncode
                # -signal: the worker got the stop before it could handle it (still starting): nothing to drain
                if slot.returncode not in (0, -self._stop_signal) and self._result == 0:
                    self._result = 1
        if alive and time.monotonic() - self._stopping_since > self._stop_timeout:
            for slot in alive:
                log.error("worker %d (pid %d) still running %.0fs after the stop: killing it", slot.index,
                          slot.process.pid, self._stop_timeout)  # type: ignore[union-attr]
                slot.process.kill()  # type: ignore[union-attr]
                slot.process.wait()  # type: ignore[union-attr]
            if self._result == 0:
                self._result = 1
            return True
        return not alive

    # -- workers --

    def _spawn(self, slot: _Slot) -> None:
        ours, theirs = socket.socketpair()
        try:
            slot.process = subprocess.Popen(list(self._command(slot.index, theirs.fileno())),
                                            pass_fds=(theirs.fileno(),), env=self._env)
        finally:
            theirs.close()
        ours.setblocking(False)
        slot.channel, slot.buffer, slot.ready = ours, b"", False
        slot.started_at, slot.restart_at, slot.returncode = time.monotonic(), None, None

    def _close(self, slot: _Slot) -> None:
        if slot.channel is not None:
            slot.channel.close()
            slot.channel = None

    def _step(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            if slot.restart_at is not None and now >= slot.restart_at and self._stopping_since is None:
                self._spawn(slot)
                continue
            if slot.process is None or slot.restart_at is not None:
                continue
            self._read(slot)
            code = slot.process.poll()
            if code is not None and self._stopping_since is None:
                self._exited(slot, code, now)
        if not self._announced and self._stopping_since is None and all(s.ready for s in self._slots):
            self._announced = True
            self._release_port()
            log.info("mcp-grpc serving %r on %s (%d workers: pids %s)", self._name, self._address, self.count,
                     " ".join(str(pid) for pid in self.pids))

    def _read(self, slot: _Slot) -> None:
        if slot.channel is None or slot.ready:
            return
        try:
            data = slot.channel.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        slot.buffer += data
        if b"\n" not in slot.buffer:
            return
        message = json.loads(slot.buffer.split(b"\n", 1)[0])
        slot.ready = True
        self._name, self._address = message["name"], message["address"]
        if self._announced:
            log.info("worker %d restarted: pid %d serving on %s", slot.index, message["pid"], self._address)

    def _exited(self, slot: _Slot, code: int, now: float) -> None:
        assert slot.process is not None
        how = f"exit code {code}" if code >= 0 else f"signal {_signal_name(-code)}"
        slot.returncode = code  # handled here: a stop while it waits for its restart does not count it again
        self._close(slot)
        if code == FATAL_EXIT or not self._announced:
            log.error("worker %d (pid %d) could not start (%s): stopping every worker", slot.index,
                      slot.process.pid, how)
            self._result = FATAL_EXIT
            self._begin_stop(0)
            return
        slot.failures = 1 if now - slot.started_at >= self._stable_after else slot.failures + 1
        delay = min(self._max_backoff, self._min_backoff * 2 ** (slot.failures - 1))
        log.error("worker %d (pid %d) ended unexpectedly (%s): restarting it in %.1fs", slot.index,
                  slot.process.pid, how, delay)
        slot.ready = False
        slot.restart_at = now + delay

    def _release_port(self) -> None:
        if self._port_holder is not None:
            self._port_holder.close()
            self._port_holder = None
