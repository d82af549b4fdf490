"""Precision and recall of each `synth filter` dedup method at its default threshold, on a labelled
near-duplicate set built from real text (FOLDOC entries, Debian `dict-foldoc`).

    python bench/dedup_quality.py [--groups 100] [--seed 0]

The set: FOLDOC entries of 40-150 words, each used in at most one pair.
  positives  an entry and an edited copy; five edit types, `--groups` pairs each:
             format    case, punctuation and whitespace changed (what exact dedup is for)
             rewrite   ~60 common words swapped for synonyms, 10% of other words dropped
             reorder   sentences shuffled
             insert    a sentence of an unrelated entry inserted (+~25% words)
             truncate  the last 30% of words cut
  negatives  `--groups` pairs of each kind of hard negative:
             linked    an entry and the entry it cross-references
             lexical   an entry and its nearest other entry by word overlap (TF-IDF cosine)
             swap      a sentence of an entry that names the entry's title, and the same sentence with that
                       title replaced by another entry's title (one template, two subjects: what templated
                       synthetic questions look like)
Every record goes through the real command (`synth filter --dedup METHOD`, one run per method). A removal
that names its labelled twin is a true positive; any other removal is a false positive (a negative pair,
or a match across pairs). Trajectory dedup is measured on trajectories built from real multi-hop QA
(tests/data/shared/qa/webshaper_first300.jsonl, which lists evidence URLs): positives are re-rollouts with
other thoughts, other search-result text and a re-cased query; negatives share question and answer but
visit other evidence or give another answer.
Also printed: the pairwise semantic precision/recall at other thresholds (from the same embeddings).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SYNONYMS = {
    "program": "application", "programs": "applications", "computer": "machine", "computers": "machines",
    "language": "notation", "languages": "notations", "used": "employed", "use": "employ", "uses": "employs",
    "system": "platform", "systems": "platforms", "data": "information", "function": "routine",
    "functions": "routines", "file": "document", "files": "documents", "user": "operator", "users": "operators",
    "called": "named", "which": "that", "also": "additionally", "often": "frequently", "usually": "typically",
    "large": "big", "small": "little", "fast": "quick", "make": "create", "makes": "creates", "made": "created",
    "allows": "lets", "allow": "let", "provides": "offers", "provide": "offer", "number": "count",
    "different": "distinct", "several": "various", "many": "numerous", "first": "initial", "new": "novel",
    "method": "technique", "methods": "techniques", "type": "kind", "types": "kinds", "set": "collection",
    "between": "among", "part": "portion", "each": "every", "standard": "norm", "developed": "created",
    "written": "authored", "based": "built", "support": "handle", "supports": "handles", "memory": "storage",
    "code": "source", "example": "instance", "information": "details", "general": "broad", "single": "sole",
}


def foldoc_entries(seed: int) -> list[dict]:
    from synth.env.sources.foldoc import iter_foldoc

    docs = []
    for doc in iter_foldoc():
        words = doc.text.split()
        if doc.text and not doc.redirect and 40 <= len(words) <= 150 and len(sentences(doc.text)) >= 2:
            docs.append({"title": doc.title, "text": " ".join(words), "links": [link.target for link in doc.links]})
    random.Random(seed).shuffle(docs)
    return docs


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def edit(kind: str, text: str, other: str, rng: random.Random) -> str:
    words = text.split()
    if kind == "format":
        out = re.sub(r"[,;:]", lambda m: rng.choice([" ", " -", m.group(0) * 2]), text.upper())
        return re.sub(r" ", lambda m: rng.choice([" ", "  ", "\n"]), out)
    if kind == "rewrite":
        out = []
        for w in words:
            core = w.strip(".,;:()").lower()
            if core in SYNONYMS:
                out.append(w.lower().replace(core, SYNONYMS[core]))
            elif rng.random() >= 0.10:
                out.append(w)
        return " ".join(out)
    if kind == "reorder":
        parts = sentences(text)
        while len(parts) > 1 and " ".join(shuffled := rng.sample(parts, len(parts))) == text:
            pass
        return " ".join(shuffled) if len(parts) > 1 else text
    if kind == "insert":
        extra = other.split()[: max(5, len(words) // 4)]
        at = rng.randrange(len(words) + 1)
        return " ".join(words[:at] + extra + words[at:])
    if kind == "truncate":
        return " ".join(words[: max(1, int(len(words) * 0.7))])
    raise ValueError(kind)


def nearest_lexical(docs: list[dict], pool: range) -> dict[int, int]:
    """For each doc in `pool`, the index of its most similar other doc by TF-IDF cosine."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(min_df=2, stop_words="english").fit_transform([d["text"] for d in docs])
    sims = (matrix[list(pool)] @ matrix.T).toarray()
    for row, i in enumerate(pool):
        sims[row, i] = -1
    return {i: int(sims[row].argmax()) for row, i in enumerate(pool)}


EDITS = ("format", "rewrite", "reorder", "insert", "truncate")
NEGATIVES = ("linked", "lexical", "swap")


def build_set(groups: int, seed: int) -> tuple[list[dict], list[tuple[str, str, str]]]:
    """Records (id, text) and labelled pairs (id_a, id_b, label): an edit type or a negative type."""
    rng = random.Random(seed)
    docs = foldoc_entries(seed)
    by_title = {d["title"]: i for i, d in enumerate(docs)}
    used: set[int] = set()
    records, pairs = [], []

    def take(i: int) -> str:
        used.add(i)
        rid = f"d{i}"
        records.append({"id": rid, "text": docs[i]["text"]})
        return rid

    cursor = iter(range(len(docs)))
    for kind in EDITS:
        for _ in range(groups):
            i = next(c for c in cursor if c not in used)
            filler = docs[(i * 7919 + 13) % len(docs)]["text"]
            a = take(i)
            variant = edit(kind, docs[i]["text"], filler, rng)
            records.append({"id": f"{a}-{kind}", "text": variant})
            pairs.append((a, f"{a}-{kind}", kind))
    start = len(used) + 50
    pool = range(start, min(len(docs), start + 12 * groups))
    lexical = nearest_lexical(docs, pool)
    count = {"linked": 0, "lexical": 0, "swap": 0}
    for i in pool:
        if min(count.values()) >= groups:
            break
        if i in used:
            continue
        title = docs[i]["title"]
        targets = [by_title[t] for t in docs[i]["links"] if t in by_title and by_title[t] not in used | {i}]
        named = [x for x in sentences(docs[i]["text"]) if title.lower() in x.lower() and 6 <= len(x.split()) <= 30]
        if count["swap"] < groups and len(title) >= 4 and named:
            other = docs[(i * 104729) % len(docs)]["title"]
            used.add(i)
            a = f"d{i}-s"
            records.append({"id": a, "text": named[0]})
            records.append({"id": f"{a}-swap", "text": re.sub(re.escape(title), lambda _, o=other: o, named[0], flags=re.IGNORECASE)})
            pairs.append((a, f"{a}-swap", "swap"))
            count["swap"] += 1
        elif count["linked"] < groups and targets:
            pairs.append((take(i), take(targets[0]), "linked"))
            count["linked"] += 1
        elif count["lexical"] < groups and lexical[i] not in used:
            pairs.append((take(i), take(lexical[i]), "lexical"))
            count["lexical"] += 1
    rng.shuffle(records)
    return records, pairs


def run_method(records: list[dict], method: str, folder: Path, kind: str = "generic") -> dict[str, str]:
    """removed id -> kept twin id, from a real `synth filter` run."""
    import polars as pl

    src = folder / f"{method}.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = folder / f"out-{method}"
    cmd = [sys.executable, "-m", "synth.cli", "filter", str(src), "--out", str(out), "--kind", kind,
           "--filters", "none", "--dedup", method, "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode:
        raise SystemExit(f"{method}: {done.stderr}")
    files = sorted((out / "rejects").glob("*.parquet"))
    if not files:
        return {}
    frame = pl.read_parquet([str(f) for f in files])
    return {r["id"]: r["detail"].split()[1] for r in frame.select(["id", "detail"]).to_dicts()}


def score(removed: dict[str, str], pairs) -> dict:
    label = {frozenset((a, b)): kind for a, b, kind in pairs}
    tp = {k: 0 for k in EDITS}
    flagged = {k: 0 for k in NEGATIVES}
    fp = 0
    for rid, twin in removed.items():
        kind = label.get(frozenset((rid, twin)))
        if kind in tp:
            tp[kind] += 1
        else:
            fp += 1
            if kind in flagged:
                flagged[kind] += 1
    count = {k: sum(1 for p in pairs if p[2] == k) for k in EDITS + NEGATIVES}
    total_tp = sum(tp.values())
    return {"precision": total_tp / max(1, total_tp + fp), "recall": total_tp / max(1, sum(count[k] for k in EDITS)),
            "false_positives": fp, "recall_by_edit": {k: tp[k] / max(1, count[k]) for k in EDITS},
            "flagged_negatives": {k: flagged[k] / max(1, count[k]) for k in NEGATIVES}}


def semantic_sweep(folder: Path, pairs) -> list[tuple[float, float, float, float]]:
    """Pairwise precision/recall of `cosine >= t` on the labelled pairs only, from the embeddings the
    semantic run computed (its sign stage files: meta ids + one float32 row per meta row)."""
    import numpy as np
    import pyarrow.parquet as pq

    sign = folder / "out-semantic" / ".synth" / "stages" / "sign"
    vectors = {}
    for meta in sorted((sign / "meta").glob("*.parquet")):
        ids = pq.read_table(meta, columns=["id"])["id"].to_pylist()
        emb = np.fromfile(sign / "emb" / f"{meta.stem}.f32", np.float32).reshape(len(ids), -1)
        vectors.update(zip(ids, emb))
    sims = np.array([float(vectors[a] @ vectors[b]) for a, b, _ in pairs])
    positive = np.array([k in EDITS for _, _, k in pairs])
    swap = np.array([k == "swap" for _, _, k in pairs])
    rows = []
    for t in (0.80, 0.85, 0.90, 0.95):
        hit = sims >= t
        rows.append((t, (hit & positive).sum() / max(1, hit.sum()), (hit & positive).sum() / positive.sum(),
                     (hit & swap).sum() / max(1, swap.sum())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    records, pairs = build_set(args.groups, args.seed)
    negatives = sum(1 for p in pairs if p[2] in NEGATIVES)
    print(f"labelled set: {len(records)} records, {len(pairs) - negatives} positive pairs "
          f"({args.groups} per edit type), {negatives} hard-negative pairs ({args.groups} per kind)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in ("exact", "minhash", "semantic"):
            started = time.perf_counter()
            results[method] = score(run_method(records, method, Path(tmp)), pairs)
            results[method]["seconds"] = round(time.perf_counter() - started, 1)
        from bench.dedup_trajectories import trajectory_quality

        results["trajectory"] = trajectory_quality(Path(tmp), run_method)
        sweep = semantic_sweep(Path(tmp), pairs)
    header = ("| method | precision | recall | FP | " + " | ".join(f"recall {k}" for k in EDITS) + " | "
              + " | ".join(f"flagged {k}" for k in NEGATIVES) + " |")
    print(header + "\n|" + "---|" * (4 + len(EDITS) + len(NEGATIVES)))
    for method, r in results.items():
        by = " | ".join(f"{r['recall_by_edit'].get(k, float('nan')):.2f}" for k in EDITS)
        neg = " | ".join(f"{r.get('flagged_negatives', {}).get(k, float('nan')):.2f}" for k in NEGATIVES)
        print(f"| {method} | {r['precision']:.3f} | {r['recall']:.3f} | {r['false_positives']} | {by} | {neg} |")
    print("\nsemantic, pairwise on the labelled pairs:\n| cosine threshold | precision | recall | swap negatives flagged |"
          "\n|---|---|---|---|")
    for t, p, r, f in sweep:
        print(f"| {t:.2f} | {p:.3f} | {r:.3f} | {f:.2f} |")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
