# make run  : create .venv, install, run the main job (the demo) on the embedded SQLite default.
# make test : create .venv, install, make sure PostgreSQL, DynamoDB Local and Chromium can run, lint, type-check, test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/alexdb demo

test: $(STAMP)
	scripts/ensure-postgres
	scripts/ensure-dynamodb-local
	scripts/ensure-chromium
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	scripts/checkov
	$(BIN)/pytest

bench: $(STAMP)
	scripts/ensure-postgres
	$(BIN)/python -m benchmarks.valuation

clean:
	rm -rf $(VENV) .venv-tools .pytest_cache .mypy_cache .ruff_cache .hypothesis alex.db alex.db-*
