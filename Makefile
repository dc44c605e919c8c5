# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
CHROMIUM ?= /usr/bin/chromium
DOVECOT ?= /usr/sbin/dovecot
FOITRACK_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-fast test-postgres lint install install-test clean tools

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("foitrack needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/foitrack db upgrade
	$(BIN)/foitrack authorities load
	@echo
	@echo "To create the first admin account, in another terminal run:"
	@echo "    $(BIN)/foitrack users create you@example.org --role admin"
	@echo
	$(BIN)/foitrack serve

# The export benchmark's smoke test compares with the sqlite3 command's own CSV output; the
# browser tests drive Debian's Chromium (Playwright never downloads a browser here); the IMAP
# tests start Debian's Dovecot with a config of their own on a loopback port
# (tests/imap_server.py), so the package's own service, which apt may start on ports 143 and
# 993, is stopped and disabled when it is installed here.
tools:
	@command -v sqlite3 >/dev/null || apt-get install -y -q sqlite3 >/dev/null || \
		{ echo "install the sqlite3 command (Debian: apt-get install sqlite3)"; exit 1; }
	@test -x $(CHROMIUM) || DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
		{ echo "install Chromium at $(CHROMIUM) (Debian: apt-get install chromium)"; exit 1; }
	@test -x $(DOVECOT) || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >/dev/null && \
		{ systemctl disable --now dovecot.socket dovecot.service; service dovecot stop; \
		  update-rc.d dovecot disable; true; } >/dev/null 2>&1; } || \
		{ echo "install Dovecot at $(DOVECOT) (Debian: apt-get install dovecot-imapd)"; exit 1; }

# The whole suite in parallel (pytest-xdist): one worker per CPU, each with its own databases.
# Tests sharing a costly module fixture (the load test's run) stay on one worker
# (tests/conftest.py). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= auto
PARALLEL := -n $(TEST_WORKERS) --dist loadgroup

test: $(TEST_STAMP) tools
	$(BIN)/python -m pytest $(PARALLEL)

# The inner loop: every test but those marked browser or slow (pyproject.toml lists the markers).
test-fast: $(TEST_STAMP) tools
	$(BIN)/python -m pytest $(PARALLEL) -m "not browser and not slow"

test-postgres: $(TEST_STAMP) tools
	FOITRACK_TEST_DATABASE_URL=$(FOITRACK_TEST_DATABASE_URL) $(BIN)/python -m pytest $(PARALLEL)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
