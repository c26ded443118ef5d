"""Paths shared by the call-path tests (a plain module: pytest's conftest.py is not importable by name)."""

import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
AUTHZ_DIR = REPO_ROOT / "authz"
