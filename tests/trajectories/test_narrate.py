"""Issue 21: the reasoning of gold-path turns says what the agent knows (narrate.py): what the last result
established, quoted from it; what is settled and excluded; which candidates of the current list are still live.
It quotes only what the question or an earlier tool result showed."""

from __future__ import annotations

import json
import re

from synth.pipelines.trajectories.judge import normalize
from synth.pipelines.trajectories.narrate import narrate

from synth.dataset import read_records

_QUOTED = re.compile(r"“([^“”]+)”")


def _turn(i, name, args, result):
    c = {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
    return [{"role": "assistant", "reasoning_content": f"decision {i}", "tool_calls": [c]},
            {"role": "tool", "tool_call_id": c["id"], "content": json.dumps(result)}]


QUESTION = "Which scripting language did the Dutch programmer Guido create?"
LISTING = {"query": "Dutch programmer scripting language", "results": [
    {"doc_id": "perl", "rank": 1, "snippet": "Perl is a scripting language by Larry Wall."},
    {"doc_id": "python", "rank": 2, "snippet": "Python is a scripting language created by a Dutch programmer."},
    {"doc_id": "tcl", "rank": 3, "snippet": "Tcl is a scripting language."}]}
MESSAGES = [{"role": "user", "content": QUESTION},
            *_turn(0, "search", {"query": "Dutch programmer scripting language"}, LISTING),
            *_turn(1, "open", {"doc_id": "perl"}, {"doc_id": "perl", "text": "Perl is a language. It was written by "
                                                   "Larry Wall, an American programmer, in 1987."}),
            *_turn(2, "open", {"doc_id": "python"}, {"doc_id": "python", "text": "Python is a language. Guido van "
                                                     "Rossum, a Dutch programmer, created it in 1991."}),
            {"role": "assistant", "reasoning_content": "answer", "content": "<answer>Python</answer>"}]
NOTES = [{"turn": 0, "kind": "query"}, {"turn": 1, "kind": "ruled_out"}, {"turn": 2, "kind": "confirmed"},
         {"turn": 3, "kind": "answer"}]


def quotes_unseen(messages: list[dict], question: str) -> list[str]:
    """Quoted spans of the narrated part of each assistant turn that neither the question nor an earlier tool result
    contains (a fragment ending in … is matched without it)."""
    seen, unseen = normalize(question), []
    for message in messages:
        if message["role"] == "tool":
            seen += " " + normalize(message.get("content"))
        elif message["role"] == "assistant" and "\n\n" in (message.get("reasoning_content") or ""):
            narrated = message["reasoning_content"].split("\n\n")[0]
            unseen += [q for q in _QUOTED.findall(narrated)
                       if any(normalize(part) not in seen for part in q.split("…") if normalize(part))]
    return unseen


def test_turns_say_what_the_last_result_established_and_what_is_live():
    out = narrate(QUESTION, MESSAGES, NOTES, seed=1)
    said = [m["reasoning_content"] for m in out if m["role"] == "assistant"]
    assert said[0] == "decision 0"                                # nothing is known before the first call
    assert "Python is a scripting language created by a Dutch programmer." in said[1]   # the snippet that bears on Q
    assert "python (rank 2)" in said[1] and "perl (rank 1)" not in said[1]   # live, without the one opened now
    assert "Guido van Rossum, a Dutch programmer, created it in 1991." in said[3]       # the page's key sentence
    assert "perl" in said[3].split("\n\n")[0] and said[3].endswith("answer")            # ruled out, then decision
    assert quotes_unseen(out, QUESTION) == []
    assert narrate(QUESTION, MESSAGES, NOTES, seed=1) == out and narrate(QUESTION, MESSAGES, NOTES, seed=2) != out


def test_solver_paths_quote_only_what_they_have_seen(gold):
    records = list(read_records([gold]))
    narrated = [m for r in records for m in r["messages"] if m["role"] == "assistant" and
                "\n\n" in (m.get("reasoning_content") or "")]
    assert len(narrated) > len(records)        # most turns after the first are narrated
    assert all(quotes_unseen(r["messages"], r["question"]) == [] for r in records)


def test_a_turn_that_follows_a_link_claims_no_live_list():
    linked = [*MESSAGES[:3], *_turn(1, "open", {"doc_id": "cwi"}, {"doc_id": "cwi", "text": "CWI is a research "
                                                                  "institute in Amsterdam."}),
              {"role": "assistant", "reasoning_content": "answer", "content": "<answer>Python</answer>"}]
    said = [m["reasoning_content"] for m in narrate(QUESTION, linked, NOTES[:2], seed=1) if m["role"] == "assistant"]
    assert "rank" not in said[1] and "Dutch programmer" in said[1]   # the results, quoted; no list to fall back on
    assert "CWI is a research institute in Amsterdam." in said[2]
