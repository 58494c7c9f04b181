# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test lint bench chaos install migrate demo check clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

var:
	@mkdir -p var

migrate: install var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

## run: the whole portal (web + worker + scheduler) on the embedded defaults, demo data loaded.
run: demo
	@echo ""
	@echo "  Incident Portal: http://127.0.0.1:8000/   (status page: /status/, API docs: /api/docs/)"
	@echo "  Press Ctrl-C to stop the web server, the worker and the scheduler (a worker or scheduler that dies is started again)."
	@echo ""
	$(VENV)/bin/honcho start -f Procfile

## test: the whole suite. Uses DATABASE_URL / REDIS_URL when set, SQLite otherwise.
test: install var
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache  # the layers and no import cycles (contracts in pyproject.toml)
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run  # the models against the migrations; no database needed

check: install
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	  ALLOWED_HOSTS=portal.example.com $(PY) manage.py check --deploy --fail-level WARNING

## bench: prints a table, writes bench/results.json. ROWS=name,name runs some rows.
bench: install var
	$(PY) -m bench $(if $(ROWS),--rows $(ROWS),)

## chaos: the README's production deployment on a PostgreSQL and a Redis of its own, under an
## alert storm while processes are killed and the servers restart; rows chaos_* into bench/results.json.
chaos: install
	$(PY) -m bench.chaos $(CHAOS_ARGS)

clean:
	rm -rf var staticfiles .pytest_cache
