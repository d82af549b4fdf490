"""MediaWiki import runs in constant memory: peak RSS of the streaming reader at growing dump sizes,
against a whole-tree `ElementTree.parse` baseline measured on the same files.

    python bench/corpus_stream.py                   # 20k and 200k generated pages
    python bench/corpus_stream.py --sizes 10000 100000 --baseline-max 100000

Each measurement runs in its own process (so each peak RSS is its own). The dump is generated here:
pages of ~1.6 kB wikitext with templates, references, wikilinks, categories and a redirect every 20th
page, written to a .xml.bz2 file (the format Wikipedia ships).
"""

from __future__ import annotations

import argparse
import bz2
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDS = ["system", "language", "network", "memory", "protocol", "compiler", "kernel", "process", "signal", "storage", "graph", "vector", "matrix", "parser", "token", "socket", "thread", "buffer", "cache", "index", "query"]


def page_xml(i: int) -> str:
    title = f"Topic {i}"
    if i % 20 == 19:
        body = f"#REDIRECT [[Topic {i - 1}]]"
        return (f"<page><title>{title}</title><ns>0</ns><id>{i}</id><redirect title=\"Topic {i - 1}\" />"
                f"<revision><timestamp>2024-01-01T00:00:00Z</timestamp><text>{body}</text></revision></page>")
    sentences = []
    for j in range(12):
        words = [WORDS[(i * 7 + j * 3 + k) % len(WORDS)] for k in range(14)]
        sentences.append(f"The {' '.join(words)} links to [[Topic {(i * 31 + j) % 1000}|topic {j}]].")
    body = ("{{Infobox thing|name=" + title + "|size={{convert|3|km}}}}\n'''" + title + "''' "
            + " ".join(sentences) + "&lt;ref&gt;A source&lt;/ref&gt;\n== History ==\nMore text.\n"
            + f"[[Category:Generated {i % 50}]]")
    return (f"<page><title>{title}</title><ns>0</ns><id>{i}</id><revision>"
            f"<timestamp>2024-02-{1 + i % 28:02d}T00:00:00Z</timestamp><text>{body}</text></revision></page>")


def write_dump(path: Path, pages: int) -> None:
    with bz2.open(path, "wt", encoding="utf-8") as fh:
        fh.write('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/"><siteinfo><sitename>x</sitename>'
                 "</siteinfo>")
        for i in range(pages):
            fh.write(page_xml(i))
        fh.write("</mediawiki>")


def measure(path: Path, how: str) -> dict:
    start = time.perf_counter()
    if how == "stream":
        from synth.env.sources.mediawiki import iter_mediawiki

        docs = chars = links = 0
        for doc in iter_mediawiki(path):
            docs += 1
            chars += len(doc.text)
            links += len(doc.links)
    else:  # baseline: the whole tree in memory, then the same per-page conversion
        import xml.etree.ElementTree as ET

        from synth.env.sources.mediawiki import _page

        root = ET.parse(bz2.open(path)).getroot()
        docs = chars = links = 0
        for page in root.iter("{http://www.mediawiki.org/xml/export-0.11/}page"):
            doc = _page(page, (0,), {"file"}, {"category"}, "")
            docs += 1
            chars += len(doc.text)
            links += len(doc.links)
    seconds = time.perf_counter() - start
    return {"how": how, "pages": docs, "links": links, "seconds": round(seconds, 1),
            "pages_per_s": round(docs / seconds), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--baseline-max", type=int, default=200_000, help="largest size the baseline runs on")
    parser.add_argument("--measure", nargs=2, metavar=("FILE", "HOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), args.measure[1])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"dump{size}.xml.bz2"
            write_dump(path, size)
            row = {"size": size, "bz2_mb": round(path.stat().st_size / 2**20, 1)}
            for how in ("stream", "tree") if size <= args.baseline_max else ("stream",):
                out = subprocess.run([sys.executable, __file__, "--measure", str(path), how], capture_output=True,
                                     text=True, check=True)
                row[how] = json.loads(out.stdout)
            if "tree" in row:
                row["memory_ratio_tree_over_stream"] = round(row["tree"]["peak_rss_mb"] / row["stream"]["peak_rss_mb"], 1)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
