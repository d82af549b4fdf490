"""The eval report (issue 24): accuracy per slice as charts at full card width, painted in headless Chromium;
labels cut on the right with the full text as a tooltip; one-value distributions said in words; a training
report lists only its own mode's settings."""

from __future__ import annotations

import re

import pytest

from synth.report import svg
from synth.report.collect import collect
from synth.report.html import _settings, render_html, single_value, write_html
from tests.eval.test_deepsearch import run_eval, scripted
from tests.report.test_html import chromium, needs_chromium, rgb, screenshot


@pytest.fixture(scope="module")
def eval_report(tiny_eval, fake_openai_module, tmp_path_factory):
    fake_openai_module.handler = scripted
    out = tmp_path_factory.mktemp("eval_report") / "eval"
    res = run_eval(tiny_eval, fake_openai_module, out)
    assert res.returncode == 0, res.stderr
    return out


def _longest_run(image, color, tolerance: int = 6) -> int:
    """The longest horizontal run of pixels of `color` in any row of a screenshot."""
    import numpy as np

    match = (np.abs(image[:, :, :3].astype(int) - np.array(color)) <= tolerance).all(axis=2)
    best = 0
    for row in match:
        edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        best = max(best, int((ends - starts).max()) if len(starts) else 0)
    return best


def test_eval_report_has_accuracy_by_slice(eval_report):
    page = render_html(collect(eval_report))
    assert "<h2>Accuracy by slice</h2>" in page and page.count('data-chart="rates"') == 3  # tier, hops, topology
    assert "easy: 100.0% of 1" in page and "hard: 0.0% of 2" in page and "100% of 1" in page


@needs_chromium
def test_eval_report_paints_accuracy_bars_at_full_card_width(eval_report, tmp_path):
    html = write_html(collect(eval_report), tmp_path / "eval.html")
    dom = chromium(["--dump-dom", html.as_uri()], tmp_path).stdout
    assert len(re.findall(r'<svg class="chart" data-chart="rates"', dom)) == 3
    image = screenshot(html, tmp_path, height=1400)
    green = rgb(svg.PALETTE[2])
    # the 100% bar of tier "easy": 48% of its chart's width; a chart drawn at its 440 px viewBox gives 210 px,
    # one stretched over a half-page card (~600 px) gives ~290 px
    assert _longest_run(image, green) > 250, _longest_run(image, green)


def test_long_labels_are_cut_on_the_right_with_a_tooltip():
    name = "W" * 30 + " the end"
    chart = svg.bars([(name, 3), ("short", 1)], "t")
    shown = re.search(r"<title>" + re.escape(name) + r"</title>([^<]*)</text>", chart).group(1)
    assert shown.endswith("…") and name.startswith(shown[:-1]) and len(shown) * svg.CHAR_PX <= 150 - 10
    assert "<title>short</title>short</text>" in chart


def test_a_distribution_with_one_value_is_a_sentence():
    assert single_value({"type": "numeric", "per": "record", "n": 60, "min": 0, "max": 0}) == "every record (60): 0"
    assert single_value({"type": "categorical", "per": "record", "n": 5, "counts": {"none": 5}, "other": 0}) == \
        "every record (5): none"
    assert single_value({"type": "numeric", "per": "record", "n": 60, "min": 0, "max": 2}) is None
    assert single_value({"type": "matrix", "per": "record", "n": 4, "columns": ["passed", "failed"],
                         "rows": {"support": {"passed": 4}, "no_leak": {"passed": 4, "failed": 0}}}) == \
        "every record (4): passed in all of support, no_leak"


def test_training_settings_of_other_modes_are_left_out():
    config = {"mode": "sft", "lr": 1e-5, "group_size": 8, "dpo_beta": 0.1, "use_margin": False}
    assert _settings({"command": "train", "config": config}) == {"mode": "sft", "lr": 1e-5}
    assert _settings({"command": "train", "config": {**config, "mode": "grpo"}})["group_size"] == 8
    assert _settings({"command": "train", "config": {**config, "mode": "rm"}}) == {
        "mode": "rm", "lr": 1e-5, "use_margin": False}
    assert _settings({"command": "filter", "config": {"group_size": 1}}) == {"group_size": 1}
