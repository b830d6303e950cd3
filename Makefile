# The two commands: `make run` (serve the demo district on SQLite) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export FLASK_APP := server.wsgi

.PHONY: install run test lint test-sqlite test-mysql test-miniprogram seed migrate clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# The console's browser libraries from npm (console/package-lock.json) into its static folder.
CONSOLE_VENDOR := server/console/static/vendor
$(CONSOLE_VENDOR)/.installed: console/package.json console/package-lock.json scripts/console-assets.sh
	bash scripts/console-assets.sh
	touch $@

install: $(BIN)/.installed $(CONSOLE_VENDOR)/.installed

migrate: install
	$(BIN)/flask db upgrade heads

seed: migrate
	DEV_LOGIN=1 $(BIN)/flask seed-demo

# The web service, the notification worker and the ticket timers (Procfile), stopped together by Ctrl-C.
run: seed
	DEV_LOGIN=1 $(BIN)/honcho -f Procfile start --port $(PORT)

test: lint test-sqlite test-mysql test-miniprogram

# ruff (pyflakes, bugbear, import order), the layers (import-linter), mypy on the rules and
# the operations, and no dead code (vulture); settings in pyproject.toml.
lint: install
	$(BIN)/ruff check server tests migrations
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/vulture server --min-confidence 80

test-sqlite: install
	$(BIN)/python -m pytest

# The same suite on MariaDB/MySQL (a fresh database, dropped afterwards) when one answers.
test-mysql: install
	$(BIN)/python tests/run_on_mysql.py

# The mini-program: markup compiled by the official WXML/WXSS compilers, then jest.
test-miniprogram:
	cd miniprogram && npm ci --no-audit --no-fund --loglevel=error && npm test

# HTTP benchmark on MariaDB with wrk (apt-get install -y wrk); writes docs/PERFORMANCE.md. Not part of `make test`.
bench: install
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance console/node_modules $(CONSOLE_VENDOR)
