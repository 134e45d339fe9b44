# Two commands do everything on a fresh machine:
#   make run    set up, then run the main job (sandbox by default; the real API when GOSZAKUP_TOKEN is set)
#   make test   set up, then run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)

.PHONY: setup run ingest test test-fast lint dev bench bench-national score score-sandbox clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip sync --quiet -p $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet -p $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

run: setup
	$(BIN)/python -m pipelines run

ingest: setup
	$(BIN)/python -m pipelines.ingest

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

# the development lane: everything not marked slow, on the small hand-written raw layer (~2 min)
test-fast: setup
	GOSZAKUP_TEST_SMALL_RAW=1 $(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

dev: setup
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home} && mkdir -p $$DAGSTER_HOME && \
	  DAGSTER_HOME=$$DAGSTER_HOME $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $${PORT:-3000}

bench: setup
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

# a national year by hand: world (~15 min), then every stage and the daily update (1.5-2 hours)
bench-national: setup
	$(BIN)/python -m tools.bench --scale 450 --json data/bench/national.json $(BENCH_ARGS)

# precision / recall of every risk flag against cases labelled from the written definitions (tuning and held-out seeds); score-sandbox: against the sandbox's planted patterns, after a build
score: setup
	$(BIN)/python -m tools.scoring $(SCORE_ARGS)

score-sandbox: setup
	$(BIN)/python -m tools.risk_scoring

clean:
	rm -rf data .dagster_home dbt_project/target dbt_project/logs
