"""Complexity fitter accuracy on a labelled set of 63 functions written for issue 22.

The set leans on the confusions that matter for the time reward: O(n) vs O(n log n) (hash vs sort, scans
vs heaps, Python merge sort vs a linear merge, C builtins of both kinds) and O(n log n) vs O(n^2) (sorting
vs insertion/bubble, nested scans, list inserts and membership tests that hide a loop in C). Every
function is measured in the sandbox with the build-time profile (the reference's measurement) and
classified by the fitter; the script prints accuracy, the confusion matrix and every miss.

Build profile: instruction counts under valgrind (pipelines/code/build.py: counted_reference_profile,
fitted by complexity.fit_exact). Baseline in the same run: the CPU-time profile it replaced
(timed_reference_profile, complexity.fit). `--seed` changes every generated input.

    python bench/complexity_labelled.py [--seed S] [--only NAME,...] [--skip-baseline] [--json OUT]
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth.pipelines.code.build import counted_reference_profile, timed_reference_profile
from synth.pipelines.code.measure import measure

from synth.sandbox import Sandbox

LIST = "def generate(n, rng):\n    return [[rng.randint(-10 ** 6, 10 ** 6) for _ in range(n)]]\n"
# Even values and an odd target: pair searches never find a pair and exit early (a worst case at every n).
EVENS = "def generate(n, rng):\n    return [[2 * rng.randint(-10 ** 6, 10 ** 6) for _ in range(n)]]\n"
EVEN_SORTED = "def generate(n, rng):\n    return [sorted(2 * rng.randint(0, 10 * n) for _ in range(n)), 2 * n + 1]\n"
DUPS = "def generate(n, rng):\n    return [[rng.randint(0, n // 2 + 1) for _ in range(n)]]\n"
SORTED = "def generate(n, rng):\n    return [sorted(rng.randint(0, 10 * n) for _ in range(n)), rng.randint(0, 10 * n)]\n"
TEXT = "def generate(n, rng):\n    return [''.join(rng.choice('abcd') for _ in range(n))]\n"
NUM = "def generate(n, rng):\n    return [n]\n"
PAIR_LISTS = ("def generate(n, rng):\n    a = sorted(rng.randint(0, 10 ** 6) for _ in range(n))\n"
              "    return [a, sorted(rng.randint(0, 10 ** 6) for _ in range(n))]\n")
SQUARE = "def generate(n, rng):\n    return [[[rng.randint(0, 9) for _ in range(n)] for _ in range(n)]]\n"

F = "def f"
CASES = [
    # ------------------------------------------------------------------ O(1)
    ("last_plus_first", "O(1)", F + "(xs):\n    return xs[-1] + xs[0]\n", LIST),
    ("len_parity", "O(1)", F + "(xs):\n    return len(xs) % 2\n", LIST),
    ("closed_form_sum", "O(1)", F + "(n):\n    return n * (n + 1) // 2\n", NUM),
    ("middle_char", "O(1)", F + "(s):\n    return s[len(s) // 2] if s else ''\n", TEXT),
    # ------------------------------------------------------------------ O(log n)
    ("bisect_left", "O(log n)", "import bisect\n" + F + "(xs, x):\n    return bisect.bisect_left(xs, x)\n", SORTED),
    ("manual_bsearch", "O(log n)",
     F + "(xs, x):\n    lo, hi = 0, len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n"
     "        if xs[mid] == x:\n            return mid\n        if xs[mid] < x:\n            lo = mid + 1\n"
     "        else:\n            hi = mid - 1\n    return -1\n", SORTED),
    ("digit_count", "O(log n)", F + "(n):\n    d = 0\n    while n:\n        n //= 10\n        d += 1\n    return d\n", NUM),
    ("fast_pow", "O(log n)",
     F + "(n):\n    r, b, e = 1, 7, n\n    while e:\n        if e & 1:\n            r = r * b % 998244353\n"
     "        b = b * b % 998244353\n        e >>= 1\n    return r\n", NUM),
    # ------------------------------------------------------------------ O(n)
    ("running_max", "O(n)", F + "(xs):\n    best = xs[0] if xs else 0\n    for x in xs:\n        if x > best:\n"
     "            best = x\n    return best\n", LIST),
    ("hash_pair_sum", "O(n)", F + "(xs):\n    seen = set()\n    for x in xs:\n        if 17 - x in seen:\n"
     "            return True\n        seen.add(x)\n    return False\n", EVENS),
    ("count_dups_dict", "O(n)", F + "(xs):\n    c = {}\n    for x in xs:\n        c[x] = c.get(x, 0) + 1\n"
     "    return sum(v - 1 for v in c.values())\n", DUPS),
    ("prefix_sums", "O(n)", F + "(xs):\n    out, s = [], 0\n    for x in xs:\n        s += x\n        out.append(s)\n"
     "    return out[-1] if out else 0\n", LIST),
    ("kadane", "O(n)", F + "(xs):\n    best = cur = 0\n    for x in xs:\n        cur = max(0, cur + x)\n"
     "        best = max(best, cur)\n    return best\n", LIST),
    ("merge_two_sorted", "O(n)", F + "(a, b):\n    i = j = 0\n    out = []\n    while i < len(a) and j < len(b):\n"
     "        if a[i] <= b[j]:\n            out.append(a[i])\n            i += 1\n        else:\n"
     "            out.append(b[j])\n            j += 1\n    return len(out) + len(a) - i + len(b) - j\n", PAIR_LISTS),
    ("run_length", "O(n)", F + "(s):\n    runs, prev = 0, None\n    for ch in s:\n        if ch != prev:\n"
     "            runs += 1\n            prev = ch\n    return runs\n", TEXT),
    ("palindrome_check", "O(n)", F + "(s):\n    i, j = 0, len(s) - 1\n    ok = True\n    while i < j:\n"
     "        ok = ok and s[i] == s[j]\n        i += 1\n        j -= 1\n    return ok\n", TEXT),
    ("char_histogram", "O(n)", F + "(s):\n    h = [0] * 4\n    for ch in s:\n        h[ord(ch) - 97] += 1\n    return h\n", TEXT),
    ("two_pointer_sorted", "O(n)", F + "(xs, t):\n    i, j = 0, len(xs) - 1\n    while i < j:\n        s = xs[i] + xs[j]\n"
     "        if s == t:\n            return True\n        if s < t:\n            i += 1\n        else:\n            j -= 1\n"
     "    return False\n", EVEN_SORTED),
    ("dedupe_keep_order", "O(n)", F + "(xs):\n    seen, out = set(), []\n    for x in xs:\n        if x not in seen:\n"
     "            seen.add(x)\n            out.append(x)\n    return len(out)\n", DUPS),
    ("stack_balance", "O(n)", F + "(s):\n    depth = low = 0\n    for ch in s:\n        depth += 1 if ch in 'ab' else -1\n"
     "        low = min(low, depth)\n    return low\n", TEXT),
    ("count_up_to", "O(n)", F + "(n):\n    t = 0\n    for i in range(n):\n        t += i & 3\n    return t\n", NUM),
    # ------------------------------------------------------------------ O(n log n)
    ("sort_then_scan", "O(n log n)", F + "(xs):\n    s = sorted(xs)\n    best = None\n    for i in range(1, len(s)):\n"
     "        d = s[i] - s[i - 1]\n        if best is None or d < best:\n            best = d\n    return best\n", LIST),
    ("sort_pair_sum", "O(n log n)", F + "(xs):\n    s = sorted(xs)\n    i, j = 0, len(s) - 1\n    while i < j:\n"
     "        t = s[i] + s[j]\n        if t == 17:\n            return True\n        if t < 17:\n            i += 1\n"
     "        else:\n            j -= 1\n    return False\n", EVENS),
    ("merge_sort", "O(n log n)",
     F + "(xs):\n    if len(xs) <= 1:\n        return xs\n    m = len(xs) // 2\n    a, b = f(xs[:m]), f(xs[m:])\n"
     "    out, i, j = [], 0, 0\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n"
     "            out.append(a[i])\n            i += 1\n        else:\n            out.append(b[j])\n            j += 1\n"
     "    return out + a[i:] + b[j:]\n", LIST),
    ("heap_sort", "O(n log n)", "import heapq\n" + F + "(xs):\n    h = []\n    for x in xs:\n        heapq.heappush(h, x)\n"
     "    return [heapq.heappop(h) for _ in range(len(h))][-1:] \n", LIST),
    ("quicksort", "O(n log n)",
     F + "(xs):\n    if len(xs) <= 1:\n        return xs\n    p = xs[len(xs) // 2]\n"
     "    return f([x for x in xs if x < p]) + [x for x in xs if x == p] + f([x for x in xs if x > p])\n", LIST),
    ("sort_by_key_scan", "O(n log n)", F + "(xs):\n    s = sorted(range(len(xs)), key=lambda i: xs[i])\n"
     "    return sum(1 for k in range(1, len(s)) if s[k] > s[k - 1])\n", LIST),
    ("count_inversions", "O(n log n)",
     F + "(xs):\n    def go(a):\n        if len(a) <= 1:\n            return a, 0\n        m = len(a) // 2\n"
     "        l, x = go(a[:m])\n        r, y = go(a[m:])\n        out, i, j, inv = [], 0, 0, x + y\n"
     "        while i < len(l) and j < len(r):\n            if l[i] <= r[j]:\n                out.append(l[i])\n"
     "                i += 1\n            else:\n                out.append(r[j])\n                inv += len(l) - i\n"
     "                j += 1\n        return out + l[i:] + r[j:], inv\n    return go(xs)[1]\n", LIST),
    ("sorted_unique_count", "O(n log n)", F + "(xs):\n    s = sorted(xs)\n    c = 0\n    for i in range(len(s)):\n"
     "        if i == 0 or s[i] != s[i - 1]:\n            c += 1\n    return c\n", DUPS),
    ("bottom_up_mergesort", "O(n log n)",
     F + "(xs):\n    a = list(xs)\n    w = 1\n    while w < len(a):\n        out = []\n"
     "        for lo in range(0, len(a), 2 * w):\n            l, r = a[lo:lo + w], a[lo + w:lo + 2 * w]\n"
     "            i = j = 0\n            while i < len(l) and j < len(r):\n                if l[i] <= r[j]:\n"
     "                    out.append(l[i])\n                    i += 1\n                else:\n"
     "                    out.append(r[j])\n                    j += 1\n            out += l[i:] + r[j:]\n"
     "        a = out\n        w *= 2\n    return a[:1]\n", LIST),
    ("bisect_each", "O(n log n)", "import bisect\n" + F + "(xs):\n    s = sorted(xs)\n    t = 0\n    for x in xs:\n"
     "        t += bisect.bisect_left(s, x)\n    return t\n", LIST),
    ("fenwick_counts", "O(n log n)",
     F + "(xs):\n    ranks = {v: i + 1 for i, v in enumerate(sorted(set(xs)))}\n    tree = [0] * (len(ranks) + 1)\n"
     "    inv = 0\n    for seen, x in enumerate(xs):\n        i = ranks[x]\n        s = 0\n        j = i\n"
     "        while j > 0:\n            s += tree[j]\n            j -= j & -j\n        inv += seen - s\n"
     "        while i < len(tree):\n            tree[i] += 1\n            i += i & -i\n    return inv\n", LIST),
    # ------------------------------------------------------------------ O(n^2)
    ("all_pairs_sum", "O(n^2)", F + "(xs):\n    c = 0\n    for i in range(len(xs)):\n        for j in range(i + 1, len(xs)):\n"
     "            if xs[i] + xs[j] == 17:\n                c += 1\n    return c\n", LIST),
    ("insertion_sort", "O(n^2)", F + "(xs):\n    a = list(xs)\n    for i in range(1, len(a)):\n        k, j = a[i], i - 1\n"
     "        while j >= 0 and a[j] > k:\n            a[j + 1] = a[j]\n            j -= 1\n        a[j + 1] = k\n"
     "    return a[:1]\n", LIST),
    ("bubble_sort", "O(n^2)", F + "(xs):\n    a = list(xs)\n    for i in range(len(a)):\n        for j in range(len(a) - 1 - i):\n"
     "            if a[j] > a[j + 1]:\n                a[j], a[j + 1] = a[j + 1], a[j]\n    return a[:1]\n", LIST),
    ("selection_sort", "O(n^2)", F + "(xs):\n    a = list(xs)\n    for i in range(len(a)):\n        m = i\n"
     "        for j in range(i + 1, len(a)):\n            if a[j] < a[m]:\n                m = j\n"
     "        a[i], a[m] = a[m], a[i]\n    return a[:1]\n", LIST),
    ("min_diff_all_pairs", "O(n^2)", F + "(xs):\n    best = None\n    for i in range(len(xs)):\n        for j in range(i):\n"
     "            d = abs(xs[i] - xs[j])\n            if best is None or d < best:\n                best = d\n    return best\n", LIST),
    ("lis_dp", "O(n^2)", F + "(xs):\n    dp = [1] * len(xs)\n    for i in range(len(xs)):\n        for j in range(i):\n"
     "            if xs[j] < xs[i] and dp[j] + 1 > dp[i]:\n                dp[i] = dp[j] + 1\n    return max(dp, default=0)\n", LIST),
    ("palindromic_centers", "O(n^2)", F + "(s):\n    c = 0\n    for m in range(len(s)):\n        i = j = m\n"
     "        while i >= 0 and j < len(s):\n            c += s[i] == s[j]\n            i -= 1\n            j += 1\n    return c\n", TEXT),
    ("count_pairs_equal", "O(n^2)", F + "(s):\n    c = 0\n    for i in range(len(s)):\n        for j in range(i + 1, len(s)):\n"
     "            c += s[i] == s[j]\n    return c\n", TEXT),
    ("list_membership_loop", "O(n^2)", F + "(xs):\n    seen, c = [], 0\n    for x in xs:\n        for y in seen:\n"
     "            if y == x:\n                c += 1\n                break\n        seen.append(x)\n    return c\n", LIST),
    ("prefix_recompute", "O(n^2)", F + "(xs):\n    out = 0\n    for i in range(len(xs)):\n        s = 0\n"
     "        for j in range(i + 1):\n            s += xs[j]\n        out = max(out, s)\n    return out\n", LIST),
    ("triangle_count", "O(n^2)", F + "(n):\n    c = 0\n    for i in range(n):\n        for j in range(i):\n"
     "            c += (i ^ j) & 1\n    return c\n", NUM),
    # ------------------------------------------------------------------ O(n^3)
    ("matmul_trace", "O(n^3)", F + "(m):\n    n = len(m)\n    t = 0\n    for i in range(n):\n        for j in range(n):\n"
     "            s = 0\n            for k in range(n):\n                s += m[i][k] * m[k][j]\n"
     "            t += s if i == j else 0\n    return t\n", SQUARE),
    ("triple_loop", "O(n^3)", F + "(n):\n    c = 0\n    for i in range(n):\n        for j in range(n):\n"
     "            for k in range(n):\n                c += (i + j + k) & 1\n    return c\n", NUM),
    ("floyd_warshall", "O(n^3)", F + "(m):\n    d = [row[:] for row in m]\n    n = len(d)\n    for k in range(n):\n"
     "        for i in range(n):\n            for j in range(n):\n                if d[i][k] + d[k][j] < d[i][j]:\n"
     "                    d[i][j] = d[i][k] + d[k][j]\n    return d[0][-1]\n", SQUARE),
    # ------------------------------------------------------------------ added in round 2 (thin spots)
    ("bit_length_loop", "O(log n)", F + "(n):\n    c = 0\n    while n:\n        n >>= 1\n        c += 1\n    return c\n", NUM),
    ("galloping_search", "O(log n)",
     F + "(xs, x):\n    hi = 1\n    while hi < len(xs) and xs[hi] < x:\n        hi *= 2\n    lo = hi // 2\n"
     "    hi = min(hi, len(xs))\n    while lo < hi:\n        mid = (lo + hi) // 2\n        if xs[mid] < x:\n"
     "            lo = mid + 1\n        else:\n            hi = mid\n    return lo\n", SORTED),
    ("isqrt_bisection", "O(log n)", F + "(n):\n    lo, hi = 0, n\n    while lo < hi:\n        mid = (lo + hi + 1) // 2\n"
     "        if mid * mid <= n:\n            lo = mid\n        else:\n            hi = mid - 1\n    return lo\n", NUM),
    ("sum_builtin", "O(n)", F + "(xs):\n    return sum(xs)\n", LIST),
    ("distinct_via_set", "O(n)", F + "(xs):\n    return len(set(xs))\n", DUPS),
    ("window_max_deque", "O(n)",
     "from collections import deque\n" + F + "(xs):\n    q, total = deque(), 0\n    for i, x in enumerate(xs):\n"
     "        while q and xs[q[-1]] <= x:\n            q.pop()\n        q.append(i)\n        if q[0] <= i - 8:\n"
     "            q.popleft()\n        total += xs[q[0]]\n    return total\n", LIST),
    ("counting_sort", "O(n)", F + "(xs):\n    counts = [0] * (max(xs, default=0) + 1)\n    for x in xs:\n"
     "        counts[x] += 1\n    out = []\n    for v, c in enumerate(counts):\n        out.extend([v] * c)\n"
     "    return out[len(out) // 2] if out else 0\n", DUPS),
    ("reverse_join_count", "O(n)", F + "(s):\n    return ''.join(reversed(s)).count('ab')\n", TEXT),
    ("median_by_sort", "O(n log n)", F + "(xs):\n    return sorted(xs)[len(xs) // 2] if xs else 0\n", LIST),
    ("nlargest_half", "O(n log n)", "import heapq\n" + F + "(xs):\n    return sum(heapq.nlargest(len(xs) // 2, xs))\n", LIST),
    ("lis_patience", "O(n log n)", "import bisect\n" + F + "(xs):\n    tails = []\n    for x in xs:\n"
     "        i = bisect.bisect_left(tails, x)\n        if i == len(tails):\n            tails.append(x)\n"
     "        else:\n            tails[i] = x\n    return len(tails)\n", LIST),
    ("heapify_pop_half", "O(n log n)", "import heapq\n" + F + "(xs):\n    h = list(xs)\n    heapq.heapify(h)\n"
     "    return sum(heapq.heappop(h) for _ in range(len(h) // 2))\n", LIST),
    ("insert_front", "O(n^2)", F + "(xs):\n    out = []\n    for x in xs:\n        out.insert(0, x)\n    return out[:1]\n", LIST),
    ("list_membership_builtin", "O(n^2)", F + "(xs):\n    seen = []\n    for x in xs:\n        if x not in seen:\n"
     "            seen.append(x)\n    return len(seen)\n", LIST),
    ("pop_front_loop", "O(n^2)", F + "(xs):\n    a, t = list(xs), 0\n    while a:\n        t += a.pop(0)\n    return t\n", LIST),
    # ------------------------------------------------------------------ O(2^n)
    ("subset_sums", "O(2^n)", F + "(n):\n    c = 0\n    for mask in range(1 << n):\n        c += bin(mask).count('1') & 1\n"
     "    return c\n", NUM),
    ("naive_fib", "O(2^n)", F + "(n):\n    return n if n < 2 else f(n - 1) + f(n - 2)\n", NUM),
]


def classify(box: Sandbox, case: tuple, profile) -> tuple[str, str, str | None, list]:
    name, want, source, generator = case
    measured = measure(box, source, "f", generator, profile)
    return name, want, measured.cls, [[p["n"], p["seconds"]] for p in measured.points]


def run(box: Sandbox, cases: list, profile) -> dict:
    start = time.perf_counter()
    results = box.map(lambda c: classify(box, c, profile), cases)
    misses = [{"name": n, "label": w, "measured": g} for n, w, g, _ in results if w != g]
    confusion = collections.Counter(f"{w} -> {g}" for _, w, g, _ in results)
    return {"functions": len(results), "accuracy": round(1 - len(misses) / len(results), 4), "misses": misses,
            "confusion": dict(sorted(confusion.items())), "seconds": round(time.perf_counter() - start, 1),
            "measurements": {n: points for n, _, _, points in results}}  # to refit offline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--seed", type=int, default=0, help="seed of every generated input")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c[0] in args.only.split(",")]
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)
    box = Sandbox(workers=2)
    out = {"seed": args.seed, "build_profile": run(box, cases, replace(counted_reference_profile(), seed=args.seed))}
    if not args.skip_baseline:
        out["baseline_timed_profile"] = run(box, cases, replace(timed_reference_profile(), seed=args.seed))
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({k: {f: v for f, v in part.items() if f != "measurements"} if isinstance(part, dict) else part
                      for k, part in out.items()}, indent=1))
    for key in ("build_profile", "baseline_timed_profile"):
        if key in out:
            print(f"{key}: accuracy {out[key]['accuracy']:.3f} on {out[key]['functions']} functions "
                  f"({out[key]['seconds']} s); misses: {[(m['name'], m['label'], m['measured']) for m in out[key]['misses']]}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
