# make run    set up (first time) and run the loss_ablation search on the embedded data
# make test   set up (first time) and run the test suite (what .ci/run calls)
# make smoke  a first look in a few minutes
# make lint   ruff (check + format), the import contracts (lint-imports) and mypy
# make bench  every benchmark, tables and plots to results/benchmarks/ (hours on 2 cores;
#             how long the last run took: results/benchmarks/README.md);
#             make bench-quick: the same at small sizes (a few minutes), to results/benchmarks/quick/
#
# The venv is created on first use and reused; it is rebuilt when the pins change.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# CPU machines get the CPU wheel of the pinned torch (torch==2.13.0+cpu). PyPI does not
# carry it: it lives on PyTorch's CPU index (the one cluster.yaml's set-up passes). The
# install first asks the machine's own package sources (a mirror or wheel directory that
# carries the wheel answers at once) and only if they lack it asks TORCH_INDEX as well. GPU
# nodes (nvidia-smi present) get the same pin's CUDA build from PyPI. PIP_NET bounds each
# request (seconds, retries), so an unreachable index fails the install instead of hanging it.
ifeq ($(shell command -v nvidia-smi 2>/dev/null),)
TORCH ?= torch==2.13.0+cpu
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
else
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
endif
PIP_NET ?= --timeout 15 --retries 1
PIP := $(PY) -m pip install --quiet $(PIP_NET)
ARGS ?=

.PHONY: venv run smoke test test-fast lint format bench bench-quick clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(if $(TORCH_INDEX),$(PIP) "$(TORCH)" -c constraints.txt 2>/dev/null || { \
	  echo "$(TORCH) is not on this machine's package sources: adding $(TORCH_INDEX)"; \
	  $(PIP) "$(TORCH)" --extra-index-url $(TORCH_INDEX) -c constraints.txt; },$(PIP) "$(TORCH)" -c constraints.txt)
	$(PIP) -r requirements.txt -r requirements-dev.txt -c constraints.txt
	$(PIP) --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(PIP) -r requirements-bench.txt -c constraints.txt
	@touch $(BENCH_STAMP)

run: venv
	$(PY) -m raysearch.run --space loss_ablation $(ARGS)

smoke: venv
	$(PY) -m raysearch.run --space smoke --smoke $(ARGS)

# -rs prints why each test skipped; --only-gpu-skips fails the run if one skipped for any
# reason but "no GPU" (raysearch/testing/skips.py). The tests that start no Ray run first,
# on TEST_PROCS processes (pytest-xdist); then those marked integration (a real local Ray),
# one at a time in one process, as each expects the machine's CPUs to be its Ray's. A phase
# that ARGS leaves without a test (pytest's exit status 5) is not a failure; both are.
TEST_PROCS ?= 2
PYTEST := $(PY) -m pytest -q -p no:cacheprovider
test: venv
	$(PYTEST) -rs --only-gpu-skips --durations=12 -m "not integration" -n $(TEST_PROCS) $(ARGS); \
	first=$$?; [ $$first -eq 0 ] || [ $$first -eq 5 ] || exit $$first; \
	$(PYTEST) -rs --only-gpu-skips --durations=12 -m integration $(ARGS); \
	second=$$?; [ $$second -eq 0 ] || [ $$second -eq 5 ] || exit $$second; \
	if [ $$first -eq 5 ] && [ $$second -eq 5 ]; then echo "make test: no test selected" >&2; exit 5; fi

test-fast: venv
	$(PYTEST) -m "not integration and not slow" -n $(TEST_PROCS) $(ARGS)

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
