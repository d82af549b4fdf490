"""`visit` with a teacher: the LLM extract under VISIT_EXTRACT_SCHEMA, over real HTTP to a scripted server."""

from __future__ import annotations

import json

import pytest

from synth.env.cache import MemoryCache
from synth.env.corpus import Corpus
from synth.env.extract import TeacherExtractor
from synth.env.tools import VISIT_EXTRACT_SCHEMA, ToolBox
from tests.teachers.fake_openai import FakeOpenAI, Say, script

EXTRACT = {"rational": "passage 1 names the award", "evidence": "won the Turing Award in 1984",
           "summary": "He won the Turing Award (1984)."}
ARGS = {"doc_id": "wirth", "goal": "which award did he win", "k": 2}


def test_visit_extract_through_the_teacher(tiny_corpus):
    with FakeOpenAI(handler=lambda req: Say(json.dumps(EXTRACT))) as server:
        cache = MemoryCache()
        box = ToolBox(Corpus(tiny_corpus), cache=cache, extractor=TeacherExtractor(server.url, "fake-model"))
        result = box.call("visit", ARGS)
        assert result["extract"] == EXTRACT and result["passages"]
        assert box.call("visit", ARGS) == result and len(server.completions()) == 1  # cached
        body = server.completions()[0].body
        assert body["temperature"] == 0.0 and body["model"] == "fake-model"
        assert body["response_format"]["json_schema"]["schema"] == VISIT_EXTRACT_SCHEMA
        prompt = body["messages"][-1]["content"]
        assert "Goal: which award did he win" in prompt and result["passages"][0]["text"] in prompt
    plain = ToolBox(Corpus(tiny_corpus), cache=cache).call("visit", ARGS)  # no teacher: another cache entry
    assert "extract" not in plain and plain["passages"] == result["passages"]


@pytest.mark.parametrize("reply,reason", [
    (Say("not json at all"), "teacher_unparsable"),
    (Say(json.dumps({"summary": "x"})), "teacher_schema_invalid"),
    (Say('{"rational": "', finish_reason="length"), "teacher_truncated"),
])
def test_failed_extract_keeps_passages_and_is_not_cached(tiny_corpus, reply, reason):
    with FakeOpenAI(handler=script(reply, then=lambda req: Say(json.dumps(EXTRACT)))) as server:
        box = ToolBox(Corpus(tiny_corpus), extractor=TeacherExtractor(server.url, "fake-model"))
        failed = box.call("visit", ARGS)
        assert failed["extract"] is None and failed["extract_error"] == reason and failed["passages"]
        assert box.call("visit", ARGS)["extract"] == EXTRACT  # retried, not served from the cache
