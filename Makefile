# Two commands: `make run` (set up and serve the portal on http://127.0.0.1:8000 with the Kent
# framework and the demo set loaded) and `make test` (the whole test suite).
# With no DATABASE_URL/REDIS_URL the portal uses a SQLite file and runs Celery tasks eagerly.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
NPM ?= npm
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test fast install system assets setup worker beat check clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The board pack's PDFs: WeasyPrint lays text out with Pango, in the DejaVu fonts (Debian packages).
system:
	@if ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || ! fc-list 2>/dev/null | grep -qi dejavu; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Pango and the DejaVu fonts for WeasyPrint"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fontconfig >/dev/null; \
	  else echo "The board pack needs Pango and a font: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core" >&2; exit 1; fi; \
	fi

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# Front-end packages (GOV.UK Frontend, Sass, axe-core, plotly.js's basic bundle) from the npm registry, and the CSS built from them.
node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	touch $@

static/build/portal.css: static/scss/portal.scss node_modules/.installed
	$(NPM) run --silent build:css

# plotly.js's basic bundle is served from node_modules/plotly.js-basic-dist-min (STATICFILES_DIRS).
assets: static/build/portal.css node_modules/.installed

install: system $(STAMP) assets

setup: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_kent_framework
	$(BIN)/python manage.py load_demo --reset-passwords

run: setup
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast tier only (README, "Two commands"): everything but the evidence suites marked slow.
fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A kentforum worker --loglevel=info

beat: install
	$(BIN)/celery -A kentforum beat --loglevel=info

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache node_modules static/build

# Benchmarks against PostgreSQL's own limits (README, "Benchmarks"): VALUES=10000000 for the full run.
VALUES ?= 100000
REPEAT ?= 3
bench: install
	$(BIN)/python -m benchmarks run --values $(VALUES) --repeat $(REPEAT)
