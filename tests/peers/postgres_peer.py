"""A PostgreSQL server of the test's own, for one OpenFGA run with ``--datastore-engine postgres``.

    bin_dir = require_postgres()
    db = PostgresServer(bin_dir).start()          # initdb into a temp folder, pg_ctl start, loopback port + socket
    ... openfga migrate --datastore-engine postgres --datastore-uri db.uri ...
    db.stop()                                     # by the postmaster's PID, then the folder is removed

The binaries are Debian's (``make postgres``: apt-get install postgresql), found on PATH or in
/usr/lib/postgresql/<version>/bin. Without them the tests skip; under CI=true they fail, as a missing peer does
(tests/peers/peer_binaries.py). PostgreSQL refuses to run as root: under root, initdb and the server run as the
``postgres`` user (setpriv), and the data folder is theirs. Authentication is ``trust`` on 127.0.0.1 and the
socket only; nothing listens elsewhere.
"""

from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from tests.support.ports import free_port

__all__ = ["PostgresServer", "find_postgres", "require_postgres"]

PROGRAMS = ("initdb", "pg_ctl", "postgres")


def find_postgres() -> pathlib.Path | None:
    """The folder holding initdb, pg_ctl and postgres: PATH first, else the newest /usr/lib/postgresql/*/bin."""
    on_path = [shutil.which(name) for name in PROGRAMS]
    if all(on_path):
        folders = {pathlib.Path(os.path.realpath(p)).parent for p in on_path if p}
        if len(folders) == 1:
            return folders.pop()
    candidates = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in PROGRAMS):
            return folder
    return None


def _run_as() -> list[str]:
    """The prefix that runs PostgreSQL's programs as a user it accepts: nothing unless we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return []
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]


def require_postgres() -> pathlib.Path:
    """The binaries' folder; skip (fail under CI=true) without them, or as root without a ``postgres`` user."""
    folder = find_postgres()
    message = None
    if folder is None:
        message = ("PostgreSQL binaries (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin;"
                   " run `make postgres` (apt-get install postgresql)")
    elif os.geteuid() == 0 and not _run_as():
        message = "running as root without a `postgres` user: PostgreSQL refuses to run as root"
    if message:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires PostgreSQL: {message}", pytrace=False)
        pytest.skip(message)
    assert folder is not None
    return folder


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie: the postmaster is pg_ctl's child, not ours, so we cannot reap it)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "?")
    return state not in ("Z", "X")


class PostgresServer:
    """One postmaster on 127.0.0.1:``port`` and a Unix socket in its temp folder; database ``postgres``, user
    ``openfga`` (the initdb superuser, trusted)."""

    USER = "openfga"

    def __init__(self, bin_dir: os.PathLike[str] | str) -> None:
        self.bin_dir = pathlib.Path(bin_dir)
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="pg-"))
        self.data = self.workdir / "data"
        self.log_path = self.workdir / "postgres.log"
        self.port = 0
        self.pid: int | None = None
        self.prefix = _run_as()

    @property
    def uri(self) -> str:
        return f"postgres://{self.USER}@127.0.0.1:{self.port}/postgres?sslmode=disable"

    @property
    def socket_dir(self) -> pathlib.Path:
        return self.workdir

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=timeout,
                                   stdin=subprocess.DEVNULL, cwd=self.workdir)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({completed.returncode}): "
                               f"{(completed.stderr or completed.stdout)[-3000:]}\n{self.log()[-3000:]}")
        return completed

    def start(self, attempts: int = 3) -> "PostgresServer":
        if self.prefix:
            record = pwd.getpwnam("postgres")
            os.chown(self.workdir, record.pw_uid, record.pw_gid)
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", self.USER, "--auth=trust",
                  "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C")
        for attempt in range(attempts):
            self.port = free_port()
            options = (f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c full_page_writes=off -c synchronous_commit=off")
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path),
                          "-o", options, "-w", "-t", "60", "start", timeout=90)
                break
            except RuntimeError:
                if attempt == attempts - 1:  # a port taken between our probe and its bind: try another
                    self.remove()
                    raise
        self.pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT to the postmaster, by PID), SIGKILL past ``timeout``."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
