# The two commands of the README. Both install what they need into .venv first.
#   make demo   - the main job on the embedded broker, synthetic events, alerts and metrics
#   make test   - lint, type check and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test faults install system-deps asyncapi-deps lint typecheck golden bench compiled peers cdnow evaluate

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,local]'
	touch $@

install: $(BIN)/.installed

# promtool (Prometheus) checks the metrics exposition in the integration tests; headless
# Chromium renders the outcome report page; Java 17 and Maven run Apache Kafka, the
# broker tier's broker (its jars come from Maven Central on first use).
system-deps:
	@command -v java >/dev/null && command -v mvn >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null; }
	@command -v promtool >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }
	@command -v chromium >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The AsyncAPI project's parser (node, from the npm registry) checks schemas/asyncapi.json.
ASYNCAPI := tests/asyncapi/node_modules/.installed
$(ASYNCAPI): tests/asyncapi/package-lock.json
	npm ci --prefix tests/asyncapi --no-audit --no-fund --silent
	touch $@

asyncapi-deps: $(ASYNCAPI)

demo: install
	$(BIN)/churnwatch demo $(DEMO_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: install system-deps asyncapi-deps lint
	tests/run_suite.sh $(BIN)

# The fault suite in full (20 kills, bigger logs); make test runs its short version.
faults: install
	CHURNWATCH_FAULTS=full $(BIN)/pytest tests/faults

# Regenerate the golden replay outputs after an intended, reviewed behaviour change.
golden: install
	$(BIN)/pytest -q tests/replayer/test_replay_golden.py --churnwatch-update-golden

# The compiled core (setup.py: mypyc), as a wheel and unpacked for the benchmarks; the
# editable install stays pure Python.
COMPILED := build/compiled
compiled: install
	rm -rf $(COMPILED)
	CHURNWATCH_MYPYC=1 $(BIN)/pip wheel --quiet --no-deps --no-build-isolation -w $(COMPILED) .
	$(BIN)/python -m zipfile -e $(COMPILED)/churnwatch-*.whl $(COMPILED)/site

# The peer engines of the worker benchmark, in their own environment: Quix Streams pins
# older confluent-kafka and pydantic than churnwatch uses.
PEERS := bench/peers/.venv
$(PEERS)/.installed: bench/peers/requirements.txt
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install --quiet -r bench/peers/requirements.txt
	touch $@

peers: $(PEERS)/.installed

# Replay throughput on seven chosen and three drawn log shapes (decode floor, pure Python,
# compiled), then the worker against a no-op Faust agent and the peer engines, on a
# one-node Apache Kafka and on the embedded broker.
bench: install compiled peers
	$(BIN)/python bench/replay_matrix.py --random 3 --compiled $(COMPILED)/site
	$(BIN)/python bench/stream_bench.py --broker kafka --peers $(PEERS)/bin/python
	$(BIN)/python bench/stream_bench.py --broker tansu --peers $(PEERS)/bin/python

# The full CDNOW master log (23,570 customers) from the lifetimes wheel, hash-checked.
CDNOW_WHEEL_SHA256 := 261e3dc89977c2b60767ca6728aaa29d429de0c814635070a749c36555895da8
data/cdnow/cdnow_master.jsonl: | install
	mkdir -p data/cdnow
	$(BIN)/pip download --quiet --no-deps --dest data/cdnow lifetimes==0.11.3
	echo "$(CDNOW_WHEEL_SHA256)  data/cdnow/Lifetimes-0.11.3-py3-none-any.whl" | sha256sum -c -
	$(BIN)/python -m zipfile -e data/cdnow/Lifetimes-0.11.3-py3-none-any.whl data/cdnow/wheel
	$(BIN)/churnwatch cdnow data/cdnow/wheel/lifetimes/datasets/CDNOW_master.txt $@

cdnow: data/cdnow/cdnow_master.jsonl

# Risk evaluation on CDNOW (several cutoffs) and on a generated log, and the
# cross-validated ceiling of richer features: BENCHMARKS.md.
evaluate: cdnow
	$(BIN)/python bench/risk_eval.py
	$(BIN)/python bench/risk_ceiling.py
	$(BIN)/python bench/risk_ceiling.py data/cdnow/wheel/lifetimes/datasets/CDNOW_master.txt
