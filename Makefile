# consent-gate: every target installs what it needs first (make setup is idempotent).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STACK := deploy/local
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: setup up down status topics demo run test test-unit bench lint lock clean-stack

setup:
	@$(STACK)/setup.sh

up: setup
	@$(STACK)/up.sh
	@source $(STACK)/common.sh && $(PY) -m processor topics create >/dev/null

down:
	@$(STACK)/down.sh

status:
	@$(STACK)/status.sh

topics: up
	@source $(STACK)/common.sh && $(PY) -m processor topics create

# Brings the stack up (if it is not), runs the worker on a scripted conversation, prints the
# outcome, and stops what it started.
demo: setup
	@$(STACK)/with-stack.sh $(PY) deploy/demo/demo.py

# Runs the worker against the local stack until Ctrl-C.
run: up
	@source $(STACK)/common.sh && $(PY) -m processor run

# The full suite (unit, contract, integration, faults) against a real broker and Redis.
test: setup
	@$(STACK)/with-stack.sh $(PY) -m pytest $(PYTEST_ARGS)

# Domain and contract tests only: no broker needed.
test-unit: setup
	@$(PY) -m pytest tests/unit tests/contract $(PYTEST_ARGS)

# The benchmark (tests/bench/); BENCH_ARGS="--quick" for a smoke run whose numbers mean
# nothing, "--only throughput,latency" for some sections.
bench: setup
	@$(STACK)/with-stack.sh $(PY) -m tests.bench $(BENCH_ARGS)

lint: setup
	@$(VENV)/bin/ruff check processor tests deploy
	@$(VENV)/bin/mypy

# Re-pins every dependency (with hashes) after a change of pyproject.toml: the image installs
# deploy/requirements.lock, `make setup` deploy/requirements-dev.lock.
lock: setup
	@$(VENV)/bin/uv pip compile pyproject.toml --extra charts --universal --python-version 3.11 \
		--generate-hashes --no-header -q -o deploy/requirements.lock
	@$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --no-header -q -o deploy/requirements-dev.lock

# Deletes the local stack's data (asks nothing: you asked by typing it).
clean-stack: down
	rm -rf .stack
