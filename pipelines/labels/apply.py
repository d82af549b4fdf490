"""Turn labels -> per-message supervision, and the label statistics of a labelled dataset.

Every message gets `loss` (0/1), `weight` and, on assistant messages, `turn_label` {label, scores, judge,
reason}. Tool results, user and system messages always get loss 0 and weight 0. An assistant turn's loss
follows its label (LOSS); its weight is the judge's (1.0 for the rule judge, the critic's mean score for
the LLM critic), 0 when the loss is 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LOSS = {
    "essential": 1,     # reached new gold evidence, or a correct final answer (critic: essential)
    "recovery": 1,      # reached new evidence right after a failed call
    "answer": 1,        # final answer with no gold answer to check it against
    "unverified": 1,    # no gold evidence to measure against: kept, as in assistant-only loss
    "dialogue": 1,      # a reply to the user in a conversational trajectory (no tool call, not final)
    "redundant": 0,     # repeated a call, or re-read evidence it already had
    "unnecessary": 0,   # touched nothing that matters (critic: unnecessary)
    "error": 0,         # the call failed
    "wrong_answer": 0,  # final answer judged wrong
}


@dataclass
class TurnLabel:
    label: str
    reason: str | None = None
    scores: dict | None = None
    weight: float | None = None   # None: 1.0 when the label carries loss

    @property
    def loss(self) -> int:
        return LOSS.get(self.label, 0)


def apply_labels(record: dict, labels: dict[int, TurnLabel], judge: str) -> dict:
    """A copy of `record` whose messages carry loss/weight/turn_label (`labels`: message index -> label)."""
    messages = []
    for i, message in enumerate(record.get("messages") or []):
        out = {k: v for k, v in message.items() if k not in ("loss", "weight", "turn_label")}
        label = labels.get(i) if message.get("role") == "assistant" else None
        if label is None:
            out.update(loss=0, weight=0.0)
        else:
            weight = (1.0 if label.weight is None else float(label.weight)) if label.loss else 0.0
            out.update(loss=label.loss, weight=round(weight, 4),
                       turn_label={"label": label.label, "scores": label.scores, "judge": judge, "reason": label.reason})
        messages.append(out)
    return {**record, "messages": messages}


def iter_output(out: Path, kind: str = "trajectory"):
    """The records a job has written to OUT/data (at finalize, before manifest.json exists), streamed."""
    import orjson
    import pyarrow.parquet as pq

    from synth import arrow
    from synth.dataset import data_files

    for path in data_files(Path(out)):
        if path.suffix == ".jsonl":
            with open(path, "rb") as fh:
                yield from (orjson.loads(line) for line in fh if line.strip())
            continue
        for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
            yield from (arrow.decode(row, kind) for row in batch.to_pylist())


def label_stats(out: Path) -> dict:
    """Counts for the manifest: labels, loss flags, turns per trajectory (streamed over the output)."""
    labels, losses, judges = Counter(), Counter(), Counter()
    trajectories = turns = 0
    for record in iter_output(out):
        trajectories += 1
        for message in record.get("messages") or []:
            if message.get("role") != "assistant":
                continue
            turns += 1
            tag = message.get("turn_label") or {}
            labels[tag.get("label") or "none"] += 1
            judges[tag.get("judge") or "none"] += 1
            losses[str(message.get("loss"))] += 1
    return {"trajectories": trajectories, "assistant_turns": turns, "labels": dict(sorted(labels.items())),
            "assistant_loss": dict(sorted(losses.items())), "judges": dict(sorted(judges.items())),
            "essential_share": round(losses.get("1", 0) / turns, 4) if turns else None}
