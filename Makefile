# Two commands: `make run` (set up and serve the portal on http://127.0.0.1:8000 with the Kent
# framework and the demo set loaded) and `make test` (the whole test suite).
# With no DATABASE_URL/REDIS_URL the portal uses a SQLite file and runs Celery tasks eagerly.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install setup worker beat check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

setup: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_kent_framework
	$(BIN)/python manage.py load_demo --reset-passwords

run: setup
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A kentforum worker --loglevel=info

beat: install
	$(BIN)/celery -A kentforum beat --loglevel=info

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
