# footer-audit: `make demo` audits the bundled demo sites, `make test` runs the suite.
# Both create the virtual environment in .venv and install the project first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= demo-report

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m tests.farm.demo --out $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/extract_speed.py
	$(PY) bench/crawl_speed.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
