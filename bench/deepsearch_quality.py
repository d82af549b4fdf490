"""Issue 20: how readable and how hard are the deep-search questions, against the public sets.

    python bench/deepsearch_quality.py --run RUN_DIR --corpus CORPUS [--qa tests/data/shared/qa] [--sample 20]

RUN_DIR is the output of `synth generate deepsearch`. It re-checks every kept task (placeholders, token
leaks, the three shortcut kinds, the tool server's 13-gram leak guard against the task's gold documents),
reports operator rates and relation types, and prints a side-by-side table with WebSailor, WebShaper,
WebDancer and HotpotQA (words, named entities, quoted spans per question; constraints and variables
where a set has a formal object). For our questions "verbatim quote spans" are runs of 4+ words copied
from the task's own gold documents (the public sets' sources are not here, so for them only spans in
quotation marks are counted). Peak memory at the end, as every benchmark here.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
from collections import Counter
from pathlib import Path
from statistics import mean

_QUOTED = re.compile(r"[\"“][^\"“”]{3,}[\"”]")
_ENTITY = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w\-']+(?:\s+[A-Z][\w\-']+)*")


def text_stats(questions: list[str]) -> dict:
    return {"questions": len(questions),
            "words/q": round(mean(len(q.split()) for q in questions), 1),
            "named entities/q": round(mean(len(_ENTITY.findall(q.strip(' "'))) for q in questions), 2),
            "quoted spans/q": round(mean(len(_QUOTED.findall(q.strip().strip('"'))) for q in questions), 2)}


def public_sets(qa: Path) -> dict[str, dict]:
    out = {}
    for name, file in (("WebSailor", "websailor_sailorfog_qa.jsonl"), ("WebShaper", "webshaper_first300.jsonl"),
                       ("WebDancer", "webdancer_sample_qa.jsonl"), ("HotpotQA", "hotpotqa_dev_simplified_first300.jsonl")):
        rows = [json.loads(line) for line in (qa / file).read_text(encoding="utf-8").splitlines() if line.strip()]
        stats = text_stats([r["question"] for r in rows])
        forms = [r["formalization"] for r in rows if r.get("formalization")]
        if forms:
            stats["constraints/q"] = round(mean(len(f) for f in forms), 1)
            stats["variables/q"] = round(mean(len({t for tr in f for t in tr if str(t).startswith("V@")}) for f in forms), 1)
        out[name] = stats
    return out


def gold_quotes(kb, question: str, gold_ids: set[str]) -> list[str]:
    """Verbatim quotes: maximal spans of 4+ words of the question found in one of the task's own gold
    documents, with at least one word that is not the realizer's own grammar ("is associated with a")."""
    from synth.pipelines.deepsearch import tokens as tk
    from synth.pipelines.deepsearch import verify as vf

    grammar, rows = vf._grammar_stems(), [kb.row(d) for d in gold_ids]
    words = [w.strip(",.;:?!()\"“”") for w in question.split()]
    found, i = [], 0
    while i + vf.MIN_SPAN <= len(words):
        j = i + vf.MIN_SPAN
        while j <= len(words) and any(kb.phrases.contains(r, " ".join(words[i:j])) for r in rows):
            j += 1
        span = " ".join(words[i:j - 1])
        if j - 1 - i >= vf.MIN_SPAN and tk.content_stems(span) - grammar:
            found.append(span)
            i = j - 1
        else:
            i += 1
    return found


def ours(run: Path, corpus: Path, k: int) -> tuple[dict, list[dict]]:
    from synth.pipelines.deepsearch import verify as vf
    from synth.pipelines.deepsearch.kb import KB
    from synth.pipelines.deepsearch.verbalize import PLACEHOLDER

    from synth.dataset import read_records
    from synth.env.leak import LeakGuard

    kb, tasks = KB(corpus), list(read_records([run]))
    shortcut, ops, relations, spans, quotes = Counter(), Counter(), Counter(), [], []
    leaks = placeholders = guard_tasks = 0
    for t in tasks:
        q, formal = t["question"], t["formal"]
        placeholders += bool(PLACEHOLDER.search(q)) or " entry" in q
        rows = {v["name"]: kb.row(v["doc_id"]) for v in formal["variables"]}
        leaks += vf.check_no_leak(kb, q, rows[formal["target"]], [r for v, r in rows.items() if v != formal["target"]])["status"] == "failed"
        hidden = {v["doc_id"]: v["name"] for v in formal["variables"]
                  if v["role"] == "intermediate" and any(c.get("object") and c["subject"] == v["name"] for c in formal["constraints"])}
        for kind in vf.check_shortcut(kb, q, t["answer_doc_id"], k, hidden)["kinds"]:
            shortcut[kind] += 1
        spans.append(len(vf.shared_spans(kb, q)))
        quotes.append(len(gold_quotes(kb, q, {f["doc_id"] for f in t["facts"]})))
        guard = LeakGuard(q)
        guard_tasks += any(guard.leaks(kb.by_id(f["doc_id"]).text) for f in t["facts"])
        ops.update({o["op"] for o in t["operators"]})
        relations.update(c.get("value") for c in formal["constraints"] if c["kind"] == "link")
    n = len(tasks)
    stats = {**text_stats([t["question"] for t in tasks]),
             "constraints/q": round(mean(len(t["formal"]["constraints"]) for t in tasks), 1),
             "variables/q": round(mean(len(t["formal"]["variables"]) for t in tasks), 1),
             "depth/q": round(mean(t["depth"] for t in tasks), 2),
             "verbatim quote spans/q": round(mean(quotes), 2),
             "corpus-shared 4+ word spans/q": round(mean(spans), 2)}
    checks = {"tasks": n, "placeholders": placeholders, "token_leaks": leaks,
              "shortcut_rate": {k2: round(v / n, 4) for k2, v in shortcut.items()},
              "answer_or_intermediate_shortcut_tasks": sum(shortcut.values()),
              "leak_guard_blocks_a_gold_doc": guard_tasks,
              "operator_rate": {op: round(ops[op] / n, 3) for op in ("partial", "period", "elide", "describe", "fuzz")},
              "relations": dict(relations.most_common())}
    return {"stats": stats, "checks": checks}, tasks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--qa", type=Path, default=Path("tests/data/shared/qa"))
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    result, tasks = ours(args.run, args.corpus, args.k)
    table = {"synth (this run)": result["stats"], **public_sets(args.qa)}
    print(json.dumps(result["checks"], indent=1))
    cols = sorted({c for row in table.values() for c in row}, key=lambda c: list(result["stats"]).index(c) if c in result["stats"] else 99)
    print("| set | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(str(row.get(c, "–")) for c in cols) + " |")
    for t in random.Random(args.seed).sample(tasks, min(args.sample, len(tasks))):
        print(f"\n- {t['question']}\n  answer: {t['answer']}")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
