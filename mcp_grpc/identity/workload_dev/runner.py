"""Run the development Workload API: one grpc.aio server per workload socket, the admin socket, the rotation clock."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import logging
import os
import pathlib
import signal
import socket
import sys
from typing import Any, Callable, Mapping, Sequence

import grpc

from mcp_grpc.identity.workload_dev.authorities import X509Authority
from mcp_grpc.identity.workload_dev.ca import SvidAuthority
from mcp_grpc.identity.workload_dev.ca_inputs import CaError
from mcp_grpc.identity.workload_dev.admin import ADMIN_SOCKET_NAME, serve_admin
from mcp_grpc.identity.workload_dev.service import add_workload_api
from mcp_grpc.identity.workload_dev.state import DevState, FederationError, WorkloadSpec

__all__ = ["DevServerConfig", "DevServerError", "run", "serve"]

_log = logging.getLogger("mcp_grpc.identity.dev")
#: The longest path a Unix socket address can hold on Linux (sun_path is 108 bytes with the terminating NUL).
MAX_SOCKET_PATH = 107
STATE_FILE_NAME = "ca-state.json"


class DevServerError(Exception):
    """The development server cannot start as configured; the message says why."""


@dataclasses.dataclass(frozen=True)
class DevServerConfig:
    trust_domain: str
    socket_dir: pathlib.Path
    workloads: Sequence[WorkloadSpec]
    x509_ttl: datetime.timedelta
    jwt_ttl: datetime.timedelta
    ca_ttl: datetime.timedelta
    automatic_ca_rotation: bool = True
    ca: X509Authority | None = None
    federate: Mapping[str, pathlib.Path] = dataclasses.field(default_factory=dict)
    state_dir: pathlib.Path | None = None
    ca_activation_delay: datetime.timedelta = datetime.timedelta(seconds=5)
    admin_socket: pathlib.Path | None = None

    def socket_path(self, name: str) -> pathlib.Path:
        return self.socket_dir / f"{name}.sock"

    @property
    def admin_path(self) -> pathlib.Path:
        return self.admin_socket or self.socket_dir / ADMIN_SOCKET_NAME


def _build_authority(config: DevServerConfig) -> SvidAuthority:
    kwargs: dict[str, Any] = dict(
        x509_ttl=config.x509_ttl, jwt_ttl=config.jwt_ttl, ca_ttl=config.ca_ttl, upstream=config.ca
    )
    if config.state_dir is not None:
        state_file = config.state_dir / STATE_FILE_NAME
        if state_file.exists():
            try:
                saved = json.loads(state_file.read_text())
            except (OSError, ValueError) as exc:
                raise DevServerError(f"cannot read CA state {state_file}: {exc}") from None
            try:
                authority = SvidAuthority.from_state(saved, trust_domain=config.trust_domain, **kwargs)
            except CaError as exc:
                raise DevServerError(f"CA state {state_file}: {exc}") from None
            _log.info("CA state restored from %s", state_file)
            return authority
    try:
        return SvidAuthority(config.trust_domain, **kwargs)
    except CaError as exc:
        raise DevServerError(str(exc)) from None


def _claim_socket(path: pathlib.Path) -> None:
    """Remove a stale socket file; refuse when a live server still listens there."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise DevServerError(f"socket path {path} is longer than {MAX_SOCKET_PATH} bytes; use a shorter --socket-dir")
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_socket():
        raise DevServerError(f"{path} exists and is not a socket; refusing to replace it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # nobody listens: a leftover from a server that did not shut down cleanly
            return
    raise DevServerError(f"another server is already listening on {path}")


async def serve(
    config: DevServerConfig,
    *,
    stop: asyncio.Event,
    rotate: asyncio.Event | None = None,
    on_ready: Callable[[DevState], None] | None = None,
) -> None:
    """Serve until ``stop`` is set. Setting ``rotate`` runs a full CA rotation (as SIGHUP does)."""
    # Whoever can open DIR/NAME.sock gets NAME's identity: a directory we create is private to us.
    config.socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if config.state_dir is not None:
        config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = [config.socket_path(w.name) for w in config.workloads] + [config.admin_path]
    for path in paths:
        _claim_socket(path)
    try:
        state = DevState(
            _build_authority(config),
            config.workloads,
            socket_dir=config.socket_dir,
            federated=config.federate,
            automatic_ca_rotation=config.automatic_ca_rotation,
            state_file=config.state_dir / STATE_FILE_NAME if config.state_dir else None,
        )
    except (CaError, FederationError) as exc:
        raise DevServerError(str(exc)) from None
    pending: set[asyncio.Task[Any]] = set()

    async def activate_later() -> None:
        await asyncio.sleep(config.ca_activation_delay.total_seconds())
        state.rotate_ca("activate")

    def full_rotation() -> dict[str, bool]:
        done = state.rotate_ca("prepare")
        task = asyncio.get_running_loop().create_task(activate_later())
        pending.add(task)
        task.add_done_callback(pending.discard)
        return done

    async def admin(request: Mapping[str, Any]) -> Any:
        command = request["command"]
        if command == "status":
            return state.status()
        if command == "rotate-ca":
            step = request.get("step", "full")
            if step == "full":
                return {"prepared": full_rotation(), "activates_in_s": config.ca_activation_delay.total_seconds()}
            return state.rotate_ca(step, request.get("which", "both"))
        if command in ("remove-identity", "restore-identity", "rotate-svid"):
            name = request.get("name")
            if not isinstance(name, str):
                raise ValueError(f'{command} needs "name"')
            {"remove-identity": state.remove_identity, "restore-identity": state.restore_identity,
             "rotate-svid": state.rotate_svid}[command](name)
            return state.status()["workloads"][name]
        raise ValueError(
            f"unknown command {command!r}; known: status, rotate-ca, remove-identity, restore-identity, rotate-svid"
        )

    servers: list[grpc.aio.Server] = []
    admin_server: asyncio.AbstractServer | None = None
    try:
        for spec in config.workloads:
            server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
            add_workload_api(server, state, spec.name)
            try:
                server.add_insecure_port(f"unix:{config.socket_path(spec.name)}")
            except RuntimeError as exc:
                raise DevServerError(f"cannot listen on {config.socket_path(spec.name)}: {exc}") from None
            await server.start()
            servers.append(server)
        admin_server = await serve_admin(str(config.admin_path), admin)
        os.chmod(config.admin_path, 0o600)
        _log.info(
            "serving %d workload(s) of trust domain %s in %s", len(servers), config.trust_domain, config.socket_dir
        )
        if on_ready is not None:
            on_ready(state)
        while not stop.is_set():
            state.tick()
            if rotate is not None and rotate.is_set():
                rotate.clear()
                try:
                    full_rotation()
                except CaError as exc:
                    _log.error("CA rotation refused: %s", exc)
            deadline = state.next_deadline()
            timeout = 1.0  # also the polling period for federated bundle files
            if deadline is not None:
                remaining = (deadline - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
                timeout = min(timeout, max(0.02, remaining + 0.01))
            waiters = [asyncio.ensure_future(stop.wait())]
            if rotate is not None:
                waiters.append(asyncio.ensure_future(rotate.wait()))
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
    finally:
        for task in pending:
            task.cancel()
        if admin_server is not None:
            admin_server.close()
        await asyncio.gather(*(s.stop(0.5) for s in servers), return_exceptions=True)
        for path in paths:
            try:
                if path.is_socket():
                    path.unlink()
            except OSError:
                pass
        _log.info("stopped")


def run(config: DevServerConfig, *, ready_message: bool = True) -> int:
    """Run in the foreground until SIGTERM or SIGINT; SIGHUP runs a full CA rotation. Returns the exit code."""

    async def main() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        rotate = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, rotate.set)

        def ready(state: DevState) -> None:
            if ready_message:
                print(
                    f"ready: trust domain {config.trust_domain}, {len(config.workloads)} workload(s) in "
                    f"{config.socket_dir}, bundle {config.socket_dir / 'bundle.pem'}, admin {config.admin_path}",
                    flush=True,
                )

        try:
            await serve(config, stop=stop, rotate=rotate, on_ready=ready)
        except DevServerError as exc:
            print(f"mcp-grpc identity dev: error: {exc}", file=sys.stderr, flush=True)
            return 1
        return 0

    return asyncio.run(main())
