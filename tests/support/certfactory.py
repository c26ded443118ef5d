"""Build real X.509 CAs, SVIDs and JWT-SVIDs with ``cryptography``: ``make_ca`` is the one CA every test builds.

Defaults follow what SPIRE issues: EC P-256 keys, a CA with basicConstraints CA=true and keyCertSign/cRLSign, leaves
with CA=false, key usage digitalSignature (critical), exactly one URI SAN. Every default can be overridden so a test can
build precisely one defect. A CA is also what a development Workload API is given with ``--ca-cert``/``--ca-key``
(``CA.write``, ``CA.pems``), and ``CA.mint`` makes client certificates that Workload API would never issue.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import pathlib
from typing import Any, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc
_UNSET: Any = object()


def now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def ec_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve or ec.SECP256R1())


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Any) -> bytes:
    """An unencrypted PKCS#8 PEM private key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@dataclasses.dataclass
class CA:
    """A signing authority: a root (self-signed) or an intermediate. ``cert_file``/``key_file`` once written."""

    cert: x509.Certificate
    key: Any
    trust_domain: str
    cert_file: pathlib.Path | None = None
    key_file: pathlib.Path | None = None

    def pems(self) -> tuple[bytes, bytes]:
        """(PEM certificate, PEM key): what ``mcp-grpc identity dev --ca-cert/--ca-key`` and ``load_ca`` read."""
        return pem(self.cert), key_pem(self.key)

    def write(self, directory: pathlib.Path, name: str) -> "CA":
        """Write ``<name>.pem`` and ``<name>.key`` into ``directory`` and remember them as cert_file/key_file."""
        cert_pem, private_pem = self.pems()
        self.cert_file, self.key_file = directory / f"{name}.pem", directory / f"{name}.key"
        self.cert_file.write_bytes(cert_pem)
        self.key_file.write_bytes(private_pem)
        return self

    def mint(self, uris: Sequence[str], *, ca: bool = False) -> tuple[bytes, bytes]:
        """A client leaf (PEM certificate, PEM key) with these URI SANs, signed by this CA; TLS accepts it (both
        extended key usages), whatever X.509-SVID rule it breaks."""
        cert, key = self.issue_leaf(
            uris=list(uris), ca=ca, key_usage={"digital_signature": True, "key_cert_sign": ca, "crl_sign": ca},
            not_before=now() - datetime.timedelta(minutes=5), with_eku=True,
        )
        return pem(cert), key_pem(key)

    def issue_leaf(
        self,
        spiffe_id: str | None = _UNSET,
        *,
        uris: Sequence[str] | None = None,
        dns_names: Sequence[str] = (),
        ca: bool | None = False,
        key_usage: dict[str, bool] | None = _UNSET,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        key: Any = None,
        with_eku: bool = False,
        eku: Sequence[x509.ObjectIdentifier] | None = None,
        key_usage_critical: bool = True,
    ) -> tuple[x509.Certificate, Any]:
        """Issue a leaf. ``spiffe_id`` defaults to ``spiffe://<td>/workload``; ``uris`` overrides the URI SANs whole."""
        if spiffe_id is _UNSET:
            spiffe_id = f"spiffe://{self.trust_domain}/workload"
        if uris is None:
            uris = [spiffe_id] if spiffe_id is not None else []
        key = key or ec_key()
        t = now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SPIRE")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or t - datetime.timedelta(seconds=10))
            .not_valid_after(not_after or t + datetime.timedelta(hours=1))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if ca is not None:
            builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        if key_usage is _UNSET:
            key_usage = {"digital_signature": True}
        if key_usage is not None:
            builder = builder.add_extension(_key_usage(**key_usage), critical=key_usage_critical)
        if with_eku or eku is not None:
            usages = list(eku) if eku is not None else [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
        names += [x509.DNSName(d) for d in dns_names]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(self.key, hashes.SHA256()), key

    def issue_intermediate(self, trust_domain: str | None = None) -> "CA":
        return make_ca(trust_domain or self.trust_domain, parent=self)


def _key_usage(
    digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False,
    key_encipherment: bool = False, key_agreement: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=key_encipherment,
        data_encipherment=False, key_agreement=key_agreement, key_cert_sign=key_cert_sign, crl_sign=crl_sign,
        encipher_only=False, decipher_only=False,
    )


def make_ca(
    trust_domain: str,
    *,
    parent: CA | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    ca: bool = True,
) -> CA:
    """A SPIRE-like CA for ``trust_domain``: self-signed root, or an intermediate signed by ``parent``.

    ``ca=False`` builds the same certificate with basicConstraints CA=false (and digitalSignature instead of
    keyCertSign/cRLSign): one that must be refused as a CA."""
    key = ec_key()
    t = now()
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SPIFFE"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, str(x509.random_serial_number())),
    ])
    signer_key = parent.key if parent else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(parent.cert.subject if parent else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or t - datetime.timedelta(minutes=5))
        .not_valid_after(not_after or t + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"spiffe://{trust_domain}")]),
            critical=False,
        )
    )
    return CA(builder.sign(signer_key, hashes.SHA256()), key, trust_domain)


@dataclasses.dataclass
class World:
    """Two trust domains as a server federated with other.org sees them."""

    ca: CA  # example.org, our own trust domain
    other_ca: CA  # other.org, federated: trusted, but only for other.org IDs
    rogue_ca: CA  # in no bundle at all
    ec_jwt_key: Any  # example.org JWT authority "key-1" (ES256, as SPIRE)
    rsa_jwt_key: Any  # example.org JWT authority "rsa-1" (RS*/PS*)
    other_jwt_key: Any  # other.org JWT authority "other-1"
    bundles: Any  # StaticTrustBundles

    def auth_context(self, cert: Any) -> dict[str, list[bytes]]:
        """What grpcio's ``auth_context()`` holds for an mTLS peer presenting ``cert`` (leaf only)."""
        return {
            "transport_security_type": [b"ssl"],
            "x509_pem_cert": [pem(cert)],
        }


# --- JWT-SVIDs -----------------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_SIZES = {"256": 32, "384": 48, "512": 66}


def sign_jws(alg: str, key: Any, signing_input: bytes) -> bytes:
    """Produce a JWS signature (RFC 7518) over ``signing_input`` with ``alg``."""
    family, bits = alg[:2], alg[2:]
    if family == "ES":
        der = key.sign(signing_input, ec.ECDSA(_HASHES[bits]()))
        r, s = decode_dss_signature(der)
        size = _EC_SIZES[bits]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if family == "RS":
        return key.sign(signing_input, padding.PKCS1v15(), _HASHES[bits]())
    if family == "PS":
        h = _HASHES[bits]()
        return key.sign(signing_input, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if family == "HS":
        mac = hmac.HMAC(key, _HASHES[bits]())
        mac.update(signing_input)
        return mac.finalize()
    if alg == "none":
        return b""
    raise ValueError(alg)


def make_jwt(
    key: Any,
    *,
    kid: str | None = "key-1",
    alg: str = "ES256",
    sub: str | None = "spiffe://example.org/workload",
    aud: Any = _UNSET,
    exp: Any = _UNSET,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    drop: Sequence[str] = (),
) -> str:
    """A compact JWS JWT-SVID. Defaults: audience ``mcp``, five minutes to live; ``drop`` removes claims."""
    t = int(now().timestamp())
    hdr: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        hdr["kid"] = kid
    hdr.update(header or {})
    body: dict[str, Any] = {
        "sub": sub,
        "aud": ["mcp"] if aud is _UNSET else aud,
        "exp": t + 300 if exp is _UNSET else exp,
        "iat": t,
    }
    if sub is None:
        del body["sub"]
    body.update(claims or {})
    for name in drop:
        body.pop(name, None)
    signing_input = f"{b64json(hdr)}.{b64json(body)}".encode()
    return f"{signing_input.decode()}.{b64url(sign_jws(alg, key, signing_input))}"
