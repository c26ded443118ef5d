# Every target creates .venv itself: `make demo` and `make test` work on a fresh clone with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint proto proto-check breaking bench reliability clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11+ is required; set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

demo: venv
	$(PY) -m examples.demo

test: venv lint
	$(PY) -m pytest -q -p no:cacheprovider

lint: venv
	$(VENV)/bin/buf lint

# Regenerate mcp_grpc/wire from protos/ (the generated code is committed; tests/test_wire_fresh.py fails when stale).
proto: venv
	$(PY) -m mcp_grpc.wire._generate

breaking: venv
	$(VENV)/bin/buf breaking --against '.git#branch=main'

bench: venv
	$(PY) -m bench.run

reliability: venv
	$(PY) -m pytest -q -m reliability tests/reliability

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
