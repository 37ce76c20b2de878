# The one entry point for developers, CI (.ci/run) and the README alike.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/alertrouter.yml

.PHONY: install run lint typecheck test routes-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Serves for real when every ${VAR} the routing file needs is set; otherwise --dry-run, which
# logs what each integration would send instead of sending it.
run: install
	@if $(BIN)/alertrouter check-config $(CONFIG) >/dev/null 2>&1; then \
		exec $(BIN)/alertrouter serve --config $(CONFIG); \
	else \
		echo "make run: secrets for $(CONFIG) are not set; serving with --dry-run (see README)"; \
		exec $(BIN)/alertrouter serve --config $(CONFIG) --dry-run; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

routes-test: install
	$(BIN)/alertrouter check-config --allow-missing-env $(CONFIG)
	$(BIN)/alertrouter routes test --config $(CONFIG) --cases config/routes.test.yml

test: lint typecheck routes-test
	$(BIN)/pytest

# Each prints a Markdown table with the machine and command; results go to BENCHMARKS.md.
bench: install
	$(BIN)/python bench/bench_routing.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_delivery.py
	$(BIN)/python bench/bench_replicas.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
