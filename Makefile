# Two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install install-test lint typecheck pytest demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## run: install into .venv and start the gateway on its embedded defaults (demo mode)
run: install
	$(BIN)/ketenpoort serve --demo

## test: install the test tools and run lint, type checks and the whole suite
test: install-test
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory lint typecheck pytest

lint:
	$(BIN)/ruff check gateway audit adapters tests bench

typecheck:
	$(BIN)/mypy --strict gateway audit adapters

pytest:
	$(BIN)/pytest -n auto --timeout 600 $(PYTEST_ARGS)

demo: install
	$(BIN)/ketenpoort demo

bench: install-test
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) ketenpoort-data .pytest_cache .mypy_cache .ruff_cache
