"""The streaming sketches: bounded memory, order-independent histograms, seeded samples."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from synth.report.sketch import Categorical, Decimator, Histogram, Matrix, Reservoir


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=300),
       st.integers(min_value=0, max_value=10_000))
def test_histogram_is_bounded_exact_in_count_and_independent_of_order(values, seed):
    a, b = Histogram(width=2 ** -8, integer=False), Histogram(width=2 ** -8, integer=False)
    for x in values:
        a.add(x)
    shuffled = values[:]
    random.Random(seed).shuffle(shuffled)
    for x in shuffled:
        b.add(x)
    da, db = a.to_dict(), b.to_dict()
    assert da["histogram"] == db["histogram"]
    assert len(da["histogram"]["bins"]) <= 40
    assert sum(c for _, _, c in da["histogram"]["bins"]) == len(values)
    assert da["min"] == min(values) and da["max"] == max(values)
    for lo, hi, _ in da["histogram"]["bins"]:  # every value lies in the bin that counts it
        assert any(lo <= x < hi or (x == hi == max(values)) for x in values)


def test_quantiles_are_exact_for_discrete_values_and_close_for_continuous():
    h = Histogram(width=2 ** -8, integer=False)
    for x in [0.0] * 60 + [1.0] * 40:
        h.add(x)
    assert (h.quantile(0.5), h.quantile(0.9)) == (0.0, 1.0)
    rng = random.Random(1)
    xs = [rng.gauss(10, 3) for _ in range(20_000)]
    g = Histogram(width=2 ** -8, integer=False)
    for x in xs:
        g.add(x)
    xs.sort()
    assert abs(g.quantile(0.5) - xs[10_000]) < 0.2 and abs(g.quantile(0.9) - xs[18_000]) < 0.2


def test_integer_histogram_keeps_unit_bins_while_they_fit_and_closed_top_for_ratios():
    h = Histogram()
    for x in [2, 3, 3, 5]:
        h.add(x)
    assert h.to_dict()["histogram"]["bins"] == [[2, 3, 1], [3, 4, 2], [5, 6, 1]]
    r = Histogram(width=0.05, integer=False, top=1.0)
    for x in (0.0, 0.99, 1.0):
        r.add(x)
    assert [b[2] for b in r.to_dict()["histogram"]["bins"]] == [1, 2]  # 1.0 joins the last bin


def test_memory_does_not_grow_with_the_stream():
    h, c, m, d = Histogram(), Categorical(cap=50), Matrix(cap=10), Decimator(capacity=100)
    for i in range(200_000):
        h.add(i % 9973 * 1.5)
        c.add(f"value-{i}")
        m.add((f"row-{i % 37}", f"col-{i % 3}"))
        d.add((i, float(i)))
    assert len(h.bins) <= 40 and len(c.counts) == 50 and c.other == 200_000 - 50
    assert c.n == 200_000 and len(m.rows) == 10 and len(d.points) < 100
    assert d.values()[-1] == (199_999, 199_999.0)  # a curve ends where the run ended


def test_categorical_orders_known_values_first_then_by_count():
    c = Categorical(order=("easy", "rl", "hard"))
    for v in ["hard", "zz", "zz", "zz", "easy", None, "aa"]:
        c.add(v)
    assert list(c.to_dict()["counts"]) == ["easy", "hard", "zz", "(none)", "aa"]


def test_reservoir_is_seeded_uniform_and_in_stream_order():
    def draw(seed):
        r = Reservoir(3, seed)
        for i in range(1000):
            r.add(i)
        return r.sample()

    assert draw(7) == draw(7) and draw(7) != draw(8)
    assert draw(7) == sorted(draw(7))
    hits = [0] * 10
    for seed in range(3000):
        r = Reservoir(1, seed)
        for i in range(10):
            r.add(i)
        hits[r.sample()[0]] += 1
    assert min(hits) > 220 and max(hits) < 380  # ~300 each
