# The two set-up commands of the README: `make demo` and `make test`.
# Each creates its own virtual environment first (needs only python3.11 + make).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit test-keycloak docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tenantctl sandbox demo

lint: $(STAMP)
	$(BIN)/ruff check tenantctl tests benchmarks
	$(BIN)/ruff format --check tenantctl tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -rs -m "not realkeycloak"

# The Keycloak-step suite against a real Keycloak (scripts/keycloak-test-server).
test-keycloak: $(STAMP)
	$(BIN)/pytest -v -rs -m realkeycloak

test: lint typecheck unit test-keycloak

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

docs: $(STAMP)
	$(BIN)/python -m tenantctl.cli.reference docs/cli.md
