# Two commands: `make run` serves the portal with demo data; `make test` runs the suite.
# Both set everything up on a fresh machine: the Debian packages (scripts/system-packages:
# as root or with sudo, else it prints the apt-get line and goes on), the virtualenv, the
# package and its extras, htmx from the npm registry, and (for tests) the Nu HTML checker.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX_VERSION := 2.0.11
VNU_VERSION := 26.9.27
HTMX_FILE := static/vendor/htmx.min.js
VNU_JAR := tools/node_modules/vnu-jar/build/dist/vnu.jar
PYTEST_ARGS ?=

.PHONY: run test bench install lint htmx vnu system-packages clean

run: .stamp-install $(HTMX_FILE)
	@sh scripts/system-packages serve
	@if [ -f $(HTMX_FILE) ]; then export PORTAL_HTMX_LOCAL=true; fi; \
	$(BIN)/flask --app portal init-db && \
	$(BIN)/flask --app portal seed-demo && \
	echo "" && echo "Serving the portal on http://127.0.0.1:5000 (Ctrl-C to stop)" && echo "" && \
	$(BIN)/flask --app portal run --debug --host 127.0.0.1 --port 5000

test: system-packages .stamp-install-test $(HTMX_FILE) vnu
	$(BIN)/ruff check portal tests benchmarks alembic
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest $(PYTEST_ARGS)

bench: .stamp-install-test
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: .stamp-install-test
	$(BIN)/ruff check portal tests benchmarks alembic
	$(BIN)/lint-imports --no-cache

install: .stamp-install

# Every Debian package the suite needs (`make run` asks the script for the serving ones only).
system-packages:
	@sh scripts/system-packages test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	@touch $@

.stamp-install-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[test]'
	@touch $@ .stamp-install

# htmx is pinned: the npm `latest` tag is a different major version.
htmx: $(HTMX_FILE)
$(HTMX_FILE):
	@mkdir -p static/vendor build
	@if command -v npm >/dev/null 2>&1; then \
	  cd build && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && \
	  tar -xzf htmx.org-$(HTMX_VERSION).tgz package/dist/htmx.min.js && \
	  cp package/dist/htmx.min.js ../$(HTMX_FILE) && echo "fetched htmx $(HTMX_VERSION)"; \
	else \
	  echo "npm not found: pages will load htmx $(HTMX_VERSION) from the CDN"; \
	fi

vnu: $(VNU_JAR)
$(VNU_JAR):
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix tools vnu-jar@$(VNU_VERSION); \
	else \
	  echo "npm not found: the HTML validity checks will be skipped"; \
	fi

clean:
	rm -rf $(VENV) build tools static/vendor .stamp-install .stamp-install-test
