# footer-audit: `make demo` audits the bundled demo sites, `make test` runs the suite.
# Both create the virtual environment in .venv and install the project first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= demo-report

.PHONY: demo test bench clean browser redis

# The page-reading modules are compiled in place (setup.py): a change to a module of
# their packages reinstalls, which rebuilds them.
$(STAMP): pyproject.toml setup.py $(wildcard crawler/*.py patterns/*.py)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@# a rebuild that found nothing to recompile (a comment changed) copies older modules
	touch $(STAMP) $(wildcard *.so crawler/*.so patterns/*.so)

demo: $(STAMP)
	$(PY) -m tests.farm.demo --out $(DEMO_OUT)

# The HTML report and --render are tested in Debian's headless Chromium; installed when
# missing (as root, with apt), otherwise those tests are skipped with their reason.
browser:
	@command -v chromium >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "note: chromium is not installed; the HTML report and rendering tests will be skipped"; \
	fi

# The distributed-crawl tests start their own redis-server (Debian's package) on
# loopback; installed when missing (as root, with apt), otherwise they are skipped.
redis:
	@command -v redis-server >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else \
		echo "note: redis-server is not installed; the distributed-crawl tests will be skipped"; \
	fi

test: $(STAMP) browser redis
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/extract_speed.py
	$(PY) bench/crawl_speed.py
	$(PY) bench/report_speed.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache build *.so crawler/*.so patterns/*.so
