"""What the agent knows, said at the start of each gold-path turn: the reasoning of a reader, not a log line.

The solver (gold.py) says why it makes each call. This pass adds, before that, what the previous tool result
established and where the search stands, read only from the trajectory so far (question and earlier tool
results, never gold evidence):
  - after a search: how many entries came back and what the leading ones say (a phrase of each snippet, the one
    sharing most words with the question);
  - after an open: the sentence of the page that bears most on the question, quoted;
  - which entities are settled (candidates confirmed) and which were ruled out;
  - which candidates of the current list are still unopened, i.e. what remains live if this call fails.
Wording is chosen by a seeded rng per turn; the text is specific because every slot is the task's own material.
"""

from __future__ import annotations

import json
import random
import re

from synth.pipelines.trajectories.clues import content_words

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _json(content: str | None) -> dict:
    try:
        value = json.loads(content or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _clip(text: str, words: int) -> str:
    parts = " ".join(text.split()).split(" ")
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def best_sentence(text: str, topic: set[str], words: int = 40) -> str:
    """The sentence of `text` that shares most content words with `topic` (the first one on a tie)."""
    sentences = [s.strip() for s in _SENTENCE.split(text or "") if len(s.strip()) > 15]
    if not sentences:
        return ""
    best = max(sentences, key=lambda s: (len(topic & set(content_words(s))), -sentences.index(s)))
    return _clip(best, words)


class _State:
    """What the trajectory has shown so far: the current result list, pages opened, verdicts."""

    def __init__(self, question: str):
        self.topic = set(content_words(question))
        self.listing: list[dict] = []      # the results of the latest search
        self.query = ""
        self.opened: set[str] = set()
        self.confirmed: list[str] = []
        self.ruled_out: list[str] = []

    def observe(self, result: str | None, verdict: str | None) -> None:
        value = _json(result)
        if isinstance(value.get("results"), list):
            self.listing = [r for r in value["results"] if isinstance(r, dict) and r.get("doc_id")]
            self.query = str(value.get("query") or "")
        elif value.get("doc_id"):
            self.opened.add(value["doc_id"])
            kept = {"confirmed": self.confirmed, "ruled_out": self.ruled_out}.get(verdict or "")
            if kept is not None and value["doc_id"] not in kept:
                kept.append(value["doc_id"])

    def live(self, opening: set[str]) -> list[dict]:
        return [r for r in self.listing if r["doc_id"] not in self.opened | opening]


def _established(rng: random.Random, state: _State, result: str | None, own: str) -> str:
    value = _json(result)
    if isinstance(value.get("results"), list):
        hits = [r for r in value["results"] if isinstance(r, dict) and r.get("doc_id")]
        if not hits:
            return rng.choice(["The search for “{q}” found nothing.", "Nothing came back for “{q}”."]).format(
                q=state.query)
        shown = "; ".join(f"{r.get('title') or r['doc_id']} (“{best_sentence(r.get('snippet') or '', state.topic, 14)}”)"
                          for r in hits[:3])
        return rng.choice(["The search for “{q}” returned {n} entries. The top ones: {s}.",
                           "{n} results for “{q}”; leading: {s}.",
                           "Results for “{q}” ({n}): {s}."]).format(q=state.query, n=len(hits), s=shown)
    if value.get("doc_id") and value.get("text"):
        title = value.get("title") or value["doc_id"]
        quote = best_sentence(value["text"], state.topic)
        if quote.rstrip("…") in own:     # the solver already quotes it as its evidence
            return ""
        return rng.choice(["The entry {t} says: “{s}”", "Reading {t}: “{s}”",
                           "What {t} states, in its own words: “{s}”"]).format(t=title, s=quote) if quote else ""
    if value.get("error"):
        return f"The last call failed ({value['error']})."
    return ""


def _standing(rng: random.Random, state: _State, own: str, opening: set[str]) -> str:
    """Settled and excluded entities (those the solver's own text does not already name) and the live list
    (without the candidate this turn opens)."""
    parts = []
    if state.confirmed:
        parts.append(rng.choice(["Settled so far: {c}.", "Confirmed entities: {c}.", "Known: {c}."]).format(
            c=", ".join(state.confirmed[-4:])))
    if excluded := [d for d in state.ruled_out if d not in own][-5:]:
        parts.append(rng.choice(["Ruled out: {r}.", "Already excluded: {r}.", "Rejected on reading: {r}."]).format(
            r=", ".join(excluded)))
    listed = {r["doc_id"] for r in state.listing}
    live = state.live(opening) if opening <= listed else []   # following a link: that list is not what it works from
    if live:
        names = ", ".join(f"{r.get('title') or r['doc_id']} (rank {r.get('rank', i + 1)})" for i, r in enumerate(live[:4]))
        parts.append(rng.choice(["Still unopened from this list: {l}.", "Live candidates left in these results: {l}.",
                                 "If this fails, the list still offers {l}."]).format(l=names))
    return " ".join(parts)


def narrate(question: str, messages: list[dict], notes: list[dict], seed: int) -> list[dict]:
    """A copy of `messages` whose assistant turns open with what the previous result established and where the
    search stands (solver notes give each check's verdict: confirmed / ruled_out)."""
    verdicts = {n["turn"]: n.get("kind") for n in notes}
    state, out, turn, previous = _State(question), [], 0, None
    for message in messages:
        if message.get("role") == "tool":
            previous = message.get("content")
            out.append(message)
            continue
        if message.get("role") != "assistant":
            out.append(message)
            continue
        rng = random.Random(seed * 1_000_003 + turn)
        own = message.get("reasoning_content") or ""
        opening = {str((json.loads(c["function"].get("arguments") or "{}") or {}).get("doc_id"))
                   for c in message.get("tool_calls") or [] if c.get("function", {}).get("name") == "open"}
        said = " ".join(x for x in (_established(rng, state, previous, own) if turn else "",
                                    _standing(rng, state, own, opening)) if x)
        out.append({**message, "reasoning_content": f"{said}\n\n{own}".strip() if said else own})
        for call in message.get("tool_calls") or []:
            result = next((m.get("content") for m in messages if m.get("tool_call_id") == call.get("id")), None)
            state.observe(result, verdicts.get(turn))
        turn += 1
    return out
