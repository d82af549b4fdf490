#!/bin/bash
# Issue 13: 1-GPU vs 2-GPU FSDP2 (torchrun) `synth train`, Nanbeige4.1-3B shape, random init, packed 4096 rows,
# the same global batch and data order (1 GPU: grad-accum 2; 2 GPUs: one row each, grad-accum 1).
# Runs on the device machine (docs/benchmarks.md): synth and its pure-Python deps carried as wheels in
# .whl/gputest (`pip wheel --no-deps --no-build-isolation -w .whl/gputest .` plus datatrove, loguru, dill,
# multiprocess, orjson, jsonschema, fastjsonschema, referencing, jsonschema_specifications, rpds_py for cp312).
set -o pipefail
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi -L | tee $OUT/env.txt
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/gputest/*.whl || exit 9
export PYTHONPATH=/tmp/site
mkdir -p /tmp/run && cp -r tests pyproject.toml /tmp/run/ && cd /tmp/run
python3 -c 'import torch; print("torch", torch.__version__, "gpus", torch.cuda.device_count())' | tee -a $OUT/env.txt
python3 -c 'from pathlib import Path; from tests.trainers.trainer_data import trajectories, write_jsonl; write_jsonl(Path("/tmp/sft.jsonl"), trajectories(6000, seed=1))'
COMMON="--data /tmp/sft.jsonl --from-config nanbeige4.1-3b --seq-len 4096 --steps 20 --device cuda --checkpoint-at-end false --json --seed 0"
T0=$(date +%s)
timeout 250 python3 -m synth.trainers --out /tmp/one --grad-accum 2 $COMMON > $OUT/one.json 2> $OUT/one.err; echo "one rc=$? s=$(( $(date +%s)-T0 ))" | tee -a $OUT/env.txt
T0=$(date +%s)
timeout 250 torchrun --nproc-per-node 2 -m synth.trainers --out /tmp/two --grad-accum 1 $COMMON > $OUT/two.json 2> $OUT/two.err; echo "two rc=$? s=$(( $(date +%s)-T0 ))" | tee -a $OUT/env.txt
cp /tmp/one/train_log.jsonl $OUT/one_log.jsonl; cp /tmp/two/train_log.jsonl $OUT/two_log.jsonl
python3 - <<'PY' | tee $OUT/compare.txt
import json
one = [json.loads(l) for l in open("/tmp/one/train_log.jsonl")]
two = [json.loads(l) for l in open("/tmp/two/train_log.jsonl")]
print("step tokens1 tokens2 loss1 loss2 rel_diff tps1 tps2")
worst = 0.0
for a, b in zip(one, two):
    rel = abs(a["loss"] - b["loss"]) / abs(a["loss"]); worst = max(worst, rel)
    print(a["step"], a["tokens"], b["tokens"], round(a["loss"], 5), round(b["loss"], 5), f"{rel:.2e}", a.get("tokens_per_s"), b.get("tokens_per_s"))
s1 = [r["tokens_per_s"] for r in one[3:] if r.get("tokens_per_s")]; s2 = [r["tokens_per_s"] for r in two[3:] if r.get("tokens_per_s")]
t1, t2 = sum(s1) / len(s1), sum(s2) / len(s2)
print(f"steps compared {min(len(one), len(two))}; worst relative loss diff {worst:.2e}")
print(f"1 GPU {t1:.0f} tok/s; 2 GPUs {t2:.0f} tok/s total = {t2/2:.0f} per GPU; scaling efficiency {t2/(2*t1):.3f}")
PY
tail -n 5 $OUT/one.err $OUT/two.err
