# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
FOITRACK_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-postgres lint install install-test clean

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

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

test-postgres: $(TEST_STAMP)
	FOITRACK_TEST_DATABASE_URL=$(FOITRACK_TEST_DATABASE_URL) $(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
