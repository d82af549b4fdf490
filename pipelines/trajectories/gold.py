"""Gold-path trajectories (`--teacher none`): the task's evidence chain walked with the real tools.

For each fact, in the task's solving order: if its document has not been reached yet, a search whose
results list it (the first of: the description or the known entity plus the relation cue / the quote's
words / the title, with k=10, then with k=50), then an open of the page holding the quote. Facts on a page already read
need no step. Then the answer turn: <answer>TITLE</answer>.

Distractor turns are injected at seeded positions, each checked against the evidence tracker so that it
really teaches nothing new:
    irrelevant_search   a search for an unrelated title whose results reach no new gold document
    redundant_open      re-opening a page already read (never right after the same call)
    failed_call         the next gold call broken (a misspelt doc id, an invalid argument): the tool returns
                        an error, and the gold call that follows is the recovery
Every turn is annotated in `metadata.gold_path` ({turn, role: gold|distractor|answer, kind}), which the
acceptance tests compare with the rule judge's labels.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from synth.pipelines.labels.evidence import Evidence, evidence_of
from synth.pipelines.trajectories.envtools import result_text
from synth.pipelines.trajectories.harness import head_messages
from synth.pipelines.trajectories.messages import call_id

DISTRACTORS = ("irrelevant_search", "redundant_open", "failed_call")
DEEP_K = 50  # the search tool's maximum: hub entries rank low for short queries (BM25 length normalization)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'+#.-]*")


class GoldPathError(ValueError):
    def __init__(self, reason: str, detail: str):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class GoldConfig:
    distractors: int = 3
    kinds: tuple[str, ...] = DISTRACTORS
    search_k: int = 10
    seed: int = 0


def _words(text: str, n: int = 12) -> str:
    return " ".join(_WORD.findall(text or "")[:n])


def _seed(*parts) -> int:
    from synth.teachers.session import derive_seed

    return derive_seed(*parts)


class GoldPath:
    """tools: an object with `call(name, arguments) -> dict` and `toolbox` (synth.env.ToolBox)."""

    def __init__(self, tools, cfg: GoldConfig):
        self.tools, self.cfg = tools, cfg

    def build(self, task: dict, rollout: int = 0) -> tuple[list[dict], list[dict]]:
        """(messages, annotations) of one gold-path trajectory; GoldPathError if the chain cannot be walked."""
        run = _Run(self, task, random.Random(_seed(self.cfg.seed, task["id"], rollout)))
        return run.walk()


class _Run:
    def __init__(self, gp: GoldPath, task: dict, rng: random.Random):
        self.gp, self.task, self.rng = gp, task, rng
        self.ev = Evidence(evidence_of(task))
        self.messages = head_messages(task["question"])
        self.notes: list[dict] = []
        self.opened: list[tuple[str, int]] = []
        self.last_call: tuple[str, str] | None = None

    # -- emitting turns ----------------------------------------------------------------------------------
    def call(self, name: str, args: dict) -> str:
        return result_text(self.gp.tools.call(name, args))

    def emit(self, name: str, args: dict, why: str, role: str, kind: str, content: str | None = None):
        ordinal = sum(1 for m in self.messages if m["role"] == "assistant")
        arguments = json.dumps(args, ensure_ascii=False)
        call = {"id": call_id(ordinal, 0), "type": "function", "function": {"name": name, "arguments": arguments}}
        content = self.call(name, args) if content is None else content
        gain = self.ev.measure(name, content)
        self.messages += [{"role": "assistant", "reasoning_content": why, "tool_calls": [call]},
                          {"role": "tool", "tool_call_id": call["id"], "name": name, "content": content}]
        self.notes.append({"turn": ordinal, "role": role, "kind": kind})
        self.last_call = (name, arguments)
        if name == "open" and gain.error is None:
            self.opened.append((args["doc_id"], args.get("page", 0)))
        return gain

    # -- the evidence chain ------------------------------------------------------------------------------
    def queries(self, fact: dict) -> list[str]:
        if fact["kind"] == "description":
            first = _words(fact["object"])
        else:
            cue = "" if fact.get("relation") in (None, "", "mentions") else f" {_words(fact['relation'], 6)}"
            first = f"{fact['object']}{cue}"
        return [first, _words(fact["quote"]), fact.get("subject") or fact["doc_id"]]

    def find_query(self, fact: dict) -> tuple[dict, str] | None:
        """The first search (query, then a deeper k) whose results list the fact's document."""
        for k in dict.fromkeys((self.gp.cfg.search_k, DEEP_K)):
            for query in self.queries(fact):
                args = {"query": query, "k": k}
                content = self.call("search", args)
                if any(r.get("doc_id") == fact["doc_id"] for r in json.loads(content).get("results", [])):
                    return args, content
        return None

    def page_of(self, fact: dict) -> tuple[int, str]:
        page = 0
        while True:
            content = self.call("open", {"doc_id": fact["doc_id"], "page": page})
            value = json.loads(content)
            if "error" in value:
                raise GoldPathError("gold_path_unreadable", f"{fact['doc_id']}: {value['error']}")
            if value["start"] <= fact["start"] and fact["end"] <= value["end"]:
                return page, content
            if value["start"] > fact["start"] or page + 1 >= value["num_pages"]:
                raise GoldPathError("gold_path_unreadable", f"{fact['doc_id']}: quote at {fact['start']} spans pages")
            page += 1

    def gold_steps(self):
        """Yield (name, args, why, precomputed content) for the next gold call, given what is known now."""
        for n, fact in enumerate(self.ev.facts):
            if n in self.ev.read:
                continue
            doc = fact["doc_id"]
            if doc not in self.ev.reached:
                found = self.find_query(fact)
                if found is None:
                    raise GoldPathError("gold_path_unreachable", f"no search finds {doc!r}")
                args, content = found
                yield "search", args, self.why_search(fact, args["query"]), content
            if n in self.ev.read:
                continue
            page, content = self.page_of(fact)
            args = {"doc_id": doc} if page == 0 else {"doc_id": doc, "page": page}
            yield "open", args, f"{doc} should hold the next piece of evidence; opening it" + \
                (f" at page {page}." if page else "."), content

    def why_search(self, fact: dict, query: str) -> str:
        if fact["kind"] == "description":
            return f"The question describes an entity as “{_words(fact['object'], 14)}…”. Searching for that: {query}."
        return f"I know {fact['object']}; the next entity's entry should mention it. Searching: {query}."

    # -- distractors -------------------------------------------------------------------------------------
    def irrelevant_search(self) -> bool:
        corpus = self.gp.tools.toolbox.corpus
        for _ in range(20):
            doc = corpus.doc(self.rng.randrange(len(corpus)))
            if doc.id in self.ev.docs or doc.is_redirect:
                continue
            query = _words(doc.title, 6)
            content = self.call("search", {"query": query, "k": self.gp.cfg.search_k})
            if query and not self.ev.measure("search", content, commit=False).positive:
                self.emit("search", {"query": query, "k": self.gp.cfg.search_k},
                          f"Maybe {query} is related; checking it too.", "distractor", "irrelevant_search", content)
                return True
        return False

    def redundant_open(self) -> bool:
        choices = [(d, p) for d, p in dict.fromkeys(self.opened)
                   if self.last_call != ("open", json.dumps({"doc_id": d} if p == 0 else {"doc_id": d, "page": p}))]
        if not choices:
            return False
        doc, page = choices[self.rng.randrange(len(choices))]
        args = {"doc_id": doc} if page == 0 else {"doc_id": doc, "page": page}
        self.emit("open", args, f"Let me re-read {doc} to double-check.", "distractor", "redundant_open")
        return True

    def failed_call(self, name: str, args: dict) -> bool:
        if name == "open":
            bad = {**args, "doc_id": args["doc_id"] + " (entry)"}
            if self.gp.tools.toolbox.corpus.lookup(bad["doc_id"]) is not None:
                return False
            why = f"Opening {bad['doc_id']}."
        else:
            bad, why = {**args, "k": 0}, f"Searching: {args['query']}."
        self.emit(name, bad, why, "distractor", "failed_call")
        return True

    # -- the whole trajectory ----------------------------------------------------------------------------
    def walk(self) -> tuple[list[dict], list[dict]]:
        kinds = [self.gp.cfg.kinds[i % len(self.gp.cfg.kinds)] for i in range(self.gp.cfg.distractors)]
        self.rng.shuffle(kinds)
        horizon = 2 * len(self.ev.facts)
        slots = sorted(self.rng.sample(range(1, horizon + 1), min(len(kinds), horizon)))
        plan = dict(zip(slots, kinds))
        pending: list[str] = []
        step = 0
        for name, args, why, content in self.gold_steps():
            step += 1
            pending += [plan[step]] if step in plan else []
            pending.sort(key=lambda kind: kind == "failed_call")  # a failure goes right before its recovery
            pending = self.distract(pending, name, args)
            recovering = self.notes and self.notes[-1]["kind"] == "failed_call"
            gain = self.emit(name, args, ("That failed; retrying correctly. " if recovering else "") + why,
                             "gold", name, content)
            if not gain.positive:
                raise GoldPathError("gold_path_no_gain", f"gold step {name}({args}) reached nothing new")
        pending += [k for s, k in plan.items() if s > step]
        self.distract([k for k in pending if k != "failed_call"], None, None)
        return self.finish()

    def distract(self, pending: list[str], name: str | None, args: dict | None) -> list[str]:
        """Emit the pending distractors that fit before the next gold call; keep the others for later."""
        left = []
        for kind in pending:
            done = (self.irrelevant_search() if kind == "irrelevant_search" else self.redundant_open()
                    if kind == "redundant_open" else name is not None and self.failed_call(name, args))
            if not done:
                left.append(kind)
        return left

    def finish(self) -> tuple[list[dict], list[dict]]:
        answer = self.task["answer"]
        ordinal = sum(1 for m in self.messages if m["role"] == "assistant")
        why = (f"Every constraint of the question is confirmed in the documents; the entity asked for is "
               f"{answer}.")
        self.messages.append({"role": "assistant", "reasoning_content": why, "content": f"<answer>{answer}</answer>"})
        self.notes.append({"turn": ordinal, "role": "answer", "kind": "answer"})
        return self.messages, self.notes
