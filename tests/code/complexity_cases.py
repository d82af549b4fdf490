"""Functions with known complexity classes, each with an input generator `generate(n, rng) -> args`.

Written for the fitter's accuracy test (>= 40 cases, >= 90% must be classified right). The generators
produce inputs whose size grows with n, as the class assumes (e.g. matrices are n x n for O(n^3)).
"""

LIST = "def generate(n, rng):\n    return [[rng.randint(-1000, 1000) for _ in range(n)]]\n"
SORTED = "def generate(n, rng):\n    return [sorted(rng.randint(0, 10 * n) for _ in range(n)), rng.randint(0, 10 * n)]\n"
INT = "def generate(n, rng):\n    return [n]\n"
STR = "def generate(n, rng):\n    return [''.join(rng.choice('ab') for _ in range(n))]\n"
TWO_STR = ("def generate(n, rng):\n    return [''.join(rng.choice('abc') for _ in range(n)), "
           "''.join(rng.choice('abc') for _ in range(n))]\n")
MATRICES = ("def generate(n, rng):\n    m = lambda: [[rng.randint(0, 9) for _ in range(n)] for _ in range(n)]\n"
            "    return [m(), m()]\n")
GRAPH = ("def generate(n, rng):\n    return [[[rng.randint(1, 99) if i != j else 0 for j in range(n)] "
         "for i in range(n)]]\n")
SMALL_LIST = "def generate(n, rng):\n    return [[rng.randint(1, 50) for _ in range(n)], 10 ** 9]\n"

CASES = [
    # ---------------------------------------------------------------- O(1)
    ("first", "O(1)", "def f(xs):\n    return xs[0]\n", LIST),
    ("ends_sum", "O(1)", "def f(xs):\n    return xs[0] + xs[-1] + len(xs)\n", LIST),
    ("arith", "O(1)", "def f(n):\n    return (n * n + 3 * n + 7) % 1000003\n", INT),
    ("dict_lookup", "O(1)", "T = {i: i * i for i in range(100)}\ndef f(n):\n    return T.get(n % 100, -1)\n", INT),
    ("swap_ends", "O(1)", "def f(xs):\n    xs[0], xs[-1] = xs[-1], xs[0]\n    return xs[0]\n", LIST),
    ("middle", "O(1)", "def f(xs):\n    return xs[len(xs) // 2]\n", LIST),
    ("parity_char", "O(1)", "def f(s):\n    return s[-1] == 'a'\n", STR),
    # ---------------------------------------------------------------- O(log n)
    ("binary_search", "O(log n)",
     "def f(xs, x):\n    lo, hi = 0, len(xs)\n    while lo < hi:\n        mid = (lo + hi) // 2\n"
     "        if xs[mid] < x:\n            lo = mid + 1\n        else:\n            hi = mid\n    return lo\n", SORTED),
    ("bits", "O(log n)", "def f(n):\n    c = 0\n    while n:\n        n >>= 1\n        c += 1\n    return c\n", INT),
    ("doubling", "O(log n)", "def f(n):\n    i, c = 1, 0\n    while i < n:\n        i *= 2\n        c += 1\n    return c\n", INT),
    ("pow_mod", "O(log n)",
     "def f(n):\n    base, e, r, m = 3, n, 1, 1000000007\n    while e:\n        if e & 1:\n            r = r * base % m\n"
     "        base = base * base % m\n        e >>= 1\n    return r\n", INT),
    ("isqrt_bisect", "O(log n)",
     "def f(n):\n    lo, hi = 0, n + 1\n    while hi - lo > 1:\n        mid = (lo + hi) // 2\n"
     "        if mid * mid <= n:\n            lo = mid\n        else:\n            hi = mid\n    return lo\n", INT),
    ("halving_rec", "O(log n)", "def f(n):\n    return 0 if n <= 1 else 1 + f(n // 2)\n", INT),
    ("digits", "O(log n)", "def f(n):\n    s = 0\n    while n:\n        s += n % 10\n        n //= 10\n    return s\n", INT),
    # ---------------------------------------------------------------- O(n)
    ("sum_loop", "O(n)", "def f(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n", LIST),
    ("max_loop", "O(n)", "def f(xs):\n    m = xs[0]\n    for x in xs:\n        if x > m:\n            m = x\n    return m\n", LIST),
    ("prefix", "O(n)", "def f(xs):\n    out, s = [], 0\n    for x in xs:\n        s += x\n        out.append(s)\n    return out[-1]\n", LIST),
    ("kadane", "O(n)",
     "def f(xs):\n    best = cur = xs[0]\n    for x in xs[1:]:\n        cur = max(x, cur + x)\n        best = max(best, cur)\n"
     "    return best\n", LIST),
    ("palindrome", "O(n)",
     "def f(s):\n    i, j = 0, len(s) - 1\n    ok = True\n    while i < j:\n        ok = ok and s[i] == s[j]\n"
     "        i += 1\n        j -= 1\n    return ok\n", STR),
    ("dedup", "O(n)", "def f(xs):\n    seen = set()\n    for x in xs:\n        seen.add(x)\n    return len(seen)\n", LIST),
    ("count_a", "O(n)", "def f(s):\n    c = 0\n    for ch in s:\n        if ch == 'a':\n            c += 1\n    return c\n", STR),
    ("sum_range", "O(n)", "def f(n):\n    t = 0\n    for i in range(n):\n        t += i * i\n    return t\n", INT),
    # ---------------------------------------------------------------- O(n log n)
    ("merge_sort", "O(n log n)",
     "def f(xs):\n    if len(xs) <= 1:\n        return xs\n    m = len(xs) // 2\n    a, b = f(xs[:m]), f(xs[m:])\n"
     "    out, i, j = [], 0, 0\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n"
     "            out.append(a[i]); i += 1\n        else:\n            out.append(b[j]); j += 1\n"
     "    return out + a[i:] + b[j:]\n", LIST),
    ("heap_sort", "O(n log n)",
     "import heapq\ndef f(xs):\n    h = []\n    for x in xs:\n        heapq.heappush(h, x)\n"
     "    return [heapq.heappop(h) for _ in range(len(h))][-1]\n", LIST),
    ("quick_sort", "O(n log n)",
     "def f(xs):\n    if len(xs) <= 1:\n        return xs\n    p = xs[len(xs) // 2]\n"
     "    return f([x for x in xs if x < p]) + [x for x in xs if x == p] + f([x for x in xs if x > p])\n",
     "def generate(n, rng):\n    return [[rng.randint(0, 10 ** 9) for _ in range(n)]]\n"),
    ("bisect_each", "O(n log n)",
     "def f(xs):\n    ys = sorted(xs)\n    total = 0\n    for x in xs:\n        lo, hi = 0, len(ys)\n"
     "        while lo < hi:\n            mid = (lo + hi) // 2\n            if ys[mid] < x:\n                lo = mid + 1\n"
     "            else:\n                hi = mid\n        total += lo\n    return total\n", LIST),
    ("inversions", "O(n log n)",
     "def f(xs):\n    def go(a):\n        if len(a) <= 1:\n            return a, 0\n        m = len(a) // 2\n"
     "        l, x = go(a[:m])\n        r, y = go(a[m:])\n        out, i, j, c = [], 0, 0, x + y\n"
     "        while i < len(l) and j < len(r):\n            if l[i] <= r[j]:\n                out.append(l[i]); i += 1\n"
     "            else:\n                out.append(r[j]); j += 1; c += len(l) - i\n"
     "        return out + l[i:] + r[j:], c\n    return go(xs)[1]\n", LIST),
    ("halving_sum", "O(n log n)",
     "def f(n):\n    t = 0\n    for i in range(1, n + 1):\n        j = i\n        while j:\n            t += 1\n            j >>= 1\n"
     "    return t\n", INT),
    ("fenwick", "O(n log n)",
     "def f(xs):\n    n = len(xs)\n    tree = [0] * (n + 1)\n    for k, x in enumerate(xs, 1):\n        i = k\n"
     "        while i <= n:\n            tree[i] += x\n            i += i & -i\n    return tree[n]\n", LIST),
    # ---------------------------------------------------------------- O(n^2)
    ("bubble", "O(n^2)",
     "def f(xs):\n    xs = list(xs)\n    for i in range(len(xs)):\n        for j in range(len(xs) - 1 - i):\n"
     "            if xs[j] > xs[j + 1]:\n                xs[j], xs[j + 1] = xs[j + 1], xs[j]\n    return xs[0]\n", LIST),
    ("insertion", "O(n^2)",
     "def f(xs):\n    xs = list(xs)\n    for i in range(1, len(xs)):\n        k, j = xs[i], i - 1\n"
     "        while j >= 0 and xs[j] > k:\n            xs[j + 1] = xs[j]\n            j -= 1\n        xs[j + 1] = k\n"
     "    return xs[-1]\n", LIST),
    ("pairs", "O(n^2)",
     "def f(xs):\n    c = 0\n    for i in range(len(xs)):\n        for j in range(i + 1, len(xs)):\n"
     "            if xs[i] + xs[j] == 0:\n                c += 1\n    return c\n", LIST),
    ("lcs", "O(n^2)",
     "def f(a, b):\n    prev = [0] * (len(b) + 1)\n    for x in a:\n        cur = [0]\n        for j, y in enumerate(b):\n"
     "            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))\n        prev = cur\n    return prev[-1]\n",
     TWO_STR),
    ("selection", "O(n^2)",
     "def f(xs):\n    xs = list(xs)\n    for i in range(len(xs)):\n        m = i\n        for j in range(i + 1, len(xs)):\n"
     "            if xs[j] < xs[m]:\n                m = j\n        xs[i], xs[m] = xs[m], xs[i]\n    return xs[0]\n", LIST),
    ("inversions_naive", "O(n^2)",
     "def f(xs):\n    return sum(1 for i in range(len(xs)) for j in range(i) if xs[j] > xs[i])\n", LIST),
    ("grid_sum", "O(n^2)",
     "def f(n):\n    t = 0\n    for i in range(n):\n        for j in range(n):\n            t += i ^ j\n    return t\n", INT),
    # ---------------------------------------------------------------- O(n^3)
    ("matmul", "O(n^3)",
     "def f(a, b):\n    n = len(a)\n    c = [[0] * n for _ in range(n)]\n    for i in range(n):\n        for j in range(n):\n"
     "            s = 0\n            for k in range(n):\n                s += a[i][k] * b[k][j]\n            c[i][j] = s\n"
     "    return c[0][0]\n", MATRICES),
    ("floyd", "O(n^3)",
     "def f(d):\n    n = len(d)\n    d = [row[:] for row in d]\n    for k in range(n):\n        for i in range(n):\n"
     "            for j in range(n):\n                if d[i][k] + d[k][j] < d[i][j]:\n"
     "                    d[i][j] = d[i][k] + d[k][j]\n    return d[0][-1]\n", GRAPH),
    ("triples", "O(n^3)",
     "def f(xs):\n    n, c = len(xs), 0\n    for i in range(n):\n        for j in range(i + 1, n):\n"
     "            for k in range(j + 1, n):\n                if xs[i] + xs[j] + xs[k] == 0:\n                    c += 1\n"
     "    return c\n", LIST),
    ("cube_loop", "O(n^3)",
     "def f(n):\n    t = 0\n    for i in range(n):\n        for j in range(n):\n            for k in range(n):\n"
     "                t += 1\n    return t\n", INT),
    ("chain_dp", "O(n^3)",
     "def f(xs):\n    n = len(xs) - 1\n    dp = [[0] * n for _ in range(n)]\n    for length in range(2, n + 1):\n"
     "        for i in range(n - length + 1):\n            j = i + length - 1\n            dp[i][j] = min(\n"
     "                dp[i][k] + dp[k + 1][j] + xs[i] * xs[k + 1] * xs[j + 1] for k in range(i, j))\n"
     "    return dp[0][n - 1] if n > 0 else 0\n", "def generate(n, rng):\n    return [[rng.randint(1, 30) for _ in range(n + 2)]]\n"),
    ("triangles", "O(n^3)",
     "def f(d):\n    n, c = len(d), 0\n    for i in range(n):\n        for j in range(n):\n            for k in range(n):\n"
     "                if d[i][j] > 50 and d[j][k] > 50 and d[k][i] > 50:\n                    c += 1\n    return c\n", GRAPH),
    # ---------------------------------------------------------------- O(2^n)
    ("fib", "O(2^n)", "def f(n):\n    return n if n < 2 else f(n - 1) + f(n - 2)\n", INT),
    ("subsets_count", "O(2^n)",
     "def f(xs, target):\n    def go(i, s):\n        if i == len(xs):\n            return 1 if s <= target else 0\n"
     "        return go(i + 1, s) + go(i + 1, s + xs[i])\n    return go(0, 0)\n", SMALL_LIST),
    ("hanoi", "O(2^n)",
     "def f(n):\n    def move(k):\n        return 0 if k == 0 else 2 * 0 + move(k - 1) + 1 + move(k - 1)\n    return move(n)\n", INT),
    ("bitmask_subsets", "O(2^n)",
     "def f(xs, target):\n    n, best = len(xs), 0\n    for mask in range(1 << n):\n        if mask & 1:\n            best += 1\n"
     "    return best\n", SMALL_LIST),
    ("binary_strings", "O(2^n)",
     "def f(n):\n    def go(k, prev):\n        if k == 0:\n            return 1\n"
     "        return go(k - 1, 0) + (go(k - 1, 1) if prev == 0 else 0)\n    return go(n, 0)\n", INT),
    ("tribonacci", "O(2^n)",
     "def f(n):\n    return n if n < 3 else f(n - 1) + f(n - 2) + f(n - 3)\n", INT),
]
