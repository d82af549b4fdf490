"""Runs INSIDE the sandbox (stdlib only): times a function over growing input sizes.

Robustness on a busy machine comes from three choices: CPU time of this thread (other processes do
not count), the minimum over repeats (noise only ever adds time), and garbage collection off while
timing. Sizes double from `min_n`; when one doubling multiplies the time by more than `blowup` (no
polynomial of degree <= 3 does that once constants fade), the schedule switches to arithmetic steps so
that an exponential algorithm still yields enough points before the per-call budget stops it.
Each measurement is emitted as soon as it is taken, so a run killed by the wall clock keeps what it has.
"""

import gc
import pickle
import random
import time

_CLOCK = time.thread_time  # see harness._CLOCK: the process clock is tick-coarse under ITIMER_PROF


def _timed(fn, args, copies, inner):
    """CPU seconds per call over `inner` back-to-back calls, each on the same input. Mutating functions
    get one fresh copy per call, made before the clock starts, so every call sees the same input."""
    batch = [pickle.loads(copies) for _ in range(inner)] if copies is not None else None
    start = _CLOCK()
    if batch is None:
        for _ in range(inner):
            fn(*args)
    else:
        for fresh in batch:
            fn(*fresh)
    return (_CLOCK() - start) / inner


def measure_size(fn, args, cfg, call_limited):
    """(min seconds, repeats, mutates) at one size, or (None, status, error) if a call failed."""
    frozen = pickle.dumps(args)
    probe = pickle.loads(frozen)
    status, _, error, first = call_limited(fn, probe, cfg["call_cpu_s"])
    if status != "ok":
        return None, status, error
    mutates = pickle.dumps(probe) != frozen
    copies = frozen if mutates else None
    # Batch tiny calls so the clock's own cost (~0.5 us) does not swamp them. Mutating functions need a
    # copy per call; few copies keep those warm in cache, as the single input of other functions is.
    inner = 1 if first > cfg["tiny_s"] else max(1, min(1000, int(cfg["tiny_s"] / max(first, 1e-7))))
    if mutates:
        inner = max(1, min(inner, 16, (8 << 20) // max(1, len(frozen))))
    best, spent, repeats = first, first * inner, 1
    gc.disable()
    try:
        while repeats < cfg["max_repeats"] and (repeats < cfg["min_repeats"] or spent < cfg["size_s"]):
            status, value, error, cpu = call_limited(_timed, (fn, args, copies, inner), cfg["call_cpu_s"] * inner)
            if status != "ok":
                return None, status, error
            best, spent, repeats = min(best, value), spent + cpu, repeats + 1
    finally:
        gc.enable()
    return best, repeats, mutates


def sizes(cfg):
    """Yields sizes; the caller sends back the ratio t(n)/t(prev) to steer the schedule."""
    n, linear, step = cfg["min_n"], False, 1
    while n <= cfg["max_n"]:
        ratio = yield n
        if not linear and ratio is not None and ratio > cfg["blowup"] and n >= 4:
            linear, step = True, max(1, n // 8)
            n = n // 2 + step  # revisit the gap between the last two sizes
            continue
        n = n + step if linear else n * 2


def run_profile(job, load_module, emit, call_limited):
    cfg = job["profile"]
    solution = load_module(job["programs"][0], "solution")
    fn = solution[job["entry_point"]]
    gen = load_module(job["generator"], "generator")["generate"]
    started, last, seen = _CLOCK(), None, set()
    schedule = sizes(cfg)
    n = next(schedule)
    while True:
        if n not in seen:
            seen.add(n)
            status, args, error, _ = call_limited(gen, (n, random.Random(cfg["seed"] + n)), cfg["call_cpu_s"])
            if status != "ok":
                emit("measure", n=n, status="generator_" + status, error=error)
                return
            args = [args] if isinstance(args, str) else list(args)  # stdio generators return the stdin text
            best, repeats, mutates = measure_size(fn, args, cfg, call_limited)
            if best is None:
                emit("measure", n=n, status=repeats, error=mutates)
                return
            emit("measure", n=n, status="ok", seconds=best, repeats=repeats, mutates=mutates)
            ratio = best / last if last and last > 0 else None
            last = best
            if best > cfg["stop_s"] or _CLOCK() - started > cfg["budget_s"]:
                return
        else:
            ratio = None
        try:
            n = schedule.send(ratio)
        except StopIteration:
            return
