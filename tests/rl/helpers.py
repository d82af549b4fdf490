"""Tiny offline models and data for the RL tests: a BPE tokenizer whose city names are single tokens, a
ChatML template (tools, tool calls), and SFT warm starts made with the real trainer."""

from __future__ import annotations

import json
import random
from contextlib import contextmanager
from pathlib import Path

CITIES = ["paris", "london", "rome", "oslo"]
ASKS = ["name a city", "pick a city", "say a city", "one city please", "a city name", "tell me a city",
        "which city", "city"]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
WORDS = CITIES + ["name", "a", "city", "pick", "say", "one", "please", "tell", "me", "which", "the", "of", "to",
                  "search", "open", "answer", "python", "lisp", "language", "who", "what", "def", "return"]


def build_tokenizer(out: Path, texts: list[str] = ()) -> Path:
    """Byte-level BPE trained on generated words plus `texts` (the test's own prompts, tool schemas and
    results: short sequences keep the CPU tests fast); every byte stays reachable."""
    from synth.trainers.tokenizer import train_bpe

    from tests.teachers.tiny_model import CHAT_TEMPLATE

    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) + ' {"q": "x"}' for _ in range(400)]
    corpus += [c for c in CITIES for _ in range(50)] + [t for t in texts for _ in range(20)]
    fast = train_bpe(corpus, out, vocab_size=1200, specials=SPECIALS, chat_template=CHAT_TEMPLATE)
    for city in CITIES:
        assert len(fast(city, add_special_tokens=False)["input_ids"]) == 1, city
    return Path(out)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def city_prompts(path: Path) -> Path:
    return write_jsonl(path, [{"id": f"ask-{i}", "prompt": ask} for i, ask in enumerate(ASKS)])


def city_records(n: int = 32, seed: int = 0) -> list[dict]:
    """Every ask answered by each city equally often: the warm start puts ~1/4 of its mass on each."""
    rng = random.Random(seed)
    return [{"id": f"city-{i}", "messages": [{"role": "user", "content": rng.choice(ASKS)},
                                             {"role": "assistant", "content": CITIES[i % len(CITIES)]}]}
            for i in range(n)]


def warm_start(tmp: Path, tokenizer: Path, sft_data: Path, steps: int = 50, lr: float = 5e-3) -> Path:
    """SFT the tiny random model (trainer's `tiny` config) on `sft_data` with the real trainer."""
    from synth.trainers import run_train

    out = tmp / "warm"
    run_train({"data": [str(sft_data)], "out": str(out), "from_config": "tiny", "tokenizer": str(tokenizer),
               "seq_len": 256, "steps": steps, "lr": lr, "warmup": 2, "precision": "fp32", "save_dtype": "fp32",
               "checkpoint_at_end": False, "seed": 0})
    return out


def read_rollouts(out: Path) -> dict[int, list[dict]]:
    steps = {}
    for path in sorted((out / "rollouts").glob("step_*.jsonl")):
        steps[int(path.stem.split("_")[1])] = [json.loads(line) for line in path.read_text().splitlines()]
    return steps


# -- code: one function problem built by the code pipeline (sandbox, tests, mutation, measured class) ----------
CODE_SEED = {
    "id": "total", "entry_point": "total", "prompt": "Return the sum of the integers in xs.",
    "reference_solution": "def total(xs: list[int]) -> int:\n    return sum(xs)\n",
    "generator": "def generate(n, rng):\n    return [[rng.randint(-50, 50) for _ in range(n)]]\n",
}
CODE_ANSWER = "```python\ndef total(xs):\n    return sum(xs)\n```"


def code_problem(box) -> dict:
    from synth.pipelines.code.build import build_problem
    from synth.pipelines.code.problems import parse_seed

    record = build_problem(box, parse_seed(CODE_SEED, "<test>", 1))
    assert isinstance(record, dict), record
    return record


def code_sft(problem: dict, n: int = 16) -> list[dict]:
    from synth.trainers.rl.tasks import code_messages

    return [{"id": f"code-{i}", "messages": code_messages(problem) + [{"role": "assistant", "content": CODE_ANSWER}]}
            for i in range(n)]


# -- search: rl tasks on the 16-entry test encyclopedia and hermes-format demonstrations -----------------------
SYSTEM = "Search, then answer in <answer></answer>."
SEARCH_TASKS = [("Which language did Guido van Rossum create?", "Python", "python", "guido"),
                ("Who designed Pascal and Oberon?", "Niklaus Wirth", "wirth", "pascal oberon"),
                ("Which language did John McCarthy specify?", "Lisp", "lisp", "mccarthy")]
GOLD_DOCS = {"python": ["guido", "python"], "wirth": ["pascal", "oberon", "wirth"], "lisp": ["mccarthy", "lisp"]}


SEARCH_SPEC = [{"type": "function", "function": {
    "name": "search", "description": "Search the documents.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "k": {"type": "integer"}},
                   "required": ["query"]}}}]


def search_tasks(corpus: Path) -> list[dict]:
    """rl_task records; the environment shows the policy a trimmed search schema (short prompts)."""
    env = {"type": "synth-env", "corpus": str(corpus), "tools": SEARCH_SPEC, "context_policy": "full"}
    return [{"id": f"task-{i}", "question": q, "answer": a, "aliases": [],
             "prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}],
             "gold": {"answer_doc_id": doc, "docs": GOLD_DOCS[doc], "entities": [a], "facts": []}, "environment": env}
            for i, (q, a, doc, _) in enumerate(SEARCH_TASKS)]


def search_sft(corpus: Path, copies: int = 4) -> list[dict]:
    """Demonstrations as the harness renders them (hermes): one search (k=1), then the answer."""
    from synth.pipelines.trajectories.envtools import EnvTools
    from synth.pipelines.trajectories.harness import head_messages, render

    env = EnvTools(str(corpus), ("search",))
    records = []
    for i, (q, a, _, query) in enumerate(SEARCH_TASKS):
        args = {"query": query, "k": 1}
        call = {"id": "call_0_0", "type": "function", "function": {"name": "search", "arguments": json.dumps(args)}}
        messages = head_messages(q, SYSTEM) + [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_0_0", "name": "search", "content": json.dumps(env.call("search", args))},
            {"role": "assistant", "content": f"<answer>{a}</answer>"}]
        rendered = render(messages, "hermes", SEARCH_SPEC)
        records += [{"id": f"search-{i}-{c}", "messages": rendered} for c in range(copies)]
    return records


def tokenizer_texts(corpus: Path, problem: dict) -> list[str]:
    records = search_sft(corpus, copies=1) + code_sft(problem, 1) + city_records(4)
    return [m["content"] for r in records for m in r["messages"] if m.get("content")]


@contextmanager
def one_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core box an OpenMP barrier stalls
    whenever one of its threads is preempted (the same 2-step run: 21 s with 2 threads, 1.1 s with 1)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
