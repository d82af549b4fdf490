"""What a training run shows while it runs: a progress bar (step, loss, tokens/s, MFU where known, ETA) on an
interactive stderr, a plain line every PLAIN_EVERY_S seconds otherwise (CI logs), OUT/metrics.jsonl (every
logged step with its ETA, and every eval), and the --report-to trackers (synth/tracking.py).

The step loops hook in with one line: `log = progress.track(Log.resumed(...), cfg, out, start, total)`. The
returned object speaks the Log interface (write(record), close()): each record still goes to
train_log.jsonl, which checkpoints cut back on resume, and also here. Only the main rank shows or writes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

METRICS = "metrics.jsonl"
PLAIN_EVERY_S = 30.0


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def describe(record: dict) -> str:
    """'loss 2.314 · 1.2k tok/s · MFU 38.1%' from a step record (only what the record has)."""
    parts = []
    if isinstance(record.get("loss"), (int, float)):
        parts.append(f"loss {record['loss']:.4f}")
    if isinstance(record.get("reward"), (int, float)):
        parts.append(f"reward {record['reward']:.3f}")
    if isinstance(record.get("tokens_per_s"), (int, float)):
        parts.append(f"{_si(record['tokens_per_s'])} tok/s")
    if isinstance(record.get("mfu"), (int, float)):
        parts.append(f"MFU {100 * record['mfu']:.1f}%")
    return " · ".join(parts)


def open_metrics(out: Path, start: int):
    """OUT/metrics.jsonl, kept up to the resumed step (a killed run's later steps are done again)."""
    path = Path(out) / METRICS
    kept = []
    if start > 0 and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line).get("step", 0) <= start:
                    kept.append(line + "\n")
            except ValueError:
                break  # a torn last line from a killed run
    path.write_text("".join(kept), encoding="utf-8")
    return open(path, "a", encoding="utf-8")  # open for the whole run, closed by close()


class TrainProgress:
    """A Log that also draws progress, writes metrics.jsonl and feeds the trackers."""

    def __init__(self, log: Any, out: Path, start: int, total: int, trackers: Any, interactive: bool):
        self.log, self.start, self.total, self.trackers = log, start, total, trackers
        self.metrics = open_metrics(out, start)
        self.began = time.perf_counter()
        self.last_plain = -PLAIN_EVERY_S
        self.bar = self.task = None
        if interactive:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"),
                                console=Console(stderr=True))
            self.bar.start()
            self.task = self.bar.add_task("train", total=total, completed=start, stats="", eta="?")

    def eta_s(self, step: int) -> float | None:
        done = step - self.start
        return None if done <= 0 else (time.perf_counter() - self.began) / done * (self.total - step)

    def write(self, record: dict) -> None:
        self.log.write(record)
        step = int(record.get("step", 0))
        if "lr" in record:  # an optimizer step (not an eval or a prompt-filter line)
            record = {**record, "eta_s": round(eta, 1) if (eta := self.eta_s(step)) is not None else None}
            self._show(step, record)
        self.metrics.write(json.dumps(record) + "\n")
        self.metrics.flush()
        if self.trackers is not None:
            self.trackers.log(step, record)

    def _show(self, step: int, record: dict) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=step, stats=describe(record), eta=_duration(record["eta_s"]))
            return
        now = time.perf_counter()
        if now - self.last_plain >= PLAIN_EVERY_S or step == self.total:
            self.last_plain = now
            print(f"train step {step}/{self.total} · {describe(record)} · ETA {_duration(record['eta_s'])}",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        self.log.close()
        self.metrics.close()
        if self.bar is not None:
            self.bar.stop()
        if self.trackers is not None:
            self.trackers.close()


def track(log: Any, cfg: Any, out: Path, start: int, total: int, main: bool = True) -> Any:
    """The step loop's Log, wrapped with progress, metrics.jsonl and trackers on the main rank."""
    if not main:
        return log
    from synth import manifest, tracking

    names = tracking.parse(getattr(cfg, "report_to", "none"))
    config = manifest.redact(manifest.jsonable(dict(vars(cfg))))
    trackers = tracking.Trackers(names, out, Path(out).name, config) if names else None
    return TrainProgress(log, out, start, total, trackers, interactive=sys.stderr.isatty())
