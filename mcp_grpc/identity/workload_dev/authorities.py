"""The development CA's key material: signing authorities, issued X.509-SVIDs, and how each is made or loaded.

- An :class:`X509Authority` is a CA certificate with its key: generated here (self-signed, EC P-256, the trust
  domain's SPIFFE ID as URI SAN) or brought by the user and checked by :func:`load_ca`.
- A :class:`JwtAuthority` is a JWT-SVID signing key (EC P-256) with its ``kid``.
- :func:`sign_x509_svid` makes a leaf shaped the way SPIRE issues them: ``CA=false``, key usage
  ``digitalSignature`` (critical), extended key usage serverAuth + clientAuth, exactly one URI SAN (the SPIFFE ID),
  optional DNS SANs. It is signed directly by a bundle root, so a verifier holding only the leaf (grpcio's
  ``auth_context`` exposes only the leaf) can re-verify it against the trust bundle.
- A :class:`Slot` holds an authority with its :class:`AuthorityRole` in the rotation (see :mod:`.ca`).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import secrets
from typing import Any, Sequence

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mcp_grpc.identity.spiffeid import TrustDomain
from mcp_grpc.identity.workload_dev.ca_inputs import CaError

__all__ = [
    "BACKDATE",
    "AuthorityRole",
    "JwtAuthority",
    "Slot",
    "X509Authority",
    "X509SvidMaterial",
    "load_ca",
    "new_jwt_authority",
    "new_x509_authority",
    "sign_x509_svid",
    "x509_authority_jwk",
]

UTC = datetime.timezone.utc
#: Leaves and authorities start slightly in the past so a peer whose clock lags a little still accepts them.
BACKDATE = datetime.timedelta(seconds=2)


class AuthorityRole(str, enum.Enum):
    """Where an authority is in its life: in the bundle only, signing, or on its way out of the bundle."""

    PREPARED = "prepared"
    ACTIVE = "active"
    RETIRED = "retired"


def _pkcs8(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, encoding: serialization.Encoding) -> bytes:
    return key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


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
        return _pkcs8(self.private_key, serialization.Encoding.PEM)


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

    def key_pem(self) -> bytes:
        return _pkcs8(self.private_key, serialization.Encoding.PEM)

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
        return _pkcs8(self.private_key, serialization.Encoding.DER)


@dataclasses.dataclass
class Slot:
    """One authority (:class:`X509Authority` or :class:`JwtAuthority`) and where it is in its rotation."""

    authority: Any
    role: AuthorityRole
    activated_at: datetime.datetime | None = None
    drop_at: datetime.datetime | None = None


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_ca(cert_pem: bytes, key_pem: bytes, *, now: datetime.datetime | None = None) -> X509Authority:
    """Load and check a CA brought by the user: a CA certificate that may sign certificates, and its own key."""
    now = now or datetime.datetime.now(UTC)
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
    if _spki(cert.public_key()) != _spki(key.public_key()):
        raise CaError("CA key does not match the CA certificate's public key")
    if cert.not_valid_after_utc <= now:
        raise CaError(f"CA certificate expired at {cert.not_valid_after_utc.isoformat()}")
    if cert.not_valid_before_utc > now:
        raise CaError(f"CA certificate is not valid before {cert.not_valid_before_utc.isoformat()}")
    return X509Authority(cert, key)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
    )


def new_x509_authority(trust_domain: str, now: datetime.datetime, ttl: datetime.timedelta) -> X509Authority:
    """A fresh self-signed CA for ``trust_domain`` (EC P-256), valid from ``now`` (backdated) for ``ttl``."""
    key = ec.generate_private_key(ec.SECP256R1())
    serial = x509.random_serial_number()
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SPIFFE"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"mcp-grpc dev CA {trust_domain}"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, format(serial, "x")),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + ttl)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(TrustDomain(trust_domain).id_string)]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return X509Authority(cert, key)


def new_jwt_authority(now: datetime.datetime, ttl: datetime.timedelta) -> JwtAuthority:
    """A fresh JWT-SVID signing key (EC P-256) with a random ``kid``, valid from ``now`` (backdated) for ``ttl``."""
    key_id = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
    return JwtAuthority(key_id, ec.generate_private_key(ec.SECP256R1()), now - BACKDATE, now + ttl)


def sign_x509_svid(
    ca: X509Authority,
    spiffe_id: str,
    dns_names: Sequence[str],
    now: datetime.datetime,
    not_after: datetime.datetime,
) -> X509SvidMaterial:
    """An X.509-SVID with a fresh P-256 key for ``spiffe_id`` (already validated), signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id)]
    sans.extend(x509.DNSName(n) for n in dns_names)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SPIRE")])
    leaf = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(max(now - BACKDATE, ca.not_before))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()), critical=False
        )
        .sign(ca.private_key, hashes.SHA256())
    )
    return X509SvidMaterial(spiffe_id=spiffe_id, chain=(leaf,), private_key=key, issued_at=now)


def x509_authority_jwk(cert: x509.Certificate) -> dict[str, Any]:
    """A CA certificate as a SPIFFE bundle JWK (``use`` = ``x509-svid``, the certificate in ``x5c``)."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        entry = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    elif isinstance(key, rsa.RSAPublicKey):
        entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    else:
        raise CaError(f"unsupported CA public key type {type(key).__name__}")
    der = cert.public_bytes(serialization.Encoding.DER)
    entry.update({"use": "x509-svid", "x5c": [base64.b64encode(der).decode()]})
    return entry
