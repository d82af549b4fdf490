"""SIGKILL a command at seeded random points, re-run it, and compare with a clean run.

A campaign for one scenario (tests/reliability/scenarios.py):
  1. a clean run, timed: when each progress event (commit, task completion, log line) happened;
  2. trials, each with its own seeded RNG:
     * `progress` kill: pick an event j of the clean run's timeline, wait until the trial's run has reached
       it, sleep a random fraction of the clean run's gap after it, kill the process group; sometimes a
       second kill of the resumed run the same way;
     * `hold` kill (teacher commands): the scripted server answers the first k requests (k random) and
       holds every later one; once the k-th is held and the answers had a moment to reach the request
       cache, kill. Exactly k requests were answered, so none of them may be sent again.
     then a re-run to the end, compared with the clean run: records lost, duplicated, changed; requests
     re-sent / never asked / unexpected; processes of the killed group still alive.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.reliability import procs
from tests.reliability.scenarios import Scenario, Switchboard

SETTLE_S = 1.0  # after the k-th request is held: time for answered requests to reach the request cache


@dataclass
class Reference:
    snapshot: dict
    times: list[float]       # seconds from start at which event 1, 2, ... was first seen
    exit_s: float
    requests: Counter = field(default_factory=Counter)


@dataclass
class Trial:
    command: str
    trial: int
    seed: int
    mode: str
    kill_points: list[str]
    kills: int = 0            # kills that hit a running process
    rerun_rc: int | None = None
    lost: int = 0
    duplicated: int = 0
    changed: int = 0
    identical: bool = False
    requests_clean: int | None = None
    answered_before_kill: int | None = None
    requests_rerun: int | None = None
    resent: int | None = None     # answered before a kill, sent again
    unasked: int | None = None    # asked in the clean run, never answered by kill + re-run
    unexpected: int | None = None  # sent but never sent by the clean run
    survivors: int = 0
    seconds: float = 0.0
    ok: bool = False
    note: str = ""

    def row(self) -> dict:
        return asdict(self)


class Campaign:
    def __init__(self, scenario: Scenario, base: Path, server=None, seed: int = 0):
        self.s, self.base, self.server, self.seed = scenario, Path(base), server, seed
        self.base.mkdir(parents=True, exist_ok=True)
        scenario.prepare(self.base)
        self.board: Switchboard | None = None
        if scenario.teacher:
            self.board = Switchboard(scenario.handler())
            server.handler = self.board
        self.ref: Reference | None = None

    @property
    def url(self) -> str | None:
        return self.server.url if self.server is not None else None

    # -- the clean run ------------------------------------------------------------------------------------
    def reference(self) -> Reference:
        out = self.base / "clean"
        if self.board:
            self.board.begin("clean")
        t0 = time.monotonic()
        proc = procs.start(procs.cli(*self.s.argv(out, self.url)), self.base / "clean.log")
        times: list[float] = []
        while proc.poll() is None:
            seen = self.s.events(out)
            times += [time.monotonic() - t0] * max(0, seen - len(times))
            time.sleep(0.02)
        exit_s = time.monotonic() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"clean run of {self.s.name} failed; see {self.base / 'clean.log'}")
        seen = self.s.events(out)
        times += [exit_s] * max(0, seen - len(times))
        self.ref = Reference(self.s.snapshot(out), times, exit_s,
                             self.board.sent("clean") if self.board else Counter())
        return self.ref

    # -- one trial ------------------------------------------------------------------------------------------
    def trial(self, index: int, mode: str | None = None) -> Trial:
        if self.ref is None:
            self.reference()
        seed = self.seed * 100_000 + index
        rng = random.Random(seed)
        mode = mode or ("hold" if self.s.teacher and index % 2 else "progress")
        t = Trial(self.s.name, index, seed, mode, [])
        out = self.base / f"trial{index:03d}"
        log = self.base / f"trial{index:03d}.log"
        started = time.monotonic()
        if mode == "hold":
            self._hold_kill(t, rng, out, log)
        else:
            for _ in range(rng.choice((1, 1, 2))):
                self._progress_kill(t, rng, out, log)
        if self.board:
            self.board.begin(f"rerun{index}")
        t.rerun_rc = procs.run(procs.cli(*self.s.argv(out, self.url)), log)
        self._compare(t, out, index)
        t.seconds = round(time.monotonic() - started, 1)
        return t

    def _kill(self, t: Trial, proc) -> None:
        alive = proc.poll() is None
        procs.kill_group(proc)
        t.kills += alive
        t.survivors += len(procs.settle(procs.group_members(proc.pid)))

    def _progress_kill(self, t: Trial, rng: random.Random, out: Path, log: Path) -> None:
        times, now = self.ref.times, self.s.events(out)
        if now >= len(times):
            return  # nothing left to interrupt
        j = rng.randint(max(1, now + 1) if now else 1, len(times))  # after event j (1-based), before j+1 / exit
        nxt = times[j] if j < len(times) else self.ref.exit_s
        delay = rng.random() * max(0.0, nxt - times[j - 1])
        if self.board:
            self.board.begin(f"kill{t.trial}.{len(t.kill_points)}")
        proc = procs.start(procs.cli(*self.s.argv(out, self.url)), log)
        procs.wait_until(lambda: self.s.events(out) >= j, proc)
        time.sleep(delay)
        t.kill_points.append(f"event {j}/{len(times)} +{delay:.2f}s")
        self._kill(t, proc)

    def _hold_kill(self, t: Trial, rng: random.Random, out: Path, log: Path) -> None:
        total = sum(self.ref.requests.values())
        k = rng.randint(1, total - 1)
        name = f"kill{t.trial}.0"
        self.board.begin(name, hold_from=k)
        proc = procs.start(procs.cli(*self.s.argv(out, self.url)), log)
        procs.wait_until(lambda: sum(self.board.sent(name).values()) > k, proc)
        time.sleep(SETTLE_S)
        t.kill_points.append(f"request {k + 1}/{total} held")
        self._kill(t, proc)
        self.board.release.set()

    # -- comparison -------------------------------------------------------------------------------------------
    def _compare(self, t: Trial, out: Path, index: int) -> None:
        ref, got = self.ref.snapshot, self.s.snapshot(out)
        want_ids = Counter(i for part in ("data", "rejects") for i, _ in ref.get(part, []))
        got_ids = Counter(i for part in ("data", "rejects") for i, _ in got.get(part, []))
        t.lost, t.duplicated = sum((want_ids - got_ids).values()), sum((got_ids - want_ids).values())
        t.changed = sum(len(set(ref.get(p, [])) - set(got.get(p, []))) for p in ("data", "rejects"))
        t.identical = got == ref
        problems = [] if t.rerun_rc == 0 else [f"re-run exit {t.rerun_rc}"]
        problems += [f"{n} {what}" for n, what in ((t.lost, "lost"), (t.duplicated, "duplicated"),
                                                   (t.changed, "changed"), (t.survivors, "survivors")) if n]
        if not t.identical and not problems:
            problems.append("output differs (order or weights)")
        if self.board:
            problems += self._requests(t, index)
        t.ok = not problems
        t.note = "; ".join(problems)

    def _requests(self, t: Trial, index: int) -> list[str]:
        clean = self.ref.requests
        kills = sorted({r for r, _, _ in self.board.log if r.startswith(f"kill{index}.")},
                       key=lambda r: int(r.rsplit(".", 1)[1]))
        rerun = self.board.sent(f"rerun{index}")
        # Walk the runs in order. A payload the clean run sent n times may be answered n times in all; each
        # send beyond that, of a payload an earlier run got answered, is a re-send (a second kill can catch
        # the first kill's re-sends too). A payload the clean run never sent is unexpected.
        answered, t.resent = Counter(), 0
        for sent, got in [*((self.board.sent(r), self.board.answered(r)) for r in kills), (rerun, rerun)]:
            known = Counter({d: n for d, n in sent.items() if d in clean})
            t.resent += sum(((answered + known) - clean).values()) - sum((answered - clean).values())
            answered += got
        t.requests_clean, t.answered_before_kill = sum(clean.values()), sum((answered - rerun).values())
        t.requests_rerun = sum(rerun.values())
        t.unasked = sum((clean - answered).values())
        t.unexpected = sum(n for d, n in answered.items() if d not in clean)
        problems = [f"{n} {w}" for n, w in ((t.unasked, "requests never asked"), (t.unexpected, "unexpected requests"))
                    if n]
        # A hold kill knows exactly what was answered: nothing may be asked twice. A kill at a random moment
        # may catch answers in flight (sent by the server, not yet in the client's cache): at most one per slot.
        limit = 0 if t.mode == "hold" else self.s.concurrency * max(1, t.kills)
        if t.resent > limit:
            problems.append(f"{t.resent} answered requests sent again (limit {limit})")
        return problems
