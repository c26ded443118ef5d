"""Where things are: the repository, the demo store, and the conformance data shared with CI."""

from __future__ import annotations

import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
#: The demo store (model.fga, tuples.yaml) that examples/demo and the e2e and reliability suites authorize with.
AUTHZ_DIR = REPO_ROOT / "authz"
# ../shared beside the project root: OpenFGA's conformance data, shared with CI; read in place, never copied.
SHARED_DIR = REPO_ROOT.parent / "shared"
CONFORMANCE_DIR = SHARED_DIR / "conformance"
