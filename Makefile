# Two commands for a fresh clone:  make run  |  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export LMS_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test test-fast test-clock-ahead test-tools install translations lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip 2>/dev/null
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import lms, flask, sqlalchemy, playwright"
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d lms/translations

## Serve the platform with demo data on SQLite at http://127.0.0.1:5000, with the job
## worker beside it (imports, archives, e-mail, reminders; it stops with the server).
## LMS_BASE_URL is set for every process: it is signed into the certificates' links.
run: export LMS_BASE_URL := http://127.0.0.1:5000
run: install
	@echo "LMS_BASE_URL=$$LMS_BASE_URL (local trial: certificates issued here link to this machine)"
	$(BIN)/lms init-db
	$(BIN)/lms demo
	@echo "Serving on $$LMS_BASE_URL with a job worker (Ctrl-C to stop)"
	$(BIN)/lms worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:5000 --no-control-socket --access-logfile - wsgi:app

## Install and run the whole test suite on SQLite and on PostgreSQL
test: install test-tools
	$(BIN)/ruff check .
	tools/run-tests

## The fast loop while developing: SQLite only, no browser journeys, no tests marked slow (< 3 min)
test-fast: install
	$(BIN)/ruff check .
	LMS_TEST_DATABASE_URL= $(BIN)/python -m pytest -p no:cacheprovider -q -m "not slow" --ignore=tests/e2e

## The suite once more on SQLite with every clock two years ahead (libfaketime; CI runs it)
test-clock-ahead: install test-tools
	tools/run-tests-clock-ahead +730d

## Browser-test tooling when missing: Debian's chromium (apt-get), axe-core (npm) in .tools/
test-tools:
	tools/install-test-tools

lint: $(STAMP)
	$(BIN)/ruff check .

## Benchmarks (bench/): seed BENCH_SIZE (S, M or L; default M), measure, write bench/results/
bench: install
	$(BIN)/python -m bench --size $(or $(BENCH_SIZE),M)

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts .tools
