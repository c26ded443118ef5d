"""Validate a peer's X.509-SVID: SPIFFE leaf rules, validity window, and a chain to its OWN trust domain's bundle.

grpcio hands the server the peer's leaf (``auth_context()['x509_pem_cert']``) after its TLS stack accepted the chain
against the pooled roots of every trust domain. That pool is exactly the problem: a federated CA trusted for
``other.org`` could issue ``spiffe://example.org/...``. So the chain is verified again here, against the roots of the
trust domain named in the leaf's SPIFFE ID and nothing else, after the SPIFFE leaf rules (X.509-SVID standard §3.1,
§4, §5.2) that TLS never checks.

Chain verification uses cryptography's RFC 5280 path builder with the Web PKI CA policy (CA certificates must assert
basicConstraints CA=true and keyCertSign, as the X.509-SVID standard also demands) but a permit-all end-entity policy:
the Web PKI leaf policy requires an authorityKeyIdentifier, a critical SAN when the subject is empty, and serverAuth or
clientAuth EKU semantics that the X.509-SVID standard does not, so it refuses valid SVIDs. The leaf rules that matter
for SPIFFE are checked explicitly below, each with its own error.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Collection, Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from mcp_grpc.identity.errors import (
    CertificateExpired,
    CertificateNotYetValid,
    ExtendedKeyUsageMismatch,
    KeyUsageForbidden,
    KeyUsageMissing,
    KeyUsageNotCritical,
    LeafIdWithoutPath,
    LeafIsCa,
    MalformedCertificate,
    MalformedSpiffeIdInSan,
    MultipleUriSans,
    NonSpiffeUriSan,
    NoUriSan,
    SpiffeIdError,
    TrustDomainNotAccepted,
    UnknownTrustDomain,
    UntrustedChain,
    WeakKey,
)
from mcp_grpc.identity.spiffeid import SpiffeId, parse_spiffe_id
from mcp_grpc.identity.trust import TrustBundles

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "MAX_INTERMEDIATES",
    "MIN_RSA_BITS",
    "X509_CURVES",
    "VerifiedX509Svid",
    "check_leaf",
    "load_certificate",
    "load_certificates",
    "validate_x509_svid",
]

UTC = datetime.timezone.utc
DEFAULT_CLOCK_SKEW = datetime.timedelta(seconds=5)
#: More intermediates than any sane SPIFFE deployment uses; bounds the path builder's work on hostile input.
MAX_INTERMEDIATES = 8
#: Leaf keys SPIRE issues (its key types: rsa-2048, rsa-4096, ec-p256, ec-p384); anything else is refused, so a
#: compromised or careless intermediate cannot hand out factorable RSA or exotic-curve keys that TLS happily accepts.
MIN_RSA_BITS = 2048
X509_CURVES = frozenset({"secp256r1", "secp384r1"})


@dataclasses.dataclass(frozen=True, slots=True)
class VerifiedX509Svid:
    """A leaf that passed every check."""

    spiffe_id: SpiffeId
    not_before: datetime.datetime
    not_after: datetime.datetime
    """The earliest notAfter of the verified chain (leaf, intermediates, root): the proof ends there."""
    chain: tuple[x509.Certificate, ...]


def load_certificate(data: bytes) -> x509.Certificate:
    """One certificate from PEM (the first block) or DER; ``MalformedCertificate`` if it does not parse."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, TypeError, x509.InvalidVersion) as exc:  # InvalidVersion is no ValueError
        raise MalformedCertificate(f"peer certificate does not parse: {exc}") from None


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle, in order; ``MalformedCertificate`` if any block does not parse."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except (ValueError, TypeError, x509.InvalidVersion) as exc:  # InvalidVersion is no ValueError
        raise MalformedCertificate(f"peer certificate chain does not parse: {exc}") from None


def _extension(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.Extension | None:
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:  # duplicate or undecodable extension
        raise MalformedCertificate(f"leaf extensions do not parse: {exc}") from None


def check_leaf(cert: x509.Certificate) -> SpiffeId:
    """The SPIFFE ID of a leaf that meets the X.509-SVID leaf rules; independent of time and trust.

    Exactly one URI SAN holding a strict SPIFFE ID with a path; basicConstraints CA=false (or absent); a critical
    keyUsage with digitalSignature and without keyCertSign or cRLSign; an RSA key of at least 2048 bits or an EC key
    on P-256/P-384; extendedKeyUsage, if present, allowing clientAuth.
    """
    san = _extension(cert, x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier) if san is not None else []
    if not uris:
        raise NoUriSan("leaf has no URI SAN; an X.509-SVID carries its SPIFFE ID there")
    if len(uris) > 1:
        raise MultipleUriSans(f"leaf has {len(uris)} URI SANs; an X.509-SVID has exactly one")
    uri = uris[0]
    scheme, colon, _ = uri.partition(":")
    if not colon or scheme.lower() != "spiffe":
        shown = uri if len(uri) <= 64 else uri[:64] + "..."
        raise NonSpiffeUriSan(f"leaf URI SAN {shown!r} is not a spiffe:// URI")
    try:
        spiffe_id = parse_spiffe_id(uri)
    except SpiffeIdError as exc:
        raise MalformedSpiffeIdInSan(f"malformed SPIFFE ID in leaf URI SAN: {exc}") from exc
    if not spiffe_id.path:
        raise LeafIdWithoutPath(f"leaf SPIFFE ID {spiffe_id} has no path; a trust domain ID cannot authenticate")

    constraints = _extension(cert, x509.oid.ExtensionOID.BASIC_CONSTRAINTS)
    if constraints is not None and constraints.value.ca:
        raise LeafIsCa("leaf asserts basicConstraints CA=true; a CA certificate cannot authenticate")

    usage = _extension(cert, x509.oid.ExtensionOID.KEY_USAGE)
    if usage is None:
        raise KeyUsageMissing("leaf has no keyUsage extension; digitalSignature is required")
    if not usage.critical:
        raise KeyUsageNotCritical("leaf keyUsage extension is not marked critical")
    if usage.value.key_cert_sign or usage.value.crl_sign:
        which = " and ".join(n for n, on in (("keyCertSign", usage.value.key_cert_sign),
                                             ("cRLSign", usage.value.crl_sign)) if on)
        raise KeyUsageForbidden(f"leaf key usage asserts {which}, which only a signing certificate may")
    if not usage.value.digital_signature:
        raise KeyUsageMissing("leaf key usage lacks digitalSignature")

    _check_key(cert)

    extended = _extension(cert, x509.oid.ExtensionOID.EXTENDED_KEY_USAGE)
    if extended is not None and not (
        ExtendedKeyUsageOID.CLIENT_AUTH in extended.value or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in extended.value
    ):
        raise ExtendedKeyUsageMismatch("leaf extendedKeyUsage does not allow clientAuth")
    return spiffe_id


def _check_key(cert: x509.Certificate) -> None:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:  # a corrupt key, or an algorithm cryptography cannot load
        raise WeakKey(f"leaf public key is not usable: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise WeakKey(f"leaf has a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are required")
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in X509_CURVES:
            raise WeakKey(f"leaf has an EC key on curve {key.curve.name}; only P-256 (secp256r1) and P-384 "
                          f"(secp384r1) are accepted")
        return
    raise WeakKey(f"leaf has a {type(key).__name__.removesuffix('PublicKey') or 'unknown'} key; only RSA (2048 bits "
                  f"or more) and EC P-256/P-384 keys are accepted")


def validate_x509_svid(
    leaf: x509.Certificate | bytes,
    intermediates: Sequence[x509.Certificate] = (),
    *,
    trust_bundles: TrustBundles,
    accepted_trust_domains: Collection[str] | None = None,
    now: datetime.datetime | None = None,
    clock_skew: datetime.timedelta = DEFAULT_CLOCK_SKEW,
) -> VerifiedX509Svid:
    """Validate a peer's X.509-SVID, or raise the ``X509SvidError`` subclass naming the first failed check.

    Order: leaf rules (``check_leaf``), trust domain accepted (``accepted_trust_domains`` None accepts any domain that
    has a bundle), validity window (notBefore may be up to ``clock_skew`` in the future; notAfter gets no grace, as in
    the TLS handshake), then the chain against the X.509 bundle of the leaf's own trust domain only.
    """
    cert = load_certificate(leaf) if isinstance(leaf, (bytes, bytearray)) else leaf
    spiffe_id = check_leaf(cert)
    trust_domain = spiffe_id.trust_domain.name
    if accepted_trust_domains is not None and trust_domain not in accepted_trust_domains:
        raise TrustDomainNotAccepted(f"trust domain {trust_domain} is not accepted by this server")

    now = now or datetime.datetime.now(UTC)
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < not_before - clock_skew:
        raise CertificateNotYetValid(f"leaf is not valid before {not_before.isoformat()}")
    if now >= not_after:
        raise CertificateExpired(f"leaf expired at {not_after.isoformat()}")

    roots = trust_bundles.x509_authorities(trust_domain)
    if not roots:
        raise UnknownTrustDomain(f"no X.509 bundle for trust domain {trust_domain}")
    if len(intermediates) > MAX_INTERMEDIATES:
        raise UntrustedChain(f"peer sent {len(intermediates)} intermediates, over the limit of {MAX_INTERMEDIATES}")
    # Within the skew a leaf may still be before its notBefore: verify the path at the leaf's first valid instant then.
    verify_at = max(now, not_before)
    try:
        verifier = (
            verification.PolicyBuilder()
            .store(verification.Store(list(roots)))
            .time(verify_at)
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=verification.ExtensionPolicy.permit_all(),
            )
            .build_client_verifier()
        )
        verified = verifier.verify(cert, list(intermediates))
    except (verification.VerificationError, ValueError) as exc:  # ValueError: a key or signature it cannot use
        raise UntrustedChain(
            f"leaf {spiffe_id} does not chain to the X.509 bundle of trust domain {trust_domain}: {exc}"
        ) from None
    chain = tuple(verified.chain)
    return VerifiedX509Svid(
        spiffe_id=spiffe_id,
        not_before=not_before,
        not_after=min(c.not_valid_after_utc for c in chain),
        chain=chain,
    )
