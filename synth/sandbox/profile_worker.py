"""Runs INSIDE the sandbox (stdlib only): times a function over growing input sizes.

Robustness on a busy machine comes from three choices: CPU time of this thread (other processes do
not count), the minimum over repeats on fresh inputs (noise only ever adds time), and garbage
collection off while timing. Sizes double from `min_n`; when one doubling multiplies the time by more than `blowup` (no
polynomial of degree <= 3 does that once constants fade), the schedule switches to arithmetic steps so
that an exponential algorithm still yields enough points before the per-call budget stops it.

What a timed program cannot game (issue 22): every timed call is on a *fresh input* (its own seed), so
memoising a previous call's answer buys nothing, and the output of every timed call is reported
(`output` events) for the parent to compare with the reference's on the same input. The times reported here come
from this process and so are within the program's reach; the parent checks them against the CPU time
the kernel accounted for the whole run (pipelines/code/measure.py). `replay` mode calls a program once on
a given list of (size, input index) draws: the reference's answers for the inputs a completion was timed on.
"""

import gc
import math
import random
import time

_CLOCK = time.thread_time  # see harness._CLOCK: the process clock is tick-coarse under ITIMER_PROF


def draw_rng(cfg, n, k):
    """The generator's randomness for input k at size n (a string seed: the same in every process)."""
    return random.Random(f"{cfg['seed']}:{n}:{k}")


def _draw(gen, cfg, n, k, call_limited):
    """(status, args, error, CPU seconds) for input k at size n."""
    status, args, error, cpu = call_limited(gen, (n, draw_rng(cfg, n, k)), cfg["call_cpu_s"])
    if status == "ok":
        args = [args] if isinstance(args, str) else list(args)  # stdio generators return the stdin text
    return status, args, error, cpu


def _one_input(fn, gen, cfg, n, k, tools):
    """Time one call on a fresh input at size n and report its output; (call seconds, seconds spent
    including the input's generation), or None on failure.
    No batching of tiny calls: a batch's outputs would go unchecked (and could be memoised or faked), so
    precision at tiny sizes comes from the minimum over many fresh inputs instead."""
    call_limited, emit, encode_result = tools
    status, args, error, drawing = _draw(gen, cfg, n, k, call_limited)
    if status != "ok":
        emit("measure", n=n, status="generator_" + status, error=error)
        return None
    status, value, error, first = call_limited(fn, args, cfg["call_cpu_s"])
    status, value, error = encode_result(status, value, error)
    emit("output", n=n, k=k, status=status, value=value, error=error, seconds=first)
    if status != "ok":
        emit("measure", n=n, status=status, error=error)
        return None
    return first, first + drawing


def measure_size(fn, gen, cfg, n, tools):
    """Min seconds over fresh inputs at size n, emitted as a `measure` event; None if a call failed."""
    best, calls, spent, repeats = float("inf"), 0.0, 0.0, 0
    gc.disable()
    try:
        while repeats < cfg["max_repeats"] and (repeats < cfg["min_repeats"] or spent < cfg["size_s"]):
            timed = _one_input(fn, gen, cfg, n, repeats, tools)
            if timed is None:
                return None
            best, calls, spent, repeats = min(best, timed[0]), calls + timed[0], spent + timed[1], repeats + 1
    finally:
        gc.enable()
    tools[1]("measure", n=n, status="ok", seconds=best, repeats=repeats, spent=calls)
    return best


def sizes(cfg):
    """Yields sizes; the caller sends back the ratio t(n)/t(prev) to steer the schedule. `growth` < 2
    takes more sizes per doubling (better separation of n from n log n)."""
    n, linear, step, growth = cfg["min_n"], False, 1, cfg.get("growth", 2.0)
    while n <= cfg["max_n"]:
        ratio = yield n
        if not linear and ratio is not None and ratio > cfg["blowup"] ** math.log2(growth) and n >= 4:
            linear, step = True, max(1, n // 8)
            n = int(n / growth) + step  # revisit the gap between the last two sizes
            continue
        n = n + step if linear else max(n + 1, int(n * growth))


def replay(fn, gen, cfg, tools):
    """One call per listed (n, k) draw, each output reported: the reference's answers for a check."""
    call_limited, emit, encode_result = tools
    for n, k in cfg["replay"]:
        status, args, error, _ = _draw(gen, cfg, n, k, call_limited)
        if status == "ok":
            status, value, error, cpu = call_limited(fn, args, cfg["call_cpu_s"])
            status, value, error = encode_result(status, value, error)
        else:
            value, cpu = None, 0.0
        emit("output", n=n, k=k, status=status, value=value, error=error, seconds=cpu)


def run_profile(job, load_module, emit, call_limited, encode_result):
    cfg = job["profile"]
    tools = (call_limited, emit, encode_result)
    fn = load_module(job["programs"][0], "solution")[job["entry_point"]]
    gen = load_module(job["generator"], "generator")["generate"]
    if cfg.get("replay") is not None:
        replay(fn, gen, cfg, tools)
        return
    started, last, seen = _CLOCK(), None, set()
    schedule = sizes(cfg)
    n = next(schedule)
    while True:
        ratio = None
        if n not in seen:
            seen.add(n)
            best = measure_size(fn, gen, cfg, n, tools)
            if best is None:
                return
            ratio = best / last if last and last > 0 else None
            last = best
            # The budget is this process' clock, so a program that patches it can overrun it: RLIMIT_CPU
            # (measure.profile_limits) is the kernel's backstop, and an overrun fails the size.
            if best > cfg["stop_s"] or _CLOCK() - started > cfg["budget_s"]:
                return
        try:
            n = schedule.send(ratio)
        except StopIteration:
            return
