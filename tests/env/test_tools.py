"""Agent tools: OpenAI schemas, results, caching, leak guard, argument errors, python via the sandbox."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from synth.env.cache import MemoryCache, SqliteCache
from synth.env.corpus import Corpus
from synth.env.leak import LeakGuard
from synth.env.tools import ToolBox, ToolError, default_sandbox


@pytest.fixture(scope="module")
def box(tiny_corpus) -> ToolBox:
    return ToolBox(Corpus(tiny_corpus))


def test_schemas_are_openai_function_tools(box):
    schemas = box.schemas()
    assert [s["function"]["name"] for s in schemas][:3] == ["search", "open", "visit"]
    for s in schemas:
        assert s["type"] == "function" and s["function"]["description"]
        Draft202012Validator.check_schema(s["function"]["parameters"])


def test_search_open_visit(box):
    found = box.call("search", {"query": "high-level interpreted programming language", "k": 3, "mode": "bm25"})
    top = found["results"][0]
    assert top["doc_id"] == "python" and top["snippet"] in Corpus(box.corpus.paths.root).get("python").text
    page = box.call("open", '{"doc_id": "python"}')  # arguments as JSON text, as in an OpenAI tool call
    assert page["num_pages"] == 1 and page["text"].startswith("Python is a high-level")
    assert {x["doc_id"] for x in page["links"]} == {"guido", "abc", "modula3"}
    for link in page["links"]:
        assert page["text"][link["start"] - page["start"]: link["end"] - page["start"]] == link["anchor"]
    by_title = box.call("open", {"doc_id": "Python (programming language)"})
    assert by_title["doc_id"] == "python" and by_title["resolved_from"] == "Python (programming language)"
    visit = box.call("visit", {"doc_id": "wirth", "goal": "which award did he win", "k": 1})
    best = visit["passages"][0]
    assert "Turing Award" in best["text"][best["match_start"] - best["start"]:] and "extract" not in visit
    assert best["start"] <= best["match_start"] < best["match_end"] <= best["end"]


def test_missing_doc_is_a_result_not_a_crash(box):
    assert box.call("open", {"doc_id": "nope"})["error"] == "doc_not_found"
    assert box.call("open", {"doc_id": "python", "page": 5})["error"] == "page_out_of_range"


@pytest.mark.parametrize("name,args,code", [
    ("search", {}, "invalid_arguments"),
    ("search", {"query": "x", "k": 0}, "invalid_arguments"),
    ("search", {"query": "x", "mode": "magic"}, "invalid_arguments"),
    ("open", "{not json", "invalid_arguments"),
    ("browse", {}, "unknown_tool"),
])
def test_bad_calls_raise_tool_errors(box, name, args, code):
    with pytest.raises(ToolError) as err:
        box.call(name, args)
    assert err.value.code == code


def test_cache_is_keyed_by_tool_arguments_and_corpus(tiny_corpus, tmp_path):
    cache = MemoryCache()
    box = ToolBox(Corpus(tiny_corpus), cache=cache)
    first = box.call("search", {"query": "Lisp inventor"})
    assert box.call("search", {"query": "Lisp inventor", "k": 10, "mode": "hybrid"}) == first  # defaults filled
    assert (cache.hits, cache.misses) == (1, 1)
    disk = SqliteCache(tmp_path / "tools.sqlite")
    ToolBox(Corpus(tiny_corpus), cache=disk).call("open", {"doc_id": "acm"})
    again = SqliteCache(tmp_path / "tools.sqlite")
    assert ToolBox(Corpus(tiny_corpus), cache=again).call("open", {"doc_id": "acm"})["doc_id"] == "acm"
    assert again.hits == 1


def test_leak_guard_drops_results_sharing_a_13_gram(box):
    question = ("Who is a Dutch programmer who created the Python language while working at CWI in Amsterdam, "
                "and which language influenced it?")  # 13 words copied from the 'guido' page
    plain = box.call("search", {"query": "Dutch programmer Python CWI", "k": 5})
    guarded = box.call("search", {"query": "Dutch programmer Python CWI", "k": 5}, question=question)
    assert "guido" in [r["doc_id"] for r in plain["results"]]
    assert "guido" not in [r["doc_id"] for r in guarded["results"]] and guarded["dropped_by_leak_guard"] == 1
    assert box.call("open", {"doc_id": "guido"}, question=question)["error"] == "blocked_by_leak_guard"
    assert not LeakGuard("too short to leak")


def test_python_tool_runs_in_the_sandbox(tiny_corpus):
    sandbox = default_sandbox()
    if sandbox is None:
        pytest.skip("no sandbox backend on this machine")
    box = ToolBox(Corpus(tiny_corpus), sandbox=sandbox)
    assert "python" in box.tools
    result = box.call("python", {"code": "print(sum(range(10)))"})
    assert result["status"] == "ok" and result["stdout"].strip() == "45"


def test_visit_reuses_stored_passage_vectors(tiny_corpus):
    import numpy as np

    from synth.env.chunks import sentences
    from synth.env.dense import encode

    corpus = Corpus(tiny_corpus)
    doc = corpus.get("wirth")
    spans, scores = corpus.rank_passages(doc, "which award did he win")
    assert len(corpus._stored_vectors(doc.row, 99)) == len(spans) == len(sentences(doc.text))
    fresh = encode(["which award did he win"] + [f"{doc.title}: {doc.text[s:e]}" for s, e in spans])
    assert np.allclose(scores, fresh[1:] @ fresh[0], atol=1e-3)


def test_sentence_passages_keep_exact_spans():
    from synth.env.chunks import sentences, window

    text = "A B. See X.\n\nThe first real sentence is here, long enough to stand alone. e.g. short. " + "x" * 400
    spans = sentences(text)
    assert all(text[s:e] == text[s:e].strip() and e - s <= 300 for s, e in spans)
    assert text[spans[0][0]:spans[0][1]].startswith("A B. See X.")  # short fragments joined
    assert window(spans, 0) == (spans[0][0], spans[1][1])
