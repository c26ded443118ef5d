"""A real SPIRE server and agent for tests, as subprocesses on 127.0.0.1 and Unix sockets in a short temp folder.

    spire = SpireServer(binaries["spire-server"], trust_domain="example.org").start()
    agent = SpireAgent(binaries["spire-agent"], spire).start()          # join-token node attestation
    spire.entry_create(SERVER_ID, agent.spiffe_id, ["unix:uid:0"], dns=["payments.local"])
    agent.wait_for_entries(1)                                           # the agent has synced them
    ... WorkloadX509Source(agent.socket) ...
    agent.stop(); spire.stop()

Node attestation is ``join_token``; workloads are attested by the agent's ``unix`` plugin (uid, gid and, with
``discover_workload_path``, path selectors). Entries are made with ``spire-server entry create`` as an operator
would. Both processes are started in their own sessions and stopped by PID (SIGTERM, then SIGKILL after a bound).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any, Sequence


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SpireError(RuntimeError):
    pass


class _Process:
    name = "spire"

    def __init__(self, binary: os.PathLike[str] | str, workdir: pathlib.Path) -> None:
        self.binary = str(binary)
        self.workdir = workdir
        self.log_path = workdir / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _launch(self, config: pathlib.Path) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([self.binary, "run", "-config", str(config)], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, cwd=self.workdir)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _wait_healthy(self, socket_path: pathlib.Path, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SpireError(f"{self.name} exited with {self.process.returncode}; its log:\n{self.log()[-4000:]}")
            if socket_path.exists():
                proc = subprocess.run([self.binary, "healthcheck", "-socketPath", str(socket_path)],
                                      capture_output=True, text=True, timeout=10)
                if proc.returncode == 0:
                    return
                last = (proc.stdout + proc.stderr).strip()
            time.sleep(0.2)
        self.stop()
        raise SpireError(f"{self.name} was not healthy within {timeout:.0f} s ({last}); its log:\n{self.log()[-4000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class SpireServer(_Process):
    name = "spire-server"

    def __init__(
        self,
        binary: os.PathLike[str] | str,
        *,
        trust_domain: str = "example.org",
        ca_ttl: str = "24h",
        default_x509_svid_ttl: str = "1h",
        default_jwt_svid_ttl: str = "5m",
        workdir: pathlib.Path | None = None,
    ) -> None:
        # short: the sockets live here and Unix socket paths must stay under 108 bytes
        workdir = workdir or pathlib.Path(tempfile.mkdtemp(prefix="spire"))
        workdir.chmod(0o755)  # workloads of other uids reach the agent's socket through it
        super().__init__(binary, workdir)
        self.owns_workdir = True
        self.trust_domain = trust_domain
        self.ca_ttl = ca_ttl
        self.default_x509_svid_ttl = default_x509_svid_ttl
        self.default_jwt_svid_ttl = default_jwt_svid_ttl
        self.socket_path = workdir / "server.sock"
        self.port = 0

    def config(self) -> str:
        data = self.workdir / "server-data"
        return f"""
server {{
    bind_address = "127.0.0.1"
    bind_port = "{self.port}"
    socket_path = "{self.socket_path}"
    trust_domain = "{self.trust_domain}"
    data_dir = "{data}"
    log_level = "INFO"
    ca_ttl = "{self.ca_ttl}"
    default_x509_svid_ttl = "{self.default_x509_svid_ttl}"
    default_jwt_svid_ttl = "{self.default_jwt_svid_ttl}"
    ca_key_type = "ec-p256"
}}
plugins {{
    DataStore "sql" {{
        plugin_data {{
            database_type = "sqlite3"
            connection_string = "{data}/datastore.sqlite3"
        }}
    }}
    KeyManager "memory" {{
        plugin_data {{}}
    }}
    NodeAttestor "join_token" {{
        plugin_data {{}}
    }}
}}
"""

    def start(self, timeout: float = 60.0, attempts: int = 3) -> "SpireServer":
        for attempt in range(attempts):
            self.port = _free_port()
            config = self.workdir / "server.conf"
            config.write_text(self.config())
            self._launch(config)
            try:
                self._wait_healthy(self.socket_path, timeout)
                return self
            except SpireError:
                if attempt == attempts - 1 or "address already in use" not in self.log():
                    raise
        raise AssertionError("unreachable")

    def cli(self, *args: str, timeout: float = 30.0) -> Any:
        """``spire-server <args> -socketPath <ours> -output json``, parsed; a failure raises with SPIRE's words."""
        command = [self.binary, *args, "-socketPath", str(self.socket_path), "-output", "json"]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise SpireError(f"{' '.join(command[:3])} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()}")
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def join_token(self, ttl: int = 600) -> str:
        return self.cli("token", "generate", "-ttl", str(ttl))["value"]

    def bundle_pem(self) -> str:
        command = [self.binary, "bundle", "show", "-socketPath", str(self.socket_path), "-format", "pem"]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
        return proc.stdout

    def entry_create(
        self,
        spiffe_id: str,
        parent_id: str,
        selectors: Sequence[str],
        *,
        dns: Sequence[str] = (),
        x509_svid_ttl: int | None = None,
        jwt_svid_ttl: int | None = None,
    ) -> str:
        """``spire-server entry create``; returns the new entry's id."""
        args = ["entry", "create", "-spiffeID", spiffe_id, "-parentID", parent_id]
        for selector in selectors:
            args += ["-selector", selector]
        for name in dns:
            args += ["-dns", name]
        if x509_svid_ttl is not None:
            args += ["-x509SVIDTTL", str(x509_svid_ttl)]
        if jwt_svid_ttl is not None:
            args += ["-jwtSVIDTTL", str(jwt_svid_ttl)]
        [result] = self.cli(*args)["results"]
        status = result.get("status") or {}
        if status.get("code", 0) != 0:
            raise SpireError(f"entry create {spiffe_id}: {status}")
        return result["entry"]["id"]

    def entry_delete(self, entry_id: str) -> None:
        self.cli("entry", "delete", "-entryID", entry_id)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class SpireAgent(_Process):
    name = "spire-agent"

    def __init__(self, binary: os.PathLike[str] | str, server: SpireServer, *, discover_workload_path: bool = True,
                 name: str = "agent") -> None:
        workdir = server.workdir / name
        workdir.mkdir(mode=0o755, exist_ok=True)
        super().__init__(binary, workdir)
        self.server = server
        self.discover_workload_path = discover_workload_path
        self.socket_path = workdir / "api.sock"
        self.admin_socket_path = workdir / "admin.sock"
        self.token = ""

    @property
    def socket(self) -> str:
        """The Workload API endpoint in the form py-spiffe and ``$SPIFFE_ENDPOINT_SOCKET`` take."""
        return f"unix://{self.socket_path}"

    @property
    def spiffe_id(self) -> str:
        """The agent's own ID after join-token attestation: the parent of the workload entries it serves."""
        return f"spiffe://{self.server.trust_domain}/spire/agent/join_token/{self.token}"

    def config(self) -> str:
        return f"""
agent {{
    data_dir = "{self.workdir / 'data'}"
    log_level = "INFO"
    server_address = "127.0.0.1"
    server_port = "{self.server.port}"
    socket_path = "{self.socket_path}"
    trust_bundle_path = "{self.workdir / 'bootstrap.pem'}"
    trust_domain = "{self.server.trust_domain}"
    join_token = "{self.token}"
}}
plugins {{
    NodeAttestor "join_token" {{
        plugin_data {{}}
    }}
    KeyManager "memory" {{
        plugin_data {{}}
    }}
    WorkloadAttestor "unix" {{
        plugin_data {{
            discover_workload_path = {str(self.discover_workload_path).lower()}
        }}
    }}
}}
"""

    def prepare(self) -> "SpireAgent":
        """Take a join token, so entries can name :attr:`spiffe_id` as their parent before the agent starts (its
        first sync then already carries them)."""
        if not self.token:
            self.token = self.server.join_token()
        return self

    def start(self, timeout: float = 60.0) -> "SpireAgent":
        self.prepare()
        (self.workdir / "bootstrap.pem").write_text(self.server.bundle_pem())
        config = self.workdir / "agent.conf"
        config.write_text(self.config())
        self._launch(config)
        self._wait_healthy(self.socket_path, timeout)
        return self

    def wait_for_svids(self, count: int, timeout: float = 30.0) -> None:
        """The agent answers healthy before its first entry sync (about 5 s later); until then every workload is
        told "no identity issued". Wait until it has minted ``count`` X.509-SVIDs (its log says so)."""
        deadline = time.monotonic() + timeout
        while self.log().count('msg="Creating X509-SVID"') < count:
            if time.monotonic() > deadline:
                raise SpireError(f"spire-agent minted fewer than {count} SVIDs in {timeout:.0f} s:\n{self.log()[-3000:]}")
            time.sleep(0.2)
