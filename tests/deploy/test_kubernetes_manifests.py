"""The Kubernetes manifests parse and agree with each other and with the README: names, labels, ports, socket
paths, CLI flags, the apply order, the pinned OpenFGA version, who holds which OpenFGA key, and who may reach whom.
(tests/deploy/test_kubernetes_schemas.py validates them against Kubernetes' and SPIRE's schemas.)"""

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
README = (MANIFEST_DIR / "README.md").read_text()


def _readme_config_maps() -> set[str]:
    """The ConfigMaps the README's apply steps create with ``kubectl create configmap NAME``."""
    return set(re.findall(r"create configmap ([a-z0-9-]+)", README))


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


def _job_scripts() -> dict[str, str]:
    """Job name -> what its containers run: their command and args, and the script of the image they call (the
    bootstrap Job runs deploy/kubernetes/openfga-bootstrap.sh, installed as ``openfga-bootstrap``)."""
    scripts = {}
    for doc in DOCS:
        if doc["kind"] == "Job":
            text = []
            for container in doc["spec"]["template"]["spec"]["containers"]:
                words = container.get("command", []) + container.get("args", [])
                text.append(" ".join(words))
                if words and (MANIFEST_DIR / f"{words[0]}.sh").is_file():
                    text.append((MANIFEST_DIR / f"{words[0]}.sh").read_text())
            scripts[doc["metadata"]["name"]] = "\n".join(text)
    return scripts


def _secrets_created_by_jobs() -> set[str]:
    created = set()
    for script in _job_scripts().values():
        created.update(re.findall(r"create secret generic ([a-z0-9-]+)", script))
        created.update(re.findall(r"/secrets/([a-z0-9-]+)\?", script))  # server-side apply through the API
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
    made_by_readme = _readme_config_maps()
    secrets = set(_by_kind("Secret")) | _secrets_created_by_jobs()
    for name, _, spec in _pod_specs():
        if "serviceAccountName" in spec:
            assert spec["serviceAccountName"] in accounts, name
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps.keys() | made_by_readme, name
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
    agent = _by_kind("Job")["billing-agent"]["spec"]["template"]["spec"]["containers"][0]
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


def _container(kind: str, name: str, index: int = 0) -> dict:
    return _by_kind(kind)[name]["spec"]["template"]["spec"]["containers"][index]


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def _secret_ref(container: dict, variable: str) -> tuple[str, str]:
    ref = _env(container)[variable]["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


# -- the apply order (README) --------------------------------------------------------------------------------------

def test_config_maps_the_readme_creates_are_in_no_manifest():
    """`kubectl apply -f deploy/kubernetes/` after the README made authz-model from authz/ must not put a
    placeholder over it (it did: the bootstrap Job then loaded an empty model)."""
    made = _readme_config_maps()
    assert "authz-model" in made
    assert not made & set(_by_kind("ConfigMap")), "a manifest redefines a ConfigMap the README creates"
    steps = [line for line in README.splitlines() if line.startswith("kubectl")]
    assert steps[0] == "kubectl apply -f deploy/kubernetes/namespace.yaml"
    assert "create configmap authz-model" in steps[1] and "--from-file=authz/model.fga" in steps[1]
    assert steps[-1] == "kubectl apply -f deploy/kubernetes/"


# -- OpenFGA ---------------------------------------------------------------------------------------------------------

def test_openfga_image_is_the_version_the_tests_run():
    from tests.peers.peer_binaries import pinned

    version = pinned("OPENFGA_VERSION")
    images = [c["image"] for d in DOCS if d["kind"] in ("Deployment", "Job", "StatefulSet")
              for c in d["spec"]["template"]["spec"].get("initContainers", []) + d["spec"]["template"]["spec"]["containers"]
              if c["image"].startswith("openfga/openfga")]
    assert len(images) >= 3 and set(images) == {f"openfga/openfga:{version}"}, images
    assert f"OpenFGA {version}" in README


def test_migrations_run_once_as_a_job_not_in_each_replica():
    migrate = _by_kind("Job")["openfga-migrate"]["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["migrate"]
    assert _secret_ref(migrate, "OPENFGA_DATASTORE_URI") == ("openfga-postgres", "uri")  # the schema owner
    for name in ("openfga", "openfga-admin"):
        spec = _by_kind("Deployment")[name]["spec"]["template"]["spec"]
        assert not spec.get("initContainers"), name
        assert spec["containers"][0]["args"] == ["run"]


def test_openfga_requires_preshared_keys_and_tool_servers_hold_only_the_read_only_one():
    reader, admin = _container("Deployment", "openfga"), _container("Deployment", "openfga-admin")
    for container in (reader, admin):
        assert _env(container)["OPENFGA_AUTHN_METHOD"]["value"] == "preshared"
    assert _secret_ref(reader, "OPENFGA_AUTHN_PRESHARED_KEYS") == ("openfga-authn", "reader-key")
    assert _secret_ref(admin, "OPENFGA_AUTHN_PRESHARED_KEYS") == ("openfga-authn", "admin-key")
    # the tool servers' OpenFGA reads Postgres as the SELECT-only role the init script creates
    assert _secret_ref(reader, "OPENFGA_DATASTORE_URI") == ("openfga-postgres", "reader-uri")
    secret = _by_kind("Secret")["openfga-postgres"]["stringData"]
    assert secret["reader-uri"].startswith("postgres://openfga_reader:")
    init = _by_kind("ConfigMap")["openfga-postgres-init"]["data"]["10-openfga-reader.sh"]
    assert "CREATE ROLE openfga_reader" in init and "GRANT SELECT" in init and "INSERT" not in init
    server = _container("Deployment", "mcp-tool-server")
    assert _secret_ref(server, "OPENFGA_API_TOKEN") == ("openfga-authn", "reader-key")
    assert "openfga-admin" not in _by_kind("ConfigMap")["mcp-tool-server-config"]["data"]["OPENFGA_API_URL"]
    bootstrap = _container("Job", "openfga-bootstrap")
    assert _secret_ref(bootstrap, "FGA_API_TOKEN") == ("openfga-authn", "admin-key")
    assert _env(bootstrap)["FGA_API_URL"]["value"].startswith("http://openfga-admin.")


def test_openfga_probes_are_grpc_health_on_its_grpc_port():
    for name in ("openfga", "openfga-admin"):
        container = _container("Deployment", name)
        grpc_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == grpc_port, (name, probe)


def _pods_selected(selector: dict) -> list[str]:
    labels = selector.get("matchLabels", {})
    names = []
    for name, meta, _ in _pod_specs():
        pod = meta.get("labels", {})
        if not labels.items() <= pod.items():
            continue
        if all(pod.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", []) if e["operator"] == "In"):
            names.append(name)
    return names


def test_network_policies_admit_only_the_workloads_that_need_each_port():
    policies = _by_kind("NetworkPolicy")
    expected = {  # policy -> (the pods it guards, the pods it admits)
        "openfga": (["openfga"], ["mcp-tool-server"]),
        "openfga-admin": (["openfga-admin"], ["openfga-bootstrap"]),
        "openfga-postgres": (["openfga-postgres"], ["openfga-migrate", "openfga", "openfga-admin"]),
        "mcp-tool-server": (["mcp-tool-server"], ["billing-agent"]),
    }
    assert set(policies) == set(expected)
    pods = {name: spec for name, _, spec in _pod_specs()}
    for name, (guarded, admitted) in expected.items():
        spec = policies[name]["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        assert _pods_selected(spec["podSelector"]) == guarded, name
        [rule] = spec["ingress"]
        assert sorted(n for peer in rule["from"] for n in _pods_selected(peer["podSelector"])) == sorted(admitted), name
        port_names = {p["name"] for c in pods[guarded[0]]["containers"] for p in c.get("ports", [])}
        assert all(p["port"] in port_names for p in rule["ports"]), name


def test_bootstrap_job_pods_carry_the_label_the_admin_policy_admits():
    labels = _by_kind("Job")["openfga-bootstrap"]["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app.kubernetes.io/name": "openfga-bootstrap"}


# -- the tool server -------------------------------------------------------------------------------------------------

def test_drain_is_passed_and_shorter_than_the_grace_period():
    """The manifest said the drain is 30 s but passed no --drain (serve's default is 5 s)."""
    deployment = _by_kind("Deployment")["mcp-tool-server"]["spec"]["template"]["spec"]
    args = deployment["containers"][0]["args"]
    drains = [a.split("=", 1)[1] for a in args if a.startswith("--drain=")]
    assert drains == ["30"]
    assert deployment["terminationGracePeriodSeconds"] > float(drains[0])


# -- SPIRE -----------------------------------------------------------------------------------------------------------

def test_cluster_spiffeids_name_the_class_of_spires_chart():
    """SPIRE's chart runs its controller manager with a className and watchClassless: false; without the class the
    entries are ignored. The README tells which class and how to change it."""
    for name, entry in _by_kind("ClusterSPIFFEID").items():
        assert entry["spec"].get("className") == "spire-server-spire", name
    assert "`spire-server-spire`" in README and "watchClassless: false" in README


def test_bootstrap_job_may_apply_exactly_the_secret_it_publishes():
    assert _secrets_created_by_jobs() == {"openfga-store"}
    rules = _by_kind("Role")["openfga-bootstrap"]["rules"]
    named = [r for r in rules if r.get("resourceNames")]
    assert [(r["resourceNames"], sorted(r["verbs"])) for r in named] == [(["openfga-store"], ["get", "patch"])]
    assert all(r["resources"] == ["secrets"] for r in rules)
