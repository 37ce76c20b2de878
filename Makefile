# The one entry point for developers, CI (.ci/run) and the README alike.
# Everything installed comes from the locks in requirements/ (versions and hashes): a pinned uv,
# installed by pip, installs them; `make lock` refreshes them from pyproject.toml's ranges.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
CONFIG ?= config/alertrouter.yml
# `uv pip` into our venv, from the lock alone (no other index settings, no unhashed download).
UV_PIP := $(UV) pip install --quiet --python $(BIN)/python --no-deps
UV_INSTALL := $(UV_PIP) --require-hashes
UV_COMPILE := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --upgrade

.PHONY: install install-dev run lint typecheck test routes-test bench lock freeze clean prometheusrule

$(UV): requirements/tools.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/tools.txt
	touch $(UV)

# The runtime alone (make run); the dev tools come with install-dev (make test).
$(VENV)/.runtime: $(UV) requirements/runtime.txt pyproject.toml
	$(UV_INSTALL) -r requirements/runtime.txt
	$(UV_PIP) --no-build-isolation --editable .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements/dev.txt
	$(UV_INSTALL) -r requirements/dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# Serves for real when every ${VAR} the routing file needs is set; otherwise --dry-run, which
# logs what each integration would send instead of sending it.
run: install
	@if $(BIN)/alertrouter check-config $(CONFIG) >/dev/null 2>&1; then \
		exec $(BIN)/alertrouter serve --config $(CONFIG); \
	else \
		echo "make run: secrets for $(CONFIG) are not set; serving with --dry-run (see README)"; \
		exec $(BIN)/alertrouter serve --config $(CONFIG) --dry-run; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

routes-test: install
	$(BIN)/alertrouter check-config --allow-missing-env $(CONFIG)
	$(BIN)/alertrouter routes test --config $(CONFIG) --cases config/routes.test.yml

# Coverage of the in-process suite (servers started as subprocesses are not traced).
test: lint typecheck routes-test
	$(BIN)/pytest --cov --cov-report=term-missing:skip-covered

# The PrometheusRule carries the rules file's groups: its header up to spec:, then the groups
# indented under it (comments kept). tests/test_kubernetes_operator.py checks they agree.
PROMETHEUSRULE := deploy/kubernetes/prometheus-operator/prometheusrule.yaml
prometheusrule:
	{ sed '/^spec:/q' $(PROMETHEUSRULE); \
	  sed -n '/^groups:/,$$p' monitoring/prometheus/rules/alertrouter.yml | sed 's/^./  &/'; \
	} > $(PROMETHEUSRULE).new && mv $(PROMETHEUSRULE).new $(PROMETHEUSRULE)

# What is installed, for CI's log: it must equal the lock.
freeze: install-dev
	$(UV) pip freeze --python $(BIN)/python

# Re-resolve every lock to the newest versions pyproject.toml's ranges allow.
lock: $(UV)
	$(UV_COMPILE) requirements/tools.in -o requirements/tools.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements/runtime.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -o requirements/dev.txt

# Each prints a Markdown table with the machine and command; results go to BENCHMARKS.md.
bench: install-dev
	$(BIN)/python bench/bench_routing.py
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_delivery.py
	$(BIN)/python bench/bench_replicas.py
	$(BIN)/python bench/bench_ui.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
