# Ruleform: `make demo` and `make test` are all a fresh clone needs (Python >= 3.11 and make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres bench bench-quick lint typecheck format-check clean

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
test: install format-check typecheck
	$(BIN)/python tests/run_suite.py

test-sqlite: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run_all.py

bench-quick: install
	$(BIN)/python bench/run_all.py --quick

lint: install format-check typecheck
	$(BIN)/ruff check ruleform tests bench

# Formatting (ruff format) and the typed packages ([tool.mypy] in pyproject.toml) are
# checked by `make test`, so CI fails on a file that is not formatted or a type error.
format-check: install
	$(BIN)/ruff format --check --quiet ruleform tests bench

typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) artifacts .pytest_cache .hypothesis
