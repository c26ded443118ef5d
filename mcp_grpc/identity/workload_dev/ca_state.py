"""Persistence of the development CA's generated authorities, so a restarted server keeps the trust it handed out.

The state is a JSON-serializable mapping (private keys included: store it 0600)::

    {"version": 1, "trust_domain": "example.org",
     "x509": [{"role", "cert_pem", "key_pem", "activated_at", "drop_at"}, ...],
     "jwt": [{"role", "kid", "key_pem", "not_before", "not_after", "activated_at", "drop_at"}, ...]}

A brought CA (``--ca-cert``/``--ca-key``) is never written: its ``x509`` list is empty.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mcp_grpc.identity.workload_dev.authorities import AuthorityRole, JwtAuthority, Slot, X509Authority
from mcp_grpc.identity.workload_dev.ca_inputs import CaError

__all__ = ["STATE_VERSION", "dump_state", "load_slots", "state_trust_domain"]

STATE_VERSION = 1


def dump_state(trust_domain: str, x509_slots: Iterable[Slot], jwt_slots: Iterable[Slot]) -> dict[str, Any]:
    """The state document for these slots (pass no X.509 slots for a brought CA)."""
    def x509_entry(slot: Slot) -> dict[str, Any]:
        return {"role": slot.role.value, "cert_pem": slot.authority.cert_pem().decode(),
                "key_pem": slot.authority.key_pem().decode(), **_times(slot)}

    def jwt_entry(slot: Slot) -> dict[str, Any]:
        a: JwtAuthority = slot.authority
        return {"role": slot.role.value, "kid": a.key_id, "key_pem": a.key_pem().decode(),
                "not_before": a.not_before.isoformat(), "not_after": a.not_after.isoformat(), **_times(slot)}

    return {
        "version": STATE_VERSION,
        "trust_domain": trust_domain,
        "x509": [x509_entry(s) for s in x509_slots],
        "jwt": [jwt_entry(s) for s in jwt_slots],
    }


def state_trust_domain(state: Mapping[str, Any], trust_domain: str | None) -> str:
    """The trust domain to rebuild ``state`` for: ``trust_domain`` if given, which must be the state's own."""
    td = trust_domain or state.get("trust_domain")
    if state.get("version") != STATE_VERSION:
        raise CaError(f"unsupported CA state version {state.get('version')!r}")
    if td != state.get("trust_domain"):
        raise CaError(f"CA state is for trust domain {state.get('trust_domain')!r}, not {td!r}")
    return td  # type: ignore[return-value]


def load_slots(state: Mapping[str, Any], now: datetime.datetime) -> tuple[list[Slot], list[Slot]]:
    """The (X.509, JWT) slots of ``state`` still valid at ``now``.

    If the active authority of a kind expired while the server was down, a prepared one is promoted; if there is
    none, that kind has no active slot and the caller starts it afresh.
    """
    x509_slots: list[Slot] = []
    jwt_slots: list[Slot] = []
    try:
        for entry in state.get("x509", []):
            cert = x509.load_pem_x509_certificate(entry["cert_pem"].encode())
            key = serialization.load_pem_private_key(entry["key_pem"].encode(), password=None)
            if cert.not_valid_after_utc <= now:
                continue
            x509_slots.append(_slot_from(X509Authority(cert, key), entry))  # type: ignore[arg-type]
        for entry in state.get("jwt", []):
            key = serialization.load_pem_private_key(entry["key_pem"].encode(), password=None)
            auth = JwtAuthority(entry["kid"], key,  # type: ignore[arg-type]
                                datetime.datetime.fromisoformat(entry["not_before"]),
                                datetime.datetime.fromisoformat(entry["not_after"]))
            if auth.not_after <= now:
                continue
            jwt_slots.append(_slot_from(auth, entry))
    except (KeyError, ValueError, TypeError) as exc:
        raise CaError(f"CA state is malformed: {exc!r}") from None
    for slots in (x509_slots, jwt_slots):
        if not any(s.role is AuthorityRole.ACTIVE for s in slots):
            prepared = next((s for s in slots if s.role is AuthorityRole.PREPARED), None)
            if prepared is not None:
                prepared.role = AuthorityRole.ACTIVE
                prepared.activated_at = now
    return x509_slots, jwt_slots


def _times(slot: Slot) -> dict[str, Any]:
    return {
        "activated_at": slot.activated_at.isoformat() if slot.activated_at else None,
        "drop_at": slot.drop_at.isoformat() if slot.drop_at else None,
    }


def _slot_from(authority: Any, entry: Mapping[str, Any]) -> Slot:
    def when(name: str) -> datetime.datetime | None:
        value = entry.get(name)
        return datetime.datetime.fromisoformat(value) if value else None

    return Slot(authority, AuthorityRole(entry["role"]), activated_at=when("activated_at"), drop_at=when("drop_at"))
