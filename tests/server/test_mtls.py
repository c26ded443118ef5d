"""The Authenticator receives the peer's verified certificate through auth_context over real mTLS.

Certificates are made here with ``cryptography``; the authenticator is a tiny real one reading the URI SAN (the
SPIFFE one in mcp_grpc.identity does the strict checks).
"""

from __future__ import annotations

import datetime
import ipaddress

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.contract import Principal, ProofKind
from mcp_grpc.contract import AuthenticationFailed

from tests.support.servers import running

AGENT_ID = "spiffe://example.org/ns/prod/sa/agent"


def _certificate(subject: str, key, issuer_key, issuer_name, *, ca: bool, sans: list) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(obj) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(scope="module")
def pki():
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test ca", ca_key, ca_key, None, ca=True, sans=[])
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate("server", server_key, ca_key, ca.subject, ca=False,
                          sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate("agent", client_key, ca_key, ca.subject, ca=False,
                          sans=[x509.UniformResourceIdentifier(AGENT_ID)])
    return {"ca": _pem(ca), "server": (_pem(server_key), _pem(server)), "client": (_pem(client_key), _pem(client))}


class UriSanAuthenticator:
    def authenticate(self, auth_context, metadata) -> Principal:
        pems = auth_context.get("x509_pem_cert")
        if not pems:
            raise AuthenticationFailed("no client certificate")
        certificate = x509.load_pem_x509_certificate(pems[0])
        uris = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.UniformResourceIdentifier
        )
        if len(uris) != 1:
            raise AuthenticationFailed("expected exactly one URI SAN")
        return Principal(uris[0], "example.org", ProofKind.X509, certificate.not_valid_after_utc)


async def test_the_authenticator_sees_the_verified_client_certificate(app, observed, pki):
    credentials = grpc.ssl_server_credentials(
        [pki["server"]], root_certificates=pki["ca"], require_client_auth=True
    )
    async with running(app, credentials=credentials, authenticator=UriSanAuthenticator(), insecure_local=False) as server:
        channel_credentials = grpc.ssl_channel_credentials(pki["ca"], *pki["client"])
        async with AsyncClient(server.address, credentials=channel_credentials) as client:
            result = await client.call_tool("read_bucket", {"bucket": "b"})
        anonymous = grpc.ssl_channel_credentials(pki["ca"])  # TLS without a client certificate
        async with AsyncClient(server.address, credentials=anonymous, retry=None, timeout=5) as client:
            with pytest.raises(McpCallError) as refused:
                await client.call_tool("echo", {"text": "x"})
    assert result.structured == {"bucket": "b", "caller": AGENT_ID}
    assert observed.principals == [AGENT_ID]
    assert refused.value.status == grpc.StatusCode.UNAVAILABLE  # the TLS handshake itself refuses the caller
