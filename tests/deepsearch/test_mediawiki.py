"""Issue 20: the deep-search pipeline works unchanged on a MediaWiki corpus (export written here from the
mini dictionary: [[wikilinks]], [[Category:...]] tags, revision timestamps)."""

from __future__ import annotations

import json
import re

import pytest
from synth.pipelines.deepsearch.verbalize import PLACEHOLDER

from synth.dataset import read_records
from tests.core.helpers import synth
from tests.deepsearch.corpus import MINI
from tests.env.test_mediawiki import export, page


def wikitext(text: str, links: list[str], cats: list[str]) -> str:
    for title in links:  # the first occurrence of each linked title becomes a wikilink
        text = text.replace(title, f"[[{title}]]", 1) if title in text else text
    return text + "".join(f"\n[[Category:{c}]]" for c in cats)


@pytest.mark.slow
def test_generate_deepsearch_on_a_mediawiki_export(tmp_path):
    pages = [page(100 + i, title, [(f"{updated}T00:00:00Z", wikitext(text, links, cats))])
             for i, (_, title, cats, updated, text, links) in enumerate(MINI)]
    dump = tmp_path / "wiki.xml"
    dump.write_text(export(pages), encoding="utf-8")
    corpus, out = tmp_path / "corpus", tmp_path / "out"
    built = synth("corpus", "build", str(dump), "--no-dense", "--out", str(corpus))
    assert built.returncode == 0, built.stderr
    res = synth("generate", "deepsearch", "--corpus", str(corpus), "--out", str(out), "--num", "1", "--seed", "3",
                "--since", "2025-01-01", "--shortcut-k", "1", "--attempts", "8", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["counts"]["output"] == 1
    (task,) = list(read_records([out]))
    assert task["answer"] == "Zorblang" and not PLACEHOLDER.search(task["question"]) and " entry" not in task["question"]
    assert not re.search(r"Zorblang|ZBL", task["question"])
    assert task["verification"]["shortcut"]["status"] == "passed" and task["verification"]["no_leak"]["status"] == "passed"
