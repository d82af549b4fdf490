"""The rule judge: on FOLDOC solver paths candidate checks that tell the agent something and the answer get loss
1, checks that add nothing (seen whole in the list, beyond the cap in a row) do not; errors, recoveries,
verification and redundant calls are told apart; imported data without gold evidence is labelled honestly and
agrees with hand labels of real turns."""

from __future__ import annotations

import json

from synth.pipelines.labels.rule import label_turns
from synth.pipelines.trajectories.importer import convert_record

from synth.dataset import read_records
from tests.core.helpers import synth
from tests.trajectories.fixtures import manifest


def test_solver_checks_and_answers_carry_loss(gold, tmp_path):
    """On solver trajectories the rule judge gives loss 1 to confirmed candidates, to the searches that find gold
    evidence and to the answer; a ruled-out check carries loss unless it revealed nothing the result list had not
    shown or is beyond the cap of checks in a row (then `redundant`); nothing it labels is an error."""
    out = tmp_path / "labelled"
    res = synth("label", "turns", str(gold), "--out", str(out), "--judge", "rule", "--json")
    assert res.returncode == 0, res.stderr
    records = list(read_records([out]))
    assert len(records) == manifest(gold)["counts"]["output"]
    checked = kept = 0
    for record in records:
        turns = [m for m in record["messages"] if m["role"] == "assistant"]
        notes = record["metadata"]["gold_path"]
        assert len(notes) == len(turns)
        for note in notes:
            message = turns[note["turn"]]
            assert message["turn_label"]["judge"] == "rule" and message["weight"] == float(message["loss"])
            label = message["turn_label"]
            if note["kind"] in ("confirmed", "answer"):
                assert message["loss"] == 1 and label["label"] in ("essential", "recovery"), note
            if note["kind"] == "ruled_out":
                kept += message["loss"]
                assert message["loss"] == 1 or (label["label"] == "redundant" and (
                    "already showed" in label["reason"] or "a list scan" in label["reason"])), (note, label)
            checked += 1
        assert all(m["loss"] == 0 and m["weight"] == 0 for m in record["messages"] if m["role"] != "assistant")
    stats = manifest(out)["stats"]
    assert stats["assistant_turns"] == checked and stats["judges"] == {"rule": checked}
    assert "error" not in stats["labels"] and stats["labels"]["essential"] > 0 and kept > 0
    assert synth("validate", str(out)).returncode == 0


def test_label_semantics_on_a_hand_made_trajectory():
    evidence = {"answer_doc_id": "python", "docs": ["python", "guido"],
                "facts": [{"doc_id": "guido", "start": 0, "end": 20, "quote": "Guido van Rossum is a"}]}

    def turn(i, name, args, result):
        c = {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        return [{"role": "assistant", "tool_calls": [c]}, {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(result)}]

    page = {"doc_id": "guido", "page": 0, "start": 0, "end": 300, "text": "..."}
    messages = [{"role": "user", "content": "q"},
                *turn(0, "search", {"query": "x"}, {"results": [{"doc_id": "cwi"}]}),                     # nothing gold
                *turn(1, "search", {"query": "guido"}, {"results": [{"doc_id": "guido"}]}),               # new gold doc
                *turn(2, "open", {"doc_id": "guidoo"}, {"error": "doc_not_found"}),                       # error
                *turn(3, "open", {"doc_id": "guido"}, page),                                              # reads the fact
                *turn(4, "open", {"doc_id": "guido"}, page),                                              # the same again
                *turn(5, "search", {"query": "python"}, {"results": [{"doc_id": "guido"}]}),              # known gold only
                {"role": "assistant", "content": "<answer>Python</answer>"}]
    record = {"id": "h", "messages": messages, "answer": "Python", "evidence": evidence}
    labels = label_turns(record)
    assert [labels[i].label for i in sorted(labels)] == ["unnecessary", "essential", "error", "recovery", "redundant",
                                                          "redundant", "essential"]
    record["predicted_answer"] = "Perl"
    assert label_turns(record)[len(messages) - 1].label == "wrong_answer"


def test_imported_trajectories_without_gold_evidence(shared_data):
    """WebDancer has gold answers but no evidence chain: a result that first mentions the answer is the gain;
    nothing is called unnecessary, because no rule can know it was."""
    from collections import Counter

    middle, finals = Counter(), Counter()
    for line in (shared_data / "trajectories" / "webdancer_sample_traj.hermes.jsonl").open():
        labels = label_turns(convert_record(json.loads(line), "hermes"))
        final = max(labels)
        finals[labels[final].label] += 1
        middle.update(labels[i].label for i in labels if i != final)
    # WebDancer's answers are sentences ("... is the **Epsom Derby** ...") and its gold answers paraphrases
    # ("English horse race Derby"): the strict rule accepts none of them; that is the LLM judge's job
    assert set(finals) <= {"essential", "wrong_answer"}
    assert set(middle) <= {"essential", "unverified", "redundant", "error"} and middle["essential"] > 0


def test_candidate_checks_and_recoveries_carry_loss():
    """Opening a candidate an on-topic search listed is verification (essential, even when it is ruled out); the
    search after a dead end that reaches new evidence is a recovery; an off-topic search and a repeat are not."""
    evidence = {"answer_doc_id": "python", "docs": ["python"],
                "facts": [{"doc_id": "python", "start": 0, "end": 10, "quote": "A language"}]}

    def turn(i, name, args, result):
        c = {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        return [{"role": "assistant", "tool_calls": [c]}, {"role": "tool", "tool_call_id": c["id"], "content": json.dumps(result)}]

    page = {"doc_id": "perl", "page": 0, "start": 0, "end": 300, "text": "Perl is a language by Larry Wall."}
    gold = {"doc_id": "python", "page": 0, "start": 0, "end": 300, "text": "A language by Guido."}
    messages = [{"role": "user", "content": "Which scripting language did the Dutch programmer create?"},
                *turn(0, "search", {"query": "scripting language Dutch"}, {"results": [{"doc_id": "perl"}]}),
                *turn(1, "open", {"doc_id": "perl"}, page),                      # a candidate checked: ruled out
                *turn(2, "open", {"doc_id": "perl"}, page),                      # the same again
                *turn(3, "search", {"query": "banana bread"}, {"results": [{"doc_id": "cake"}]}),   # off-topic
                *turn(4, "open", {"doc_id": "cake"}, {**page, "doc_id": "cake"}),  # listed by an off-topic search
                *turn(5, "search", {"query": "Dutch programmer language"}, {"results": [{"doc_id": "python"}]}),
                *turn(6, "open", {"doc_id": "python"}, gold),
                {"role": "assistant", "content": "<answer>Python</answer>"}]
    record = {"id": "c", "question": messages[0]["content"], "messages": messages, "answer": "Python",
              "evidence": evidence}
    labels = label_turns(record)
    got = [labels[i].label for i in sorted(labels)]
    assert got == ["unnecessary", "essential", "redundant", "unnecessary", "unnecessary", "recovery", "essential",
                   "essential"], got
    assert labels[3].reason == "ruled out candidate perl" and labels[3].loss == 1


def _call(i, name, args, result):
    c = {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
    return [{"role": "assistant", "tool_calls": [c]}, {"role": "tool", "tool_call_id": c["id"], "content": json.dumps(result)}]


def test_checks_that_add_nothing_carry_no_loss():
    """Information gain of a check: a page whose whole text the result list showed is redundant; after CHECK_CAP
    ruled-out checks in a row a further one is a list scan (redundant) unless it reaches gold; a new search starts
    a new run."""
    from synth.pipelines.labels.rule import CHECK_CAP

    names = ["perl", "ruby", "tcl", "lua", "awk", "python"]
    listing = {"results": [{"doc_id": d, "snippet": f"{d} is a language" + (" …" if d != "awk" else "")} for d in names]}

    def page(d):
        return {"doc_id": d, "page": 0, "start": 0, "end": 300,
                "text": "awk is a language" if d == "awk" else f"{d} is a language with a long history and more text"}

    messages = [{"role": "user", "content": "Which scripting language did the Dutch programmer create?"},
                *_call(0, "search", {"query": "scripting language"}, listing),
                *[m for i, d in enumerate(["perl", "ruby", "tcl", "lua", "awk"]) for m in _call(i + 1, "open", {"doc_id": d}, page(d))],
                *_call(6, "search", {"query": "Dutch scripting language"}, {"results": [{"doc_id": "rexx"}, {"doc_id": "python"}]}),
                *_call(7, "open", {"doc_id": "rexx"}, page("rexx")),
                *_call(8, "open", {"doc_id": "python"}, page("python")),
                {"role": "assistant", "content": "<answer>Python</answer>"}]
    evidence = {"answer_doc_id": "python", "docs": ["python"],
                "facts": [{"doc_id": "python", "start": 0, "end": 10, "quote": "python is"}]}
    record = {"id": "s", "question": messages[0]["content"], "messages": messages, "answer": "Python", "evidence": evidence}
    labels = label_turns(record)
    got = [(labels[i].label, labels[i].loss) for i in sorted(labels)]
    assert CHECK_CAP == 3
    assert got[1:4] == [("essential", 1)] * 3                                   # perl, ruby, tcl: ruled out, checks
    assert got[4] == ("redundant", 0) and "a list scan" in labels[sorted(labels)[4]].reason   # lua: the fourth
    assert got[5] == ("redundant", 0) and "already showed" in labels[sorted(labels)[5]].reason   # awk: seen whole
    assert got[7] == ("essential", 1)                  # rexx: a new search, a new run
    assert got[8] == ("recovery", 1) and got[9] == ("essential", 1)   # python: gold after the dead end; answer


def test_agreement_with_hand_labelled_real_turns():
    """>= 40 turns of real trajectories labelled by reading them; the rule judge agrees on most (figure in
    docs/benchmarks.md, issue 21). The turns it gets wrong are paraphrased answers the rule cannot see and
    unsupported or hedged answers it cannot judge without a gold answer."""
    from tests.labels.hand_labels import agreement

    result = agreement()
    assert result["turns"] >= 40
    assert result["rate"] >= 0.85, result["disagreements"]
