# Ruleform: `make demo` and `make test` are all a fresh clone needs (Python >= 3.11 and make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres bench bench-quick lint typecheck clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ruleform demo

# The whole suite on SQLite + embedded Redis, then again on PostgreSQL + Redis
# when they answer on 127.0.0.1 (as in CI). See tests/README.md.
test: install typecheck
	$(BIN)/python tests/run_suite.py

test-sqlite: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run_all.py

bench-quick: install
	$(BIN)/python bench/run_all.py --quick

lint: install
	$(BIN)/ruff check ruleform tests bench

# The typed packages ([tool.mypy] in pyproject.toml); part of `make test`.
typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) artifacts .pytest_cache .hypothesis
