# Every command a user types. Each target sets up what it needs (virtualenv, pinned Python packages, the pinned
# CDK CLI) and skips set-up that is already up to date.
#
#   make synth     synthesize the CloudFormation templates into cdk.out/ (no AWS account or credentials needed)
#   make test      make lint, then the whole test suite, scanners included (no network, no credentials)
#   make lint      ruff (lint and format check) over the repository, mypy (strict) over app.py, stacks/, lambda/
#   make format    apply ruff's fixes and formatting
#   make deploy    deploy into the account and region of your current AWS credentials
#   make openapi   regenerate docs/openapi.json from the use-case catalog (a test fails when it is stale)
#   make bench     measure cold start, per-request overhead, package size, synth and test time against their
#                  budgets; writes docs/PERFORMANCE.md, fails on a missed budget (a few minutes; not part of test)
#   make smoke     after deploy: send every examples/ request to the deployed API (SigV4) and print a table
#   make review    no AWS account: synth, scanners, one Markdown report (IAM, routes, guardrail, cost) in cdk.out/review.md
#   make diagram   regenerate docs/architecture.svg from the synthesized templates (a test fails when it is stale)
#   make local     serve the API on http://127.0.0.1:$PORT (default 3000) without Docker: the same handler, Bedrock
#                  with your AWS credentials and region (LOCAL_ARGS=--no-check skips the one-token model check)
#   client         .venv/bin/python -m tools.client <family>/<task>|use-cases [--local]: one request (signed with
#                  SigV4) to the deployed API or to make local, the JSON answer pretty-printed
#   make diff      compare the app with what is deployed
#   make destroy   delete the stacks (sandbox profile: nothing billable is left; production keeps the log groups)
#   make clean     remove cdk.out/, the virtualenv and node_modules/

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

# The CDK CLI runs `python3 app.py` (cdk.json): put the virtualenv first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
# Caches the CDK and jsii write under $HOME are harmless; keep pip quiet about upgrades.
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup synth lint format test bench snapshot-update openapi review diagram deploy smoke local diff destroy clean

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

$(PY_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_STAMP): requirements-scanners.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-scanners.txt
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

openapi: $(PY_STAMP)
	$(PY) -m tools.openapi

# REVIEW_ARGS="-c enableWaf=true" reviews another context (CDK's -c key=value).
review: setup $(CHECKOV_STAMP)
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(PY) -m tools.review $(REVIEW_ARGS)

diagram: setup
	$(PY) -m tools.diagram

synth: setup
	$(CDK) synth --quiet
	@ls cdk.out/*.template.json

lint: $(PY_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(PY_STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: setup $(CHECKOV_STAMP) lint
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest $(PYTEST_ARGS)

# BENCH_BASELINE: the commit whose function is measured alongside for the before/after (the one before issue 7).
BENCH_BASELINE ?= 95a26a5
bench: setup $(CHECKOV_STAMP)
	$(PY) -m bench --baseline $(BENCH_BASELINE) $(BENCH_ARGS)

snapshot-update: setup
	$(PY) -m pytest tests/test_snapshots.py --snapshot-update

deploy: setup
	$(CDK) deploy --all

# Needs the credentials and region you deployed with; SMOKE_ARGS="--stack-name OtherApi" for another deployment.
smoke: setup
	$(PY) -m tools.smoke $(SMOKE_ARGS)

# No CDK and no Node.js: the function's environment comes from cdk.json through stacks/config.py. PORT=8080 make local.
local: $(PY_STAMP)
	$(PY) -m tools.local_api $(LOCAL_ARGS)

diff: setup
	$(CDK) diff --all

destroy: setup
	$(CDK) destroy --all

clean:
	rm -rf cdk.out $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
