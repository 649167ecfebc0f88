# The README's two commands. Both create .venv with the pinned requirements first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ORDERS ?= 10000

.PHONY: demo test

demo: $(VENV)/.runtime-installed
	$(BIN)/python demo.py --orders $(ORDERS)

test: $(VENV)/.dev-installed
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
