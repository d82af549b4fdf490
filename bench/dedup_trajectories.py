"""Trajectory-dedup quality set (used by bench/dedup_quality.py): agent trajectories built from real
multi-hop QA with evidence URLs (tests/data/shared/qa/webshaper_first300.jsonl).

Per QA item i (each item in one pair only):
  positive  two rollouts that search the same question (one re-cased), visit the same URLs in the same
            order and give the same answer, with other thoughts, other search-result text, other final wording;
  negative  two rollouts with the same question and answer, one of which visits one URL fewer (other
            evidence) — or, every third item, the same evidence but another answer.
"""

from __future__ import annotations

import json
from pathlib import Path

QA = Path(__file__).resolve().parents[1] / "tests" / "data" / "shared" / "qa" / "webshaper_first300.jsonl"


def _call(cid: str, name: str, **arguments) -> dict:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def rollout(rid: str, question: str, answer: str, urls: list[str], variant: int) -> dict:
    thoughts = ["I should search for the key facts first.", "Let me look this up step by step."]
    messages = [{"role": "user", "content": question},
                {"role": "assistant", "content": thoughts[variant],
                 "tool_calls": [_call(f"{rid}s", "search", query=question.upper() if variant else question)]},
                {"role": "tool", "tool_call_id": f"{rid}s", "name": "search",
                 "content": f"result page {variant}: " + " ".join(urls)}]
    for n, url in enumerate(urls):
        messages += [{"role": "assistant", "content": f"Opening source {n + 1}." if variant else "Reading it.",
                      "tool_calls": [_call(f"{rid}v{n}", "visit", url=url)]},
                     {"role": "tool", "tool_call_id": f"{rid}v{n}", "name": "visit", "content": f"text of {url}"}]
    final = f"The answer is {answer}." if variant == 0 else f"Based on the sources, {answer}."
    messages.append({"role": "assistant", "content": final})
    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in ("search", "visit")]
    return {"id": rid, "question": question, "answer": answer, "messages": messages, "tools": tools}


def build(limit: int = 300) -> tuple[list[dict], list[tuple[str, str, str]]]:
    items = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines()[:limit]]
    records, pairs = [], []
    for i, item in enumerate(items):
        urls = [u for u in item.get("urls") or [] if isinstance(u, str)][:4]
        if len(urls) < 2:
            continue
        question, answer = item["question"].strip('"'), str(item["answer"])
        a = rollout(f"q{i}a", question, answer, urls, 0)
        if i % 2 == 0:
            b, label = rollout(f"q{i}b", question, answer, urls, 1), "trajectory"
        elif i % 3 == 0:
            b, label = rollout(f"q{i}b", question, answer + " (approx.)", urls, 1), "negative"
        else:
            b, label = rollout(f"q{i}b", question, answer, urls[:-1], 1), "negative"
        records += [a, b]
        pairs.append((a["id"], b["id"], label))
    return records, pairs


def trajectory_quality(folder: Path, run_method) -> dict:
    records, pairs = build()
    removed = run_method(records, "trajectory", folder, kind="trajectory")
    label = {frozenset((a, b)): k for a, b, k in pairs}
    tp = sum(1 for rid, twin in removed.items() if label.get(frozenset((rid, twin))) == "trajectory")
    fp = len(removed) - tp
    positives = sum(1 for p in pairs if p[2] == "trajectory")
    return {"precision": tp / max(1, tp + fp), "recall": tp / max(1, positives), "false_positives": fp,
            "recall_by_edit": {}, "pairs": len(pairs), "positives": positives}
