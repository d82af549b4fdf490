"""The four long commands of the crash campaign, each small enough that a trial takes seconds, with chunks
small enough that kills land between and inside commits.

A scenario builds its inputs once (`prepare`), says how to run the command (`argv`), how far a run has got
(`events`: commit markers, datatrove completions, training-log lines, checkpoints) and what its result is
(`snapshot`: the records and rejects, or the training log and the final weights). Teacher scenarios talk to
a scripted OpenAI-compatible server (tests/teachers/fake_openai.py) through a `Switchboard`, which counts
every request by payload and can hold every request from the k-th on, so a kill lands at a known request.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.teachers.fake_openai import Block, Fail, Request, Say, last_user

# -- a server that counts requests by payload and can hold them ---------------------------------------------
TORN = "torn"  # the log's digest for a request whose body never fully arrived (the client was killed mid-send)


def digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Switchboard:
    """The fake server's handler: answers with `answer(req)`, logs (run, payload digest, held) per request,
    and in a run started with `hold_from=k` holds the k-th request of that run and every later one."""

    answer: Any
    log: list[tuple[str, str, bool]] = field(default_factory=list)
    run_name: str = ""
    hold_from: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, run_name: str, hold_from: int | None = None) -> None:
        with self._lock:
            self.release.set()  # let go of anything a previous run left waiting
            self.release = threading.Event()
            self.run_name, self.hold_from = run_name, hold_from

    def __call__(self, req: Request) -> Any:
        if not isinstance(req.body, dict):  # a request torn by the kill (headers sent, body not): no one waits
            with self._lock:
                self.log.append((self.run_name, TORN, True))
            return Fail(400)
        with self._lock:
            seen = sum(1 for run, d, _ in self.log if run == self.run_name and d != TORN)
            held = self.hold_from is not None and seen >= self.hold_from
            self.log.append((self.run_name, digest(req.body), held))
            release = self.release
        if held:  # the client is killed while it waits; a late answer goes nowhere
            return Block(release, then=Fail(503), timeout=600)
        return self.answer(req)

    def sent(self, run_name: str) -> Counter:
        return Counter(d for run, d, _ in self.log if run == run_name and d != TORN)

    def answered(self, run_name: str) -> Counter:
        return Counter(d for run, d, held in self.log if run == run_name and not held)


# -- scenarios ----------------------------------------------------------------------------------------------
class Scenario:
    name = ""
    key = staticmethod(str)  # record id -> the key that matches it with its reject (see faults.by_id)
    teacher = False
    concurrency = 4  # teacher requests in flight at most (bounds what a kill can catch unanswered)

    def prepare(self, base: Path) -> None:
        raise NotImplementedError

    def argv(self, out: Path, url: str | None = None) -> list[str]:
        raise NotImplementedError

    def handler(self):
        return None

    def events(self, out: Path) -> int:
        """Commit markers + datatrove task completions (main pipeline and stages): monotone progress."""
        state = out / ".synth"
        if not state.is_dir():
            return 0
        return sum(1 for _ in state.glob("chunks/*.json")) + sum(1 for _ in state.rglob("completions/*"))

    def snapshot(self, out: Path) -> dict:
        """ids and canonical rows of data/ and rejects/ (in output order)."""
        import polars as pl

        snap = {}
        for folder in ("data", "rejects"):
            files = sorted((out / folder).glob("*.parquet")) if (out / folder).is_dir() else []
            frame = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed") if files else None
            rows = frame.to_dicts() if frame is not None else []
            snap[folder] = [(str(r.get("id")), json.dumps(r, sort_keys=True, default=str)) for r in rows]
        return snap


def _rows(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


class Deepsearch(Scenario):
    """`synth generate deepsearch` on the deep-search tests' mini corpus, with a scripted teacher: the
    specificity filter, LLM question, closed-book and tool-using solvers all make requests."""

    name, teacher = "generate deepsearch", True

    def prepare(self, base: Path) -> None:
        from tests.deepsearch.corpus import build, mini_rows

        self.corpus = base / "mini-corpus"
        if not (self.corpus / "corpus.json").is_file():
            build(mini_rows(), self.corpus)

    def argv(self, out: Path, url: str | None = None) -> list[str]:
        return ["generate", "deepsearch", "--corpus", str(self.corpus), "--out", str(out), "--num", "24",
                "--chunk-size", "2", "--shortcut-k", "1", "--attempts", "2", "--rollouts", "2",
                "--closed-book-tries", "2", "--max-rounds", "1", "--teacher", f"openai:{url}", "--model",
                "fake-model", "--max-concurrency", str(self.concurrency), "--retry-backoff", "0.01", "--json"]

    def handler(self):
        return deepsearch_teacher

    @staticmethod
    def key(rid: str) -> str:
        """A task id ends with its work item's number; a reject is named by that number."""
        tail = rid.rsplit("-", 1)[-1]
        return str(int(tail)) if tail.isdigit() else rid


def deepsearch_teacher(req: Request) -> Say:
    """Deterministic answers by prompt kind (never by arrival order, so every run gets the same replies)."""
    text = last_user(req)
    if "selecting answer entities" in text:
        return Say(json.dumps({"specific": True, "reason": "a named thing"}))
    if "Rewrite a search puzzle" in text:
        return Say(json.dumps({"question": "Which one fits every clue?"}))
    if "from memory alone" in text:
        return Say(json.dumps({"answer": "Python"}))
    if req.messages and req.messages[-1].get("role") == "user":  # solver, first turn: one search
        call = {"id": "c1", "type": "function",
                "function": {"name": "search", "arguments": json.dumps({"query": "functional language"})}}
        return Say("", tool_calls=[call])
    return Say("I checked the entries. <answer>ZBL</answer>")


class LabelTurns(Scenario):
    """`synth label turns --judge llm` with the scripted server as the critic (one request per assistant turn)."""

    name, teacher = "label turns", True

    def prepare(self, base: Path) -> None:
        from tests.core.helpers import trajectory

        self.src = base / "label-in.jsonl"
        if not self.src.is_file():
            _rows(self.src, [trajectory(i) for i in range(24)])

    def argv(self, out: Path, url: str | None = None) -> list[str]:
        return ["label", "turns", str(self.src), "--out", str(out), "--judge", "llm", "--teacher", f"openai:{url}",
                "--model", "fake-model", "--chunk-size", "2", "--max-concurrency", str(self.concurrency),
                "--retry-backoff", "0.01", "--json"]

    def handler(self):
        return critic_teacher


def critic_teacher(req: Request) -> Say:
    """A verdict that is a pure function of the prompt."""
    h = int(hashlib.sha256(last_user(req).encode()).hexdigest(), 16)
    scores = {"logical_soundness": 1 + h % 5, "call_accuracy": 1 + (h >> 3) % 5, "information_gain": 1 + (h >> 6) % 5}
    label = "essential" if (h >> 9) % 3 else "unnecessary"
    return Say(json.dumps({**scores, "label": label, "reason": f"verdict {h % 997}"}))


class Filter(Scenario):
    """`synth filter --dedup exact,minhash,trajectory`: quality filters + four dedup stages + the main pass,
    on trajectories of which a quarter repeat earlier ones (under other ids)."""

    name = "filter"

    def prepare(self, base: Path) -> None:
        from tests.core.helpers import trajectory

        self.src = base / "filter-in.jsonl"
        if not self.src.is_file():
            rng, records = random.Random(0), []
            for i in range(400):
                record = trajectory(rng.randrange(300) if rng.random() < 0.25 else i)
                record["id"] = f"rec-{i:04d}"
                records.append(record)
            _rows(self.src, records)

    def argv(self, out: Path, url: str | None = None) -> list[str]:
        return ["filter", str(self.src), "--kind", "trajectory", "--out", str(out), "--dedup",
                "exact,minhash,trajectory", "--chunk-size", "20", "--tasks", "2", "--json"]


class Train(Scenario):
    """`synth train` (SFT, the tiny config) with a checkpoint after every step. The trainer promises exact
    resume: the data order is a function of (data, seed) and the optimizer state is in the checkpoint."""

    name = "train"
    steps = 8

    def prepare(self, base: Path) -> None:

        from tests.trainers.trainer_data import build_tokenizer, trajectories, write_jsonl

        self.data, self.tokenizer = base / "sft.jsonl", base / "tokenizer"
        if not self.data.is_file():
            write_jsonl(self.data, trajectories(24, seed=3))
        if not (self.tokenizer / "tokenizer.json").is_file():
            build_tokenizer(self.tokenizer)

    def argv(self, out: Path, url: str | None = None) -> list[str]:
        return ["train", "--data", str(self.data), "--out", str(out), "--from-config", "tiny", "--tokenizer",
                str(self.tokenizer), "--seq-len", "512", "--steps", str(self.steps), "--save-every", "1",
                "--precision", "fp32", "--seed", "1", "--json"]

    def events(self, out: Path) -> int:
        log = out / "train_log.jsonl"
        lines = len(log.read_bytes().splitlines()) if log.is_file() else 0
        return lines + sum(1 for _ in out.glob("checkpoints/step_*/state.json"))

    def snapshot(self, out: Path) -> dict:
        """Training-log steps with their losses, and the final weights file's hash."""
        log, weights = out / "train_log.jsonl", out / "model.safetensors"
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
        return {"data": [(str(r["step"]), json.dumps({"step": r["step"], "loss": r["loss"],
                                                      "grad_norm": r.get("grad_norm")})) for r in rows if "loss" in r],
                "weights": hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None}


SCENARIOS = {s.name: s for s in (Deepsearch, LabelTurns, Filter, Train)}
