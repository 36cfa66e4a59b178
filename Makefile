# Regelwerk: `make demo` runs the product locally, `make test` proves it. Both set themselves up.
SHELL := /bin/bash
export PYENV_VERSION := 3.13.0
PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python 2>/dev/null || command -v python3.13 || command -v python3)
VENV := .venv
SAMVENV := .venv-sam
CHECKOVVENV := .venv-checkov
BIN := $(VENV)/bin
export AWS_DEFAULT_REGION ?= eu-central-1
export AWS_REGION ?= eu-central-1
export SAM_CLI_TELEMETRY := 0

.PHONY: demo serve test test-fast lint typecheck unit cfn bench build venv clean browser

$(BIN)/.installed: requirements-dev.txt layers/core/requirements.txt functions/pdf/requirements.txt functions/sms/requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(SAMVENV)/.installed: requirements-sam.txt
	@test -x $(SAMVENV)/bin/python || $(PYTHON) -m venv $(SAMVENV)
	$(SAMVENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAMVENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	@touch $@

$(CHECKOVVENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOVVENV)/bin/python || $(PYTHON) -m venv $(CHECKOVVENV)
	$(CHECKOVVENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOVVENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $@

venv: $(BIN)/.installed

## the console's browser tests drive Debian's Chromium (Playwright's own download is not used): installed when
## missing and we are root (CI's fresh machine); otherwise say how
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "tests/browser need $(CHROMIUM): sudo apt-get install chromium" >&2; exit 1; fi; }

## The main job on the embedded local stack: events in, e-mails, SMS and PDFs out in ./outbox/
demo: venv
	$(BIN)/regelwerk demo

## The local stack kept up on http://127.0.0.1:3000 until Ctrl-C
serve: venv
	$(BIN)/regelwerk serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## mypy on the domain package (strict: every function typed; settings in pyproject.toml)
typecheck: venv
	$(BIN)/mypy

# two workers, an idle one taking queued tests from a busy one: each has its own local stack on free ports (see README, Tests)
XDIST ?= -n 2 --dist worksteal

unit: venv browser
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

cfn: venv $(SAMVENV)/.installed $(CHECKOVVENV)/.installed
	$(BIN)/cfn-lint template.yaml
	$(SAMVENV)/bin/sam validate --lint --region $(AWS_DEFAULT_REGION)
	$(CHECKOVVENV)/bin/checkov -f template.yaml --config-file .checkov.yaml --skip-download

## ruff, mypy, pytest (unit, integration, reliability, browser, slow ones included), cfn-lint, sam validate --lint and checkov
test: lint typecheck unit cfn

## the edit-test loop: ruff, mypy and every test not marked slow (under two minutes)
test-fast: lint typecheck browser
	$(BIN)/pytest $(XDIST) -m "not slow" $(PYTEST_ARGS)

## benchmarks against peers and limits (issue 7): prints a table, writes bench/results.json (BENCH_ARGS=--quick)
bench: venv
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BIN)/python -m bench $(BENCH_ARGS)

## sam build without Docker (needs python3.13 on PATH: pyenv gives it with PYENV_VERSION=3.13.0)
build: $(SAMVENV)/.installed
	PATH="$$(dirname $$(PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)):$$PATH" \
	  $(SAMVENV)/bin/sam build

clean:
	rm -rf $(VENV) $(SAMVENV) $(CHECKOVVENV) .aws-sam outbox .pytest_cache
