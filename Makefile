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

run: install
	$(BIN)/alertrouter serve --config $(CONFIG)

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

bench: install
	$(BIN)/python bench/bench_routing.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
