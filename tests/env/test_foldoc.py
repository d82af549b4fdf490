"""dictd/FOLDOC parsing: text rules, links with exact spans, categories, dates, aliases."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from synth.env.sources import foldoc
from synth.env.sources.dictd import B64, iter_blocks
from synth.errors import UserError

ENTRY = """\
Python

   1. <language> A simple, high-level interpreted language
   invented by Guido van Rossum <guido@cwi.nl> in 1991.  Python
   combines ideas from {ABC}, {C}, {Modula-3} and {Icon}.  See
   {Python home (http://python.org/)} and {rapid
   prototyping}.

   (2007-02-21)

   2. <compiler> A {compiler} for {CMU Common LISP}.

   (1997-02-27)

"""


def test_body_rules_give_exact_spans():
    head, _, body = ENTRY.partition("\n\n")
    text, links, categories, updated = foldoc.parse_body(body)
    assert text.startswith("1. A simple, high-level interpreted language invented by Guido van Rossum")
    assert "{" not in text and "<language>" not in text and "(1997-02-27)" not in text
    assert "(2007-02-21)" in text  # datelines of earlier senses stay; only the trailing one goes
    assert [link.target for link in links] == ["ABC", "C", "Modula-3", "Icon", "rapid prototyping", "compiler",
                                         "CMU Common LISP"]
    for link in links:
        assert text[link.start:link.end] == link.anchor
    assert "Python home (http://python.org/)" in text  # external reference: braces gone, no link
    assert categories == ["language", "compiler"]
    assert updated.isoformat() == "2007-02-21T00:00:00+00:00"  # the latest dateline


def test_category_lists_and_code_blocks():
    body = "   <networking, standard> A {protocol}.\n\n   Example:\n\n    x = 1\n    y = 2\n\n   (1999-01-02)\n"
    text, links, categories, updated = foldoc.parse_body(body)
    assert categories == ["networking", "standard"]
    assert text == "A protocol.\n\nExample:\n\n x = 1\n y = 2"
    assert updated.year == 1999 and links[0].target == "protocol"


def _b64(n: int) -> str:
    out = ""
    while True:
        out = B64[n % 64] + out
        n //= 64
        if n == 0:
            return out


def write_dictd(folder: Path, entries: list[tuple[list[str], str]], name: str = "mini") -> Path:
    """A real dictfmt pair (index + dict.dz) written from (headwords, body) entries."""
    blob, index = b"", []
    meta = "00-database-url\n     http://example.org\n"
    for headwords, body in [(["00-database-url"], meta)] + entries:
        block = ("\n".join(headwords) + "\n\n" + body).encode() if headwords[0] != "00-database-url" else meta.encode()
        for word in headwords:
            index.append(f"{word.lower()}\t{_b64(len(blob))}\t{_b64(len(block))}")
        blob += block
    (folder / f"{name}.index").write_text("\n".join(sorted(index)) + "\n", encoding="utf-8")
    with gzip.open(folder / f"{name}.dict.dz", "wb") as fh:
        fh.write(blob)
    return folder / f"{name}.index"


def test_dictd_pair_blocks_and_aliases(tmp_path):
    index = write_dictd(tmp_path, [(["Visual BASIC", "VB"], "   <language> A {BASIC} dialect.\n\n   (1996-01-01)\n"),
                                   (["BASIC"], "   <language> Beginner's {All-purpose} code.\n")])
    blocks = list(iter_blocks(index))
    assert [b.headwords for b in blocks] == [["Visual BASIC", "VB"], ["BASIC"]]  # metadata block skipped
    docs = list(foldoc.iter_dictd(index))
    assert docs[0].id == "Visual BASIC" and docs[0].aliases == ["VB"] and docs[0].text == "A BASIC dialect."
    assert docs[1].updated_at is None


def test_missing_foldoc_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_DICTD_PATH", str(tmp_path))
    monkeypatch.setattr(foldoc, "SEARCH_DIRS", (str(tmp_path),))
    monkeypatch.setattr(foldoc, "_dpkg_dirs", list)
    with pytest.raises(UserError, match="apt-get install dict-foldoc") as err:
        foldoc.find_foldoc()
    assert "\n" not in str(err.value)


def test_foldoc_env_var_points_at_a_copy(monkeypatch, tmp_path):
    write_dictd(tmp_path, [(["x"], "   y\n")], name="foldoc")
    monkeypatch.setenv("SYNTH_DICTD_PATH", str(tmp_path))
    assert foldoc.find_foldoc() == tmp_path / "foldoc.index"
