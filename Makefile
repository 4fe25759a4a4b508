# Two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# The gateway's port for `make run` (another one when 8000 is taken: make run PORT=8001).
PORT ?= 8000

.PHONY: run test install install-test lint typecheck pytest demo bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The application's dependencies at the versions of requirements.lock (the image installs
# the same lock with its hashes); pyproject.toml keeps ranges for use as a library.
$(VENV)/constraints.txt: requirements.lock | $(BIN)/python
	sed -e '/--hash=/d' -e 's/ \\$$//' requirements.lock > $@

$(VENV)/.installed: pyproject.toml $(VENV)/constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c $(VENV)/constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c $(VENV)/constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed

# OPA's Go evaluator for the policy tests; see requirements/opa-go.txt for why it is
# installed apart, pinned by hash, with --ignore-requires-python.
$(VENV)/.installed-opa-go: requirements/opa-go.txt | $(BIN)/python
	$(BIN)/pip install -q --no-deps --ignore-requires-python --require-hashes -r requirements/opa-go.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(VENV)/.installed-opa-go

## run: install into .venv and start the gateway on its embedded defaults (demo mode, with
## demo cases to explore); PORT=8001 for another port
run: install
	$(BIN)/ketenpoort serve --demo --port $(PORT)

## test: install the test tools and run lint, type checks and the whole suite
test: install-test
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory lint typecheck pytest

lint:
	$(BIN)/ruff check gateway audit adapters tests bench
	$(BIN)/ruff format --check gateway audit adapters tests bench

typecheck:
	$(BIN)/mypy --strict gateway audit adapters

pytest:
	$(BIN)/pytest -n auto --timeout 600 $(PYTEST_ARGS)

demo: install
	$(BIN)/ketenpoort demo

bench: install-test
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done
	$(BIN)/python bench/goals.py

## lock: re-resolve requirements.lock (exact versions and hashes) after a change to pyproject.toml
lock: install
	$(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
	  --no-emit-find-links --extra hsm --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) ketenpoort-data .pytest_cache .mypy_cache .ruff_cache
