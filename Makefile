# The README's two commands. Both create .venv with the pinned requirements first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ORDERS ?= 10000

.PHONY: demo test

demo: $(VENV)/.runtime-installed
	$(BIN)/python demo.py --orders $(ORDERS)

# Lint and format (ruff), the architecture's import contracts (pyproject.toml), then the suite.
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

$(VENV)/.runtime-installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

# The pipeline on each emulator mode side by side (2,000 orders each; chart and JSON in bench/results/).
.PHONY: bench
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.pipeline_bench

# moto's own tests (the installed version's source distribution) for the services the emulator fixes, run on
# stock moto and with every fix: fails when a test that passes on stock moto does not pass with the fixes.
# Not part of `make test` (it takes minutes); run it after changing blackfriday/emulator/fixes/ or moto's version.
.PHONY: moto-tests
moto-tests: $(VENV)/.dev-installed
	$(BIN)/python -m tools.moto_tests
