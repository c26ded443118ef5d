"""An SVID-issuing certificate authority for one trust domain, shaped the way SPIRE issues identities.

- X.509-SVIDs: EC P-256 keys, leaf ``CA=false``, key usage ``digitalSignature`` (critical), extended key usage
  serverAuth + clientAuth, exactly one URI SAN (the SPIFFE ID), optional DNS SANs, a configurable TTL capped at the
  signing CA's own expiry. Leaves are signed directly by a bundle root, so a verifier holding only the leaf (grpcio's
  ``auth_context`` exposes only the leaf) can re-verify it against the trust bundle.
- JWT-SVIDs: ES256 with a ``kid`` header; claims ``sub``, ``aud``, ``exp``, ``iat``.
- Rotation in two steps, as SPIRE does it, for the X.509 CA and the JWT signing key alike: *prepare* puts the next
  authority into the bundle without signing with it (so every consumer learns it first), *activate* makes it sign,
  and the retired authority is dropped from the bundle once nothing it signed can still be valid.
- Bring your own CA (``upstream``): it signs leaves directly and cannot be rotated here.

Everything is in memory; :meth:`SvidAuthority.to_state` / :meth:`SvidAuthority.from_state` persist generated
authorities so a restarted development server keeps the trust it handed out.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import re
import secrets
from typing import Any, Callable, Iterable, Mapping, Sequence

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "AuthorityRole",
    "CaError",
    "JwtAuthority",
    "SvidAuthority",
    "X509Authority",
    "X509SvidMaterial",
    "load_ca",
    "validate_dns_name",
    "validate_spiffe_id_for",
    "validate_trust_domain",
]

UTC = datetime.timezone.utc
#: Leaves start slightly in the past so a peer whose clock lags a little still accepts them.
BACKDATE = datetime.timedelta(seconds=2)
DEFAULT_X509_TTL = datetime.timedelta(hours=1)
DEFAULT_JWT_TTL = datetime.timedelta(minutes=5)
DEFAULT_CA_TTL = datetime.timedelta(hours=24)
#: Fractions of the active authority's lifetime at which the next one is prepared, then activated (as in SPIRE).
PREPARE_AT = 1 / 2
ACTIVATE_AT = 5 / 6

_BROUGHT_CA_FIXED = "the CA was brought with --ca-cert/--ca-key and cannot be rotated here; restart with a new one"
_TRUST_DOMAIN_RE = re.compile(r"^[a-z0-9._-]+$")
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9._-]+$")


class CaError(Exception):
    """A CA operation or CA input was invalid; the message says exactly what."""


class AuthorityRole(str, enum.Enum):
    """Where an authority is in its life: in the bundle only, signing, or on its way out of the bundle."""

    PREPARED = "prepared"
    ACTIVE = "active"
    RETIRED = "retired"


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def validate_trust_domain(name: str) -> str:
    """Return ``name`` if it is a valid trust domain name (lowercase [a-z0-9._-], at most 255 bytes)."""
    if not name:
        raise CaError("trust domain is empty")
    if name.startswith("spiffe://"):
        raise CaError(f"trust domain {name!r} must be a bare name such as example.org, without spiffe://")
    if len(name.encode()) > 255:
        raise CaError(f"trust domain {name!r} is longer than 255 bytes")
    if not _TRUST_DOMAIN_RE.match(name):
        raise CaError(f"trust domain {name!r} may contain only lowercase letters, digits, '.', '-' and '_'")
    return name


def validate_spiffe_id_for(trust_domain: str, spiffe_id: str) -> str:
    """Return ``spiffe_id`` if it is a well-formed SPIFFE ID with a path inside ``trust_domain``."""
    prefix = f"spiffe://{trust_domain}"
    if not spiffe_id.startswith("spiffe://"):
        raise CaError(f"SPIFFE ID {spiffe_id!r} must start with spiffe://")
    if len(spiffe_id.encode()) > 2048:
        raise CaError(f"SPIFFE ID {spiffe_id[:40]!r}... is longer than 2048 bytes")
    rest = spiffe_id[len("spiffe://") :]
    td, slash, path = rest.partition("/")
    if td != trust_domain:
        raise CaError(f"SPIFFE ID {spiffe_id!r} is not in trust domain {trust_domain!r} (expected {prefix}/...)")
    if not slash or not path:
        raise CaError(f"SPIFFE ID {spiffe_id!r} has no path; a workload ID needs one, e.g. {prefix}/ns/dev/sa/app")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise CaError(f"SPIFFE ID {spiffe_id!r} has an empty, '.' or '..' path segment")
        if not _SEGMENT_RE.match(segment):
            raise CaError(f"SPIFFE ID {spiffe_id!r}: path segment {segment!r} may contain only [A-Za-z0-9._-]")
    return spiffe_id


_DNS_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def validate_dns_name(name: str) -> str:
    """Return ``name`` lowercased if it is a valid DNS host name (LDH labels, at most 253 bytes)."""
    if not name or len(name) > 253 or not all(_DNS_LABEL_RE.match(label) for label in name.split(".")):
        raise CaError(f"DNS name {name!r} is not a valid host name")
    return name.lower()


@dataclasses.dataclass(frozen=True)
class X509Authority:
    """A CA certificate and its signing key."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    @property
    def not_before(self) -> datetime.datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime.datetime:
        return self.certificate.not_valid_after_utc

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


@dataclasses.dataclass(frozen=True)
class JwtAuthority:
    """A JWT-SVID signing key with its key id; ``not_before``/``not_after`` drive rotation like a CA's lifetime."""

    key_id: str
    private_key: ec.EllipticCurvePrivateKey
    not_before: datetime.datetime
    not_after: datetime.datetime

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, Any]:
        """The public key as a SPIFFE bundle JWK (``use`` = ``jwt-svid``)."""
        entry = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.public_key))
        entry.update({"kid": self.key_id, "use": "jwt-svid"})
        return entry


@dataclasses.dataclass(frozen=True)
class X509SvidMaterial:
    """An issued X.509-SVID: the chain (leaf first), its private key and when it should be replaced."""

    spiffe_id: str
    chain: tuple[x509.Certificate, ...]
    private_key: ec.EllipticCurvePrivateKey
    issued_at: datetime.datetime

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def not_after(self) -> datetime.datetime:
        return self.leaf.not_valid_after_utc

    @property
    def rotate_at(self) -> datetime.datetime:
        """Half of the lifetime counted from issue: the Workload API pushes a new SVID then."""
        return self.issued_at + (self.not_after - self.issued_at) / 2

    def chain_der(self) -> bytes:
        """The chain as concatenated DER, leaf first (the Workload API wire form)."""
        return b"".join(c.public_bytes(serialization.Encoding.DER) for c in self.chain)

    def key_pkcs8_der(self) -> bytes:
        """The private key as unencrypted PKCS#8 DER (the Workload API wire form)."""
        return self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


@dataclasses.dataclass
class _Slot:
    authority: Any  # X509Authority | JwtAuthority
    role: AuthorityRole
    activated_at: datetime.datetime | None = None
    drop_at: datetime.datetime | None = None


def load_ca(cert_pem: bytes, key_pem: bytes, *, now: datetime.datetime | None = None) -> X509Authority:
    """Load and check a CA brought by the user: a CA certificate that may sign certificates, and its own key."""
    now = now or _now()
    try:
        certs = x509.load_pem_x509_certificates(cert_pem)
    except ValueError as exc:
        raise CaError(f"CA certificate is not a PEM certificate: {exc}") from None
    if len(certs) != 1:
        raise CaError(f"CA certificate file must hold exactly one certificate, found {len(certs)}")
    cert = certs[0]
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CaError(f"CA key is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise CaError(f"CA key type {type(key).__name__} is not supported (use EC or RSA)")
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise CaError("CA certificate has no basicConstraints extension; it must say CA=true") from None
    if not basic.ca:
        raise CaError("CA certificate has basicConstraints CA=false; it cannot sign SVIDs")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.key_cert_sign:
            raise CaError("CA certificate key usage lacks keyCertSign; it cannot sign SVIDs")
    except x509.ExtensionNotFound:
        pass
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise CaError("CA key does not match the CA certificate's public key")
    if cert.not_valid_after_utc <= now:
        raise CaError(f"CA certificate expired at {cert.not_valid_after_utc.isoformat()}")
    if cert.not_valid_before_utc > now:
        raise CaError(f"CA certificate is not valid before {cert.not_valid_before_utc.isoformat()}")
    return X509Authority(cert, key)


def _new_key_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")


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
        self._x509: list[_Slot] = []
        self._jwt: list[_Slot] = []
        now = clock()
        if _restore is not None:
            self._restore_slots(_restore, now)
        if upstream is not None:
            self._x509 = [_Slot(upstream, AuthorityRole.ACTIVE, activated_at=now)]
        if not any(s.role is AuthorityRole.ACTIVE for s in self._x509):
            self._x509 = [_Slot(self._new_x509_authority(now), AuthorityRole.ACTIVE, activated_at=now)]
        if not any(s.role is AuthorityRole.ACTIVE for s in self._jwt):
            self._jwt = [_Slot(self._new_jwt_authority(now), AuthorityRole.ACTIVE, activated_at=now)]

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
        keys: list[dict[str, Any]] = []
        for cert in self.x509_bundle():
            entry = json.loads(_public_jwk(cert.public_key()))
            entry.update(
                {"use": "x509-svid", "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]}
            )
            keys.append(entry)
        keys.extend(s.authority.jwk() for s in self._ordered(self._jwt))
        return json.dumps({"keys": keys}, indent=2, sort_keys=True).encode()

    def bundle_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.x509_bundle())

    def authorities(self) -> dict[str, list[dict[str, Any]]]:
        """A description of every authority and its role, for status output."""
        def describe(slot: _Slot, ident: str) -> dict[str, Any]:
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
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id)]
        sans.extend(x509.DNSName(n) for n in names)
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SPIRE")])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(max(now - BACKDATE, ca.not_before))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()), critical=False
            )
        )
        leaf = builder.sign(ca.private_key, hashes.SHA256())
        return X509SvidMaterial(spiffe_id=spiffe_id, chain=(leaf,), private_key=key, issued_at=now)

    def issue_jwt_svid(self, spiffe_id: str, audience: Sequence[str], ttl: datetime.timedelta | None = None) -> str:
        """Issue a JWT-SVID (ES256, ``kid`` header) for ``spiffe_id`` with the given audience."""
        validate_spiffe_id_for(self.trust_domain, spiffe_id)
        audience = [a for a in audience]
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
        if any(s.role is AuthorityRole.PREPARED for s in self._x509):
            return False
        self._x509.append(_Slot(self._new_x509_authority(self._clock()), AuthorityRole.PREPARED))
        return True

    def activate_x509(self) -> bool:
        """Make the prepared CA sign; the old one retires and is dropped once its SVIDs have expired."""
        if self.upstream is not None:
            raise CaError(_BROUGHT_CA_FIXED)
        return self._activate(self._x509, lambda old, now: min(old.authority.not_after, now + self.x509_ttl + BACKDATE))

    def prepare_jwt(self) -> bool:
        """Put the next JWT signing key into the bundle without signing with it."""
        if any(s.role is AuthorityRole.PREPARED for s in self._jwt):
            return False
        self._jwt.append(_Slot(self._new_jwt_authority(self._clock()), AuthorityRole.PREPARED))
        return True

    def activate_jwt(self) -> bool:
        """Make the prepared JWT key sign; the old key stays in the bundle until its tokens have expired."""
        return self._activate(self._jwt, lambda old, now: min(old.authority.not_after, now + self.jwt_ttl + BACKDATE))

    def _activate(self, slots: list[_Slot], drop_at: Callable[[_Slot, datetime.datetime], datetime.datetime]) -> bool:
        prepared = next((s for s in slots if s.role is AuthorityRole.PREPARED), None)
        if prepared is None:
            return False
        now = self._clock()
        for slot in slots:
            if slot.role is AuthorityRole.ACTIVE:
                slot.role = AuthorityRole.RETIRED
                slot.drop_at = drop_at(slot, now)
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
    def _auto(slots: list[_Slot], now: datetime.datetime, prepare: Callable[[], bool],
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
        def x509_entry(slot: _Slot) -> dict[str, Any]:
            return {"role": slot.role.value, "cert_pem": slot.authority.cert_pem().decode(),
                    "key_pem": slot.authority.key_pem().decode(), **_times(slot)}

        def jwt_entry(slot: _Slot) -> dict[str, Any]:
            a: JwtAuthority = slot.authority
            key_pem = a.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            return {"role": slot.role.value, "kid": a.key_id, "key_pem": key_pem,
                    "not_before": a.not_before.isoformat(), "not_after": a.not_after.isoformat(), **_times(slot)}

        return {
            "version": 1,
            "trust_domain": self.trust_domain,
            "x509": [] if self.upstream is not None else [x509_entry(s) for s in self._x509],
            "jwt": [jwt_entry(s) for s in self._jwt],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], **kwargs: Any) -> "SvidAuthority":
        """Rebuild from :meth:`to_state`; expired authorities are discarded and replaced."""
        td = kwargs.pop("trust_domain", None) or state.get("trust_domain")
        if state.get("version") != 1:
            raise CaError(f"unsupported CA state version {state.get('version')!r}")
        if td != state.get("trust_domain"):
            raise CaError(f"CA state is for trust domain {state.get('trust_domain')!r}, not {td!r}")
        return cls(td, _restore=state, **kwargs)

    def _restore_slots(self, state: Mapping[str, Any], now: datetime.datetime) -> None:
        try:
            for entry in state.get("x509", []):
                cert = x509.load_pem_x509_certificate(entry["cert_pem"].encode())
                key = serialization.load_pem_private_key(entry["key_pem"].encode(), password=None)
                if cert.not_valid_after_utc <= now:
                    continue
                self._x509.append(_slot_from(X509Authority(cert, key), entry))  # type: ignore[arg-type]
            for entry in state.get("jwt", []):
                key = serialization.load_pem_private_key(entry["key_pem"].encode(), password=None)
                auth = JwtAuthority(entry["kid"], key,  # type: ignore[arg-type]
                                    datetime.datetime.fromisoformat(entry["not_before"]),
                                    datetime.datetime.fromisoformat(entry["not_after"]))
                if auth.not_after <= now:
                    continue
                self._jwt.append(_slot_from(auth, entry))
        except (KeyError, ValueError, TypeError) as exc:
            raise CaError(f"CA state is malformed: {exc!r}") from None
        for slots in (self._x509, self._jwt):
            if not any(s.role is AuthorityRole.ACTIVE for s in slots):
                # The active one expired while we were down: promote a prepared one if any, else start afresh.
                prepared = next((s for s in slots if s.role is AuthorityRole.PREPARED), None)
                if prepared is not None:
                    prepared.role = AuthorityRole.ACTIVE
                    prepared.activated_at = now

    # ----------------------------------------------------------------------------------------------- internals
    @staticmethod
    def _ordered(slots: Iterable[_Slot]) -> list[_Slot]:
        order = {AuthorityRole.ACTIVE: 0, AuthorityRole.PREPARED: 1, AuthorityRole.RETIRED: 2}
        return sorted(slots, key=lambda s: order[s.role])

    def _new_x509_authority(self, now: datetime.datetime) -> X509Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        serial = x509.random_serial_number()
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SPIFFE"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"mcp-grpc dev CA {self.trust_domain}"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, format(serial, "x")),
        ])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + self.ca_ttl)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"spiffe://{self.trust_domain}")]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return X509Authority(cert, key)

    def _new_jwt_authority(self, now: datetime.datetime) -> JwtAuthority:
        # Same lifetime as a CA made at the same moment, so automatic rotation moves both together.
        return JwtAuthority(_new_key_id(), ec.generate_private_key(ec.SECP256R1()), now - BACKDATE, now + self.ca_ttl)


def _public_jwk(key: PublicKeyTypes) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return jwt.algorithms.ECAlgorithm.to_jwk(key)
    if isinstance(key, rsa.RSAPublicKey):
        return jwt.algorithms.RSAAlgorithm.to_jwk(key)
    raise CaError(f"unsupported CA public key type {type(key).__name__}")


def _times(slot: _Slot) -> dict[str, Any]:
    return {
        "activated_at": slot.activated_at.isoformat() if slot.activated_at else None,
        "drop_at": slot.drop_at.isoformat() if slot.drop_at else None,
    }


def _slot_from(authority: Any, entry: Mapping[str, Any]) -> _Slot:
    def when(name: str) -> datetime.datetime | None:
        value = entry.get(name)
        return datetime.datetime.fromisoformat(value) if value else None

    return _Slot(authority, AuthorityRole(entry["role"]), activated_at=when("activated_at"), drop_at=when("drop_at"))
