"""Precision and recall of each `synth filter` dedup method at its default threshold, on a labelled
near-duplicate set built from real text (FOLDOC entries, Debian `dict-foldoc`).

    python bench/dedup_quality.py [--groups 100] [--seed 0]

The set: FOLDOC entries of 40-150 words, each used in at most one pair.
  positives  an entry and an edited copy; seven edit types, `--groups` pairs each:
             format    case, punctuation and whitespace changed (what exact dedup is for)
             drop      ~10% of the words dropped at random
             reorder   sentences shuffled
             affix     a prefix and a suffix added (a source line, a short note; +~20% words)
             insert    a sentence of an unrelated entry inserted (+~25% words)
             truncate  the last 30% of words cut
             rewrite   ~60 common words swapped for synonyms, 10% of other words dropped (a paraphrase:
                       lexical methods are not expected to catch it; it counts in "all edits" only)
  negatives  `--groups` pairs of each kind of hard negative:
             linked    an entry and the entry it cross-references
             lexical   an entry and its nearest other entry by word overlap (TF-IDF cosine)
             swap      a sentence of an entry that names the entry's title, and the same sentence with that
                       title replaced by another entry's title (one template, two subjects: what templated
                       synthetic questions look like)
             boilerplate two different entries wrapped in the same ~35-word header and footer
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

import numpy as np

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
    if kind == "drop":
        return " ".join(w for w in words if rng.random() >= 0.10)
    if kind == "affix":
        return f"{rng.choice(PREFIXES)} {text} {rng.choice(SUFFIXES)}"
    raise ValueError(kind)


PREFIXES = ("From the glossary:", "Definition (computing):", "Source: FOLDOC entry.", "Quick reference --",
            "Term of the day:")
SUFFIXES = ("See also the related entries.", "(Last updated 2024-03-01.)", "Retrieved from the online dictionary.",
            "Please cite the original source.", "[edit]")
HEADER = ("This entry is reproduced from the Free On-line Dictionary of Computing, edited by Denis Howe, "
          "and is shared under the terms of the GNU Free Documentation License.")
FOOTER = "Report errors and suggest improvements through the dictionary's website; all entries are community reviewed."


def nearest_lexical(docs: list[dict], pool: range) -> dict[int, int]:
    """For each doc in `pool`, the index of its most similar other doc by TF-IDF cosine."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(min_df=2, stop_words="english").fit_transform([d["text"] for d in docs])
    sims = (matrix[list(pool)] @ matrix.T).toarray()
    for row, i in enumerate(pool):
        sims[row, i] = -1
    return {i: int(sims[row].argmax()) for row, i in enumerate(pool)}


LEXICAL_EDITS = ("format", "drop", "reorder", "affix", "insert", "truncate")
EDITS = (*LEXICAL_EDITS, "rewrite")
NEGATIVES = ("linked", "lexical", "swap", "boilerplate")


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
    pool = range(start, min(len(docs), start + 16 * groups))
    lexical = nearest_lexical(docs, pool)
    count = {k: 0 for k in NEGATIVES}
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
        elif count["boilerplate"] < groups and i + 1 < len(docs) and i + 1 not in used:
            used.update((i, i + 1))
            for j in (i, i + 1):
                records.append({"id": f"d{j}-b", "text": f"{HEADER} {docs[j]['text']} {FOOTER}"})
            pairs.append((f"d{i}-b", f"d{i + 1}-b", "boilerplate"))
            count["boilerplate"] += 1
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
    lexical_tp = sum(tp[k] for k in LEXICAL_EDITS)
    return {"precision": total_tp / max(1, total_tp + fp - flagged["swap"]),
            "precision_with_swap": total_tp / max(1, total_tp + fp), "recall": total_tp / max(1, sum(count[k] for k in EDITS)),
            "recall_lexical": lexical_tp / max(1, sum(count[k] for k in LEXICAL_EDITS)),
            "false_positives": fp, "recall_by_edit": {k: tp[k] / max(1, count[k]) for k in EDITS},
            "flagged_negatives": {k: flagged[k] / max(1, count[k]) for k in NEGATIVES}}


def union(removed_by_method: list[dict[str, str]]) -> dict[str, str]:
    """What a run with every method removes: a record counts once, under the first method that named a twin."""
    found: dict[str, str] = {}
    for removed in removed_by_method:
        for rid, twin in removed.items():
            found.setdefault(rid, twin)
    return found


def jaccards(pairs, texts: dict[str, str], n: int) -> np.ndarray:
    """Jaccard similarity of each pair's word n-gram sets, shingled exactly as `synth filter` does."""
    from synth.filters.dedup.minhash import MinhashOptions, MinhashSignature

    signer = MinhashSignature("/nonexistent", MinhashOptions(n_grams=n))
    sets = {rid: set(signer.get_shingles(text).ravel().tolist()) for rid, text in texts.items()}
    return np.array([len(sets[a] & sets[b]) / max(1, len(sets[a] | sets[b])) for a, b, _ in pairs])


def minhash_curve(records: list[dict], pairs) -> list[dict]:
    """Pairwise precision/recall of MinHash on the labelled pairs, per shingle size n and threshold J: the
    expected share caught under the LSH bands `--minhash-threshold J` picks (P(s) = 1 - (1 - s^r)^b), so
    the curve is the one the command would follow, without a run per point."""
    from synth.filters.dedup.minhash import collision_probability, lsh_shape

    texts = {r["id"]: r["text"] for r in records}
    lexical = np.array([k in LEXICAL_EDITS for _, _, k in pairs])
    negative = np.array([k in NEGATIVES and k != "swap" for _, _, k in pairs])
    swap = np.array([k == "swap" for _, _, k in pairs])
    rows = []
    for n in (2, 3, 4, 5):
        sims = jaccards(pairs, texts, n)
        for j in (0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8):
            bands, per = lsh_shape(j)
            p = collision_probability(sims, bands, per)
            tp, fp = p[lexical].sum(), p[negative].sum()
            rows.append({"n": n, "threshold": j, "bands": bands, "rows": per, "recall_lexical": tp / lexical.sum(),
                         "precision": tp / max(1e-9, tp + fp), "negatives_flagged": fp / negative.sum(),
                         "precision_with_swap": tp / max(1e-9, tp + fp + p[swap].sum()), "swap_flagged": p[swap].mean(),
                         **{f"recall_{k}": p[[x == k for _, _, x in pairs]].mean() for k in LEXICAL_EDITS}})
    return rows


def semantic_sweep(folder: Path, pairs) -> list[tuple[float, float, float, float]]:
    """Pairwise precision/recall of `cosine >= t` on the labelled pairs only, from the embeddings the
    semantic run computed (its sign stage files: meta ids + one float32 row per meta row)."""
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


def print_curve(rows: list[dict]) -> None:
    print("\nMinHash, pairwise on the labelled pairs (expected share under the LSH bands --minhash-threshold J picks):")
    print("| n-gram | J | bands x rows | precision | recall (lexical edits) | "
          + " | ".join(f"recall {k}" for k in LEXICAL_EDITS) + " | negatives flagged | swap flagged | precision with swap |")
    print("|" + "---|" * (8 + len(LEXICAL_EDITS)))
    for r in rows:
        by = " | ".join(f"{r[f'recall_{k}']:.2f}" for k in LEXICAL_EDITS)
        print(f"| {r['n']} | {r['threshold']:.2f} | {r['bands']} x {r['rows']} | {r['precision']:.3f} | "
              f"{r['recall_lexical']:.3f} | {by} | {r['negatives_flagged']:.3f} | {r['swap_flagged']:.2f} | "
              f"{r.get('precision_with_swap', r['precision']):.3f} |")


def print_results(results: dict) -> None:
    header = ("| method | precision | precision with swap | recall (all edits) | recall (lexical edits) | FP | "
              + " | ".join(f"recall {k}" for k in EDITS) + " | " + " | ".join(f"flagged {k}" for k in NEGATIVES) + " |")
    print(header + "\n|" + "---|" * (6 + len(EDITS) + len(NEGATIVES)))
    for method, r in results.items():
        by = " | ".join(f"{r['recall_by_edit'].get(k, float('nan')):.2f}" for k in EDITS)
        neg = " | ".join(f"{r.get('flagged_negatives', {}).get(k, float('nan')):.2f}" for k in NEGATIVES)
        print(f"| {method} | {r['precision']:.3f} | {r.get('precision_with_swap', r['precision']):.3f} | {r['recall']:.3f} | {r.get('recall_lexical', float('nan')):.3f} | "
              f"{r['false_positives']} | {by} | {neg} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--curve-only", action="store_true", help="print the MinHash curve, run no command")
    args = parser.parse_args()
    records, pairs = build_set(args.groups, args.seed)
    negatives = sum(1 for p in pairs if p[2] in NEGATIVES)
    print(f"labelled set: {len(records)} records, {len(pairs) - negatives} positive pairs "
          f"({args.groups} per edit type), {negatives} hard-negative pairs ({args.groups} per kind)")
    print_curve(minhash_curve(records, pairs))
    if args.curve_only:
        return
    results, removed = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in ("exact", "minhash", "semantic"):
            started = time.perf_counter()
            removed[method] = run_method(records, method, Path(tmp))
            results[method] = score(removed[method], pairs)
            results[method]["seconds"] = round(time.perf_counter() - started, 1)
        results["union (exact, minhash, semantic)"] = score(union(list(removed.values())), pairs)
        from bench.dedup_trajectories import trajectory_quality

        results["trajectory"] = trajectory_quality(Path(tmp), run_method)
        sweep = semantic_sweep(Path(tmp), pairs)
    print("\nEnd to end, each method at its defaults (`synth filter --dedup METHOD`):")
    print_results(results)
    print("\nsemantic, pairwise on the labelled pairs:\n| cosine threshold | precision | recall | swap negatives flagged |"
          "\n|---|---|---|---|")
    for t, p, r, f in sweep:
        print(f"| {t:.2f} | {p:.3f} | {r:.3f} | {f:.2f} |")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
