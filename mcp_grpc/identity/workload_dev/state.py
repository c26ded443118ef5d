"""What the development Workload API hands out: workloads, their current SVIDs, bundles, federated bundles.

One :class:`DevState` per server, driven from one asyncio event loop. Every change bumps ``version`` and wakes all
streams, which then send the full current state if it differs from what they last sent.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime
import json
import logging
import os
import pathlib
import tempfile
from typing import Any, Callable, Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mcp_grpc.identity.workload_dev.authorities import X509SvidMaterial
from mcp_grpc.identity.workload_dev.ca import SvidAuthority
from mcp_grpc.identity.workload_dev.ca_inputs import CaError, validate_trust_domain

__all__ = ["DevState", "FederatedBundle", "FederationError", "WorkloadSpec", "load_federated_bundle"]

_log = logging.getLogger("mcp_grpc.identity.dev")


@dataclasses.dataclass(frozen=True)
class WorkloadSpec:
    """One workload: served at ``<socket_dir>/<name>.sock`` with this SPIFFE ID and DNS SANs."""

    name: str
    spiffe_id: str
    dns_names: tuple[str, ...] = ()


class FederationError(Exception):
    """A federated bundle file could not be read or parsed."""


@dataclasses.dataclass(frozen=True)
class FederatedBundle:
    """Another trust domain's bundle: X.509 roots (DER, concatenated) and JWT keys (JWKS)."""

    trust_domain: str
    x509_der: bytes
    jwks: bytes


def load_federated_bundle(trust_domain: str, path: pathlib.Path) -> FederatedBundle:
    """Read a federated bundle: PEM certificates (X.509 only) or a SPIFFE bundle (JWKS with x509-svid/jwt-svid keys)."""
    try:
        validate_trust_domain(trust_domain)
    except CaError as exc:
        raise FederationError(str(exc)) from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FederationError(f"cannot read federated bundle for {trust_domain} at {path}: {exc.strerror}") from None
    if data.lstrip().startswith(b"{"):
        return _parse_spiffe_bundle(trust_domain, path, data)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise FederationError(
            f"federated bundle for {trust_domain} at {path} is neither PEM certificates nor a SPIFFE bundle (JWKS)"
        ) from None
    der = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certs)
    return FederatedBundle(trust_domain, der, json.dumps({"keys": []}).encode())


def _parse_spiffe_bundle(trust_domain: str, path: pathlib.Path, data: bytes) -> FederatedBundle:
    try:
        doc = json.loads(data)
        keys = doc["keys"]
        x509_der = b""
        jwt_keys: list[dict[str, Any]] = []
        for key in keys:
            if key.get("use") == "x509-svid":
                (cert_b64,) = key["x5c"]
                cert = x509.load_der_x509_certificate(base64.b64decode(cert_b64))
                x509_der += cert.public_bytes(serialization.Encoding.DER)
            elif key.get("use") == "jwt-svid":
                if not key.get("kid"):
                    raise ValueError("a jwt-svid key has no kid")
                jwt_keys.append({k: v for k, v in key.items()})
    except (ValueError, KeyError, TypeError) as exc:
        raise FederationError(f"federated SPIFFE bundle for {trust_domain} at {path} is malformed: {exc}") from None
    if not x509_der:
        raise FederationError(f"federated SPIFFE bundle for {trust_domain} at {path} has no x509-svid authority")
    return FederatedBundle(trust_domain, x509_der, json.dumps({"keys": jwt_keys}, sort_keys=True).encode())


def atomic_write(path: pathlib.Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so readers never see a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class DevState:
    """Workloads, their SVIDs and every bundle; ``version`` bumps on each change and wakes waiting streams."""

    def __init__(
        self,
        authority: SvidAuthority,
        workloads: Sequence[WorkloadSpec],
        *,
        socket_dir: pathlib.Path,
        federated: Mapping[str, pathlib.Path] | None = None,
        automatic_ca_rotation: bool = True,
        state_file: pathlib.Path | None = None,
        clock: Callable[[], datetime.datetime] | None = None,
    ) -> None:
        self.authority = authority
        self.socket_dir = socket_dir
        self.workloads = {w.name: w for w in workloads}
        self.automatic_ca_rotation = automatic_ca_rotation
        self.state_file = state_file
        self._clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self._svids: dict[str, X509SvidMaterial] = {}
        self._removed: set[str] = set()
        self._federation_paths = dict(federated or {})
        self._federation_mtimes: dict[str, float] = {}
        self.federated: dict[str, FederatedBundle] = {}
        for td, path in self._federation_paths.items():
            if td == authority.trust_domain:
                raise FederationError(f"cannot federate with our own trust domain {td}")
            self.federated[td] = load_federated_bundle(td, path)
            self._federation_mtimes[td] = path.stat().st_mtime
        self.version = 0
        self._changed = asyncio.Event()
        self._last_bundle_pem: bytes | None = None
        self._last_spiffe_bundle: bytes | None = None
        for name in self.workloads:
            self._issue(name)
        self._publish_bundle()
        self._save_state()

    # ---------------------------------------------------------------------------------------------- reading
    def svid(self, name: str) -> X509SvidMaterial | None:
        """The current X.509-SVID of workload ``name``, or None when it has no identity (unknown or removed)."""
        return self._svids.get(name)

    def has_identity(self, name: str) -> bool:
        return name in self._svids

    def x509_bundles_der(self) -> dict[str, bytes]:
        """Every X.509 bundle keyed ``spiffe://<td>``: ours and the federated ones, each concatenated DER."""
        own = b"".join(c.public_bytes(serialization.Encoding.DER) for c in self.authority.x509_bundle())
        bundles = {f"spiffe://{self.authority.trust_domain}": own}
        bundles.update({f"spiffe://{td}": fb.x509_der for td, fb in self.federated.items()})
        return bundles

    def jwt_bundles(self) -> dict[str, bytes]:
        """Every JWT bundle keyed ``spiffe://<td>`` as JWKS JSON."""
        bundles = {f"spiffe://{self.authority.trust_domain}": self.authority.jwks()}
        bundles.update({f"spiffe://{td}": fb.jwks for td, fb in self.federated.items()})
        return bundles

    def jwt_keys_for(self, trust_domain: str) -> dict[str, Any] | None:
        """The JWT verification keys of ``trust_domain`` (ours or federated) by kid, or None if unknown."""
        if trust_domain == self.authority.trust_domain:
            return dict(self.authority.jwt_bundle())
        fb = self.federated.get(trust_domain)
        if fb is None:
            return None
        import jwt  # local: only ValidateJWTSVID of a federated token needs it

        keys: dict[str, Any] = {}
        for entry in json.loads(fb.jwks)["keys"]:
            keys[entry["kid"]] = jwt.PyJWK.from_dict(entry).key
        return keys

    def status(self) -> dict[str, Any]:
        workloads = {}
        for name, spec in self.workloads.items():
            svid = self._svids.get(name)
            workloads[name] = {
                "spiffe_id": spec.spiffe_id,
                "dns_names": list(spec.dns_names),
                "socket": str(self.socket_dir / f"{name}.sock"),
                "has_identity": svid is not None,
                "serial": format(svid.leaf.serial_number, "x") if svid else None,
                "not_after": svid.not_after.isoformat() if svid else None,
                "issuer": svid.leaf.issuer.rfc4514_string() if svid else None,
            }
        return {
            "trust_domain": self.authority.trust_domain,
            "version": self.version,
            "workloads": workloads,
            "authorities": self.authority.authorities(),
            "federated": sorted(self.federated),
        }

    # ---------------------------------------------------------------------------------------------- waiting
    async def wait_changed(self, seen_version: int) -> int:
        """Wait until ``version`` differs from ``seen_version``; return the new version."""
        while self.version == seen_version:
            await self._changed.wait()
        return self.version

    def _bump(self) -> None:
        self.version += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # ---------------------------------------------------------------------------------------------- changing
    def remove_identity(self, name: str) -> None:
        """Stop issuing for ``name``: its streams end with PermissionDenied and its SVID is not renewed."""
        self._require(name)
        self._removed.add(name)
        self._svids.pop(name, None)
        _log.info("identity of workload %s removed", name)
        self._bump()

    def restore_identity(self, name: str) -> None:
        """Issue for ``name`` again (a fresh SVID at once)."""
        self._require(name)
        self._removed.discard(name)
        self._issue(name)
        _log.info("identity of workload %s restored", name)
        self._bump()

    def rotate_svid(self, name: str) -> None:
        """Re-issue ``name``'s SVID now."""
        self._require(name)
        if name in self._removed:
            raise CaError(f"workload {name} has no identity; restore it first")
        self._issue(name)
        self._bump()

    def rotate_ca(self, step: str, which: str = "both") -> dict[str, bool]:
        """Run one CA rotation step (``prepare`` or ``activate``) for ``x509``, ``jwt`` or ``both``."""
        if step not in ("prepare", "activate"):
            raise CaError(f"unknown rotation step {step!r}; use prepare or activate")
        if which not in ("x509", "jwt", "both"):
            raise CaError(f"unknown authority kind {which!r}; use x509, jwt or both")
        done: dict[str, bool] = {}
        if which in ("x509", "both"):
            done["x509"] = (self.authority.prepare_x509 if step == "prepare" else self.authority.activate_x509)()
        if which in ("jwt", "both"):
            done["jwt"] = (self.authority.prepare_jwt if step == "prepare" else self.authority.activate_jwt)()
        if any(done.values()):
            _log.info("CA rotation: %s %s; authorities now: %s", step, ", ".join(k for k, v in done.items() if v),
                      _describe(self.authority.authorities()))
            self._after_authority_change()
        return done

    def tick(self) -> None:
        """Rotate SVIDs at half life, advance CA rotation, reload changed federated bundle files."""
        changed = False
        if self.authority.tick(automatic=self.automatic_ca_rotation):
            self._after_authority_change(bump=False)
            changed = True
            _log.info("authorities now: %s", _describe(self.authority.authorities()))
        now = self._clock()
        for name, svid in list(self._svids.items()):
            if now >= svid.rotate_at:
                self._issue(name)
                changed = True
        changed |= self._reload_federation()
        if changed:
            self._publish_bundle()
            self._bump()

    def next_deadline(self) -> datetime.datetime | None:
        """When :meth:`tick` next has time-driven work."""
        times = [s.rotate_at for s in self._svids.values()]
        event = self.authority.next_event()
        if event is not None:
            times.append(event)
        return min(times) if times else None

    # ---------------------------------------------------------------------------------------------- internals
    def _require(self, name: str) -> None:
        if name not in self.workloads:
            raise CaError(f"no workload named {name!r} (known: {', '.join(sorted(self.workloads)) or 'none'})")

    def _issue(self, name: str) -> None:
        if name in self._removed:
            return
        spec = self.workloads[name]
        self._svids[name] = self.authority.issue_x509_svid(spec.spiffe_id, spec.dns_names)
        _log.debug("issued X.509-SVID for %s until %s", spec.spiffe_id, self._svids[name].not_after.isoformat())

    def _after_authority_change(self, *, bump: bool = True) -> None:
        # As in SPIRE, workloads move to a newly active CA at their next SVID rotation (within half a TTL); the
        # retired CA stays in the bundle until every SVID it signed has expired.
        self._save_state()
        if bump:
            self._publish_bundle()
            self._bump()

    def _reload_federation(self) -> bool:
        changed = False
        for td, path in self._federation_paths.items():
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue  # keep the last good bundle while the file is being replaced or is gone
            if mtime == self._federation_mtimes.get(td):
                continue
            self._federation_mtimes[td] = mtime
            try:
                bundle = load_federated_bundle(td, path)
            except FederationError as exc:
                _log.warning("keeping the previous federated bundle: %s", exc)
                continue
            if bundle != self.federated.get(td):
                self.federated[td] = bundle
                _log.info("federated bundle for %s reloaded from %s", td, path)
                changed = True
        return changed

    def _publish_bundle(self) -> None:
        pem = self.authority.bundle_pem()
        if pem != self._last_bundle_pem:
            atomic_write(self.socket_dir / "bundle.pem", pem)
            self._last_bundle_pem = pem
        spiffe = self.authority.spiffe_bundle()
        if spiffe != self._last_spiffe_bundle:
            atomic_write(self.socket_dir / "bundle.spiffe.json", spiffe)
            self._last_spiffe_bundle = spiffe

    def _save_state(self) -> None:
        if self.state_file is not None:
            atomic_write(self.state_file, json.dumps(self.authority.to_state(), indent=1).encode(), mode=0o600)


def _describe(authorities: Mapping[str, Any]) -> str:
    return "; ".join(
        f"{kind} " + ", ".join(f"{a['id'][:8]}={a['role']}" for a in entries) for kind, entries in authorities.items()
    )
