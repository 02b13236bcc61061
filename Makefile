# One command to run the service, one to check everything. Both work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser

.PHONY: run test lint typecheck pytest fuzz bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	KKT_MODE=$${KKT_MODE:-mock} exec $(BIN)/kkt-adapter serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy src

# The browser tests drive Debian's chromium (no browser build is downloaded) and check the page with axe-core (npm,
# pinned by tests/browser/axe/package-lock.json); the OFD client's TLS test makes its certificate with the openssl
# command; the monitoring tests run Debian's prometheus and its promtool.
AXE_LOCK := tests/browser/axe/package-lock.json

$(BROWSER_STAMP): $(BIN)/python $(AXE_LOCK)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
	command -v npm >/dev/null || (apt-get update && apt-get install -y --no-install-recommends npm)
	npm ci --prefix tests/browser/axe --no-audit --no-fund --silent
	command -v openssl >/dev/null || (apt-get update && apt-get install -y --no-install-recommends openssl)
	command -v promtool >/dev/null || (apt-get update && apt-get install -y --no-install-recommends prometheus)
	touch $(BROWSER_STAMP)

pytest: $(STAMP) $(BROWSER_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# The schemathesis run of tests/integration/test_fuzz.py with thousands of cases instead of a few hundred.
fuzz: $(STAMP)
	KKT_FUZZ_EXAMPLES=$${KKT_FUZZ_EXAMPLES:-300} $(BIN)/pytest -q -p no:cacheprovider tests/integration/test_fuzz.py

# The HTTP figures are measured with wrk (Debian's package), installed here when it is missing.
WRK := command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)

bench: $(STAMP)
	$(WRK)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(WRK)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
