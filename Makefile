# The two commands of the README. Both install what they need into .venv first.
#   make demo   - the main job on the embedded broker, synthetic events, alerts and metrics
#   make test   - lint, type check and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install system-deps lint typecheck golden bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# promtool (Prometheus) checks the metrics exposition in the integration tests.
system-deps:
	@command -v promtool >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }

demo: install
	$(BIN)/churnwatch demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install system-deps lint
	$(BIN)/pytest

# Regenerate the golden replay outputs after an intended, reviewed behaviour change.
golden: install
	$(BIN)/python tests/golden/regenerate.py

bench: install
	$(BIN)/python bench/replay_bench.py
