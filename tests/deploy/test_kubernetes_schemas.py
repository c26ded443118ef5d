"""Every manifest in deploy/kubernetes/ is valid: Kubernetes' own kinds against Kubernetes' schemas with
``kubernetes-validate --strict`` (unknown fields refused), SPIRE's ClusterSPIFFEID against the CRD schema of the
SPIRE Controller Manager version pinned in tools/build-peers.sh (tests/deploy/spire_crds.py)."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy import spire_crds
from tests.deploy.test_kubernetes_manifests import DOCS

#: The oldest Kubernetes these manifests are checked against (gRPC probes are GA since 1.27).
KUBERNETES_VERSION = "1.30"


def _manifest(doc: dict) -> dict:
    clean = copy.deepcopy(doc)
    clean.pop("__file__", None)
    return clean


def _label(doc: dict) -> str:
    return f"{doc['__file__']}:{doc['kind']}/{doc['metadata']['name']}"


BUILT_IN = [d for d in DOCS if "spiffe.io/" not in d["apiVersion"]]
SPIRE = [d for d in DOCS if "spiffe.io/" in d["apiVersion"]]


@pytest.mark.parametrize("doc", BUILT_IN, ids=_label)
def test_builtin_kinds_validate_strictly(doc):
    kubernetes_validate.validate(_manifest(doc), KUBERNETES_VERSION, strict=True)


def test_strict_validation_refuses_an_unknown_field():
    """The check above could fail: a misspelt field is refused, not ignored."""
    doc = _manifest(next(d for d in BUILT_IN if d["kind"] == "Deployment"))
    doc["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module")
def crds():
    return spire_crds.crd_schemas()


@pytest.mark.parametrize("doc", SPIRE, ids=_label)
def test_spire_resources_validate_against_the_controller_managers_crds(doc, crds):
    schema = crds.get((doc["apiVersion"], doc["kind"]))
    assert schema is not None, f"spire-controller-manager {spire_crds.VERSION} has no CRD for {_label(doc)}"
    jsonschema.Draft7Validator(spire_crds.strict(schema)).validate(_manifest(doc))


def test_crd_validation_refuses_an_unknown_field(crds):
    doc = _manifest(SPIRE[0])
    doc["spec"]["classname"] = "misspelt"
    schema = spire_crds.strict(crds[(doc["apiVersion"], doc["kind"])])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(doc)
    assert "className" in schema["properties"]["spec"]["properties"]  # the field we set exists in this version
