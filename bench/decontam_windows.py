"""Decontamination of paraphrased benchmark questions hidden inside long records (issue 23, item 4).

    python bench/decontam_windows.py [--items 100] [--clean 200] [--seed 0] [--window 3]

Contaminated records: a question from the real benchmark lists (FRAMES, MuSiQue, 2Wiki, Bamboogle in
tests/data/shared/benchmarks), paraphrased by rule (question stem reworded, ~40 common words swapped for
synonyms, ~10% of the other words dropped, a lead-in phrase), placed at a random sentence of 100-300 words
of real host text (FOLDOC sentences, Debian dict-foldoc). Clean records: the same kind of host text with a
question from *other* multi-hop QA sets (HotpotQA, WebShaper, WebDancer in tests/data/shared/qa) inside.
Both go through the real command, `synth filter --filters none --decontam FILES`, once with
`--decontam-window 0` (whole records only: the baseline) and once with windows; printed: the share of
contaminated records caught (by n-gram / by embedding) and the clean records dropped.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO / "tests" / "data" / "shared"
BENCHMARKS = ["frames_simpledeepsearcher.jsonl", "musique_simpledeepsearcher.jsonl", "2wiki_simpledeepsearcher.jsonl",
              "bamboogle_simpledeepsearcher.jsonl"]
OTHER_QA = ["hotpotqa_dev_simplified_first300.jsonl", "webshaper_first300.jsonl", "webdancer_sample_qa.jsonl"]
STEMS = [(r"^What is\b", "Do you know what is"), (r"^Who was\b", "Can you tell me who was"),
         (r"^Who is\b", "Tell me who is"), (r"^When did\b", "In what year did"), (r"^Which\b", "What"),
         (r"^What\b", "Which"), (r"^How many\b", "What number of"), (r"^Where\b", "In what place")]
WORDS = {"film": "movie", "films": "movies", "born": "born", "director": "filmmaker", "country": "nation",
         "city": "town", "located": "situated", "founded": "established", "wrote": "penned", "famous": "well-known",
         "largest": "biggest", "first": "earliest", "year": "year", "song": "track", "album": "record",
         "won": "received", "award": "prize", "team": "squad", "father": "dad", "mother": "mom", "died": "passed away",
         "company": "firm", "university": "college", "river": "waterway", "married": "wed", "known": "recognized",
         "released": "put out", "played": "performed", "member": "part", "capital": "capital city",
         "older": "more aged", "same": "identical", "nationality": "citizenship", "author": "writer", "book": "novel"}
LEAD_INS = ["One thing I keep wondering about:", "Here is a puzzle for you.", "A reader asked us this:",
            "Quick trivia break:", "Something to think about:"]


def paraphrase(question: str, rng: random.Random) -> str:
    out = question.strip()
    for pattern, repl in STEMS:
        if re.search(pattern, out):
            out = re.sub(pattern, repl, out, count=1)
            break
    words = []
    for w in out.split():
        core = w.strip(".,;:?!()").lower()
        if core in WORDS:
            words.append(w.lower().replace(core, WORDS[core]))
        elif rng.random() >= 0.10 or len(words) < 2:
            words.append(w)
    return f"{rng.choice(LEAD_INS)} {' '.join(words)}"


def host_text(sentences: list[str], inner: str, rng: random.Random) -> str:
    target = rng.randint(100, 300)
    chosen, count = [], 0
    while count < target - len(inner.split()):
        s = rng.choice(sentences)
        chosen.append(s)
        count += len(s.split())
    chosen.insert(rng.randrange(len(chosen) + 1), inner)
    return " ".join(chosen)


def build(items: int, clean: int, seed: int) -> tuple[list[dict], list[str]]:
    from bench.dedup import foldoc_sentences

    rng = random.Random(seed)
    sentences = foldoc_sentences()
    questions = [json.loads(line)["question"] for name in BENCHMARKS
                 for line in (DATA / "benchmarks" / name).read_text().splitlines()]
    others = [json.loads(line)["question"] for name in OTHER_QA for line in (DATA / "qa" / name).read_text().splitlines()]
    records = [{"id": f"bad{i}", "text": host_text(sentences, paraphrase(q, rng), rng)}
               for i, q in enumerate(rng.sample(questions, items))]
    records += [{"id": f"ok{i}", "text": host_text(sentences, q, rng)} for i, q in enumerate(rng.sample(others, clean))]
    rng.shuffle(records)
    return records, [str(DATA / "benchmarks" / n) for n in BENCHMARKS]


def run(records: list[dict], files: list[str], folder: Path, window: int, threshold: float) -> dict[str, str]:
    """id -> reject reason from a real `synth filter --decontam` run."""
    import polars as pl

    src = folder / "records.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = folder / f"out-w{window}"
    cmd = [sys.executable, "-m", "synth.cli", "filter", str(src), "--out", str(out), "--filters", "none",
           "--decontam", ",".join(files), "--decontam-window", str(window), "--decontam-threshold", str(threshold),
           "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    files_ = sorted((out / "rejects").glob("*.parquet"))
    frame = pl.read_parquet([str(f) for f in files_]) if files_ else None
    return {} if frame is None else {r["id"]: (r["reason"], r["detail"]) for r in frame.to_dicts()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--clean", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--window", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    records, files = build(args.items, args.clean, args.seed)
    words = [len(r["text"].split()) for r in records]
    print(f"{args.items} contaminated + {args.clean} clean records, {min(words)}-{max(words)} words")
    print("| --decontam-window | caught | by n-gram | by embedding | clean dropped |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for window in (0, args.window):
            dropped = run(records, files, Path(tmp), window, args.threshold)
            bad = [v for k, v in dropped.items() if k.startswith("bad")]
            clean = [k for k in dropped if k.startswith("ok")]
            ngram = sum(1 for reason, _ in bad if reason == "contaminated_ngram")
            print(f"| {window} | {len(bad) / args.items:.2f} ({len(bad)}/{args.items}) | {ngram} | {len(bad) - ngram} | "
                  f"{len(clean)}/{args.clean} |")
            example = next((d for r, d in bad if "sentence" in d), None)
            if example:
                print(f"  e.g. {example}")
            for k in clean:
                print(f"  clean dropped: {k}: {dropped[k][1]}")


if __name__ == "__main__":
    main()
