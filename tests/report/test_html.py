"""The HTML report: self-contained, deterministic, and its plots really paint in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synth.report.collect import collect
from synth.report.html import render_html, single_value, write_html
from synth.report.svg import BAR, PALETTE, REJECT
from tests.report.png import count_color, read_png

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian `chromium` not installed (scripts/setup.sh)")


def rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={tmp / 'profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


def screenshot(html: Path, tmp: Path, height: int = 2600):
    png = tmp / f"{html.stem}.png"
    res = chromium([f"--screenshot={png}", f"--window-size=1280,{height}", html.as_uri()], tmp)
    assert png.is_file(), res.stderr[-2000:]
    return read_png(png)


def test_report_is_self_contained_and_deterministic(datasets, tmp_path):
    for kind in ("deepsearch_task", "trajectory", "code_problem", "preference_pair", "model"):
        page = render_html(collect(datasets[kind]))
        assert page == render_html(collect(datasets[kind]))
        lowered = page.lower()
        assert "<script" not in lowered and "src=" not in lowered and "href=" not in lowered and "url(" not in lowered
        assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")
        assert page.count('<svg class="chart"') >= 3


def test_record_text_is_escaped(tmp_path):
    from synth.report.samples_html import sample

    record = {"id": "x", "messages": [{"role": "user", "content": "<script>alert(1)</script>"}]}
    assert "<script>" not in sample("trajectory", record, 100) and "&lt;script&gt;" in sample("trajectory", record, 100)


@needs_chromium
def test_deepsearch_report_renders_its_plots_in_chromium(datasets, tmp_path):
    """A deep-search report shows its charts (a schema-valid deepsearch_task set with teacher-run tiers;
    test_foldoc_run_report below runs the acceptance check on a real FOLDOC `synth generate deepsearch` run)."""
    report = collect(datasets["deepsearch_task"])
    html = write_html(report, tmp_path / "deepsearch.html")
    dom = chromium(["--dump-dom", html.as_uri()], tmp_path).stdout
    charts = len(re.findall(r'<svg class="chart"', dom))
    drawn = [m for m in report["metrics"] if single_value(m) is None]  # one-value ones are a sentence (issue 24)
    assert charts == len(drawn) + 1  # one per distribution + rejects by reason
    assert len(re.findall(r'<rect class="bar"', dom)) > 40
    image = screenshot(html, tmp_path)
    assert tuple(image[10, 10]) == rgb("#1f2d3d")  # the decoder reads the page (header colour)
    bars = count_color(image, rgb(BAR))
    rejects = count_color(image, rgb(REJECT))
    passed = count_color(image, rgb("#54a24b"))  # verification: stacked passed/failed bars
    assert bars > 50_000 and rejects > 1_000 and passed > 2_000, (bars, rejects, passed)
    # Negative control: the same page without its SVG paints none of the chart colours.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<svg.*?</svg>", "", html.read_text(), flags=re.DOTALL))
    assert count_color(screenshot(bare, tmp_path), rgb(BAR)) < 50


@needs_chromium
def test_train_report_renders_loss_and_throughput_curves(datasets, tmp_path):
    html = write_html(collect(datasets["model"]), tmp_path / "model.html")
    page = html.read_text()
    assert "Training curves" in page and page.count('class="line"') >= 5  # loss, eval loss, tokens/s, mfu, lr...
    image = screenshot(html, tmp_path, height=1600)
    assert count_color(image, rgb(PALETTE[0]), tolerance=40) > 2_000  # train loss, tokens/s, ... polylines
    assert count_color(image, rgb(PALETTE[1]), tolerance=40) > 150  # the eval-loss curve


def synth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True, timeout=900,
                          check=False)


@needs_chromium
@pytest.mark.slow
def test_foldoc_run_report(tmp_path):
    """Acceptance (issue 11): the HTML report of a real FOLDOC deep-search run renders with its plots in
    headless Chromium. Slow: it builds the whole FOLDOC corpus (BM25 only) and generates 40 tasks."""
    corpus, run = tmp_path / "corpus", tmp_path / "run"
    res = synth("corpus", "build", "foldoc", "--no-dense", "--out", str(corpus))
    assert res.returncode == 0, res.stderr
    res = synth("generate", "deepsearch", "--corpus", str(corpus), "--num", "40", "--out", str(run), "--seed", "0")
    assert res.returncode == 0, res.stderr
    assert synth("validate", str(run)).returncode == 0
    html = tmp_path / "foldoc.html"
    res = synth("inspect", str(run), "--html", str(html))
    assert res.returncode == 0, res.stderr
    page = html.read_text()
    assert "deepsearch_task" in page and page.count('<svg class="chart"') >= 4
    for title in ("hops", "topology", "verification"):
        assert title in page.lower(), title
    image = screenshot(html, tmp_path)
    assert count_color(image, rgb(BAR)) > 20_000
    assert count_color(image, rgb("#54a24b")) > 2_000  # verification: the passed checks paint
