"""OpenFGA's server-side model checks (mcp_grpc/authz/model/server_rules.py, from openfga pkg/typesystem
NewAndValidate); each expectation was checked with `fga model validate`."""

from __future__ import annotations

import pytest

from mcp_grpc.authz.model import parse_dsl
from mcp_grpc.authz.model.server_rules import first_server_error

HEAD = "model\n  schema 1.1\ntype user\n"


@pytest.mark.parametrize("body, expected", [
    ("type t1\n  relations\n    define r0: [user] or r1\n    define r1: [user] and r0\n", "cannot contain a cycle"),
    ("type t1\n  relations\n    define r0: [user]\n    define r1: r0\n    define r2: r0 and r1\n", None),
    ("type t1\n  relations\n    define r0: [user] or r0\n", "invalid userset rewrite definition"),
    ("type t1\n  relations\n    define p: [t1]\n    define r0: [user] but not r0 from p\n",
     "no entrypoints defined"),
    ("type t1\n  relations\n    define r0: [user] and r1\n    define r1: [user] and r0\n", "potential loop"),
    ("type t1\n  relations\n    define p: [t1]\n    define r0: [user] or r0 from p\n", None),
])
def test_first_server_error(body, expected):
    found = first_server_error(parse_dsl(HEAD + body))
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found[2]
