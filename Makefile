# The two commands of the README: `make run` serves the example project, `make test` tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: FORCE run test test-sqlite test-postgres test-mariadb fast faults mysql-headers matrix matrix-sqlite matrix-postgres matrix-mariadb incident realworld sites plan-vs-linter bench lint docs clean

# The virtualenv, remade when it was made by another Python than $(PYTHON).
$(VENV)/.python: FORCE
	@want="$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])')"; \
	have="$$($(BIN)/python -c 'import sys; print(sys.version_info[:2])' 2>/dev/null)"; \
	if [ "$$want" != "$$have" ]; then \
		echo "Making $(VENV) with $(PYTHON) $$want"; rm -rf $(VENV); \
		$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip; \
	fi; \
	[ "$$(cat $@ 2>/dev/null)" = "$$want" ] || echo "$$want" > $@

# What the example project needs and no more: pure-Python wheels, nothing compiles.
$(VENV)/.example: pyproject.toml $(VENV)/.python
	$(BIN)/python -m pip install --quiet -e ".[example]"
	touch $@

# Everything the tests need, the MariaDB driver (compiled) included.
$(VENV)/.installed: pyproject.toml $(VENV)/.python
	@pkg-config --exists libmariadb || pkg-config --exists mysqlclient || $(MAKE) --no-print-directory mysql-headers
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

FORCE:

## Serve the example project on SQLite: http://127.0.0.1:$(PORT)/health/
run: $(VENV)/.example
	cd example_project && ../$(BIN)/python manage.py migrate --noinput
	cd example_project && ../$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## The whole test suite on SQLite and the real PostgreSQL and MariaDB servers, side by side
## (each run has databases of its own; its output is printed whole when it ends; any failure
## fails the whole).
test: $(VENV)/.installed
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-sqlite test-postgres test-mariadb

test-sqlite: $(VENV)/.installed
	HEALTH_DEEP_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed
	HEALTH_DEEP_TEST_DB=postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

test-mariadb: $(VENV)/.installed
	HEALTH_DEEP_TEST_DB=mariadb $(BIN)/python -m pytest $(PYTEST_ARGS)

## The fast loop: the tests that start no process, on SQLite.
fast: $(VENV)/.installed
	HEALTH_DEEP_TEST_DB=sqlite $(BIN)/python -m pytest -q -m "not subprocess and not faults" $(PYTEST_ARGS)

## The fault and load suite: gunicorn and uvicorn on a private PostgreSQL server (~3 minutes).
faults: $(VENV)/.installed
	$(BIN)/python -m pytest -m faults -p no:cacheprovider -s tests/faults $(PYTEST_ARGS)

## The rest of the version matrix (CI's second step): python:django cells, one after the
## other. Every cell runs the in-process tests on every backend, side by side, and the tests
## that start processes (gunicorn, uvicorn, manage.py) on one backend, rotating by day and cell
## (MATRIX_FULL=1: on all three).
MATRIX ?= 3.12:6.0 3.13:6.1
MATRIX_DAY ?= $(shell date -u +%-j)
matrix:
	@i=0; for cell in $(MATRIX); do \
		py=$${cell%%:*}; dj=$${cell##*:}; venv=.venv-py$$py-django$$dj; \
		pybin=$$(ls -d $$HOME/.pyenv/versions/$$py*/bin/python$$py 2>/dev/null | tail -n 1); \
		[ -n "$$pybin" ] || pybin=python$$py; \
		$$pybin -c "" 2>/dev/null || { echo "matrix: no python$$py (pyenv install $$py)" >&2; exit 1; }; \
		[ -x $$venv/bin/python ] || $$pybin -m venv $$venv || exit 1; \
		$$venv/bin/python -m pip install --quiet -e ".[dev]" "django==$$dj.*" || exit 1; \
		full=$$(( ($(MATRIX_DAY) + i) % 3 )); i=$$((i + 1)); \
		echo "== Python $$py, Django $$($$venv/bin/python -m django --version)"; \
		$(MAKE) --no-print-directory -j3 --output-sync=target CELL=$$venv FULL=$$full \
			matrix-sqlite matrix-postgres matrix-mariadb || exit 1; \
	done

# One backend of one matrix cell (CELL: its virtualenv; FULL: the backend, by position, that
# also runs the process-starting tests).
matrix-sqlite matrix-postgres matrix-mariadb:
	@db=$(@:matrix-%=%); n=$$(echo "sqlite postgres mariadb" | tr ' ' '\n' | grep -n "^$$db$$" | cut -d: -f1); \
	if [ -n "$(MATRIX_FULL)" ] || [ $$((n - 1)) = "$(FULL)" ]; then marks="not faults"; \
	else marks="not subprocess and not faults"; fi; \
	echo "== $(CELL), $$db: $$marks"; \
	HEALTH_DEEP_TEST_DB=$$db $(CELL)/bin/python -m pytest -q -m "$$marks" $(PYTEST_ARGS)

# mysqlclient (the MySQL driver Django documents) compiles against the client headers.
mysql-headers:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing the MariaDB client headers for mysqlclient (libmariadb-dev)"; \
		apt-get install -y -q libmariadb-dev pkg-config >/dev/null; \
	else \
		echo "mysqlclient needs the MySQL/MariaDB client headers:" \
		     "install libmariadb-dev (Debian/Ubuntu) or mysql-devel, then run make again" >&2; \
		exit 1; \
	fi

## Replay the outage on a throwaway copy of the example project.
incident: $(VENV)/.installed
	$(BIN)/python example_project/incident.py

## No false alarm on 56 third-party packages with models: three backends, three site configurations (slow).
realworld: $(VENV)/.installed
	$(PYTHON) -m venv .venv-realworld
	.venv-realworld/bin/python -m pip install --quiet -e ".[postgres,mysql]" -r tests/realworld/requirements.txt
	.venv-realworld/bin/python tests/realworld/run.py

## Whole real sites from PyPI (pretix) with health_deep added: PostgreSQL and SQLite (~5 min).
sites: $(VENV)/.installed
	$(PYTHON) -m venv .venv-site-pretix
	.venv-site-pretix/bin/python -m pip install --quiet -e . -r tests/realworld/sites-requirements.txt
	.venv-site-pretix/bin/python tests/realworld/sites.py

## The deploy plan beside django-migration-linter and squawk over the scan's migration
## histories (~20 min).
plan-vs-linter: $(VENV)/.installed
	$(PYTHON) -m venv .venv-realworld
	.venv-realworld/bin/python -m pip install --quiet -e ".[postgres,mysql]" -r tests/realworld/requirements.txt -r benchmarks/requirements.txt
	.venv-realworld/bin/python benchmarks/plan_vs_linter.py --out plan_vs_linter.jsonl
	.venv-realworld/bin/python benchmarks/plan_vs_squawk.py --out plan_vs_squawk.jsonl

## The whole performance comparison, in process, under real servers and from a cold start (~50 min); its output
## replaces docs/benchmark-latest.md only when every part ran.
bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	{ echo "# Latest benchmark output"; echo; \
	  echo "Written by \`make bench\` on $$(date -u +%Y-%m-%d); see [performance](performance.md)."; echo; \
	  $(BIN)/python benchmarks/compare.py --markdown && echo && \
	  $(BIN)/python benchmarks/serve.py --markdown && echo && \
	  $(BIN)/python benchmarks/coldstart.py --markdown && echo && \
	  $(BIN)/python benchmarks/tenants.py --markdown; } > .bench.md && mv .bench.md docs/benchmark-latest.md

lint: $(VENV)/.installed
	$(BIN)/ruff check health_deep tests example_project benchmarks
	$(BIN)/ruff format --check health_deep tests example_project benchmarks
	$(BIN)/mypy health_deep

## The documentation site, with warnings as errors (site/ is not committed).
docs: $(VENV)/.installed
	$(BIN)/mkdocs build --strict --site-dir site --quiet

clean:
	rm -rf $(VENV) .venv-realworld .venv-site-* .venv-py* .bench.md plan_vs_linter.jsonl plan_vs_squawk.jsonl example_project/db.sqlite3 .pytest_cache .mypy_cache .ruff_cache site
