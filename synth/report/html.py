"""`synth inspect DIR --html FILE`: one self-contained page — inline CSS, inline SVG, no scripts, no network.

Sections: summary cards, rejects by reason, training curves (a `synth train` output), one chart per
distribution, the manifest (config and stats), sample records and sample rejects. Same report dict =>
byte-identical file (nothing in it depends on the clock or the machine).
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

from synth.report import fmt, svg
from synth.report.samples_html import reject, sample

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f6f7f9;color:#222}
header{background:#1f2d3d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header .target{opacity:.8;font-family:monospace;word-break:break-all}
main{padding:12px 28px 40px;max-width:1500px}h2{margin:28px 0 10px;font-size:17px;border-bottom:1px solid #dde}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:14px}
.stat{background:#fff;color:#222;border:1px solid #dde;border-radius:6px;padding:8px 14px;min-width:90px}
.stat b{display:block;font-size:18px}.stat span{color:#667;font-size:12px}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(470px,1fr));gap:14px}
.panel{background:#fff;border:1px solid #dde;border-radius:6px;padding:10px 12px;overflow-x:auto}
.panel h3{margin:0 0 2px;font-size:14px}.panel .sub{color:#667;font-size:12px;margin-bottom:6px}
.warn{background:#fff6db;border:1px solid #eed68f;padding:6px 10px;border-radius:4px;margin:8px 0}
table.fields th{text-align:left;vertical-align:top;padding:2px 10px 2px 0;color:#445;white-space:nowrap}
table.fields td{padding:2px 0;white-space:pre-wrap;word-break:break-word}
table.grid{border-collapse:collapse;margin:8px 0;font-size:13px}
table.grid td,table.grid th{border:1px solid #dde;padding:3px 6px;text-align:left;vertical-align:top}
.card{background:#fff;border:1px solid #dde;border-radius:6px;padding:10px 14px;margin:12px 0}
.card h3{margin:0 0 8px;font-size:14px;font-family:monospace}.card.reject{border-color:#e8a0a7}
.turns{margin-top:8px}.msg{border-left:4px solid #999;background:#fafafa;margin:6px 0;padding:5px 10px}
.msg.system{border-color:#888}.msg.user{border-color:#4c78a8}.msg.assistant{border-color:#54a24b}
.msg.tool{border-color:#eeca3b}.msg.muted{opacity:.62}.msg.chosen{border-color:#54a24b}.msg.rejected{border-color:#e45756}
.msghead{font-size:12px;color:#445;margin-bottom:3px}.content{white-space:pre-wrap;word-break:break-word}
.reasoning{white-space:pre-wrap;color:#777;font-style:italic}.call{font-family:monospace;color:#1f5f99}
.why{font-size:12px;color:#666;margin-top:3px}.omitted{color:#888;text-align:center;margin:6px}
.badge{display:inline-block;border-radius:9px;padding:0 7px;margin-left:4px;background:#e8e8ee;font-size:11px}
.badge.loss1{background:#d4efd0}.badge.loss0{background:#f6d5d8}.badge.label{background:#dfe8f6}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:8px}pre{background:#f3f3f6;padding:8px;overflow-x:auto}
footer{color:#889;font-size:12px;padding:0 28px 24px}
.panel svg.chart{display:block;width:100%;height:auto}.sentence{margin:8px 0 4px;color:#334}
"""


def write_html(report: dict[str, Any], path: Path, max_chars: int = 600) -> Path:
    """Render and write atomically (a reader never sees half a report)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_html(report, max_chars), encoding="utf-8")
    os.replace(tmp, path)
    return path


def render_html(report: dict[str, Any], max_chars: int = 600) -> str:
    parts = [_header(report), "<main>"]
    parts += [f'<div class="warn">{escape(w)}</div>' for w in report.get("warnings", [])]
    parts.append(_rejects(report["rejects"]))
    if report.get("training"):
        parts.append(_training(report["training"]))
    if report["kind"] == "eval_result":
        parts.append(_accuracy((report.get("manifest") or {}).get("stats") or {}))
    if report["records"] or not report.get("training"):  # a model folder has curves, not records
        parts.append(_distributions(report.get("metrics", [])))
    parts.append(_manifest(report.get("manifest")))
    if report.get("samples"):
        parts.append(f"<h2>Sample records ({len(report['samples'])}, seed {report.get('seed')})</h2>")
        parts += [sample(report["kind"], r, max_chars) for r in report["samples"]]
    if report["rejects"].get("samples"):
        parts.append("<h2>Sample rejects</h2>")
        parts += [reject(r, max_chars) for r in report["rejects"]["samples"]]
    parts.append("</main>")
    version = (report.get("manifest") or {}).get("synth_version", "")
    parts.append(f"<footer>synth inspect {escape(str(version))} · one streaming pass · open offline</footer>")
    title = escape(f"synth inspect — {report['target']}")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>{''.join(parts)}</body></html>\n")


def _header(report: dict) -> str:
    m = report.get("manifest") or {}
    counts, tokens = m.get("counts") or {}, m.get("tokens") or {}
    cards = [("records", report["records"] if report["records"] or not report.get("training") else None), ("input", counts.get("input")), ("rejected", report["rejects"]["total"]),
             ("seconds", (m.get("timings") or {}).get("seconds")), ("status", m.get("status")),
             *((k.replace("_", " "), v) for k, v in tokens.items())]
    stats = "".join(f'<div class="stat"><b>{escape(fmt.number(v))}</b><span>{escape(k)}</span></div>'
                    for k, v in cards if v is not None)
    command = f" · synth {escape(str(m['command']))}" if m.get("command") else ""
    return (f'<header><h1>synth inspect · {escape(report["kind"])}{command}</h1>'
            f'<div class="target">{escape(report["target"])}</div><div class="cards">{stats}</div></header>')


def _panel(title: str, sub: str, chart: str) -> str:
    return f'<div class="panel"><h3>{escape(title)}</h3><div class="sub">{escape(sub)}</div>{chart}</div>'


def _rejects(rejects: dict) -> str:
    if not rejects["total"]:
        return "<h2>Rejects</h2><p>No rejects.</p>"
    items = list(rejects["by_reason"].items())
    panels = [_panel("by reason", f"{rejects['total']} rejects (from {rejects['source']})",
                     svg.bars(items, "rejects by reason", color=svg.REJECT))]
    if len(rejects.get("by_step") or {}) > 1:
        panels.append(_panel("by step", "", svg.bars(list(rejects["by_step"].items()), "rejects by step", svg.REJECT)))
    return f'<h2>Rejects</h2><div class="grid2">{"".join(panels)}</div>'


def _training(training: dict) -> str:
    curves, summary = training["curves"], training["summary"]
    groups = [("loss", [n for n in curves if n.endswith("loss")]), ("throughput (tokens/s)", ["tokens_per_s"]),
              ("MFU", ["mfu"]), ("learning rate", ["lr"]), ("gradient norm", ["grad_norm"])]
    used = {n for _, names in groups for n in names}
    groups += [(n, [n]) for n in curves if n not in used]
    panels = []
    for title, names in groups:
        series = [(n, curves[n]) for n in names if curves.get(n)]
        if series:
            sub = "; ".join(f"{n}: last {fmt.number(summary.get(n, {}).get('last'))}, "
                            f"min {fmt.number(summary.get(n, {}).get('min'))}" for n, _ in series)
            flat = {y for _, pts in series for _, y in pts}
            chart = (_sentence(f"constant at {fmt.number(flat.pop())} over every logged step") if len(flat) == 1
                     else svg.lines(series, title))
            panels.append(_panel(title, sub, chart))
    notes = f"steps {fmt.number(summary.get('steps'))} · elapsed {fmt.number(summary.get('elapsed_s'))} s"
    if summary.get("steady_tokens_per_s"):
        notes += f" · steady {fmt.number(summary['steady_tokens_per_s'])} tokens/s"
    if training.get("malformed_lines"):
        notes += f" · {training['malformed_lines']} malformed log line(s) skipped"
    return f'<h2>Training curves</h2><p>{escape(notes)}</p><div class="grid2">{"".join(panels)}</div>'


def _sentence(text: str) -> str:
    return f'<p class="sentence">{escape(text)}</p>'


def single_value(m: dict) -> str | None:
    """A distribution with one value carries no shape: say it in words instead of drawing one bar."""
    every = f"every {m['per']} ({fmt.number(m['n'])})"
    if m["type"] == "numeric" and m["n"] and m["min"] == m["max"]:
        return f"{every}: {fmt.number(m['min'])}"
    if m["type"] == "categorical" and len(m["counts"]) == 1 and not m.get("other"):
        return f"{every}: {next(iter(m['counts']))}"
    if m["type"] == "matrix":
        used = {c for cells in m["rows"].values() for c, v in cells.items() if v}
        if len(used) == 1:
            return f"{every}: {used.pop()} in all of {', '.join(m['rows'])}"
    return None


def _accuracy(stats: dict) -> str:
    """Eval reports: accuracy per slice (tier, hops, topology, category), one bar chart per breakdown."""
    panels = []
    for key, groups in stats.items():
        if not key.startswith("by_") or not isinstance(groups, dict):
            continue
        rows = [(str(name), g["accuracy"], g.get("items") or 0) for name, g in groups.items()
                if isinstance(g, dict) and isinstance(g.get("accuracy"), (int, float))]
        if rows:
            title = f"accuracy by {key[3:]}"
            panels.append(_panel(title, f"{len(rows)} slices · overall {fmt.number(stats.get('accuracy'))}",
                                 svg.rates(rows, title) if len(rows) > 1 else
                                 _sentence(f"one {key[3:]} ({rows[0][0]}): {100 * rows[0][1]:.0f}% of {rows[0][2]}")))
    if not panels:
        return ""
    return f'<h2>Accuracy by slice</h2><div class="grid2">{"".join(panels)}</div>'


def _distributions(metrics: list[dict]) -> str:
    panels = []
    for m in metrics:
        if (words := single_value(m)) is not None:
            panels.append(_panel(m["title"], f"per {m['per']} · n {fmt.number(m['n'])}", _sentence(words)))
            continue
        if m["type"] == "numeric":
            sub = (f"per {m['per']} · n {fmt.number(m['n'])} · mean {fmt.number(m['mean'])} · p50 {fmt.number(m['p50'])}"
                   f" · p90 {fmt.number(m['p90'])} · min {fmt.number(m['min'])} · max {fmt.number(m['max'])}")
            chart = svg.histogram(fmt.dense_bins(m["histogram"]), m["integer"], m["title"])
        elif m["type"] == "categorical":
            items = list(m["counts"].items())[:15]
            rest = m["n"] - sum(c for _, c in items)
            items += [(f"{len(m['counts']) - 15 if len(m['counts']) > 15 else 0} more / other", rest)] if rest else []
            sub = f"per {m['per']} · n {fmt.number(m['n'])} · {len(m['counts'])} distinct"
            chart = svg.bars(items, m["title"])
        else:
            sub = f"per {m['per']} · n {fmt.number(m['n'])}"
            chart = svg.stacked(m["rows"], m["columns"], m["title"])
        panels.append(_panel(m["title"], sub, chart))
    if not panels:
        return "<h2>Distributions</h2><p>No records.</p>"
    return f'<h2>Distributions</h2><div class="grid2">{"".join(panels)}</div>'


def _manifest(manifest: dict | None) -> str:
    if not manifest:
        return "<h2>Manifest</h2><p>No manifest.json.</p>"
    rows = [("command", manifest.get("command")), ("config hash", manifest.get("config_hash")),
            ("output hash", manifest.get("output_hash")), ("timings", manifest.get("timings")),
            ("executor", manifest.get("executor"))]
    rows += [(f"input {i['path']}", f"{i.get('kind') or ''} {fmt.number(i.get('records'))} records")
             for i in manifest.get("inputs") or [] if isinstance(i, dict)]
    rows += [(f"config.{k}", v) for k, v in fmt.flatten(_settings(manifest))]
    rows += [(f"stats.{k}", v) for k, v in fmt.flatten(manifest.get("stats") or {})][:60]
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(fmt.clip(_plain(v), 300))}</td></tr>"
                   for k, v in rows if v not in (None, ""))
    return f'<h2>Manifest</h2><div class="panel"><table class="fields">{body}</table></div>'


def _settings(manifest: dict) -> dict:
    """The config, less a training run's settings for other modes (an SFT run lists no GRPO options)."""
    config = manifest.get("config") or {}
    if manifest.get("command") != "train":
        return config
    from synth.trainers.config import field_modes

    modes = field_modes()
    return {k: v for k, v in config.items() if config.get("mode", "sft") in modes.get(k, (config.get("mode", "sft"),))}


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt.number(v)}" for k, v in value.items())
    return fmt.number(value) if isinstance(value, (int, float)) else str(value)
