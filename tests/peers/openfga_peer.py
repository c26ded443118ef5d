"""A real OpenFGA server (``openfga run``) for tests: memory datastore, loopback only, random ports, stopped by PID.

    server = OpenFgaServer(binary, preshared_keys=["k1"]).start()
    store = server.create_store("t")
    model_id = server.write_model(store, model_json)
    server.write_tuples(store, model_id, tuples)
    ...  OpenFgaBackend(server.url, store, model_id=model_id, api_token="k1")
    server.stop()

The administrative calls here use the standard library's HTTP client, not the code under test (openfga-sdk through
``OpenFgaBackend``), so a fixture cannot hide a bug of the backend.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Iterable, Sequence

from mcp_grpc.authz.backend import TupleKey


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The preshared key the test OpenFGA servers require (they run with --authn-method preshared, as deployed).
OPENFGA_KEY = "mcp-grpc-test-key-1"


class OpenFgaError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"OpenFGA answered HTTP {status}: {body}")
        self.status = status
        self.body = body


class OpenFgaServer:
    """One ``openfga run`` process. ``start()`` returns once ``/healthz`` says SERVING (bounded)."""

    def __init__(
        self,
        binary: os.PathLike[str] | str,
        *,
        preshared_keys: Sequence[str] = (),
        datastore: tuple[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.binary = str(binary)
        self.preshared_keys = list(preshared_keys)
        self.datastore = datastore  # (engine, uri); None: memory
        self.extra_args = list(extra_args)
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="openfga-"))
        self.log_path = self.workdir / "openfga.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.http_port = 0
        self.grpc_port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _args(self) -> list[str]:
        engine, uri = self.datastore or ("memory", "")
        args = [
            self.binary, "run",
            "--datastore-engine", engine,
            "--http-addr", f"127.0.0.1:{self.http_port}",
            "--grpc-addr", f"127.0.0.1:{self.grpc_port}",
            "--playground-enabled=false", "--metrics-enabled=false",
            "--log-format", "json", "--log-level", "warn",
        ]
        if uri:
            args += ["--datastore-uri", uri]
        if self.preshared_keys:
            args += ["--authn-method", "preshared", "--authn-preshared-keys", ",".join(self.preshared_keys)]
        return args + self.extra_args

    def start(self, timeout: float = 60.0, attempts: int = 3) -> "OpenFgaServer":
        """Start on two free ports of 127.0.0.1; another attempt on new ports if the process dies at once (a port
        taken between our probe and its bind on this shared machine)."""
        for _ in range(attempts):
            self.http_port, self.grpc_port = _free_port(), _free_port()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(self._args(), stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_healthy(timeout):
                return self
            if self.process.poll() is None:
                break  # running but never healthy: no point retrying
        log_text = self.log()
        self.stop()
        raise RuntimeError(f"openfga did not become healthy within {timeout:.0f} s; its log:\n{log_text[-4000:]}")

    def _wait_healthy(self, timeout: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1.0) as response:
                    if json.load(response).get("status") == "SERVING":
                        return True
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pause(self) -> None:
        """SIGSTOP: the port stays open and accepts connections, nothing answers (a hung server)."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    # -- administration, over plain HTTP ---------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        key = token if token is not None else (self.preshared_keys[0] if self.preshared_keys else None)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10.0) as response:
                raw = response.read()
                return json.loads(raw) if raw.strip() else None  # DELETE /stores/{id} answers 204, no body
        except urllib.error.HTTPError as exc:
            raise OpenFgaError(exc.code, exc.read().decode(errors="replace")) from None

    def create_store(self, name: str) -> str:
        return self.request("POST", "/stores", {"name": name})["id"]

    def write_model(self, store_id: str, model: dict[str, Any]) -> str:
        body = {key: model[key] for key in ("schema_version", "type_definitions", "conditions") if model.get(key)}
        return self.request("POST", f"/stores/{store_id}/authorization-models", body)["authorization_model_id"]

    def write_tuples(self, store_id: str, model_id: str, tuples: Iterable[TupleKey], *, chunk: int = 100) -> int:
        """Write ``tuples`` (OpenFGA takes at most 100 per write); returns how many."""
        keys = [tuple_body(t) for t in tuples]
        for start in range(0, len(keys), chunk):
            self.request("POST", f"/stores/{store_id}/write", {
                "writes": {"tuple_keys": keys[start:start + chunk]}, "authorization_model_id": model_id,
            })
        return len(keys)


def tuple_body(t: TupleKey) -> dict[str, Any]:
    body: dict[str, Any] = {"user": t.user, "relation": t.relation, "object": t.object}
    if t.condition_name:
        body["condition"] = {"name": t.condition_name, "context": dict(t.condition_context or {})}
    return body
