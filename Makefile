# One way to run each thing; each target installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8787
TOKEN ?= vps_demo_token
STAMP := $(VENV)/.installed

.PHONY: install test lint fake demo bench clean

# Re-installs only when the packaging changes (the install is editable).
$(STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

fake: install
	$(BIN)/python -m pulumi_vpsbackup.fake --port $(PORT) --token $(TOKEN)

demo: install
	$(BIN)/python scripts/demo.py --port $(PORT) --token $(TOKEN)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/results
