"""Call-path test setup: make tests/authz importable (the fake OpenFGA server lives there)."""

import pathlib
import sys

_AUTHZ_TESTS = str(pathlib.Path(__file__).resolve().parent.parent)
if _AUTHZ_TESTS not in sys.path:
    sys.path.insert(0, _AUTHZ_TESTS)
