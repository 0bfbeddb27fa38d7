# One way to run each thing. `make install` once, then the others.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8787
TOKEN ?= vps_demo_token

.PHONY: install test lint fake demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

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
