"""Admission of teacher requests against a cap, inside one datatrove task (one event loop, no threads).

Rule: a request is sent only while  spent + (upper bound of this task's requests in flight)  is below
the cap. Otherwise it waits for a request in flight to finish (which frees its reservation and records
what it really used) and checks again. When the spend itself has reached the cap and nothing is in
flight, the cap is *reached*: no request is sent any more; records that need no new request (replays
from the request cache, parsing, tools) still finish and are saved. Once every record still open is
waiting for a request, the task stops: the waiting requests raise `BudgetExhausted`, the runner commits
what finished (finished chunks are committed as they complete; records of the open chunk stay in
datatrove's checkpoint), and the task reports "capped" (see TeacherRunner.run).

How exact: with one task, the spend passes the cap by at most the last request admitted (admitted when
spend + reservations < cap, then it used what it used). With W tasks, by at most one request per task:
near the cap every task publishes its spend after each request and reads the others' before each
(synth.teachers.budget). Near the cap requests go out one at a time (the reservation is an upper bound:
prompt estimate + max_tokens); far from it, the check costs nothing. A small cap next to a large
--max-concurrency x --max-tokens therefore runs with less concurrency for its last stretch.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from datatrove.pipeline.inference.types import ServerError

from synth.teachers.budget import NEAR, Budget, Ledger, Spend


class BudgetExhausted(ServerError):
    """The cap is reached: this task stops sending requests. Not an error: the run ends "capped"."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.message,))


class Gate:
    def __init__(self, budget: Budget, ledger: Ledger):
        self.budget, self.ledger = budget, ledger
        self.reserved = Spend()          # upper bounds of the requests in flight
        self.in_flight = 0
        self.reached = False             # spend >= cap with nothing in flight
        self.stopping = False
        self.active = 0                  # records being worked on
        self.waiting: Counter = Counter()  # record id -> its requests waiting here
        self._waiters: list[asyncio.Future] = []

    # -- records -------------------------------------------------------------------------------------
    def record_started(self) -> None:
        self.active += 1

    def record_finished(self) -> None:
        self.active -= 1
        self._check_stop()

    # -- requests ------------------------------------------------------------------------------------
    def exhausted_at_start(self) -> bool:
        return self.budget.capped and self.budget.reached(self.ledger.total())

    async def acquire(self, record: str, estimate: Spend) -> None:
        """Wait until `estimate` may be sent; raises BudgetExhausted once the task stops."""
        if not self.budget.capped:
            self.in_flight += 1
            return
        self.waiting[record] += 1
        try:
            while True:
                if self.stopping:
                    raise BudgetExhausted(self.message())
                spent = self.ledger.total()
                if self._near(spent + self.reserved + estimate):
                    spent = self.ledger.total(fresh=True)  # the other tasks' latest, not REFRESH_S old
                if self.in_flight == 0 and self.budget.reached(spent):
                    self.reached = True
                elif not self.budget.reached(spent + self.reserved):
                    self.reserved = self.reserved + estimate
                    self.in_flight += 1
                    return
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                self._check_stop()
                await waiter
        finally:
            self.waiting[record] -= 1
            if self.waiting[record] <= 0:
                del self.waiting[record]

    def release(self, estimate: Spend, used: Spend) -> None:
        """A request admitted with `estimate` finished (or failed) having used `used`. Synchronous, so it
        also runs when the request was cancelled."""
        self.in_flight -= 1
        if self.budget.capped:
            self.reserved = self.reserved - estimate
        self.ledger.add(used, now=self._near(self.ledger.total() + used + self.reserved + estimate))
        self._wake()

    def message(self) -> str:
        spent = self.ledger.total()
        return (f"cap reached: {self.budget.describe(spent)}; finished work is kept; raise the cap and re-run "
                "the same command to resume")

    # -- internals -----------------------------------------------------------------------------------
    def _near(self, spend: Spend) -> bool:
        return self.budget.capped and self.budget.reached(spend, NEAR)

    def _check_stop(self) -> None:
        """Stop once the cap is reached and every open record waits here (nothing else can finish)."""
        if self.reached and not self.stopping and len(self.waiting) >= self.active:
            self.stopping = True
            self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
