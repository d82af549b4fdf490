"""Where window decontamination stands (issue 23, item 2): per record, the n-gram test, the MiniLM cosine
of the whole record and of its best 1-3-sentence window; caught/dropped counts by threshold.

    python bench/decontam_curve.py [SEED]
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synth.filters import ann, embed
from synth.filters import text as tx
from synth.filters.decontam import DecontamStep, sentence_windows

from bench.decontam_windows import build

records, files = build(100, 200, int(sys.argv[1]) if len(sys.argv) > 1 else 0)
step = DecontamStep(files, "generic", window=3); step.setup(0, 1)
t = time.time()
res = []
for r in records:
    words = tx.words(r["text"])
    ng = step._ngram_hit(words) is not None
    res.append((r["id"], ng, r["text"]))
whole = embed.encode([x[2] for x in res], None)
ws = [sentence_windows(x[2], 3) for x in res]
flat = [w[2] for wl in ws for w in wl]
vec = embed.encode(flat, None)
sims, ids = ann.search(step._index, vec, 1)
wsim, _ = ann.search(step._index, whole, 1)
out, at = [], 0
for (rid, ng, _), wl, s0 in zip(res, ws, wsim[:, 0]):
    best = float(sims[at:at+len(wl), 0].max()) if wl else -1
    at += len(wl)
    out.append({"id": rid, "ngram": ng, "whole": float(s0), "window": best})
print("encode s", time.time() - t, "windows", len(flat))
bad = [o for o in out if o["id"].startswith("bad")]; ok = [o for o in out if o["id"].startswith("ok")]
print("ngram caught", sum(o["ngram"] for o in bad), "clean ngram", sum(o["ngram"] for o in ok))
print("max clean window sim", max(max(o["window"], o["whole"]) for o in ok))
for th in (0.9, 0.85, 0.8, 0.78, 0.75, 0.72, 0.7, 0.65, 0.6):
    c = sum(o["ngram"] or max(o["whole"], o["window"]) >= th for o in bad)
    d = sum(o["ngram"] or max(o["whole"], o["window"]) >= th for o in ok)
    print(f"threshold {th}: caught {c}/100, clean dropped {d}/200")
