"""The hand-labelled real turns (tests/labels/hand_labels.json) and the agreement of a labeller with them."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
TRAJECTORIES = HERE.parent / "data" / "shared" / "trajectories"


def source_records(path: Path) -> list[dict]:
    """A shared-data file's records, as `synth import --from auto` stages them."""
    from synth.pipelines.trajectories.importer import _staged_rows

    staged = _staged_rows(path)
    if staged is not None:
        return staged
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    return [json.loads(path.read_text(encoding="utf-8"))]


def agreement(root: Path = TRAJECTORIES) -> dict:
    """{turns, agree, rate, disagreements}: the rule judge's loss against the hand labels, turn by turn."""
    from synth.pipelines.labels.rule import label_turns
    from synth.pipelines.trajectories.importer import convert_record
    from synth.pipelines.trajectories.messages import turns

    hand = json.loads((HERE / "hand_labels.json").read_text(encoding="utf-8"))["turns"]
    cache: dict[tuple[str, int], dict] = {}
    agree, wrong = 0, []
    for item in hand:
        key = (item["file"], item["record"])
        if key not in cache:
            record = convert_record(source_records(root / item["file"])[item["record"]], "auto")
            labels = label_turns(record)
            cache[key] = {t.ordinal: labels[t.index] for t in turns(record["messages"])}
        label = cache[key][item["turn"]]
        if label.loss == item["loss"]:
            agree += 1
        else:
            wrong.append({**item, "rule": label.label})
    return {"turns": len(hand), "agree": agree, "rate": round(agree / len(hand), 4), "disagreements": wrong}
