"""The rule judge: information gain of every assistant turn against the task's gold evidence.

For a turn with tool calls, each result is measured (labels/evidence.py) and the turn gets:
    essential    it reached a gold document or read a gold fact for the first time, or it verified: opened for
                 the first time a live candidate (listed by an on-topic search or linked from an opened page) and so
                 confirmed or ruled it out
    recovery     the same, right after failed calls or a dead end (candidates checked and ruled out, searches
                 that reached nothing): the turn that gets the agent going again
    error        a call failed (error result) and nothing new was reached
    redundant    nothing new: the same call again, a result identical to an earlier one, or only evidence
                 already reached
    unnecessary  nothing new and nothing gold touched
A search is on-topic when its query shares a content word with the question, with an entry the agent has
read, or with a gold document reached so far; a candidate listed by an off-topic search teaches nothing when
opened.
Information gain of a check (issue 21): ruling a candidate out is worth a turn only when the open told the agent
something the result list had not: a page whose whole text the list's snippet already showed is `redundant`
(the agent could rule it out, or not, without the call). And a run of ruled-out checks since the last search is
capped: the first CHECK_CAP carry loss, later ones are `redundant` (a list scan), unless one of them reaches gold
evidence, which is a gain and resets the run.
The final turn (no call) is `essential` when the answer is judged correct, `wrong_answer` when not,
`answer` when there is no gold answer. A turn without a call that is not the last is `dialogue`.

Without gold evidence (imported data), "new evidence" falls back to the first tool result that mentions
the gold answer or an alias; other successful, non-repeated calls are `unverified` (kept with loss 1,
as plain assistant-only training would) because no rule can call them unnecessary.
"""

from __future__ import annotations

from synth.pipelines.labels.apply import TurnLabel, apply_labels
from synth.pipelines.labels.evidence import Evidence, Gain, _json
from synth.pipelines.trajectories.clues import content_words
from synth.pipelines.trajectories.judge import match, normalize
from synth.pipelines.trajectories.messages import (
    call_signature,
    final_answer,
    parse_arguments,
    result_error,
    turns,
)

from synth.records import Reject
from synth.steps import RecordStep

JUDGE = "rule"
# On the FOLDOC solver's gold paths (86 trajectories, 335 gold documents opened after a search) 83% of gold
# documents are the first page opened after the search, 93% among the first three, 95% among the first four:
# a fourth ruled-out open in a row is the tail of scanning a result list, not a check a reader would plan.
CHECK_CAP = 3
SHOWN = "opened a page whose whole text the result list already showed"
FAILED_CHECK = ("ruled out", "ruled-out check", SHOWN)   # reasons of a candidate that did not fit: a dead end so far


def _answer_gain(names: list[str], seen: set[str], content: str | None) -> Gain:
    from synth.pipelines.trajectories.messages import result_error

    error = result_error(content)
    if error is not None:
        return Gain(error=error)
    text = normalize(content)
    found = [n for n in names if n and f" {n} " in f" {text} " and n not in seen]
    seen.update(found)
    return Gain(docs=found, touched=any(n and f" {n} " in f" {text} " for n in names))


def _final_label(record: dict, is_last: bool) -> TurnLabel:
    if not is_last:
        return TurnLabel("dialogue", "a reply without a tool call before the end")
    verdict = record.get("judgement") or {}
    if verdict.get("correct") is None:
        verdict = match(record.get("predicted_answer") or final_answer(record["messages"]), record.get("answer"),
                        record.get("aliases"), record.get("question")).to_record()
    if verdict.get("correct") is True:
        return TurnLabel("essential", f"correct final answer ({verdict.get('method')})")
    if verdict.get("correct") is False:
        return TurnLabel("wrong_answer", verdict.get("reason") or "final answer judged wrong")
    return TurnLabel("answer", "final answer; no gold answer to check it against")


class _Candidates:
    """Documents on-topic searches listed, and which of them the agent has opened (verification turns)."""

    def __init__(self, question: str | None):
        self.topic = set(content_words(question))
        self.listed: set[str] = set()
        self.opened: set[tuple[str, int]] = set()
        self.read_titles: set[str] = set()
        self.shown: dict[str, str] = {}    # doc_id -> the normalised snippet a result list showed of it

    def checks(self, step) -> str | None:
        """The candidate a step opens for the first time, if an on-topic search listed it."""
        fn = step.call.get("function") or {}
        args = parse_arguments(fn.get("arguments")) or {}
        doc, page = args.get("doc_id"), args.get("page", 0)
        if fn.get("name") in ("open", "visit") and doc in self.listed and (doc, page) not in self.opened:
            return doc
        return None

    def shown_already(self, step) -> bool:
        """The step opened a page whose whole text a result list had already shown: it reveals nothing."""
        fn = step.call.get("function") or {}
        page = _json(step.result) or {}
        text = normalize(page.get("text")) if fn.get("name") in ("open", "visit") else ""
        return bool(text) and text in self.shown.get(page.get("doc_id"), "")

    def observe(self, step, gold_titles: set[str]) -> None:
        fn = step.call.get("function") or {}
        args = parse_arguments(fn.get("arguments")) or {}
        if fn.get("name") in ("open", "visit") and args.get("doc_id"):
            self.opened.add((args["doc_id"], args.get("page", 0)))   # a further page is a further check
            if result_error(step.result) is None:   # an entry the agent has read is part of what it works on
                self.read_titles.add(normalize(str(args["doc_id"])))
        value = _json(step.result) or {}
        if fn.get("name") == "search" and isinstance(value.get("results"), list):
            text = str(args.get("query") or "")
            padded = f" {normalize(text)} "
            if set(content_words(text)) & (self.topic | gold_titles) or \
                    any(t and f" {t} " in padded for t in self.read_titles):   # a title such as "ITS" is no stop word
                self.listed |= {r.get("doc_id") for r in value["results"] if isinstance(r, dict)}
            self.shown.update({r["doc_id"]: normalize(r.get("snippet")) for r in value["results"]
                               if isinstance(r, dict) and r.get("doc_id") and r.get("snippet")})
        for link in value.get("links") or []:
            if isinstance(link, dict) and link.get("doc_id"):
                self.listed.add(link["doc_id"])


def label_turns(record: dict) -> dict[int, TurnLabel]:
    messages = record.get("messages") or []
    evidence = Evidence(record.get("evidence"))
    names = [normalize(n) for n in [record.get("answer"), *(record.get("aliases") or [])] if n]
    mentioned: set[str] = set()
    candidates = _Candidates(record.get("question"))
    all_turns = list(turns(messages))
    last = all_turns[-1].index if all_turns else -1
    labels: dict[int, TurnLabel] = {}
    seen_calls: set[str] = set()
    seen_results: set[str] = set()   # a call that brings back exactly what an earlier one did adds nothing
    stuck = False    # after a failed call or a dead end: the next useful turn is a recovery
    run = _CheckRun()
    for turn in all_turns:
        if turn.is_final:
            labels[turn.index] = _final_label(record, turn.index == last)
            continue
        gains = [evidence.measure((s.call.get("function") or {}).get("name"), s.result) if evidence
                 else _answer_gain(names, mentioned, s.result) for s in turn.steps]
        sigs = [call_signature(s.call) for s in turn.steps]
        results = [s.result for s in turn.steps]
        repeated = all(sig in seen_calls for sig in sigs) or all(r and r in seen_results for r in results)
        seen_calls.update(sigs)
        seen_results.update(r for r in results if r)
        checked = [d for s in turn.steps if (d := candidates.checks(s)) and not candidates.shown_already(s)] \
            if evidence and not repeated else []
        shown = bool(evidence) and all(candidates.shown_already(s) for s in turn.steps)
        gold_titles = {w for d in evidence.reached for w in content_words(d)}
        for step in turn.steps:
            candidates.observe(step, gold_titles)
        label = run.cap(turn, _turn_label(gains, repeated, stuck, bool(evidence), checked, shown))
        labels[turn.index] = label
        stuck = label.label == "error" or (label.reason or "").startswith(FAILED_CHECK) or (stuck and label.loss == 0)
    return labels


class _CheckRun:
    """Ruled-out candidate checks in a row since the last search or gain; beyond CHECK_CAP they are a list scan."""

    def __init__(self):
        self.length = 0

    def cap(self, turn, label: TurnLabel) -> TurnLabel:
        if any((s.call.get("function") or {}).get("name") == "search" for s in turn.steps) or \
                (label.scores or {}).get("information_gain"):
            self.length = 0
        if not (label.reason or "").startswith(("ruled out", SHOWN)):
            return label
        self.length += 1     # a page seen whole in the list is a check in the run too, just a free one
        if self.length <= CHECK_CAP or label.loss == 0:
            return label
        return TurnLabel("redundant", f"ruled-out check {self.length} in a row since the last search (cap {CHECK_CAP}): "
                                      "a list scan", {**(label.scores or {}), "check_run": self.length})


def _turn_label(gains: list[Gain], repeated: bool, failing: bool, measurable: bool,
                checked: list[str] | None = None, shown: bool = False) -> TurnLabel:
    docs = sorted({d for g in gains for d in g.docs})
    facts = sorted({f for g in gains for f in g.facts})
    errors = [g.error for g in gains if g.error]
    scores = {"information_gain": len(docs) + len(facts), "new_docs": len(docs), "new_facts": len(facts),
              "errors": len(errors)}
    if docs or facts:
        what = ", ".join([f"reached {d}" for d in docs[:3]] + ([f"read {len(facts)} gold fact(s)"] if facts else []))
        return TurnLabel("recovery" if failing else "essential", what, scores)
    if errors:
        return TurnLabel("error", f"tool error: {errors[0]}", scores)
    if checked:   # a candidate read and found not to be gold evidence: the check itself is the work
        scores["candidates_checked"] = len(checked)
        return TurnLabel("essential", f"ruled out candidate {checked[0]}", scores)
    if repeated:
        return TurnLabel("redundant", "the same call (or the same result) as before", scores)
    if shown:
        return TurnLabel("redundant", SHOWN, scores)
    if any(g.touched for g in gains):
        return TurnLabel("redundant", "only evidence that was already reached", scores)
    if not measurable:
        return TurnLabel("unverified", "no gold evidence or answer to measure against", scores)
    return TurnLabel("unnecessary", "reached no gold evidence", scores)


class RuleLabels(RecordStep):
    name = "label turns (rule)"

    def process(self, record: dict) -> dict | Reject:
        if not any(m.get("role") == "assistant" for m in record.get("messages") or []):
            return Reject("no_assistant_turn", "nothing to label")
        return apply_labels(record, label_turns(record), JUDGE)
