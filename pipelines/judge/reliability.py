"""Judge reliability figures for the manifest, computed from what the run wrote (so a resumed run reports the
same figures as an uninterrupted one).

Every match of a tournament leaves exactly one record: a preference pair in data/ (a decisive match that
was emitted), or a reject (`judge_tie`, `position_inconsistent`, `not_best_pair`, or the teacher failure)
whose record has the same shape. Each carries `metadata` {prompt_id, round, status, advanced, chosen_id,
rejected_id, chosen_score, rejected_score, ...}. The records of one prompt share one chunk file, so the
figures stream over the output one chunk at a time.

Definitions (over all matches of the run; a match = one comparison judged in both orders):
  swap_consistency   (decisive + ties) / judged: both orders gave the same outcome (the same winner, or
                     both A=B); judged = matches whose two verdicts both parsed.
  tie_rate           (ties + inconsistent) / judged: matches that yielded no preference.
  first_position_preference  share of the single verdicts that preferred one response (not A=B) which
                     preferred the response shown first (0.5 = no position bias).
  rank_agreement.kendall_tau_b   per prompt, Kendall's tau-b between the point-wise overall score and the
                     tournament placement (eliminated in round r -> r, champion -> rounds + 1) over the
                     prompt's entrants that have a score; prompts where it is undefined (fewer than 2 such
                     entrants, or either ordering constant) are skipped; reported: the mean over prompts,
                     and how many prompts it covers. A knockout ties everyone out in the same round, so
                     even a perfect agreement stays below 1 (n = 4: at most 0.91); hence also
  rank_agreement.gamma  per prompt, Goodman-Kruskal gamma = (C - D) / (C + D) over the candidate pairs that
                     both orderings separate (1 = perfect agreement), mean over the prompts where defined.
  rank_agreement.match_agreement  over decisive matches whose two candidates both have point-wise scores
                     that differ: the share where the pair-wise winner has the higher point-wise score.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

from synth.pipelines.judge.tournament import placements_of
from synth.pipelines.judge.verdicts import FAILED, INCONSISTENT, TIE, WIN


def concordance(x: list[float], y: list[float]) -> tuple[int, int, int, int, int]:
    """(concordant, discordant, pairs tied in x, pairs tied in y, all pairs) over the pairs of items."""
    n = len(x)
    concordant = discordant = tied_x = tied_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            tied_x += dx == 0
            tied_y += dy == 0
            if dx and dy:
                concordant += (dx > 0) == (dy > 0)
                discordant += (dx > 0) != (dy > 0)
    return concordant, discordant, tied_x, tied_y, n * (n - 1) // 2


def kendall_tau_b(x: list[float], y: list[float]) -> float | None:
    """Kendall's tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)); None when undefined (as scipy's kendalltau)."""
    c, d, tx, ty, n0 = concordance(x, y)
    denominator = math.sqrt((n0 - tx) * (n0 - ty))
    return (c - d) / denominator if denominator else None


def gamma(x: list[float], y: list[float]) -> float | None:
    """Goodman-Kruskal gamma = (C - D) / (C + D): tau over the pairs both orderings separate; None if none."""
    c, d, *_ = concordance(x, y)
    return (c - d) / (c + d) if c + d else None


def _read(path: Path, kind: str) -> list[dict]:
    if path.suffix == ".jsonl":
        import orjson

        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    import pyarrow.parquet as pq

    from synth import arrow

    return [arrow.decode(row, kind) for row in pq.read_table(path).to_pylist()]


def chunks(out: Path, kind: str):
    """(data records, reject rows) of every committed chunk, in output order."""
    from synth.dataset import DATA, REJECTS

    files: dict[str, dict[str, Path]] = defaultdict(dict)
    for folder in (DATA, REJECTS):
        for path in (Path(out) / folder).glob("*"):
            if path.name.endswith((".parquet", ".jsonl")) and not path.name.startswith("."):
                files[path.name.split(".")[0]][folder] = path
    for name in sorted(files):
        found = files[name]
        data = _read(found[DATA], kind) if DATA in found else []
        rejects = _read(found[REJECTS], "reject") if REJECTS in found else []
        yield data, rejects


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


class PairwiseFigures:
    """Accumulates the figures match by match, prompt by prompt."""

    def __init__(self):
        self.status, self.filtered = Counter(), Counter()
        self.first = self.preferring = 0
        self.taus: list[float] = []
        self.gammas: list[float] = []
        self.agree = self.disagree = self.score_ties = 0
        self.prompts = self.pairs = 0

    def add_prompt(self, matches: list[dict]) -> None:
        self.prompts += 1
        for meta, verdicts in matches:
            self.status[meta["status"]] += 1
            self._verdicts(verdicts)
            self._agreement(meta)
        scores = {}
        for meta, _ in matches:
            scores[meta["chosen_id"]], scores[meta["rejected_id"]] = meta.get("chosen_score"), meta.get("rejected_score")
        places = placements_of([(m["round"], m["chosen_id"], m["rejected_id"], m["advanced"]) for m, _ in matches])
        scored = [c for c in places if scores.get(c) is not None]
        x, y = [scores[c] for c in scored], [places[c] for c in scored]
        for value, into in ((kendall_tau_b(x, y), self.taus), (gamma(x, y), self.gammas)):
            if value is not None:
                into.append(value)

    def _verdicts(self, verdicts: list[dict]) -> None:
        for v in verdicts or []:
            pref = v.get("preference_for_a")
            if pref:
                self.preferring += 1
                self.first += pref > 0

    def _agreement(self, meta: dict) -> None:
        sc, sr = meta.get("chosen_score"), meta.get("rejected_score")
        if meta["status"] != WIN or sc is None or sr is None:
            return
        if sc == sr:
            self.score_ties += 1
        elif sc > sr:
            self.agree += 1
        else:
            self.disagree += 1

    def result(self) -> dict:
        s = self.status
        judged = s[WIN] + s[TIE] + s[INCONSISTENT]
        return {
            "prompts": self.prompts, "matches": sum(s.values()), "judged": judged, "decisive": s[WIN],
            "ties": s[TIE], "inconsistent": s[INCONSISTENT], "failed": s[FAILED], "pairs": self.pairs,
            "filtered": dict(sorted(self.filtered.items())),
            "swap_consistency": _ratio(s[WIN] + s[TIE], judged), "tie_rate": _ratio(s[TIE] + s[INCONSISTENT], judged),
            "first_position_preference": _ratio(self.first, self.preferring),
            "rank_agreement": {
                "kendall_tau_b": _mean(self.taus), "prompts": len(self.taus),
                "gamma": _mean(self.gammas), "gamma_prompts": len(self.gammas),
                "match_agreement": _ratio(self.agree, self.agree + self.disagree),
                "matches": self.agree + self.disagree, "score_ties": self.score_ties},
        }


def pairwise_figures(out: Path) -> dict:
    """The reliability figures of a `synth judge pairwise` output directory (see the module docstring)."""
    figures = PairwiseFigures()
    for data, rejects in chunks(out, "preference_pair"):
        figures.pairs += len(data)
        by_prompt: dict[str, list] = defaultdict(list)
        for record in [*data, *(r.get("record") or {} for r in rejects)]:
            meta = record.get("metadata") or {}
            if meta.get("status"):
                by_prompt[meta["prompt_id"]].append((meta, record.get("verdicts")))
        for reject in rejects:
            meta = (reject.get("record") or {}).get("metadata") or {}
            if meta.get("stage") == "pointwise":
                figures.filtered[reject["reason"]] += 1
        for matches in by_prompt.values():
            figures.add_prompt(matches)
    return figures.result()
