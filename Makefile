# wavedrain.kvm — every target sets itself up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/wavedrain/kvm
# Python 3.12: on PATH, or a pyenv install, whichever really runs.
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup demo test unit unit-oldest sanity lint integration bench testbed-up testbed-down clean

help:
	@echo "make demo   plan examples/bladecenter.yml and compare with the naive strategies"
	@echo "make test   unit tests, sanity/lint, integration tests on the local test datacenter"
	@echo "make unit | unit-oldest | sanity | lint | integration | bench | testbed-up | testbed-down | clean"

setup: $(VENV)/.installed $(COLLECTION_LINK)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found (tried python3.12 and ~/.pyenv/versions/3.12*); install it or run make PYTHON312=/path/to/python3.12" >&2; exit 1; }
	test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# The collection must sit under ansible_collections/<namespace>/<name> to be importable.
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

demo: setup
	$(PY) bench/demo.py examples/bladecenter.yml --out build/demo

unit: setup
	$(PY) -m pytest tests/unit -q

# The oldest supported ansible-core (requirements-oldest.txt, meta/runtime.yml) in its own venv.
# Skipped there: what does not touch ansible-core (the planner's own tests, the browser renders,
# the EE build context), tested on the newest core.
VENV_OLDEST := .venv-oldest
$(VENV_OLDEST)/.installed: requirements-oldest.txt
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found" >&2; exit 1; }
	test -x $(VENV_OLDEST)/bin/python || $(PYTHON312) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/python -m pip install -q -r requirements-oldest.txt
	touch $@

unit-oldest: setup $(VENV_OLDEST)/.installed
	$(VENV_OLDEST)/bin/python -m pytest tests/unit -q -p no:cacheprovider -k "not chromium" \
	  --ignore=tests/unit/plugins/module_utils/test_planner.py --ignore=tests/unit/plugins/module_utils/test_table1.py \
	  --ignore=tests/unit/test_execution_environment.py

sanity: setup
	bash tests/sanity/run.sh

lint: setup
	$(VENV)/bin/ansible-lint

integration: setup
	$(PY) -m pytest tests/integration -q -m integration

# One pytest run for unit + integration so one summary line tells the truth.
test: setup
	$(PY) -m pytest tests -q -ra
	$(MAKE) --no-print-directory unit-oldest
	bash tests/sanity/run.sh
	$(VENV)/bin/ansible-lint

bench: setup
	$(PY) bench/bench_shapes.py
	$(PY) bench/bench_planner.py
	$(PY) bench/bench_executor.py

testbed-up: setup
	$(PY) tests/testbed/testbed up

testbed-down: setup
	$(PY) tests/testbed/testbed down

clean:
	rm -rf build .pytest_cache
