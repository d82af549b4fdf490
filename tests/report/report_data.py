"""Realistic datasets of every kind for the report tests, written through the real engine.

Records are schema-valid and varied (hops, topologies, tiers, tool calls, loss flags, complexity
classes, margins); some carry `_reject` so a real FilterStep files them under rejects/ with a reason,
and `_usage` so the manifest has teacher token counts. The FOLDOC-flavoured deep-search texts quote
real FOLDOC definitions; test_html.py::test_foldoc_run_report runs the report on a real FOLDOC
`synth generate deepsearch` run.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from synth.engine import Job, Runtime, run_job
from synth.records import Reject, add_usage, mark_reject, record_of, set_record
from synth.steps import RecordStep

FOLDOC = [
    ("Lisp", "LISt Processing language", "John McCarthy", "Lisp was invented by John McCarthy in 1958."),
    ("Scheme", "a dialect of Lisp", "Guy Steele", "Scheme is a small, clean dialect of Lisp designed by Guy Steele and Gerald Sussman."),
    ("Emacs", "a text editor", "Richard Stallman", "Emacs is a screen editor written by Richard Stallman, extensible in Lisp."),
    ("Unix", "an operating system", "Bell Labs", "Unix was developed at Bell Labs by Ken Thompson and Dennis Ritchie."),
    ("C", "a programming language", "Dennis Ritchie", "C is a programming language designed by Dennis Ritchie at Bell Labs."),
    ("Smalltalk", "an object-oriented language", "Xerox PARC", "Smalltalk was developed at Xerox PARC by Alan Kay's group."),
    ("TCP", "Transmission Control Protocol", "Vint Cerf", "TCP was designed by Vint Cerf and Bob Kahn."),
    ("Perl", "a scripting language", "Larry Wall", "Perl is a high-level scripting language written by Larry Wall."),
]
TOOLS = ("search", "visit", "python")
LABELS = ("essential", "unnecessary", "redundant", "error", "recovery")
CLASSES = ("O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n^2)")


class Shape(RecordStep):
    """Turn the test's markers into what real pipelines produce: a reject with a reason, teacher usage."""

    name = "verify"

    def _apply(self, doc) -> None:  # needs the document (usage), not only the record
        record = dict(record_of(doc))
        usage, reason = record.pop("_usage", None), record.pop("_reject", None)
        if usage:
            add_usage(doc, **usage)
        set_record(doc, record)
        if reason:
            mark_reject(doc, Reject(reason, f"test marker on {record.get('id')}"), self.name, raw="raw teacher text")


def _check(rng: random.Random) -> dict:
    status = rng.choice(["passed", "passed", "passed", "failed", "not_run"])
    return {"status": status, **({"reason": "check_failed"} if status == "failed" else {})}


def deepsearch_task(i: int, rng: random.Random) -> dict:
    """A `deepsearch_task` shaped like `synth generate deepsearch` output (schemas/deepsearch_task.schema.json):
    grounded facts, a formal object, a uniqueness certificate; tiers and solver checks vary as a teacher run's do
    (a --teacher none run has tier `unverified` only: test_foldoc_run_report covers a real one)."""
    hops = rng.choice([2, 2, 3, 3, 3, 4, 5])
    picks = [FOLDOC[(i + k) % len(FOLDOC)] for k in range(hops + 1)]
    names = ["X", *(chr(ord("A") + k) for k in range(hops))]
    facts = [{"kind": "link", "constraint": f"c{k}", "subject": s, "subject_id": s.lower(),
              "relation": rng.choice(["designed by", "dialect of", "written in", "developed at"]), "object": o,
              "object_id": o.lower(), "doc_id": s.lower(), "start": 0, "end": len(q), "quote": q}
             for k, (s, _, o, q) in enumerate(picks[1:])]
    facts.insert(0, {"kind": "description", "constraint": "d0", "subject": picks[-1][0], "relation": "is described as",
                     "object": picks[-1][1], "doc_id": picks[-1][0].lower(), "start": 0, "end": 10,
                     "quote": picks[-1][3][:10]})
    formal = {"target": "X",
              "variables": [{"name": n, "role": "target" if n == "X" else "intermediate", "type": "language",
                             "doc_id": p[0].lower()} for n, p in zip(names, picks)],
              "constants": {"K0": {"kind": "description", "text": picks[-1][1]}},
              "constraints": [{"id": "d0", "kind": "description", "subject": names[-1], "constant": "K0"},
                              *({"id": f"c{k}", "kind": "link", "subject": names[k + 1], "object": names[k]}
                                for k in range(hops))]}
    verification = {c: _check(rng) for c in ("support", "no_leak", "shortcut", "closed_book", "tool_solver")}
    verification["uniqueness"] = {**_check(rng), "certificate": {
        "most_selective": "c0", "candidates_total": 2, "survivors": [picks[0][0].lower()], "exhaustive": True,
        "candidates": [{"doc_id": picks[0][0].lower(), "survives": True},
                       {"doc_id": "other", "survives": False, "failed": "c0"}]}}
    return {
        "id": f"ds-{i:04d}", "question": f"Which {picks[0][1]} is linked through {hops} hops to [A]?",
        "answer": picks[0][0], "aliases": [picks[0][2].split()[-1]], "answer_doc_id": picks[0][0].lower(),
        "hops": hops, "depth": max(1, hops - 1), "topology": rng.choice(["chain", "chain", "tree", "cycle"]),
        "facts": facts, "formal": formal,
        "operators": [{"op": rng.choice(["describe", "elide", "period", "partial"]), "target": "A",
                       "before": picks[1][0], "after": "a language"} for _ in range(rng.randint(0, 3))],
        "verification": verification, "tier": rng.choice(["easy", "rl", "rl", "hard", "unverified"]),
        "pass_rate": round(rng.random(), 3), "seed_entity": picks[0][0].lower(), "category": rng.choice(["language", "os"]),
        "provenance": {"command": "generate deepsearch", "mode": "teacher", "teacher": "tiny", "seed": 0},
        "_usage": {"requests": 2, "prompt_tokens": 400 + i, "completion_tokens": 90},
        **({"_reject": rng.choice(["shortcut_found", "not_unique", "answer_leak"])} if i % 7 == 3 else {}),
    }


def trajectory(i: int, rng: random.Random) -> dict:
    messages = [{"role": "system", "content": "You are a deep-search agent.", "loss": 0},
                {"role": "user", "content": f"Who designed {FOLDOC[i % len(FOLDOC)][0]}?", "loss": 0}]
    for k in range(rng.randint(1, 9 if i % 10 else 40)):
        tool = rng.choice(TOOLS)
        label = rng.choice(LABELS)
        loss = 1 if label in ("essential", "recovery") else 0
        call = {"id": f"c{i}_{k}", "type": "function",
                "function": {"name": tool, "arguments": json.dumps({"query": f"q{k}"})}}
        messages.append({"role": "assistant", "content": None, "reasoning_content": f"step {k}: look up more",
                         "tool_calls": [call], "loss": loss, "weight": 1.0 if loss else 0.0,
                         "turn_label": {"label": label, "judge": "rule", "reason": f"{label} turn",
                                        "scores": {"information_gain": round(rng.random(), 2),
                                                   "call_accuracy": rng.choice([0, 1])}}})
        messages.append({"role": "tool", "tool_call_id": f"c{i}_{k}", "name": tool,
                         "content": FOLDOC[(i + k) % len(FOLDOC)][3], "loss": 0})
    answer = FOLDOC[i % len(FOLDOC)][2]
    messages.append({"role": "assistant", "content": f"The answer is {answer}.", "loss": 1,
                     "turn_label": {"label": "essential", "judge": "rule"}})
    return {"id": f"tr-{i:04d}", "task_id": f"ds-{i:04d}", "messages": messages, "question": messages[1]["content"],
            "answer": answer, "predicted_answer": answer, "context_policy": "keep_last_k:5", "source_format": "openai",
            "judgement": {"correct": i % 6 != 0, "method": rng.choice(["exact", "alias"])},
            "tools": [{"type": "function", "function": {"name": t, "parameters": {"type": "object"}}} for t in TOOLS],
            "provenance": {"command": "generate trajectories", "mode": "gold_path", "seed": 0},
            **({"_reject": "incorrect_answer"} if i % 6 == 0 else {})}


def code_problem(i: int, rng: random.Random) -> dict:
    cls = CLASSES[i % len(CLASSES)]
    return {"id": f"cp-{i:04d}", "style": rng.choice(["function", "stdio"]), "entry_point": "solve",
            "prompt": f"Write solve(xs) returning the sum of the first {i} squares.",
            "reference_solution": "def solve(xs):\n    total = 0\n    for x in xs:\n        total += x * x\n    return total\n",
            "tests": [{"input": json.dumps([[k, k + 1]]), "expected": json.dumps(k * k + (k + 1) ** 2)}
                      for k in range(rng.randint(3, 12))],
            "generator": "import random\ndef gen(n):\n    return [[random.randint(0, 9) for _ in range(n)]]\n" if i % 2 else None,
            "mutation_score": round(rng.uniform(0.4, 1.0), 2),
            "complexity": {"class": cls if i % 9 else None, "status": "ok" if i % 9 else "timeout",
                           "declared": rng.choice(CLASSES), "measurements": [{"n": 64, "seconds": 0.001, "repeats": 5}]},
            "provenance": {"command": "generate code", "mode": "template", "seed": 0},
            **({"_reject": rng.choice(["reference_fails_tests", "low_mutation_score"])} if i % 8 == 5 else {})}


def preference_pair(i: int, rng: random.Random) -> dict:
    margin = round(rng.uniform(-1, 4), 2)
    return {"id": f"pp-{i:04d}", "prompt": [{"role": "user", "content": f"Explain {FOLDOC[i % len(FOLDOC)][0]}."}],
            "chosen": [{"role": "assistant", "content": FOLDOC[i % len(FOLDOC)][3]}],
            "rejected": [{"role": "assistant", "content": "I am not sure."}], "margin": margin,
            "method": rng.choice(["pairwise", "pointwise"]), "judge": "llm:tiny",
            "verdicts": [{"winner": rng.choice(["A", "B"]), "swapped": s, "score": rng.randint(1, 10)} for s in (False, True)],
            **({"_reject": "inconsistent_verdicts"} if margin < 0 else {})}


BUILDERS = {"deepsearch_task": deepsearch_task, "trajectory": trajectory, "code_problem": code_problem,
            "preference_pair": preference_pair}


def build(kind: str, folder: Path, n: int, seed: int = 0, fmt: str = "parquet", chunk_size: int = 16) -> Path:
    """A synth dataset directory of `n` input records of `kind` (some rejected) made by the real engine."""
    rng = random.Random(seed)
    src = folder / f"{kind}.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(BUILDERS[kind](i, rng)) + "\n" for i in range(n))
    out = folder / kind
    job = Job(command=f"test {kind}", out=out, kind=kind, config={"n": n, "seed": seed}, inputs=[str(src)],
              steps=[Shape()], chunk_size=chunk_size, fmt=fmt)
    run_job(job, Runtime(progress=False))
    return out


def train_run(folder: Path, steps: int = 120, torn_tail: bool = False) -> Path:
    """An output folder in the exact format of trainers/ (manifest kind 'model' + train_log.jsonl)."""
    from synth import manifest as mf

    out = folder / "model"
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for s in range(1, steps + 1):
        rate = 900.0 + 40 * (s % 5) if s > 2 else 300.0
        lines.append({"step": s, "lr": 3e-4 * min(1.0, s / 10), "tokens": 8192, "tokens_per_s": rate,
                      "mfu": rate * 2.1e-4, "elapsed_s": round(s * 9.1, 3), "grad_norm": 1.0 / s ** 0.3, "loss": 4.0 / s ** 0.35})
        if s % 40 == 0:
            lines.append({"step": s, "eval": {"loss": 4.2 / s ** 0.3}})
    text = "".join(json.dumps(line) + "\n" for line in lines) + ('{"step": 9999, "lo' if torn_tail else "")
    (out / "train_log.jsonl").write_text(text)
    mf.write_manifest(out, {
        "synth_version": mf.synth_version(), "command": "train", "kind": "model", "status": "complete",
        "config": {"mode": "sft", "seq_len": 2048}, "config_hash": "0" * 16, "inputs": [],
        "counts": {"input": 100, "output": 96, "rejected": 4, "rejected_by_reason": {"too_long": 3, "no_loss_tokens": 1}},
        "timings": {"started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:20:00+00:00", "seconds": 1200.0},
        "executor": {"type": "local", "tasks": 1, "workers": 1}, "versions": mf.versions(),
        "stats": {"steps": steps, "final": [x for x in lines if "eval" not in x][-1], "tokens_per_s": 980.0, "attention": "sdpa", "world_size": 1}})
    return out
