# Two set-up commands on a fresh machine: `make demo` and `make test` (README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
CWSW := $(VENV)/bin/cwsw
SEED ?= 42
PUPILS ?= 30000
DEMO_DIR ?= var/demo
SERVE ?= 1

.PHONY: env extensions npm browser demo test lint typecheck pytest clean bench

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

# The environment, pinned by uv.lock; re-synced whenever the lock changes. Bytecode is
# compiled at install: machines here set PYTHONDONTWRITEBYTECODE, and without .pyc files every
# process (the CLI, each reading worker, each test subprocess) recompiles pandas, Ibis, Django.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock Makefile
	$(UV) sync --locked --quiet --compile-bytecode
	touch $@

# The compiled CIN census walk (Cython, against the venv's lxml): rebuilt when the lock
# changes; without it the reader falls back to its Python walk (same rows, slower).
EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
CIN_WALK := src/cwsw/formats/_cin_walk$(EXT_SUFFIX)
$(CIN_WALK): $(VENV)/.synced src/cwsw/formats/_cin_walk.pyx tools/build_extensions.py
	$(VENV)/bin/python tools/build_extensions.py
	touch $@

extensions: $(CIN_WALK)

env: $(VENV)/.synced $(CIN_WALK) npm

# GOV.UK Frontend from the npm registry, pinned by package-lock.json; served by Django, no CDN.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

npm: node_modules/.installed

# Debian's Chromium for the browser tests (Playwright never downloads its own browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

demo: env
	$(CWSW) demo --seed $(SEED) --pupils $(PUPILS) --dir $(DEMO_DIR) $(if $(filter 0,$(SERVE)),--no-serve,--serve)

# Layers (docs/architecture.md): import-linter's contract in pyproject.toml.
lint: env
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(VENV)/bin/ruff format --check src tests benchmarks tools
	$(VENV)/bin/lint-imports --no-cache

typecheck: env
	$(VENV)/bin/mypy

pytest: env browser
	$(VENV)/bin/pytest -n 2 -p no:cacheprovider

test: lint typecheck pytest

bench: env
	$(VENV)/bin/python benchmarks/pipeline_scaling.py

clean:
	rm -rf $(VENV) $(TOOLS) node_modules var
