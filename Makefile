# Periscope: `make run` serves the console; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint bench worker clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-8s %s\n", $$1, $$2}'

$(PY):
	@python=$$(bin/find-python) || exit 1; echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[test]"
	@touch $(STAMP)

run: $(STAMP) ## serve the console and API on http://127.0.0.1:8000 (SQLite, embedded worker)
	@$(PY) bin/check-chromium
	@$(PY) manage.py migrate --verbosity 0
	@$(PY) manage.py bootstrap
	@$(PY) manage.py vault_keyring create --if-missing
	@$(PY) manage.py serve

worker: $(STAMP) ## run one extra browser worker (needs REDIS_URL and DATABASE_URL)
	$(PY) manage.py run_browser_worker

test: $(STAMP) ## run the import contracts, ruff and the test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	@$(PY) bin/check-chromium
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run --verbosity 0
	$(VENV)/bin/pytest

lint: $(STAMP) ## ruff and the import-linter contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: $(STAMP) ## run the benchmarks; figures go to bench/results/
	$(PY) bench/run_all.py

clean: ## remove the virtualenv and local data (var/)
	rm -rf $(VENV) var
