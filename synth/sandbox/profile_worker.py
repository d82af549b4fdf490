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
import os
import pickle
import random
import sys
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


def _input(gen, cfg, n, k, cache, call_limited):
    """(status, args, error, generation seconds) of timed input k. A trusted program (the reference at
    build time, `reuse_inputs` > 0) cycles through that many inputs per size, each drawn once and reused
    as is unless the program mutates it (then copied per call), so neither generation nor allocation
    churn between calls distorts large sizes. An untrusted one never sees an input twice: it could
    memoise the answer."""
    reuse = cfg.get("reuse_inputs") or 0
    if not reuse:
        return _draw(gen, cfg, n, k, call_limited)
    slot = cache.get(k % reuse)
    if slot is None:
        status, args, error, cpu = _draw(gen, cfg, n, k % reuse, call_limited)
        if status == "ok":
            cache[k % reuse] = {"frozen": pickle.dumps(args), "live": None, "args": args}
        return status, args, error, cpu
    if slot["live"] is None and pickle.dumps(slot["args"]) == slot["frozen"]:
        slot["live"] = slot["args"]  # the first call left it unchanged: safe to reuse the object itself
    return "ok", slot["live"] if slot["live"] is not None else pickle.loads(slot["frozen"]), None, 0.0


def _instructions(prefix):
    """Instructions of the last counted call: the newest callgrind dump (counter.py); dumps are removed
    once read so that /tmp does not fill up."""
    head = f"{os.path.basename(prefix)}.{os.getpid()}."
    dumps = sorted((int(name[len(head):]), name) for name in os.listdir(os.path.dirname(prefix))
                   if name.startswith(head) and name[len(head):].isdigit())
    if not dumps:
        raise RuntimeError("instruction counter: no callgrind dump (is the run under valgrind?)")
    count = None
    with open(os.path.join(os.path.dirname(prefix), dumps[-1][1])) as fh:
        for line in fh:
            if line.startswith("totals:"):
                count = int(line.split()[1])
    for _, name in dumps:
        os.remove(os.path.join(os.path.dirname(prefix), name))
    return count or 0


def _call(fn, args, cfg, call_limited):
    """(status, value, error, cost) of one measured call: CPU seconds, or with `counter` = instructions
    the call's instruction count x 1e-9 (about the seconds of a 1-instruction-per-ns machine, so that
    `stop_s`, `size_s` and the fitter keep their scale)."""
    if cfg.get("counter") != "instructions":
        return call_limited(fn, args, cfg["call_cpu_s"])
    status, value, error, _ = call_limited(sys.call_tracing, (fn, tuple(args)), cfg["call_cpu_s"])
    return status, value, error, _instructions(cfg["dump_prefix"]) * 1e-9


def _one_input(fn, gen, cfg, n, k, tools, cache):
    """Time one call on a fresh input at size n and report its output; (call seconds, seconds spent
    including the input's generation), or None on failure.
    No batching of tiny calls: a batch's outputs would go unchecked (and could be memoised or faked), so
    precision at tiny sizes comes from the minimum over many fresh inputs instead."""
    call_limited, emit, encode_result = tools
    status, args, error, drawing = _input(gen, cfg, n, k, cache, call_limited)
    if status != "ok":
        emit("measure", n=n, status="generator_" + status, error=error)
        return None
    status, value, error, first = _call(fn, args, cfg, call_limited)
    status, value, error = encode_result(status, value, error)
    emit("output", n=n, k=k, status=status, value=value, error=error, seconds=first)
    if status != "ok":
        emit("measure", n=n, status=status, error=error)
        return None
    if cfg.get("reuse_inputs") and first < cfg.get("tiny_s", 0.0):
        first = min(first, _batched(fn, gen, cfg, n, k, cache, tools, first))
    if cfg.get("counter") == "instructions":
        drawing = 0.0  # CPU seconds under valgrind: not in the counted unit, and a trusted input is cheap
    return first, first + drawing


def _timed(fn, batch):
    start = _CLOCK()
    for args in batch:
        fn(*args)
    return (_CLOCK() - start) / len(batch)


def _batched(fn, gen, cfg, n, k, cache, tools, first):
    """Trusted code only: seconds per call over back-to-back calls on input k, so calls shorter than
    `tiny_s` are not swamped by the clock's own cost. (Untrusted code is never batched: the outputs of
    a batch go unchecked.)"""
    inner = max(1, min(1000, int(cfg["tiny_s"] / max(first, 1e-7))))
    _input(gen, cfg, n, k, cache, tools[0])  # marks the input reusable as is if the first call left it alone
    if cache[k % cfg["reuse_inputs"]]["live"] is None:
        inner = min(inner, 16)  # the program mutates its input: each call gets its own copy
    batch = [_input(gen, cfg, n, k, cache, tools[0])[1] for _ in range(inner)]
    status, per_call, _, _ = tools[0](_timed, (fn, batch), cfg["call_cpu_s"])
    return per_call if status == "ok" else float("inf")


def measure_size(fn, gen, cfg, n, tools):
    """Min seconds over fresh inputs at size n, emitted as a `measure` event; None if a call failed."""
    best, calls, drawn, spent, repeats, cache = float("inf"), 0.0, 0.0, 0.0, 0, {}
    gc.disable()
    try:
        while repeats < cfg["max_repeats"] and (repeats < cfg["min_repeats"] or spent < cfg["size_s"]):
            timed = _one_input(fn, gen, cfg, n, repeats, tools, cache)
            if timed is None:
                return None
            # A trusted program's inputs are reused, so their generation does not eat the size's budget
            spent += timed[0] if cfg.get("reuse_inputs") else timed[1]
            best, calls, drawn, repeats = min(best, timed[0]), calls + timed[0], drawn + timed[1], repeats + 1
    finally:
        gc.enable()
    tools[1]("measure", n=n, status="ok", seconds=best, repeats=repeats, spent=calls)
    return best, drawn / max(1, min(repeats, cfg.get("reuse_inputs") or repeats))  # cost of a fresh input


def sizes(cfg):
    """Yields sizes; the caller sends back (ratio t(n)/t(prev), seconds per input at n) to steer the
    schedule. `growth` < 2 takes more sizes per doubling (better separation of n from n log n). Past
    `max_n` the schedule goes on while one input (generation and call) costs under `cheap_s`, up to
    2^62: inputs like a single integer let O(log n) show over many more doublings."""
    n, linear, step, growth = cfg["min_n"], False, 1, cfg.get("growth", 2.0)
    cheap = False
    while n <= cfg["max_n"] or (cheap and n <= 1 << 62):
        ratio, cost = (yield n) or (None, None)
        cheap = (cost is not None and cost < cfg.get("cheap_s", 0.0)) or (cost is None and cheap)
        if not linear and ratio is not None and ratio > cfg["blowup"] ** math.log2(growth) and n >= 4:
            linear, step = True, max(1, n // 8)
            n = int(n / growth) + step  # revisit the gap between the last two sizes
            continue
        n = n + step if linear else max(n + 1, int(n * growth))


def warm_up(fn, gen, cfg, call_limited):
    """A few untimed calls first: the interpreter specialises a function's bytecode after its first
    calls, and the CPU's caches and predictors warm up, so the smallest sizes would otherwise read slow
    and make an O(1) function look like it shrinks, or flatten a log n growth."""
    status, args, _, _ = _draw(gen, cfg, cfg["min_n"], "warm", call_limited)
    for _ in range(cfg.get("warm_up", 20) if status == "ok" else 0):
        if call_limited(fn, pickle.loads(pickle.dumps(args)), cfg["call_cpu_s"])[0] != "ok":
            return


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
    warm_up(fn, gen, cfg, call_limited)
    started, last, seen = _CLOCK(), None, set()
    schedule = sizes(cfg)
    n = next(schedule)
    while True:
        ratio, cost = None, None
        if n not in seen:
            seen.add(n)
            timed = measure_size(fn, gen, cfg, n, tools)
            if timed is None:
                return
            best, cost = timed
            ratio = best / last if last and last > 0 else None
            last = best
            # The budget is this process' clock, so a program that patches it can overrun it: RLIMIT_CPU
            # (measure.profile_limits) is the kernel's backstop, and an overrun fails the size.
            if best > cfg["stop_s"] or _CLOCK() - started > cfg["budget_s"]:
                return
        try:
            n = schedule.send((ratio, cost))
        except StopIteration:
            return
