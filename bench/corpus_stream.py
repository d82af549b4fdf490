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


def page_xml(i: int, pages: int = 1000) -> str:
    title = f"Topic {i}"
    if i % 20 == 19:
        body = f"#REDIRECT [[Topic {i - 1}]]"
        return (f"<page><title>{title}</title><ns>0</ns><id>{i}</id><redirect title=\"Topic {i - 1}\" />"
                f"<revision><timestamp>2024-01-01T00:00:00Z</timestamp><text>{body}</text></revision></page>")
    sentences = []
    for j in range(12):
        words = [WORDS[(i * 7 + j * 3 + k) % len(WORDS)] for k in range(14)]
        sentences.append(f"The {' '.join(words)} links to [[Topic {(i * 31 + j) % pages}|topic {j}]].")
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


HEADER = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/"><siteinfo><sitename>x</sitename>'
          '<namespaces><namespace key="6">File</namespace><namespace key="14">Category</namespace></namespaces>'
          "</siteinfo>")


def write_multistream(path: Path, pages: int, per_stream: int = 100) -> Path:
    """`path` (X.xml.bz2) as Wikipedia's multistream dumps are: a header stream, streams of `per_stream`
    pages, a footer stream; and X-index.txt.bz2 beside it with `offset:id:title` per page. Returns the index."""
    from multiprocessing import Pool

    index = path.with_name(path.name[: -len(".xml.bz2")] + "-index.txt.bz2")
    chunks = [(first, min(first + per_stream, pages), pages) for first in range(0, pages, per_stream)]
    with open(path, "wb") as out, bz2.open(index, "wt", encoding="utf-8") as lines, Pool(2) as pool:
        out.write(bz2.compress(HEADER.encode()))
        for (first, last, _), stream in zip(chunks, pool.imap(_stream, chunks, chunksize=16)):
            lines.write("".join(f"{out.tell()}:{i}:Topic {i}\n" for i in range(first, last)))
            out.write(stream)
        out.write(bz2.compress(b"</mediawiki>\n"))
    return index


def _stream(chunk: tuple[int, int, int]) -> bytes:
    first, last, pages = chunk
    return bz2.compress("".join(page_xml(i, pages) for i in range(first, last)).encode())


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
