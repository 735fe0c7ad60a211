# gongji — every target creates the environment it needs first.
# The first interpreter that actually runs and is new enough (a pyenv shim may exist and fail).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The suite in one pytest-xdist worker per core (GONGJI_TEST_WORKERS=N to choose, 0 for one
# process); a test file stays in one worker, so its module fixtures are built once.
PARALLEL := -n $${GONGJI_TEST_WORKERS:-auto} --dist loadfile

.PHONY: install run test lint unit integration soak soak-starvation security bench-ledger bench-settle bench-settle-workers clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "gongji needs Python >= 3.11 (python3.11, python3.12 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

## Start gongji on the embedded SQLite default: web UI and API on http://127.0.0.1:8000
## (a new database is seeded with the demo family first: `gongji demo seed --if-empty`)
run: install
	GONGJI_ENV=development $(BIN)/gongji demo seed --if-empty && GONGJI_ENV=development $(BIN)/gongji serve

## The whole suite: lint, types, architecture, unit, integration (SQLite and PostgreSQL), e2e
test: install lint
	$(BIN)/pytest $(PARALLEL)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest $(PARALLEL) tests/unit

integration: install
	$(BIN)/pytest $(PARALLEL) tests/integration

## Long runs, not part of `make test`: the state machine, bank, crash and history tests, 10× as long
soak: install
	GONGJI_SOAK=$${GONGJI_SOAK:-10} $(BIN)/pytest -m soak --timeout 7200 tests

## Not part of `make test`: schemathesis against /openapi.json with real tokens and signed
## institution requests; fails on any 5xx or answer outside the schema. About 10 minutes on
## 2 cores; GONGJI_FUZZ_EXAMPLES=N examples per operation (default 25), 20 minutes at most.
security: install
	GONGJI_FUZZ_EXAMPLES=$${GONGJI_FUZZ_EXAMPLES:-25} timeout 1200 $(BIN)/pytest \
		tests/security/fuzz_api.py -p no:cacheprovider -q --hypothesis-show-statistics

bench-ledger: install
	$(BIN)/gongji bench ledger

## Settlements/s through the services and signed HTTP, both databases, plus p99 at 500/s
bench-settle: install
	$(BIN)/gongji bench settle --db both --rate 500

## Settlements/s over HTTP at 1, 2, 4 uvicorn workers (PostgreSQL), beside the thread generator
bench-settle-workers: install
	$(BIN)/gongji bench settle --db postgres --workers 1,2,4 --compare-threads
## A signed quote's latency while anonymous clients loop ledger check, OTP send, operator login
soak-starvation: install
	$(BIN)/gongji bench starvation --seconds $${GONGJI_STARVATION_SECONDS:-20}

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
