# The two commands a new user needs (see README): `make demo` and `make test`. Both set up first.
.PHONY: setup demo test lint

RUNS ?= runs/demo

setup:
	bash scripts/setup.sh

# The main job on the embedded default (no GPU, no weights, no network).
demo: setup
	.venv/bin/synth import tests/data/shared/qa/hotpotqa_dev_simplified_first300.jsonl --out $(RUNS)/hotpotqa
	.venv/bin/synth validate $(RUNS)/hotpotqa

# Every test that needs no GPU (slow ones included while the total stays well under 20 minutes).
test: setup
	.venv/bin/python -m pytest -m "not gpu" -q

lint: setup
	.venv/bin/ruff check synth filters pipelines trainers schemas tests bench
