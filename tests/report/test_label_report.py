"""The label (trajectory) report in headless Chromium (issue 24): its per-message loss labels paint, at full
card width, and no chart is drawn for a distribution that has a single value."""

from __future__ import annotations

import re

from synth.report.collect import collect
from synth.report.html import single_value, write_html
from tests.report.test_html import chromium, count_color, needs_chromium, rgb, screenshot


@needs_chromium
def test_label_report_paints_its_loss_labels(datasets, tmp_path):
    report = collect(datasets["trajectory"])
    html = write_html(report, tmp_path / "labels.html")
    dom = chromium(["--dump-dom", html.as_uri()], tmp_path).stdout
    drawn = [m for m in report["metrics"] if single_value(m) is None]
    reject_panels = 1 + (len(report["rejects"].get("by_step") or {}) > 1)
    assert len(re.findall(r'<svg class="chart"', dom)) == len(drawn) + reject_panels  # one chart per panel
    assert dom.count('<div class="panel">') == len(report["metrics"]) + reject_panels + 1  # + the manifest
    assert dom.count('class="sentence"') == len(report["metrics"]) - len(drawn) > 0
    image = screenshot(html, tmp_path)
    assert count_color(image, rgb("#54a24b")) > 2_000 and count_color(image, rgb("#e45756")) > 500  # loss=1 / 0
