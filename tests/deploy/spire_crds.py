"""The SPIRE Controller Manager's CRD schemas (ClusterSPIFFEID, ...), for validating our manifests.

They are not committed: they come from the Go module ``github.com/spiffe/spire-controller-manager`` at the version
pinned in tools/build-peers.sh (``make peers`` downloads it into the Go module cache with the peer binaries), read
from ``config/crd/bases/`` of that module. Without Go or the module the tests that need them skip, or fail under
CI=true.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import tempfile
from typing import Any

import pytest
import yaml

from tests.peers.peer_binaries import pinned

__all__ = ["MODULE", "VERSION", "crd_schemas", "strict"]

MODULE = "github.com/spiffe/spire-controller-manager"
VERSION = pinned("SPIRE_CONTROLLER_MANAGER_VERSION")


def _unavailable(message: str) -> None:
    message = f"SPIRE CRD schemas unavailable: {message}; run `make peers`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires them: {message}", pytrace=False)
    pytest.skip(message)


def _module_dir() -> pathlib.Path:
    """The module's folder in the Go module cache, downloading it (once) when it is not there."""
    try:
        with tempfile.TemporaryDirectory() as empty:  # outside any module: go mod download takes module@version
            proc = subprocess.run(
                ["go", "mod", "download", "-json", f"{MODULE}@{VERSION}"],
                capture_output=True, text=True, timeout=300, cwd=empty, env={**os.environ, "GOFLAGS": "-mod=mod"},
            )
    except FileNotFoundError:
        _unavailable("go is not on PATH")
    except subprocess.TimeoutExpired:
        _unavailable(f"go mod download {MODULE}@{VERSION} timed out")
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        info = {}
    if proc.returncode != 0 or not info.get("Dir"):
        _unavailable(f"go mod download {MODULE}@{VERSION}: {(info.get('Error') or proc.stderr).strip()[:500]}")
    return pathlib.Path(info["Dir"])


def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind)`` -> the openAPIV3Schema of every served version of every CRD in the module."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((_module_dir() / "config" / "crd" / "bases").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    if not schemas:
        _unavailable(f"no CRDs under config/crd/bases of {MODULE}@{VERSION}")
    return schemas


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused, as ``kubectl apply --validate=strict`` does for a structural CRD:
    every object that lists its properties and neither allows others nor preserves unknown fields gets
    ``additionalProperties: false``."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out
