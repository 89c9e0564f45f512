# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKDIR ?= runs/demo
# Two workers on the 2-core CI machine; each test file stays on one (its module fixtures
# are built once). Not --dist loadgroup: xdist 3.8 marks groups through item._nodeid,
# which pytest 9 no longer reads, so its groups are silently ignored. --no-loadscope-reorder:
# the files go out in the order tests/conftest.py gives them (the longest first).
PYTEST_ARGS ?= -m "not slow" -n 2 --dist loadfile --no-loadscope-reorder

# glibc >= 2.35: malloc's large blocks in transparent huge pages. A demo training step
# on 2 cores otherwise took ~100,000 minor page faults (250 steps: 24.7 M faults and
# 52 s of system time; with it 0.45 M and 20 s, the steps 21% faster, the losses the
# same). Older or other C libraries ignore it.
export GLIBC_TUNABLES := $(if $(GLIBC_TUNABLES),$(GLIBC_TUNABLES):)glibc.malloc.hugetlb=1

.PHONY: demo test test-slow clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python launch.py --config configs/demo.py --workdir $(WORKDIR)
	$(BIN)/python launch.py --config configs/demo.py --workdir $(WORKDIR) \
	  --config.mode=predict --config.predict.output=$(WORKDIR)/predictions.jsonl \
	  --config.predict.inputs=$$(ls $(WORKDIR)/synthetic_raw/*/*.jpg | awk 'NR % 400 == 7' | paste -sd, -)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m slow

clean-demo:
	rm -rf $(WORKDIR)
