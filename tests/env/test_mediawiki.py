"""MediaWiki export -> corpus: a round trip of title, text, links and timestamps (export written here)."""

from __future__ import annotations

import bz2
from pathlib import Path

import polars as pl
import pytest

from synth.env.build import BuildConfig, build_corpus
from synth.env.corpus import Corpus
from synth.env.sources.mediawiki import iter_mediawiki
from synth.env.sources.wikitext import to_text
from synth.errors import InputError

NS = "http://www.mediawiki.org/xml/export-0.11/"


def page(pid: int, title: str, revisions: list[tuple[str, str]], ns: int = 0, redirect: str | None = None) -> str:
    revs = "".join(f"<revision><id>{pid}{i}</id><timestamp>{ts}</timestamp><text xml:space=\"preserve\">"
                   f"{text.replace('&', '&amp;').replace('<', '&lt;')}</text></revision>"
                   for i, (ts, text) in enumerate(revisions))
    red = f'<redirect title="{redirect}" />' if redirect else ""
    return f"<page><title>{title}</title><ns>{ns}</ns><id>{pid}</id>{red}{revs}</page>"


def export(pages: list[str]) -> str:
    siteinfo = ('<siteinfo><sitename>Test</sitename><namespaces><namespace key="6">Datei</namespace>'
                '<namespace key="14">Kategorie</namespace></namespaces></siteinfo>')
    return f'<mediawiki xmlns="{NS}" version="0.11" xml:lang="en">{siteinfo}{"".join(pages)}</mediawiki>'


PAGES = [
    page(10, "Ada Lovelace", [
        ("2020-01-01T00:00:00Z", "old text [[Nothing]]"),
        ("2023-05-06T07:08:09Z", "{{Infobox person|name=Ada}}'''Ada Lovelace''' was an English "
                                 "[[mathematician]] who worked on [[Charles Babbage|Babbage]]'s "
                                 "[[Analytical Engine]].<ref>A ref [[Hidden]]</ref>\n\n== Life ==\n"
                                 "Born in [[London]]s.\n[[Datei:Ada.jpg|thumb|A [[portrait]]]]\n"
                                 "[[Kategorie:Mathematicians]]"),
    ]),
    page(11, "Charles Babbage", [("2022-02-02T02:02:02Z", "'''Charles Babbage''' designed the "
                                                          "[[Analytical Engine]].")]),
    page(12, "Analytical Engine", [("2021-03-03T03:03:03Z", "A mechanical computer by [[Charles Babbage]].")]),
    page(13, "London", [("2019-04-04T04:04:04Z", "Capital of England.")]),
    page(14, "Mathematician", [("2018-05-05T05:05:05Z", "Someone who does mathematics.")]),
    page(15, "Babbage", [("2022-06-06T06:06:06Z", "#REDIRECT [[Charles Babbage]]")], redirect="Charles Babbage"),
    page(16, "Talk:London", [("2022-06-06T06:06:06Z", "chatter")], ns=1),
]


@pytest.fixture(params=["xml", "xml.bz2"])
def dump(request, tmp_path) -> Path:
    data = export(PAGES).encode()
    path = tmp_path / f"wiki.{request.param}"
    path.write_bytes(bz2.compress(data) if request.param.endswith("bz2") else data)
    return path


def test_round_trip(dump, tmp_path):
    out = tmp_path / "corpus"
    build_corpus(str(dump), out, BuildConfig(dense=False, show_progress=False))
    corpus = Corpus(out)
    ada = corpus.get("10")
    assert ada.title == "Ada Lovelace"
    assert ada.text == ("Ada Lovelace was an English mathematician who worked on Babbage's Analytical Engine."
                        "\n\nLife\n\nBorn in Londons.")
    assert ada.updated_at == "2023-05-06T07:08:09Z"  # latest revision
    assert ada.categories == ["Mathematicians"]  # localized namespace from <siteinfo>
    links = pl.read_parquet(out / "graph" / "links.parquet").filter(pl.col("src") == "10").to_dicts()
    assert [(x["dst"], x["anchor"]) for x in links] == [("14", "mathematician"), ("11", "Babbage"),
                                                       ("12", "Analytical Engine"), ("13", "Londons")]
    for link in links:
        assert ada.text[link["start"]:link["end"]] == link["anchor"]
    assert corpus.get("15").redirect_to == "11" and corpus.by_title("Babbage").id == "11"
    assert corpus.get("16") is None  # talk namespace skipped
    assert corpus.out_neighbors("11") == ["12"] and set(corpus.in_neighbors("11")) == {"10", "12"}


def test_wikitext_nesting_and_trails():
    text, links, cats = to_text("{{a|{{b}}}}x [[A|b]]c [[File:x.png|t [[L]]]] {|\n|t\n|} [http://u label] &amp;")
    assert text == "x bc label &"
    assert links[0].target == "A" and text[links[0].start:links[0].end] == "bc" and cats == []


def test_malformed_xml_names_the_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<mediawiki><page><title>x</title>", encoding="utf-8")
    with pytest.raises(InputError, match="bad.xml"):
        list(iter_mediawiki(bad))
