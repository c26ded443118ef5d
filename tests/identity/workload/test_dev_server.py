"""`mcp-grpc identity dev` against py-spiffe's real clients, raw gRPC calls for the error cases, and its admin socket."""

from __future__ import annotations

import json
import pathlib
import time

import grpc
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from spiffe import JwtSource, SpiffeId, TrustDomain, WorkloadApiClient, X509Source
from spiffe._proto import workload_pb2, workload_pb2_grpc
from spiffe.utils.certificate_utils import parse_der_certificates
from spiffe.workloadapi.errors import FetchJwtSvidError, FetchX509SvidError, ValidateJwtSvidError

from mcp_grpc.identity.workload_dev.ca import SvidAuthority
from mcp_grpc.identity.workload_dev.admin import AdminError
from tests.support.workload_harness import AGENT_ID, SERVER_DNS, SERVER_ID, TD, DevServer

HEADER = (("workload.spiffe.io", "true"),)


def raw_stub(server: DevServer, name: str) -> tuple[grpc.Channel, workload_pb2_grpc.SpiffeWorkloadAPIStub]:
    channel = grpc.insecure_channel(server.socket(name).replace("unix://", "unix:"))
    return channel, workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)


def first(stream: grpc.Call) -> object:
    try:
        return next(iter(stream))  # type: ignore[call-overload]
    finally:
        stream.cancel()


# ------------------------------------------------------------------------------------------ py-spiffe clients


def test_py_spiffe_client_fetches_an_svid_shaped_like_spires(dev_server: DevServer, byo_ca_files) -> None:
    with WorkloadApiClient(dev_server.socket("server")) as client:
        svid = client.fetch_x509_svid(timeout=10)
    assert str(svid.spiffe_id) == SERVER_ID
    leaf = svid.leaf
    key = leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert isinstance(svid.private_key, ec.EllipticCurvePrivateKey)
    basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.value.ca is False and basic.critical
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not usage.value.key_cert_sign and not usage.value.crl_sign
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [SERVER_ID]
    assert san.get_values_for_type(x509.DNSName) == [SERVER_DNS, "localhost"]
    # Brought CA: it signs the leaf directly and is the bundle root.
    ca = x509.load_pem_x509_certificate(byo_ca_files[0].read_bytes())
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert 3590 <= lifetime.total_seconds() <= 3605  # --x509-ttl 1h (plus a small backdate)


def test_x509_svid_wire_format_chain_der_leaf_first_and_pkcs8_key(dev_server: DevServer) -> None:
    channel, stub = raw_stub(dev_server, "agent")
    with channel:
        response = first(stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=HEADER, timeout=10))
    assert isinstance(response, workload_pb2.X509SVIDResponse)
    (svid,) = response.svids
    assert svid.spiffe_id == AGENT_ID
    (leaf,) = parse_der_certificates(svid.x509_svid)  # concatenated DER, leaf first; no intermediates here
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.UniformResourceIdentifier) == [AGENT_ID]
    key = serialization.load_der_private_key(svid.x509_svid_key, password=None)  # PKCS#8 DER, unencrypted
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()
    assert svid.x509_svid_key.startswith(b"\x30") and b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01" in svid.x509_svid_key[:40]
    bundle_root = x509.load_der_x509_certificate(svid.bundle)
    leaf.verify_directly_issued_by(bundle_root)
    assert set(response.federated_bundles) == {"spiffe://other.org"}


def test_bundles_are_keyed_by_trust_domain_id_and_match_bundle_pem(dev_server: DevServer, federated_authority) -> None:
    with WorkloadApiClient(dev_server.socket("agent")) as client:
        bundles = client.fetch_x509_bundles(timeout=10)
        jwt_bundles = client.fetch_jwt_bundles(timeout=10)
    own = bundles.get_bundle_for_trust_domain(TrustDomain(TD))
    other = bundles.get_bundle_for_trust_domain(TrustDomain("other.org"))
    assert own is not None and other is not None
    pem_roots = x509.load_pem_x509_certificates((dev_server.socket_dir / "bundle.pem").read_bytes())
    assert set(own.x509_authorities) == set(pem_roots)
    assert set(other.x509_authorities) == set(federated_authority.x509_bundle())
    own_jwt = jwt_bundles.get_bundle_for_trust_domain(TrustDomain(TD))
    other_jwt = jwt_bundles.get_bundle_for_trust_domain(TrustDomain("other.org"))
    assert own_jwt is not None and len(own_jwt.jwt_authorities) == 1
    assert other_jwt is not None and set(other_jwt.jwt_authorities) == set(federated_authority.jwt_bundle())

    channel, stub = raw_stub(dev_server, "agent")
    with channel:
        raw = first(stub.FetchJWTBundles(workload_pb2.JWTBundlesRequest(), metadata=HEADER, timeout=10))
        raw_x509 = first(stub.FetchX509Bundles(workload_pb2.X509BundlesRequest(), metadata=HEADER, timeout=10))
    assert set(raw.bundles) == {f"spiffe://{TD}", "spiffe://other.org"}
    assert set(raw_x509.bundles) == {f"spiffe://{TD}", "spiffe://other.org"}
    jwks = json.loads(raw.bundles[f"spiffe://{TD}"])
    (key,) = jwks["keys"]
    assert key["kid"] and key["kty"] == "EC" and key["crv"] == "P-256" and key["use"] == "jwt-svid"


def test_jwt_svid_fetch_and_validate_with_py_spiffe(dev_server: DevServer) -> None:
    with WorkloadApiClient(dev_server.socket("agent")) as client:
        token = client.fetch_jwt_svid({"mcp-server", "other"}, timeout=10)
        assert str(token.spiffe_id) == AGENT_ID and token.audience == {"mcp-server", "other"}
        header = jwt.get_unverified_header(token.token)
        assert header["alg"] == "ES256" and header["kid"]
        claims = jwt.decode(token.token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == pytest.approx(300, abs=2)  # --jwt-ttl 5m
        validated = client.validate_jwt_svid(token.token, "mcp-server", timeout=10)
        assert str(validated.spiffe_id) == AGENT_ID
        with pytest.raises(ValidateJwtSvidError, match="audience"):
            client.validate_jwt_svid(token.token, "somebody-else", timeout=10)
        tampered = token.token[:-4] + ("AAAA" if not token.token.endswith("AAAA") else "BBBB")
        with pytest.raises(ValidateJwtSvidError, match="INVALID_ARGUMENT"):
            client.validate_jwt_svid(tampered, "mcp-server", timeout=10)
    # The JWT bundle verifies the token on our side too (ES256 key by kid).
    with JwtSource(socket_path=dev_server.socket("server"), timeout_in_seconds=10) as source:
        bundle = source.get_bundle_for_trust_domain(TrustDomain(TD))
        key = bundle.get_jwt_authority(header["kid"])
        assert jwt.decode(token.token, key, algorithms=["ES256"], audience="mcp-server")["sub"] == AGENT_ID
    # Requesting another workload's SPIFFE ID is refused.
    with WorkloadApiClient(dev_server.socket("agent")) as client:
        with pytest.raises(FetchJwtSvidError, match="PERMISSION_DENIED"):
            client.fetch_jwt_svid({"a"}, subject=SpiffeId(SERVER_ID), timeout=10)


def test_validate_jwt_svid_of_a_federated_trust_domain(dev_server: DevServer, federated_authority) -> None:
    token = federated_authority.issue_jwt_svid("spiffe://other.org/ns/x/sa/y", ["mcp-server"])
    channel, stub = raw_stub(dev_server, "agent")
    with channel:
        reply = stub.ValidateJWTSVID(
            workload_pb2.ValidateJWTSVIDRequest(audience="mcp-server", svid=token), metadata=HEADER, timeout=10
        )
        assert reply.spiffe_id == "spiffe://other.org/ns/x/sa/y"
        assert reply.claims["aud"] == ["mcp-server"]
        stranger = SvidAuthority("stranger.org").issue_jwt_svid("spiffe://stranger.org/x", ["mcp-server"])
        with pytest.raises(grpc.RpcError) as info:
            stub.ValidateJWTSVID(
                workload_pb2.ValidateJWTSVIDRequest(audience="mcp-server", svid=stranger), metadata=HEADER, timeout=10
            )
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "no keys found for trust domain 'stranger.org'" in info.value.details()


def test_x509_and_jwt_sources_from_py_spiffe(dev_server: DevServer) -> None:
    with X509Source(socket_path=dev_server.socket("server"), timeout_in_seconds=10) as source:
        context = source.get_x509_context()
        assert str(context.default_svid.spiffe_id) == SERVER_ID
        assert context.x509_bundle_set.get_bundle_for_trust_domain(TrustDomain("other.org")) is not None
    with JwtSource(socket_path=dev_server.socket("agent"), timeout_in_seconds=10) as source:
        assert {str(b.trust_domain) for b in source.bundles} == {TD, "other.org"}
        assert str(source.fetch_svid({"x"}).spiffe_id) == AGENT_ID


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "call",
    ["FetchX509SVID", "FetchX509Bundles", "FetchJWTBundles", "FetchJWTSVID", "ValidateJWTSVID"],
)
@pytest.mark.parametrize("metadata", [None, (("workload.spiffe.io", "false"),)], ids=["absent", "false"])
def test_every_rpc_requires_the_security_header(dev_server: DevServer, call: str, metadata) -> None:
    requests = {
        "FetchX509SVID": workload_pb2.X509SVIDRequest(),
        "FetchX509Bundles": workload_pb2.X509BundlesRequest(),
        "FetchJWTBundles": workload_pb2.JWTBundlesRequest(),
        "FetchJWTSVID": workload_pb2.JWTSVIDRequest(audience=["a"]),
        "ValidateJWTSVID": workload_pb2.ValidateJWTSVIDRequest(audience="a", svid="x.y.z"),
    }
    channel, stub = raw_stub(dev_server, "agent")
    with channel:
        with pytest.raises(grpc.RpcError) as info:
            result = getattr(stub, call)(requests[call], metadata=metadata, timeout=10)
            if call.startswith("Fetch") and call != "FetchJWTSVID":
                first(result)
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "security header missing from request"


@pytest.mark.parametrize("call", ["FetchX509SVID", "FetchX509Bundles", "FetchJWTBundles", "FetchJWTSVID"])
def test_socket_without_identity_is_permission_denied(dev_server: DevServer, call: str) -> None:
    requests = {
        "FetchX509SVID": workload_pb2.X509SVIDRequest(),
        "FetchX509Bundles": workload_pb2.X509BundlesRequest(),
        "FetchJWTBundles": workload_pb2.JWTBundlesRequest(),
        "FetchJWTSVID": workload_pb2.JWTSVIDRequest(audience=["a"]),
    }
    channel, stub = raw_stub(dev_server, "ghost")
    with channel:
        with pytest.raises(grpc.RpcError) as info:
            result = getattr(stub, call)(requests[call], metadata=HEADER, timeout=10)
            if call != "FetchJWTSVID":
                first(result)
    assert info.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert info.value.details() == "no identity issued"
    with WorkloadApiClient(dev_server.socket("ghost")) as client:
        with pytest.raises(FetchX509SvidError, match="no identity issued"):
            client.fetch_x509_svid(timeout=10)


def test_empty_audience_and_empty_token_are_invalid_argument(dev_server: DevServer) -> None:
    channel, stub = raw_stub(dev_server, "agent")
    with channel:
        for request, expected in [
            (workload_pb2.JWTSVIDRequest(), "audience must be specified"),
            (workload_pb2.JWTSVIDRequest(audience=[""]), "audience must be specified"),
        ]:
            with pytest.raises(grpc.RpcError) as info:
                stub.FetchJWTSVID(request, metadata=HEADER, timeout=10)
            assert (info.value.code(), info.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, expected)
        for request, expected in [
            (workload_pb2.ValidateJWTSVIDRequest(svid="a.b.c"), "audience must be specified"),
            (workload_pb2.ValidateJWTSVIDRequest(audience="a"), "svid must be specified"),
            (workload_pb2.ValidateJWTSVIDRequest(audience="a", svid="garbage"), "unable to parse JWT token"),
        ]:
            with pytest.raises(grpc.RpcError) as info:
                stub.ValidateJWTSVID(request, metadata=HEADER, timeout=10)
            assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert info.value.details().startswith(expected)


def test_unknown_method_is_unimplemented(dev_server: DevServer) -> None:
    channel, _ = raw_stub(dev_server, "agent")
    with channel:
        call = channel.unary_unary("/SpiffeWorkloadAPI/FetchWITSVID")
        with pytest.raises(grpc.RpcError) as info:
            call(b"", metadata=HEADER, timeout=10)
    assert info.value.code() is grpc.StatusCode.UNIMPLEMENTED


# ------------------------------------------------------------------------------------------ streams and admin


def test_streams_push_full_state_again_on_change_and_end_on_identity_removal(dev_server: DevServer) -> None:
    channel, stub = raw_stub(dev_server, "agent")
    with channel:
        stream = stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=HEADER, timeout=30)
        iterator = iter(stream)
        first_msg = next(iterator)
        dev_server.admin("rotate-svid", name="agent")
        second = next(iterator)  # pushed on change, complete (SVID, key, bundle, federated bundles)
        assert second.svids[0].x509_svid != first_msg.svids[0].x509_svid
        assert second.svids[0].bundle == first_msg.svids[0].bundle
        assert second.federated_bundles == first_msg.federated_bundles
        dev_server.admin("remove-identity", name="agent")
        try:
            with pytest.raises(grpc.RpcError) as info:
                next(iterator)
            assert info.value.code() is grpc.StatusCode.PERMISSION_DENIED
            assert info.value.details() == "no identity issued"
        finally:
            dev_server.admin("restore-identity", name="agent")
        with WorkloadApiClient(dev_server.socket("agent")) as client:
            assert str(client.fetch_x509_svid(timeout=10).spiffe_id) == AGENT_ID


def test_federated_bundle_file_change_is_pushed(dev_server: DevServer, federated_authority) -> None:
    channel, stub = raw_stub(dev_server, "server")
    with channel:
        stream = stub.FetchX509Bundles(workload_pb2.X509BundlesRequest(), metadata=HEADER, timeout=30)
        iterator = iter(stream)
        before = next(iterator).bundles["spiffe://other.org"]
        federated_authority.prepare_x509()  # the other domain prepares a CA: its bundle grows
        path: pathlib.Path = dev_server.federation_file  # type: ignore[attr-defined]
        time.sleep(0.01)
        path.write_bytes(federated_authority.spiffe_bundle())
        after = next(iterator).bundles["spiffe://other.org"]
        stream.cancel()
    assert len(parse_der_certificates(after)) == 2 and len(parse_der_certificates(before)) == 1


def test_admin_reports_status_and_refuses_bad_commands(dev_server: DevServer) -> None:
    status = dev_server.admin("status")
    assert status["trust_domain"] == TD
    assert status["workloads"]["ghost"]["has_identity"] is False
    assert status["workloads"]["server"]["dns_names"] == [SERVER_DNS, "localhost"]
    with pytest.raises(AdminError, match="cannot be rotated here"):
        dev_server.admin("rotate-ca", step="prepare")  # a brought CA is not rotated by the dev server
    with pytest.raises(AdminError, match="no workload named 'nobody'"):
        dev_server.admin("remove-identity", name="nobody")
    with pytest.raises(AdminError, match="unknown command"):
        dev_server.admin("explode")


def test_a_second_server_on_live_sockets_is_refused(dev_server: DevServer, capsys) -> None:
    from mcp_grpc.cli.main import main

    code = main(["identity", "dev", "--socket-dir", str(dev_server.socket_dir), "--trust-domain", TD,
                 "--workload", f"agent={AGENT_ID}"])
    assert code == 1
    assert "another server is already listening on" in capsys.readouterr().err
    with WorkloadApiClient(dev_server.socket("agent")) as client:  # the running server was not disturbed
        assert str(client.fetch_x509_svid(timeout=10).spiffe_id) == AGENT_ID


def test_pem_federation_bundle_has_x509_roots_and_an_empty_jwks(tmp_path: pathlib.Path) -> None:
    from spiffe import JwtBundle, X509Bundle

    from mcp_grpc.identity.workload_dev.state import load_federated_bundle

    other = SvidAuthority("other.org")
    other.prepare_x509()
    (tmp_path / "other.pem").write_bytes(other.bundle_pem())
    bundle = load_federated_bundle("other.org", tmp_path / "other.pem")
    assert set(X509Bundle.parse_raw(TrustDomain("other.org"), bundle.x509_der).x509_authorities) == set(
        other.x509_bundle())
    assert JwtBundle.parse(TrustDomain("other.org"), bundle.jwks).jwt_authorities == {}  # py-spiffe accepts it
