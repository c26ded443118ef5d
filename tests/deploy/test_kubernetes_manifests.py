"""The Kubernetes manifests parse and agree with each other: names, labels, ports, socket paths and CLI flags."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from tests.support.paths import REPO_ROOT

MANIFEST_DIR = REPO_ROOT / "deploy" / "kubernetes"
NAMESPACE = "mcp-tools"


def _load() -> list[dict]:
    docs: list[dict] = []
    for path in sorted(MANIFEST_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                doc["__file__"] = path.name
                docs.append(doc)
    return docs


DOCS = _load()


def _by_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in DOCS if d["kind"] == kind}


def _pod_specs() -> list[tuple[str, dict, dict]]:
    """(workload name, pod template metadata, pod spec) for every Deployment, StatefulSet and Job."""
    out = []
    for doc in DOCS:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            template = doc["spec"]["template"]
            out.append((doc["metadata"]["name"], template.get("metadata", {}), template["spec"]))
    return out


def _secrets_created_by_jobs() -> set[str]:
    created = set()
    for doc in DOCS:
        if doc["kind"] == "Job":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                script = " ".join(container.get("args", []) + container.get("command", []))
                created.update(re.findall(r"create secret generic ([a-z0-9-]+)", script))
    return created


def test_every_document_has_kind_name_and_namespace():
    assert DOCS, f"no manifests found in {MANIFEST_DIR}"
    cluster_scoped = {"Namespace", "ClusterSPIFFEID"}
    for doc in DOCS:
        assert doc.get("apiVersion") and doc.get("kind"), doc["__file__"]
        assert doc["metadata"].get("name"), doc["__file__"]
        if doc["kind"] not in cluster_scoped:
            assert doc["metadata"].get("namespace") == NAMESPACE, (doc["__file__"], doc["metadata"]["name"])
    assert NAMESPACE in _by_kind("Namespace")


def test_workload_selectors_match_their_pod_labels():
    for doc in DOCS:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            selector = doc["spec"]["selector"]["matchLabels"]
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), doc["metadata"]["name"]


def test_services_select_pods_and_target_named_ports():
    pods = _pod_specs()
    for name, service in _by_kind("Service").items():
        selector = service["spec"]["selector"]
        matching = [(n, meta, spec) for n, meta, spec in pods if selector.items() <= meta.get("labels", {}).items()]
        assert matching, f"Service {name} selects no pod template"
        port_names = {p["name"] for _, _, spec in matching for c in spec["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, f"Service {name} targets unknown port {port['targetPort']}"


def test_tool_server_service_is_headless_for_client_side_round_robin():
    service = _by_kind("Service")["mcp-tool-server"]
    assert service["spec"]["clusterIP"] == "None"


def test_probes_use_grpc_health_on_a_declared_port():
    server = _by_kind("Deployment")["mcp-tool-server"]
    container = server["spec"]["template"]["spec"]["containers"][0]
    ports = {p["containerPort"] for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] in ports
    assert f"--health-port={container['readinessProbe']['grpc']['port']}" in container["args"]


def test_spiffe_socket_env_points_into_the_csi_mount():
    for name, _, spec in _pod_specs():
        csi_volumes = {v["name"] for v in spec.get("volumes", []) if v.get("csi", {}).get("driver") == "csi.spiffe.io"}
        for container in spec["containers"]:
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            if "SPIFFE_ENDPOINT_SOCKET" not in env:
                continue
            socket_path = env["SPIFFE_ENDPOINT_SOCKET"].removeprefix("unix://")
            mounts = [m for m in container.get("volumeMounts", []) if m["name"] in csi_volumes]
            assert mounts, f"{name}: SPIFFE_ENDPOINT_SOCKET set without a csi.spiffe.io volume"
            assert any(socket_path.startswith(m["mountPath"].rstrip("/") + "/") for m in mounts), name
            assert all(m.get("readOnly") for m in mounts), name


def test_referenced_service_accounts_config_maps_and_secrets_exist():
    accounts = set(_by_kind("ServiceAccount"))
    config_maps = {n: d for n, d in _by_kind("ConfigMap").items()}
    secrets = set(_by_kind("Secret")) | _secrets_created_by_jobs()
    for name, _, spec in _pod_specs():
        if "serviceAccountName" in spec:
            assert spec["serviceAccountName"] in accounts, name
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {})
                if "configMapKeyRef" in ref:
                    cm = config_maps.get(ref["configMapKeyRef"]["name"])
                    assert cm is not None, (name, env["name"])
                    assert ref["configMapKeyRef"]["key"] in cm["data"], (name, env["name"])
                if "secretKeyRef" in ref:
                    assert ref["secretKeyRef"]["name"] in secrets, (name, env["name"])


def test_spiffe_registrations_select_the_workloads_they_name():
    pods = _pod_specs()
    for name, entry in _by_kind("ClusterSPIFFEID").items():
        selector = entry["spec"]["podSelector"]["matchLabels"]
        assert any(selector.items() <= meta.get("labels", {}).items() for _, meta, _ in pods), name
        assert entry["spec"]["spiffeIDTemplate"].startswith("spiffe://{{ .TrustDomain }}/")


def test_server_dns_san_matches_what_clients_pin_and_the_service():
    server_entry = _by_kind("ClusterSPIFFEID")["mcp-tool-server"]
    dns_names = set(server_entry["spec"]["dnsNameTemplates"])
    config = _by_kind("ConfigMap")["mcp-tool-server-config"]["data"]
    assert config["SERVER_DNS_NAME"] in dns_names
    agent = _by_kind("Deployment")["billing-agent"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in agent["env"]}
    assert env["MCP_SERVER_DNS_NAME"] in dns_names
    service = _by_kind("Service")["mcp-tool-server"]
    assert env["MCP_SERVER_DNS_NAME"] == f"{service['metadata']['name']}.{NAMESPACE}.svc.cluster.local"
    port = service["spec"]["ports"][0]["port"]
    assert env["MCP_SERVER_ADDRESS"] == f"dns:///{env['MCP_SERVER_DNS_NAME']}:{port}"


def test_openfga_url_names_the_openfga_service():
    url = _by_kind("ConfigMap")["mcp-tool-server-config"]["data"]["OPENFGA_API_URL"]
    service = _by_kind("Service")["openfga"]
    http_port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "http")
    assert url == f"http://openfga.{NAMESPACE}.svc.cluster.local:{http_port}"


def test_server_args_are_flags_that_mcp_grpc_serve_accepts():
    from mcp_grpc.cli.main import build_parser

    container = _by_kind("Deployment")["mcp-tool-server"]["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[0] == "serve"
    parser = build_parser()
    serve = parser._subparsers._group_actions[0].choices["serve"]  # noqa: SLF001 - argparse has no public walk
    known = {opt for action in serve._actions for opt in action.option_strings}  # noqa: SLF001
    for arg in args[2:]:
        flag = arg.split("=", 1)[0]
        assert flag in known, f"mcp-grpc serve has no flag {flag}"
    module = args[1].split(":", 1)[0]
    assert (REPO_ROOT / pathlib.Path(*module.split("."))).with_suffix(".py").exists(), args[1]
