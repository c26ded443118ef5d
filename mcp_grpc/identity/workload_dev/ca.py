"""An SVID-issuing certificate authority for one trust domain, shaped the way SPIRE issues identities.

- X.509-SVIDs: see :func:`~mcp_grpc.identity.workload_dev.authorities.sign_x509_svid` for their shape; the TTL is
  configurable and capped at the signing CA's own expiry.
- JWT-SVIDs: ES256 with a ``kid`` header; claims ``sub``, ``aud``, ``exp``, ``iat``.
- Rotation in two steps, as SPIRE does it, for the X.509 CA and the JWT signing key alike: *prepare* puts the next
  authority into the bundle without signing with it (so every consumer learns it first), *activate* makes it sign,
  and the retired authority is dropped from the bundle once nothing it signed can still be valid.
- Bring your own CA (``upstream``): it signs leaves directly and cannot be rotated here.

Everything is in memory; :meth:`SvidAuthority.to_state` / :meth:`SvidAuthority.from_state` persist generated
authorities (see :mod:`.ca_state`) so a restarted development server keeps the trust it handed out.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Callable, Iterable, Mapping, Sequence

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mcp_grpc.identity.workload_dev.authorities import (
    BACKDATE,
    AuthorityRole,
    JwtAuthority,
    Slot,
    X509Authority,
    X509SvidMaterial,
    new_jwt_authority,
    new_x509_authority,
    sign_x509_svid,
    x509_authority_jwk,
)
from mcp_grpc.identity.workload_dev.ca_inputs import (
    CaError,
    validate_dns_name,
    validate_spiffe_id_for,
    validate_trust_domain,
)
from mcp_grpc.identity.workload_dev.ca_state import dump_state, load_slots, state_trust_domain

__all__ = ["SvidAuthority"]

DEFAULT_X509_TTL = datetime.timedelta(hours=1)
DEFAULT_JWT_TTL = datetime.timedelta(minutes=5)
DEFAULT_CA_TTL = datetime.timedelta(hours=24)
#: Fractions of the active authority's lifetime at which the next one is prepared, then activated (as in SPIRE).
PREPARE_AT = 1 / 2
ACTIVATE_AT = 5 / 6

_BROUGHT_CA_FIXED = "the CA was brought with --ca-cert/--ca-key and cannot be rotated here; restart with a new one"
_ROLE_ORDER = {AuthorityRole.ACTIVE: 0, AuthorityRole.PREPARED: 1, AuthorityRole.RETIRED: 2}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class SvidAuthority:
    """Issues X.509-SVIDs and JWT-SVIDs for one trust domain and rotates its authorities.

    Not thread-safe: the development server drives it from one event loop.
    """

    def __init__(
        self,
        trust_domain: str,
        *,
        x509_ttl: datetime.timedelta = DEFAULT_X509_TTL,
        jwt_ttl: datetime.timedelta = DEFAULT_JWT_TTL,
        ca_ttl: datetime.timedelta = DEFAULT_CA_TTL,
        upstream: X509Authority | None = None,
        clock: Callable[[], datetime.datetime] = _now,
        _restore: Mapping[str, Any] | None = None,
    ) -> None:
        self.trust_domain = validate_trust_domain(trust_domain)
        for label, ttl in (("X.509-SVID TTL", x509_ttl), ("JWT-SVID TTL", jwt_ttl), ("CA TTL", ca_ttl)):
            if ttl <= datetime.timedelta(0):
                raise CaError(f"{label} must be positive")
        if upstream is None and ca_ttl < 2 * x509_ttl:
            raise CaError(
                f"CA TTL ({ca_ttl.total_seconds():g}s) must be at least twice the X.509-SVID TTL "
                f"({x509_ttl.total_seconds():g}s) so rotated CAs overlap the SVIDs they signed"
            )
        self.x509_ttl = x509_ttl
        self.jwt_ttl = jwt_ttl
        self.ca_ttl = ca_ttl
        self.upstream = upstream
        self._clock = clock
        self._x509: list[Slot] = []
        self._jwt: list[Slot] = []
        now = clock()
        if _restore is not None:
            self._x509, self._jwt = load_slots(_restore, now)
        if upstream is not None:
            self._x509 = [Slot(upstream, AuthorityRole.ACTIVE, activated_at=now)]
        if not any(s.role is AuthorityRole.ACTIVE for s in self._x509):
            self._x509 = [Slot(self._new_x509_authority(now), AuthorityRole.ACTIVE, activated_at=now)]
        if not any(s.role is AuthorityRole.ACTIVE for s in self._jwt):
            self._jwt = [Slot(self._new_jwt_authority(now), AuthorityRole.ACTIVE, activated_at=now)]

    # ----------------------------------------------------------------------------------------------- bundles
    def x509_bundle(self) -> tuple[x509.Certificate, ...]:
        """Every CA certificate consumers must trust now: active, prepared and retired-but-not-dropped."""
        return tuple(s.authority.certificate for s in self._ordered(self._x509))

    def jwt_bundle(self) -> dict[str, ec.EllipticCurvePublicKey]:
        """Every JWT verification key consumers must trust now, by key id."""
        return {s.authority.key_id: s.authority.public_key for s in self._ordered(self._jwt)}

    def jwks(self) -> bytes:
        """The JWT bundle as a JWKS document (the Workload API FetchJWTBundles wire form)."""
        return json.dumps({"keys": [s.authority.jwk() for s in self._ordered(self._jwt)]}, sort_keys=True).encode()

    def spiffe_bundle(self) -> bytes:
        """The full SPIFFE bundle (JWKS with ``x509-svid`` and ``jwt-svid`` keys), for federation files."""
        keys = [x509_authority_jwk(cert) for cert in self.x509_bundle()]
        keys.extend(s.authority.jwk() for s in self._ordered(self._jwt))
        return json.dumps({"keys": keys}, indent=2, sort_keys=True).encode()

    def bundle_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.x509_bundle())

    def authorities(self) -> dict[str, list[dict[str, Any]]]:
        """A description of every authority and its role, for status output."""
        def describe(slot: Slot, ident: str) -> dict[str, Any]:
            return {
                "id": ident,
                "role": slot.role.value,
                "not_after": slot.authority.not_after.isoformat(),
                "drop_at": slot.drop_at.isoformat() if slot.drop_at else None,
            }

        return {
            "x509": [
                describe(s, format(s.authority.certificate.serial_number, "x")) for s in self._ordered(self._x509)
            ],
            "jwt": [describe(s, s.authority.key_id) for s in self._ordered(self._jwt)],
        }

    # ----------------------------------------------------------------------------------------------- issuing
    @property
    def active_x509(self) -> X509Authority:
        return next(s.authority for s in self._x509 if s.role is AuthorityRole.ACTIVE)

    @property
    def active_jwt(self) -> JwtAuthority:
        return next(s.authority for s in self._jwt if s.role is AuthorityRole.ACTIVE)

    def issue_x509_svid(
        self, spiffe_id: str, dns_names: Sequence[str] = (), ttl: datetime.timedelta | None = None
    ) -> X509SvidMaterial:
        """Issue a fresh X.509-SVID (new P-256 key) signed by the active CA."""
        validate_spiffe_id_for(self.trust_domain, spiffe_id)
        names = [validate_dns_name(n) for n in dns_names]
        ca = self.active_x509
        now = self._clock()
        not_after = min(now + (ttl or self.x509_ttl), ca.not_after)
        if not_after <= now:
            raise CaError(f"the active CA expired at {ca.not_after.isoformat()}; rotate it")
        return sign_x509_svid(ca, spiffe_id, names, now, not_after)

    def issue_jwt_svid(self, spiffe_id: str, audience: Sequence[str], ttl: datetime.timedelta | None = None) -> str:
        """Issue a JWT-SVID (ES256, ``kid`` header) for ``spiffe_id`` with the given audience."""
        validate_spiffe_id_for(self.trust_domain, spiffe_id)
        audience = list(audience)
        if not audience or any(not a for a in audience):
            raise CaError("a JWT-SVID needs at least one non-empty audience")
        key = self.active_jwt
        now = self._clock()
        exp = min(now + (ttl or self.jwt_ttl), key.not_after)
        claims = {"sub": spiffe_id, "aud": audience, "exp": int(exp.timestamp()), "iat": int(now.timestamp())}
        return jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.key_id, "typ": "JWT"})

    # ----------------------------------------------------------------------------------------------- rotation
    @property
    def can_rotate_x509(self) -> bool:
        return self.upstream is None

    def prepare_x509(self) -> bool:
        """Put the next CA into the bundle without signing with it. False if one is already prepared."""
        if self.upstream is not None:
            raise CaError(_BROUGHT_CA_FIXED)
        return self._prepare(self._x509, self._new_x509_authority)

    def activate_x509(self) -> bool:
        """Make the prepared CA sign; the old one retires and is dropped once its SVIDs have expired."""
        if self.upstream is not None:
            raise CaError(_BROUGHT_CA_FIXED)
        return self._activate(self._x509, self.x509_ttl)

    def prepare_jwt(self) -> bool:
        """Put the next JWT signing key into the bundle without signing with it."""
        return self._prepare(self._jwt, self._new_jwt_authority)

    def activate_jwt(self) -> bool:
        """Make the prepared JWT key sign; the old key stays in the bundle until its tokens have expired."""
        return self._activate(self._jwt, self.jwt_ttl)

    def _prepare(self, slots: list[Slot], new: Callable[[datetime.datetime], Any]) -> bool:
        if any(s.role is AuthorityRole.PREPARED for s in slots):
            return False
        slots.append(Slot(new(self._clock()), AuthorityRole.PREPARED))
        return True

    def _activate(self, slots: list[Slot], signed_ttl: datetime.timedelta) -> bool:
        """Retired authorities stay until what they signed last (``signed_ttl`` from now) has expired."""
        prepared = next((s for s in slots if s.role is AuthorityRole.PREPARED), None)
        if prepared is None:
            return False
        now = self._clock()
        for slot in slots:
            if slot.role is AuthorityRole.ACTIVE:
                slot.role = AuthorityRole.RETIRED
                slot.drop_at = min(slot.authority.not_after, now + signed_ttl + BACKDATE)
        prepared.role = AuthorityRole.ACTIVE
        prepared.activated_at = now
        return True

    def tick(self, *, automatic: bool = True) -> bool:
        """Advance time-driven state; True if any bundle changed.

        Always drops retired authorities whose signed material has expired. With ``automatic`` (the default), also
        prepares the next authority at half of the active one's lifetime and activates it at five sixths.
        """
        now = self._clock()
        changed = False
        for slots in (self._x509, self._jwt):
            before = len(slots)
            slots[:] = [s for s in slots if not (s.role is AuthorityRole.RETIRED and s.drop_at and s.drop_at <= now)]
            changed |= len(slots) != before
        if not automatic:
            return changed
        if self.upstream is None:
            changed |= self._auto(self._x509, now, self.prepare_x509, self.activate_x509)
        changed |= self._auto(self._jwt, now, self.prepare_jwt, self.activate_jwt)
        return changed

    @staticmethod
    def _auto(slots: list[Slot], now: datetime.datetime, prepare: Callable[[], bool],
              activate: Callable[[], bool]) -> bool:
        active = next(s.authority for s in slots if s.role is AuthorityRole.ACTIVE)
        lifetime = active.not_after - active.not_before
        changed = False
        if now >= active.not_before + lifetime * PREPARE_AT:
            changed |= prepare()
        if now >= active.not_before + lifetime * ACTIVATE_AT:
            changed |= activate()
        return changed

    def next_event(self) -> datetime.datetime | None:
        """The next instant :meth:`tick` may change something (for a scheduler that sleeps until then)."""
        times: list[datetime.datetime] = []
        for slots, auto in ((self._x509, self.upstream is None), (self._jwt, True)):
            for s in slots:
                if s.role is AuthorityRole.RETIRED and s.drop_at:
                    times.append(s.drop_at)
                if auto and s.role is AuthorityRole.ACTIVE:
                    lifetime = s.authority.not_after - s.authority.not_before
                    has_prepared = any(o.role is AuthorityRole.PREPARED for o in slots)
                    times.append(s.authority.not_before + lifetime * (ACTIVATE_AT if has_prepared else PREPARE_AT))
        return min(times) if times else None

    # ----------------------------------------------------------------------------------------------- persistence
    def to_state(self) -> dict[str, Any]:
        """A JSON-serializable snapshot of the generated authorities (private keys included: store it 0600)."""
        return dump_state(self.trust_domain, [] if self.upstream is not None else self._x509, self._jwt)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], **kwargs: Any) -> "SvidAuthority":
        """Rebuild from :meth:`to_state`; expired authorities are discarded and replaced."""
        td = state_trust_domain(state, kwargs.pop("trust_domain", None))
        return cls(td, _restore=state, **kwargs)

    # ----------------------------------------------------------------------------------------------- internals
    @staticmethod
    def _ordered(slots: Iterable[Slot]) -> list[Slot]:
        return sorted(slots, key=lambda s: _ROLE_ORDER[s.role])

    def _new_x509_authority(self, now: datetime.datetime) -> X509Authority:
        return new_x509_authority(self.trust_domain, now, self.ca_ttl)

    def _new_jwt_authority(self, now: datetime.datetime) -> JwtAuthority:
        # Same lifetime as a CA made at the same moment, so automatic rotation moves both together.
        return new_jwt_authority(now, self.ca_ttl)
