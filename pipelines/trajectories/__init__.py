"""Agent trajectories: formats, the agent harness, gold paths, the answer judge, filters and export.

    messages.py  canonical OpenAI messages: cleaning, <think> split, answers, tool calls, results
    hermes.py    OpenAI <-> Qwen/Hermes text (<tool_call>{json}</tool_call>, <tool_response>)
    mcp.py       OpenAI <-> MiroThinker <use_mcp_tool> XML (results as the next user message)
    formats.py   lossless conversion between the three (exact round trips; see the module doc)
    importer.py  real-world files -> trajectory records (WebDancer, MiroFlow, tau-bench, Search-R1)
    policies.py  context policies: full, keep_last_k:K, summary[:K] (what the model sees each turn)
    envtools.py  the environment's tools (synth.env.ToolBox) as harness tool functions
    harness.py   teacher rollouts through synth.teachers (per-turn cached, resumable mid-trajectory)
    gold.py      gold paths (--teacher none): a search solver over the real tools (clues.py, thoughts.py)
    narrate.py   what each gold-path turn knows: the last result quoted, settled / excluded entities, live list
    provenance.py  could an agent have made this call from the question and earlier results?
    judge.py     answer judge: normalized exact / alias match, LLM judge under a schema
    answer_forms.py  paraphrase-aware forms the judge accepts (restated question, reordered words, dates, …)
    filters.py   trajectory filters and best-of-k selection
    export.py    sft / rl / format exports and context-policy variants

Every trajectory is stored in one canonical form, the OpenAI chat format of schemas/trajectory.schema.json.
"""
