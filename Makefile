# make run    set up (first time) and run the loss_ablation search on the embedded data
# make test   set up (first time) and run the test suite (what .ci/run calls)
# make smoke  a first look in a few minutes
# make lint   ruff (check + format), the import contracts (lint-imports) and mypy
# make bench  every benchmark, tables and plots to results/benchmarks/ (about 35 min);
#             make bench-quick: the same at small sizes (a few minutes), to results/benchmarks/quick/
#
# The venv is created on first use and reused; it is rebuilt when the pins change.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# CPU machines get the CPU wheel of the pinned torch; GPU nodes the same pin's CUDA build.
ifeq ($(shell command -v nvidia-smi 2>/dev/null),)
TORCH ?= torch==2.13.0+cpu
else
TORCH ?= torch==2.13.0
endif
ARGS ?=

.PHONY: venv run smoke test test-fast lint format bench bench-quick clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)" -c constraints.txt
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-bench.txt -c constraints.txt
	@touch $(BENCH_STAMP)

run: venv
	$(PY) -m raysearch.run --space loss_ablation $(ARGS)

smoke: venv
	$(PY) -m raysearch.run --space smoke --smoke $(ARGS)

test: venv
	$(PY) -m pytest -q -p no:cacheprovider --durations=12 $(ARGS)

test-fast: venv
	$(PY) -m pytest -q -m "not integration and not slow" $(ARGS)

bench: $(BENCH_STAMP)
	$(PY) -m bench $(ARGS)

bench-quick: $(BENCH_STAMP)
	$(PY) -m bench --quick $(ARGS)

lint: venv
	$(VENV)/bin/ruff check raysearch tests bench
	$(VENV)/bin/ruff format --check raysearch tests bench
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format raysearch tests bench
	$(VENV)/bin/ruff check --fix raysearch tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
