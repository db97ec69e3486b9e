# The two commands: `make serve` and `make test`. Both bootstrap .venv/ on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
ARGS   ?=

.PHONY: serve test services lint typecheck unit fuzz bench soak chaos lock clean fixtures

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 not found)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/python -m mockserver serve --host $(HOST) --port $(PORT) $(ARGS)

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# What the tests need beyond Python (redis-server, chromium; Docker for the container tests), installed
# and started as root, else one line naming the command to run. Only checks when all is there.
services:
	@sh scripts/test-services.sh

unit: $(STAMP) services
	$(BIN)/pytest -n 2 --dist loadgroup --cov --cov-report=term $(ARGS)

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -m fuzz -n 2 $(ARGS)

bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }; }
	$(BIN)/python bench/run.py $(ARGS)
	$(BIN)/python bench/inprocess.py
	@command -v valgrind >/dev/null || { echo "installing valgrind (Debian package)"; apt-get install -y -qq valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }; }
	$(BIN)/python bench/fixtures.py --instructions
	$(BIN)/python bench/inspector.py

soak: $(STAMP)
	$(BIN)/python bench/soak.py $(ARGS)

# Shared state under faults (docs/state-faults.md): 10 minutes by default (ARGS="--seconds 120" for
# less, ARGS="--faults ..." for others). Not part of `make test` (tests/system/test_chaos.py is short).
chaos: $(STAMP) services
	$(BIN)/python bench/chaos.py $(ARGS)

fixtures: $(STAMP)
	$(BIN)/python -m mockserver fixtures

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
