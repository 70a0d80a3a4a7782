# Two commands: `make run` serves the portal with demo data (and runs the task worker that
# sends notice mailings beside it, stopped with it); `make test` runs the suite.
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
# The suite runs on two workers (each with its own database on PostgreSQL); set
# PYTEST_ARGS= to run it in one process.
PYTEST_ARGS ?= -n 2
# `make run PORT=8000` serves on another port; links in mail and the demo certificates'
# QR codes are made against the address served (PORTAL_PUBLIC_BASE_URL).
PORT ?= 5000
ADDRESS = http://127.0.0.1:$(PORT)

.PHONY: run test scan lock fuzz bench bench-memory bench-micro install lint htmx vnu system-packages clean

run: .stamp-install $(HTMX_FILE)
	@case "$(PORT)" in ''|*[!0-9]*) false;; esac && [ "$(PORT)" -ge 1 ] && [ "$(PORT)" -le 65535 ] || \
	  { echo "PORT must be a number from 1 to 65535, e.g. make run PORT=8000" >&2; exit 2; }
	@# SO_REUSEADDR as the server sets it: a port left in TIME_WAIT by the last run is free.
	@$(BIN)/python -c 'import socket as s; k = s.socket(); k.setsockopt(s.SOL_SOCKET, s.SO_REUSEADDR, 1); k.bind(("127.0.0.1", $(PORT)))' 2>/dev/null || \
	  { echo "Port $(PORT) is in use: choose another, e.g. make run PORT=8000" >&2; exit 2; }
	@sh scripts/system-packages serve
	@if [ -f $(HTMX_FILE) ]; then export PORTAL_HTMX_LOCAL=true; fi; \
	export PORTAL_PUBLIC_BASE_URL=$(ADDRESS); \
	$(BIN)/flask --app portal init-db && \
	$(BIN)/flask --app portal seed-demo && \
	echo "" && echo "Serving the portal on $(ADDRESS) (Ctrl-C to stop)" && \
	echo "Without an SMTP server (PORTAL_SMTP_HOST) mail is written to $${PORTAL_INSTANCE_PATH:-instance}/outbox/;" && \
	echo "staff read it at $(ADDRESS)/staff/outbox" && echo "" && \
	{ $(BIN)/flask --app portal worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask --app portal run --debug --host 127.0.0.1 --port $(PORT); }

test: system-packages .stamp-install-test $(HTMX_FILE) vnu
	$(BIN)/ruff check portal tests benchmarks alembic
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest $(PYTEST_ARGS)

# The scanners (issue 17 §4): bandit, pip-audit over requirements.lock, and sqlmap against a
# demo co-op served on 127.0.0.1; each from a virtualenv of its own under tools/, never .venv.
scan: .stamp-install $(HTMX_FILE)
	@sh scripts/system-packages serve
	@bash scripts/scan/run

# requirements.lock: the versions pip resolves today for a deployment (make scan audits it).
lock:
	@bash scripts/scan/run lock

# A long fuzz (make test runs 5,000 generated requests; this sends FUZZ_REQUESTS more).
FUZZ_REQUESTS ?= 50000
fuzz: .stamp-install-test $(HTMX_FILE)
	PORTAL_FUZZ_EXAMPLES=$(FUZZ_REQUESTS) $(BIN)/pytest -p no:cacheprovider -q -m slow \
	  tests/security/test_fuzz.py

# The load bench (benchmarks/load.py): gunicorn over a fresh demo co-op, every page of issue
# 16's table driven by wrk beside the bare route; the table goes into benchmarks/RESULTS.md.
# BENCH_ARGS="--instance /tmp/copy-of-a-seeded-coop" (or --database-url …) for a larger co-op.
BENCH_ARGS ?=
bench: .stamp-install-test $(HTMX_FILE)
	@sh scripts/system-packages test
	$(BIN)/python benchmarks/load.py $(BENCH_ARGS)

# A worker's memory over 10,000 mixed requests, 500 certificate renders and a register export.
bench-memory: .stamp-install-test $(HTMX_FILE)
	$(BIN)/python benchmarks/load.py --memory $(BENCH_ARGS)

# The older in-process benchmarks of single services (benchmarks/bench_*.py).
bench-micro: .stamp-install-test
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
