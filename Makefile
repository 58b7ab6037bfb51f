# `make run` and `make test` set everything up on first use (a .venv with the CPU build of torch).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: run test bench lint pretrain clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,ray]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/teachgym leaderboard --suite quick

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(JOBS) -m "not gpu"

bench: $(STAMP)
	$(BIN)/python benchmarks/perf.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

pretrain: $(STAMP)
	$(BIN)/teachgym pretrain

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
