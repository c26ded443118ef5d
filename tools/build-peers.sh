#!/usr/bin/env bash
# Builds the real peers the E2E tests run against — spire-server, spire-agent (SPIRE) and openfga — from the Go
# module proxy, once, into a cache keyed by name and version outside the repository:
#   ${MCP_GRPC_PEERS_CACHE:-$HOME/.cache/mcp-grpc/peers}/<name>-<version>/bin/<name>
# Nothing of theirs is committed. A binary already in the cache is not rebuilt (delete its folder to rebuild).
# The versions are pinned here only: tests/peers/peer_binaries.py reads them from this file.
#
# SPIRE: the proxy serves github.com/spiffe/spire only by exact version (no version list), so `go install ...@v`
# is refused; a throwaway module takes it as a tool and installs from there.
set -euo pipefail

SPIRE_VERSION="${SPIRE_VERSION:-v1.13.3}"
OPENFGA_VERSION="${OPENFGA_VERSION:-v1.22.1}"
# Not a binary: its CRD schemas (config/crd/bases), which tests/deploy validates the ClusterSPIFFEIDs against.
SPIRE_CONTROLLER_MANAGER_VERSION="${SPIRE_CONTROLLER_MANAGER_VERSION:-v0.6.3}"
CACHE="${MCP_GRPC_PEERS_CACHE:-$HOME/.cache/mcp-grpc/peers}"
# The machine has 2 cores shared with other work: one package at a time keeps it usable.
export GOFLAGS="${GOFLAGS:--p=1} -buildvcs=false"

command -v go >/dev/null 2>&1 || { echo "build-peers: go not found on PATH (Go 1.24+ is needed)" >&2; exit 1; }
mkdir -p "$CACHE"

built() { [ -x "$CACHE/$1-$2/bin/$1" ]; }

build_spire() {
    local name="$1" pkg="github.com/spiffe/spire/cmd/$1"
    if built "$name" "$SPIRE_VERSION"; then echo "build-peers: $name $SPIRE_VERSION cached"; return; fi
    local mod="$CACHE/.build/spire-$SPIRE_VERSION"
    mkdir -p "$mod"
    ( cd "$mod"
      [ -f go.mod ] || go mod init mcp-grpc-peers-build >/dev/null 2>&1
      go get -tool "$pkg@$SPIRE_VERSION"
      # SPIRE's SQLite datastore is mattn/go-sqlite3: without cgo the server builds but cannot open its datastore.
      command -v "${CC:-cc}" >/dev/null 2>&1 || { echo "build-peers: $name needs a C compiler (cgo, for SQLite)" >&2; exit 1; }
      local start=$SECONDS
      mkdir -p "$CACHE/$name-$SPIRE_VERSION.tmp/bin"
      CGO_ENABLED=1 GOBIN="$CACHE/$name-$SPIRE_VERSION.tmp/bin" go install "$pkg"
      echo "build-peers: $name $SPIRE_VERSION built in $((SECONDS - start)) s" )
    rm -rf "$CACHE/$name-$SPIRE_VERSION"
    mv "$CACHE/$name-$SPIRE_VERSION.tmp" "$CACHE/$name-$SPIRE_VERSION"
}

build_openfga() {
    local name=openfga
    if built "$name" "$OPENFGA_VERSION"; then echo "build-peers: $name $OPENFGA_VERSION cached"; return; fi
    local start=$SECONDS
    mkdir -p "$CACHE/$name-$OPENFGA_VERSION.tmp/bin"
    CGO_ENABLED=0 GOBIN="$CACHE/$name-$OPENFGA_VERSION.tmp/bin" go install "github.com/openfga/openfga/cmd/openfga@$OPENFGA_VERSION"
    echo "build-peers: $name $OPENFGA_VERSION built in $((SECONDS - start)) s"
    rm -rf "$CACHE/$name-$OPENFGA_VERSION"
    mv "$CACHE/$name-$OPENFGA_VERSION.tmp" "$CACHE/$name-$OPENFGA_VERSION"
}

fetch_spire_crds() {
    # Into the Go module cache (outside any module, so module@version is taken as is); cached after the first time.
    ( cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download "github.com/spiffe/spire-controller-manager@$SPIRE_CONTROLLER_MANAGER_VERSION" )
    echo "build-peers: spire-controller-manager $SPIRE_CONTROLLER_MANAGER_VERSION CRDs in the Go module cache"
}

want="${*:-spire-server spire-agent openfga spire-crds}"
for p in $want; do
    case "$p" in
        spire-server|spire-agent) build_spire "$p" ;;
        openfga) build_openfga ;;
        spire-crds) fetch_spire_crds ;;
        *) echo "build-peers: unknown peer '$p' (spire-server, spire-agent, openfga, spire-crds)" >&2; exit 2 ;;
    esac
done
