# Every command a user types. Each target sets up what it needs (virtualenv, pinned Python packages, the pinned
# CDK CLI) and skips set-up that is already up to date. `make help` prints this comment.
#
#   make synth            synthesize the CloudFormation templates into cdk.out/ (no AWS account or credentials)
#   make test             make lint, then the whole test suite, scanners included (no network, no credentials)
#   make lint             ruff (lint and format check) over the repository, mypy (strict) over app.py, stacks/, lambda/
#   make format           apply ruff's fixes and formatting
#   make generate         after adding or changing a use case: regenerate everything derived from the catalog and the
#                         templates (make openapi, make snapshot-update, make diagram, make doc-tables,
#                         make file-examples); read the diff
#   make openapi          regenerate docs/openapi.json from the use-case catalog (a test fails when it is stale)
#   make snapshot-update  rewrite the template snapshots under tests/__snapshots__/ (a test fails when they differ)
#   make diagram          regenerate docs/architecture.svg from the synthesized templates (a test fails when stale)
#   make doc-tables       regenerate the task and request tables of README.md, README.pt-BR.md and docs/api.md
#   make file-examples    regenerate the example requests with a small file (examples/<family>/<task>/*-file.json)
#   make local            serve the API on http://127.0.0.1:$PORT (default 3000) without Docker: the same handler,
#                         Bedrock with your AWS credentials and region (LOCAL_ARGS=--no-check skips the model check)
#   make deploy           deploy into the account and region of your current AWS credentials
#   make ingest           after deploy: sync CORPUS (default examples/corpus) to the knowledge base's corpus bucket,
#                         ingest it and print the counts (INGEST_ARGS=--delete mirrors the folder; --dry-run shows
#                         what would change)
#   make smoke            after deploy: send every examples/ request to the deployed API and print a table
#                         (SigV4, or the stack's API key in authMode=api-key; SMOKE_ARGS="--stack-name OtherApi")
#   make diff             compare the app with what is deployed
#   make destroy          delete the stacks (sandbox profile: nothing billable is left; production keeps log groups)
#   make review           no AWS account: synth, scanners, one Markdown report (IAM, routes, guardrail, cost) in
#                         cdk.out/review/review.md, from its own synthesis in cdk.out/review/
#   make bench            measure cold start, per-request overhead, package size, synth and test time against their
#                         budgets; writes docs/PERFORMANCE.md, fails on a missed budget (minutes; not part of test)
#   make setup            create .venv and node_modules/ with the pinned packages (every target does it when needed)
#   make clean            remove cdk.out/, the virtualenvs and node_modules/
#   make help             print this comment
#
# Options (make VAR=value target):
#   CDK_ARGS="-c key=value ..."   context for synth, deploy, diff and destroy (e.g. CDK_ARGS="-c authMode=api-key")
#   REVIEW_ARGS="-c key=value"    the context that make review reviews
#   PYTHON=python3.12             the Python (3.11 or newer) that creates the virtualenvs
#   PYTEST_WORKERS=0              make test in one process (default auto: one pytest-xdist worker per core)
#   PYTEST_ARGS="-k name"          more pytest arguments for make test
# Not a target, one request to the API (deployed: SigV4, or the stack's API key in authMode=api-key; --local: make local):
#   .venv/bin/python -m tools.client <family>/<task>|use-cases [--local] [--stream] [--api-key KEY]

PYTHON ?= python3
PYTEST_WORKERS ?= auto
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# tools/venv.sh rebuilds a virtualenv of another Python only when PYTHON was chosen on purpose.
PYTHON_EXPLICIT := $(if $(filter command line environment,$(origin PYTHON)),yes,no)

# The CDK CLI runs `python3 app.py` (cdk.json): the virtualenv first on PATH makes that python3 the project's (app.py
# also finds .venv by itself when run from a shell that has not activated it).
export PATH := $(abspath $(VENV))/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
# Caches the CDK and jsii write under $HOME are harmless; keep pip quiet about upgrades.
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# jsii (the CDK's bridge from Python to Node.js) prints an 11-line banner when Node.js is near or past its end of life
# (Node 20 since 2026-10-30 for jsii 1.142). Node 20 still synthesizes and tests; package.json says what is supported.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION ?= 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: help setup synth lint format test generate openapi snapshot-update diagram doc-tables file-examples local deploy ingest smoke diff destroy review bench clean
# The virtualenvs are checked on every run (quick when nothing is to do): tools/venv.sh rebuilds one whose Python no
# longer runs or is older than 3.11, refuses a PYTHON older than 3.11 before pip runs, and installs when the
# requirements are newer than the stamp.
.PHONY: $(PY_STAMP) $(CHECKOV_STAMP)

help:
	@sed -n -e '/^[^#]/q' -e 's/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

$(PY_STAMP):
	@sh tools/venv.sh "$(PYTHON)" $(PYTHON_EXPLICIT) $(VENV) requirements-dev.txt requirements.txt

$(CHECKOV_STAMP):
	@sh tools/venv.sh "$(PYTHON)" $(PYTHON_EXPLICIT) $(CHECKOV_VENV) requirements-scanners.txt

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

synth: setup
	$(CDK) synth --quiet $(CDK_ARGS)
	@ls cdk.out/*.template.json

lint: $(PY_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(PY_STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: setup $(CHECKOV_STAMP) lint
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

generate: openapi snapshot-update diagram doc-tables file-examples

openapi: $(PY_STAMP)
	$(PY) -m tools.openapi

snapshot-update: setup
	$(PY) -m pytest tests/test_snapshots.py --snapshot-update -q

diagram: setup
	$(PY) -m tools.diagram

file-examples: $(PY_STAMP)
	$(PY) -m tools.file_examples

doc-tables: $(PY_STAMP)
	$(PY) -m tools.doc_tables

# No CDK and no Node.js: the function's environment comes from cdk.json through stacks/config.py. PORT=8080 make local.
local: $(PY_STAMP)
	$(PY) -m tools.local_api $(LOCAL_ARGS)

deploy: setup
	$(CDK) deploy --all $(CDK_ARGS)

# Needs the credentials and region you deployed with; the knowledge base's ids and bucket come from the stack outputs.
CORPUS ?= examples/corpus
ingest: $(PY_STAMP)
	$(PY) -m tools.ingest $(CORPUS) $(INGEST_ARGS)

# Needs the credentials and region you deployed with; SMOKE_ARGS="--stack-name OtherApi" for another deployment.
smoke: setup
	$(PY) -m tools.smoke $(SMOKE_ARGS)

diff: setup
	$(CDK) diff --all $(CDK_ARGS)

destroy: setup
	$(CDK) destroy --all $(CDK_ARGS)

# REVIEW_ARGS="-c enableWaf=true" reviews another context (CDK's -c key=value), in its own cdk.out/review/.
review: setup $(CHECKOV_STAMP)
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(PY) -m tools.review $(REVIEW_ARGS)

# BENCH_BASELINE: the commit whose function is measured alongside for the before/after (the one before issue 7).
BENCH_BASELINE ?= 95a26a5
bench: setup $(CHECKOV_STAMP)
	$(PY) -m bench --baseline $(BENCH_BASELINE) $(BENCH_ARGS)

clean:
	rm -rf cdk.out $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
