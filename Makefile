# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=
PORT   ?= 8501

.PHONY: run test install install-dev prepare models bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

prepare: install
	$(BIN)/python -m explorer prepare

# Real models from your NIKL 2021 / KoBEST files: `make models DATA=~/nikl [TASKS=cola,copa]` (README: Real models
# from your data). Done tasks are skipped, so it can be run again after an interruption.
models: install
	@test -n "$(DATA)" || { echo "usage: make models DATA=DIR [TASKS=cola,copa,...]" >&2; exit 2; }
	$(BIN)/python -m explorer prepare --data "$(DATA)" $(if $(TASKS),--tasks "$(TASKS)")

# 127.0.0.1 only; `make run LAN=1` (or EXPLORER_LAN=1) serves the LAN behind an access code (explorer/access.py).
run: prepare
	$(BIN)/python -m explorer.access --port $(PORT) $(if $(filter 1 yes true on,$(LAN)),--lan) -- $(ARGS)

# Two pytest-xdist workers (`PYTEST_WORKERS=0` runs in this process): most of the suite is single-threaded Python and
# subprocess start-ups, so two workers use both cores of the 2-core machines it runs on. --dist loadfile keeps a
# file's tests in one worker, in order, so its module fixtures (a server, a browser) are built once.
PYTEST_WORKERS ?= 2
test: install-dev
	$(BIN)/python -m explorer prepare
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Ten browser sessions against one real server at once (CI runs it after `make test`).
.PHONY: test-load
test-load: install-dev
	EXPLORER_LOAD_TEST=1 $(BIN)/python -m pytest -q tests/test_load.py $(PYTEST_ARGS)

bench: install
	PYTHONPATH=. $(BIN)/python benchmarks/run_all.py
