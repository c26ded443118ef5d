"""Fixtures for the validation suite: real CAs for example.org and a federated other.org, their bundles, JWT keys."""

from __future__ import annotations

import pytest

from mcp_grpc.identity.trust import StaticTrustBundles
from tests.support import certfactory as cf
from tests.support.certfactory import World


@pytest.fixture(scope="session")
def world() -> World:
    ca = cf.make_ca("example.org")
    other_ca = cf.make_ca("other.org")
    rogue_ca = cf.make_ca("example.org")
    ec_jwt_key = cf.ec_key()
    rsa_jwt_key = cf.rsa_key()
    other_jwt_key = cf.ec_key()
    bundles = StaticTrustBundles(
        x509_bundles={"example.org": [ca.cert], "other.org": [other_ca.cert]},
        jwt_bundles={
            "example.org": {"key-1": ec_jwt_key.public_key(), "rsa-1": rsa_jwt_key.public_key()},
            "other.org": {"other-1": other_jwt_key.public_key()},
        },
    )
    return World(ca, other_ca, rogue_ca, ec_jwt_key, rsa_jwt_key, other_jwt_key, bundles)
