# Every target creates .venv itself: `make demo` and `make test` work on a fresh clone with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test conformance lint proto proto-check breaking bench reliability clean peers redis postgres

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11+ is required; set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,protovalidate,otel,redis,bridge,openfga,conditions]'
	touch $(STAMP)

demo: venv
	$(PY) -m examples.demo

test: venv lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not reliability"

# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in tools/conformance.py, with Node 22
# from npm, both cached in ~/.cache/mcp-grpc/conformance/) against examples/conformance/server.py served over gRPC and
# bridged to streamable HTTP, for spec versions 2026-07-28 and 2025-11-25. Fails on any failure not listed in
# examples/conformance/baseline.yml.
conformance: venv
	$(PY) tools/conformance.py

# buf's lint of protos/, of the proto-first example, and the import rules of ../shared/DESIGN.md (contracts in
# pyproject.toml). The example imports buf/validate/validate.proto and google/api/field_behavior.proto, which come
# from installed packages, not from this repository: it is linted as an image built from their registered
# descriptors (python -m mcp_grpc.wire._generate --image), offline.
EXAMPLE_IMAGE := build/proto_tools.binpb
BUF_LINT_STANDARD := {"version":"v2","lint":{"use":["STANDARD"]}}
lint: venv
	$(VENV)/bin/buf lint
	$(PY) -m mcp_grpc.wire._generate --proto-root examples/proto_tools/protos --image $(EXAMPLE_IMAGE) \
		acme/storage/v1/storage.proto >/dev/null
	$(VENV)/bin/buf lint $(EXAMPLE_IMAGE) --path acme/storage/v1/storage.proto --config '$(BUF_LINT_STANDARD)'
	$(VENV)/bin/lint-imports --no-cache

# Regenerate mcp_grpc/wire from protos/ (the generated code is committed; tests/wire/test_generated_fresh.py
# fails when it is stale). `$(PY) -m mcp_grpc.wire._generate --check` only reports.
proto: venv
	$(PY) -m mcp_grpc.wire._generate

# Compare protos/ with the main branch (buf's FILE rules), or with origin/main in a clone that has no local main.
# Another baseline: make breaking BREAKING_AGAINST=<buf input>. A clone with neither (a shallow CI checkout: git fetch
# origin main) or a main that predates buf.yaml has nothing to compare against: that is reported, not an error.
BREAKING_AGAINST ?=
breaking: venv
	@if [ -n "$(BREAKING_AGAINST)" ]; then \
		$(VENV)/bin/buf breaking --against '$(BREAKING_AGAINST)'; \
	else \
		base=""; \
		for ref in main origin/main; do \
			if git rev-parse --verify --quiet "$$ref^{commit}" >/dev/null; then base="$$ref"; break; fi; \
		done; \
		if [ -z "$$base" ]; then \
			echo "breaking: neither main nor origin/main in this clone; nothing to compare against"; \
		elif [ -z "$$(git ls-tree "$$base" -- buf.yaml)" ]; then \
			echo "breaking: $$base has no buf.yaml yet; nothing to compare against"; \
		else \
			echo "buf breaking --against .git#ref=$$base"; \
			$(VENV)/bin/buf breaking --against ".git#ref=$$base"; \
		fi; \
	fi

bench: venv
	$(PY) -m bench.run

# Every test marked reliability: the long variants (64 callers for 60 s, rotations on 10 s SVIDs, repeated
# outages, thousands of hypothesis examples, the large differential runs against the fga CLI); `make test` runs
# their short variants. -s prints the numbers each test measured.
reliability: venv
	$(PY) -m pytest -q -s -p no:cacheprovider -m reliability

# The real peers of the E2E tests in tests/peers (spire-server, spire-agent, openfga), built from the Go module proxy
# once into ~/.cache/mcp-grpc/peers/<name>-<version>/ (MCP_GRPC_PEERS_CACHE moves it); nothing of theirs is in the
# repository. Without them `make test` skips those tests; under CI=true it fails. A cold build takes several minutes.
# It also installs redis-server and PostgreSQL (the `redis` and `postgres` targets below).
peers: redis postgres
	bash tools/build-peers.sh

# Debian's redis-server for the tests of the Redis rate limiter (tests/server/test_limits_redis.py starts its own on a
# loopback port); installed once, only when redis-server is not on PATH. Without it those tests skip; under CI=true
# they fail. apt-get needs root (CI runs as root), else sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
redis:
	@if command -v redis-server >/dev/null 2>&1; then \
		echo "redis: $$(redis-server --version | cut -d' ' -f3) on PATH"; \
	else \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server; \
	fi

# Debian's PostgreSQL for the one OpenFGA run on a postgres datastore (tests/peers/test_real_openfga_postgres.py runs
# initdb into a temp folder and starts its own server on a loopback port); installed once, only when initdb is
# found neither on PATH nor in /usr/lib/postgresql/*/bin. Without it that test skips; under CI=true it fails.
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "postgres: $$( (command -v initdb || ls /usr/lib/postgresql/*/bin/initdb) | head -1)"; \
	else \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
