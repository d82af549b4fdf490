"""Gold-path trajectories (`--teacher none`): a search procedure over the real tools that knows only the
question and what its earlier tool calls returned.

    messages, notes = GoldPath(tools, GoldConfig()).build(task, rollout)

The question is split into clues (clues.py). Clues that describe an entity with enough words of their own
are searched first (their words as the query); the other clues are reached by climbing: the query is the
titles of the entities found so far plus the clue's own words, and a candidate must mention those entities.
Every candidate is opened and checked against its clue (quoted words present, referred entities mentioned);
a failing candidate is ruled out, the next is opened; when a search yields no fitting candidate the solver
backs off to another query (fewer words, the titles alone, a deeper k). The answer is the entry that fits
the question's first clause.

The task's gold data is used only afterwards: the final answer is judged against the gold answer, and
among the solver's variants (`GoldConfig.runs`: other candidate budgets and query orders) the shortest
correct run is kept. `metadata.gold_path` annotates every turn ({turn, role, kind}): role search | check |
answer; kind query | backoff | ruled_out | confirmed | answer.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

from synth.pipelines.trajectories import thoughts
from synth.pipelines.trajectories.clues import Clue, content_words, parse_question
from synth.pipelines.trajectories.envtools import result_text
from synth.pipelines.trajectories.harness import head_messages
from synth.pipelines.trajectories.judge import normalize
from synth.pipelines.trajectories.messages import call_id
from synth.pipelines.trajectories.provenance import norm_words

DEEP_K = 50
MAX_PAGES = 3  # pages of one entry read before judging it
# solver variants, cheapest first: candidates opened per result list, fitting candidates tried per clue before its
# branch is abandoned, whether the question's type words must match the entry's categories
VARIANTS = ({"checks": 3, "fits": 1, "typed": True}, {"checks": 5, "fits": 2, "typed": True},
            {"checks": 5, "fits": 3, "typed": False}, {"checks": 8, "fits": 3, "typed": True})


class GoldPathError(ValueError):
    def __init__(self, reason: str, detail: str):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class GoldConfig:
    search_k: int = 10
    runs: int = len(VARIANTS)   # solver variants tried per rollout (VARIANTS); the shortest correct one is kept
    max_calls: int = 80
    seed: int = 0


def _seed(*parts) -> int:
    from synth.teachers.session import derive_seed

    return derive_seed(*parts)


class GoldPath:
    """tools: an object with `call(name, arguments) -> dict` (EnvTools)."""

    def __init__(self, tools, cfg: GoldConfig):
        self.tools, self.cfg = tools, cfg

    def runs(self, task: dict, rollout: int = 0):
        """Each solver variant's outcome, cheapest first: (variant, (messages, notes) or None, GoldPathError or
        None). Only the final answer is judged against the gold answer."""
        for variant in range(min(self.cfg.runs, len(VARIANTS))):
            rng = random.Random(_seed(self.cfg.seed, task["id"], rollout, variant))
            try:
                messages, notes, answer = _Run(self.tools, task["question"], self.cfg, rng, variant).solve()
            except GoldPathError as exc:
                yield variant, None, exc
                continue
            if names_the_answer(answer, task):
                yield variant, (messages, notes), None
            else:
                yield variant, None, GoldPathError("solver_wrong_answer", f"variant {variant} answered {answer!r}")

    def build(self, task: dict, rollout: int = 0) -> tuple[list[dict], list[dict]]:
        """(messages, notes) of the shortest correct solver run; GoldPathError when no run solves the task."""
        solved, failures = [], []
        for variant, run, error in self.runs(task, rollout):
            if run is None:
                failures.append(error)
            else:
                solved.append((len(run[1]), variant, *run))
        if solved:
            _, _, messages, notes = min(solved, key=lambda s: s[:2])
            return messages, notes
        raise GoldPathError(failures[-1].reason, "; ".join(f.detail for f in failures)[:500])

    def first_solved(self, task: dict, rollout: int = 0) -> tuple[int, int] | None:
        """(variant, tool calls) of the first variant that answers correctly, or None: `build` then has a
        correct run to keep (the runs are deterministic). The deep-search generator's solvability gate."""
        for variant, run, _ in self.runs(task, rollout):
            if run is not None:
                return variant, len(run[1]) - 1
        return None


@dataclass
class Page:
    doc_id: str
    title: str
    text: str
    links: set[str]
    categories: list[str]
    unread: list[int] = field(default_factory=list)   # later pages, read only when the first ones do not settle it

    @property
    def words(self) -> set[str]:
        return norm_words(self.text) | norm_words(self.title)

    def mentions(self, other: Page) -> bool:
        """A link to `other`, or its title as a phrase in the text (normalised)."""
        title = normalize(other.title)
        if other.doc_id in self.links:
            return True
        # a bare word ("C", "data") is in every other entry: only a link or a longer title counts
        return len(title.split()) >= 2 and f" {title} " in f" {normalize(self.text)} "


class _Run:
    def __init__(self, tools, question: str, cfg: GoldConfig, rng: random.Random, variant: int):
        self.tools, self.question, self.cfg, self.rng, self.variant = tools, question, cfg, rng, variant
        profile = VARIANTS[variant]
        self.checks, self.max_fits, self.typed = profile["checks"], profile["fits"], profile["typed"]
        self.clues = parse_question(question)
        self.messages = head_messages(question)
        self.notes: list[dict] = []
        self.found: dict[int, Page] = {}
        self.used: dict[int, list[int]] = {}
        self.rejected: dict[int, set[str]] = {}
        self.pages: dict[str, Page | None] = {}
        self.said = ""            # what the last result established: opens the next turn's reasoning
        self.backtracked = False

    # -- turns ---------------------------------------------------------------------------------------------
    def emit(self, name: str, args: dict, decision: str, role: str, kind: str) -> dict:
        if len(self.notes) >= self.cfg.max_calls:
            raise GoldPathError("solver_budget", f"more than {self.cfg.max_calls} calls")
        ordinal = len(self.notes)
        call = {"id": call_id(ordinal, 0), "type": "function",
                "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}
        value = self.tools.call(name, args)
        why = f"{self.said} {decision}".strip()
        self.said = ""
        self.messages += [{"role": "assistant", "reasoning_content": why, "tool_calls": [call]},
                          {"role": "tool", "tool_call_id": call["id"], "name": name, "content": result_text(value)}]
        self.notes.append({"turn": ordinal, "role": role, "kind": kind})
        if self.backtracked:   # the first call after giving up a candidate chain
            self.notes[-1]["backtrack"], self.backtracked = True, False
        return value if isinstance(value, dict) else {}

    def page(self, doc_id: str, decision: str) -> Page | None:
        if doc_id in self.pages:
            self.said = f"{self.said} {thoughts.remembered(self.rng, doc_id)}".strip()
            return self.pages[doc_id]
        value = self.emit("open", {"doc_id": doc_id}, decision, "check", "open")
        page = None if "error" in value else Page(
            value.get("doc_id") or doc_id, value.get("title") or doc_id, value.get("text") or "",
            {link.get("doc_id") for link in value.get("links") or []}, value.get("categories") or [])
        if page is not None:
            page.unread = list(range(1, min(int(value.get("num_pages") or 1), MAX_PAGES)))
        self.pages[doc_id] = page
        return page

    def read_on(self, page: Page, reason: str) -> None:
        """Read the next page of an entry whose first pages did not settle the check."""
        number = page.unread.pop(0)
        more = self.emit("open", {"doc_id": page.doc_id, "page": number},
                         f"{page.title} does not fit on what I read so far ({reason}), but it runs on; reading page "
                         f"{number + 1} before judging it.", "check", "open")
        page.text += "\n" + (more.get("text") or "")
        page.links |= {link.get("doc_id") for link in more.get("links") or []}

    # -- checking a candidate ------------------------------------------------------------------------------
    def type_words(self, clue: Clue) -> list[str]:
        if clue.kind is not None:
            return clue.kind
        quoted = set(clue.quote_words)
        return [w for w in clue.keywords if w not in quoted]

    def fits(self, clue: Clue, page: Page, refs: list[Page]) -> tuple[bool, str]:
        if any(page.doc_id == r.doc_id for r in refs) or page.doc_id in {p.doc_id for p in self.found.values()}:
            return False, "it is an entity already placed elsewhere in the chain"
        if clue.prefix and not normalize(page.title).startswith(normalize(clue.prefix)):
            return False, f"its name does not begin with “{clue.prefix}”"
        if clue.period and not any(clue.period[0] <= y <= clue.period[1] for y in _years(page.text)):
            return False, f"its entry names no year from {clue.period[0]} to {clue.period[1]}"
        missing = [r.title for r in refs if not page.mentions(r)]
        if missing:
            return False, f"its entry never mentions {missing[0]}"
        unlinked = [self.found[i].title for i in self.referrers(clue) if not self.found[i].mentions(page)]
        if unlinked:
            return False, f"{unlinked[0]}, which should refer to it, never mentions it"
        quote = clue.quote_words
        have = [w for w in quote if norm_words(w) <= page.words]
        if quote and len(have) < max(1, round(0.75 * len(quote))):
            lost = [w for w in quote if w not in have]
            return False, f"only {len(have)} of the {len(quote)} quoted words appear (no {', '.join(lost[:3])})"
        kinds = self.type_words(clue)
        cats = norm_words(" ".join(page.categories))
        # every type word must be among the categories ("human language" is not "language"); a hyphenated
        # compound needs one of its parts ("text-processing" is filed under "text")
        if self.typed and kinds and not all(norm_words(k) & cats for k in kinds):
            filed = f"it is filed under {', '.join(page.categories)}" if cats else "its entry names no category"
            return False, f"{filed}, not as {' '.join(kinds[:3])}"
        evidence = [f"its text has {len(have)} of the {len(quote)} quoted words"] if quote else []
        evidence += [f"it mentions {', '.join(r.title for r in refs)}"] if refs else []
        evidence += [f"it is filed under {', '.join(page.categories)}"] if kinds and cats else []
        return True, "; ".join(evidence) or "it matches the description"

    def rank(self, results: list[dict], clue: Clue, refs: list[Page]) -> list[tuple[dict, list[str], bool]]:
        """Candidates not yet ruled out, those whose snippet names a referred entity first, then by overlap with
        the clue's words: (result, shared words, cites a referred entity)."""
        # a list, not a set: the order of the words shows in the reasoning, which must be the same every run
        want = list(dict.fromkeys(clue.keywords + [w for r in refs for w in content_words(r.title)]))
        taken = {p.doc_id for p in self.found.values()} | self.rejected.get(clue.index, set()) | {r.doc_id for r in refs}
        scored = []
        for r in results:
            if r.get("doc_id") in taken or not _named_like(clue, r.get("title") or r.get("doc_id")):
                continue   # the result list shows the title: a name that does not begin as the question says is out
            seen = norm_words(f"{r.get('title')} {r.get('snippet')}")
            shared = [w for w in want if norm_words(w) and norm_words(w) <= seen]
            snippet = f" {normalize(r.get('snippet'))} "
            cites = sum(f" {normalize(ref.title)} " in snippet for ref in refs)   # the snippet names a referred entity
            scored.append((-(10 * cites + len(shared)), r.get("rank", 99), r, shared, cites > 0))
        scored.sort(key=lambda s: s[:2])
        return [(r, shared, cites) for _, _, r, shared, cites in scored]

    # -- candidates for one clue ---------------------------------------------------------------------------
    def candidates(self, clue: Clue, refs: list[Page], queries: list[tuple[str, int]], opening: str):
        """Yield every page that fits `clue`, searching, opening and ruling out as a reader would."""
        state = {"failed": [], "fitted": 0}
        for n, (query, k) in enumerate(queries):
            decision = opening if n == 0 else thoughts.backoff(self.rng, state["failed"] or ["nothing"], query, k)
            value = self.emit("search", {"query": query, "k": k}, decision, "search", "query" if n == 0 else "backoff")
            results = value.get("results") or []
            yield from self.check_list(clue, refs, self.rank(results, clue, refs), state, query, len(results))
            if state["fitted"] >= self.max_fits:
                return
        linked = [{"doc_id": d, "title": d, "rank": i + 1} for r in refs for i, d in enumerate(sorted(r.links))]
        if linked:   # entries cross-reference each other: the entity may be linked from the page it refers to
            self.said = f"{self.said} {thoughts.follow_links(self.rng, [r.title for r in refs])}".strip()
            yield from self.check_list(clue, refs, self.rank(linked, clue, []), state, None, len(linked))

    def check_list(self, clue: Clue, refs: list[Page], ranked: list, state: dict, query: str | None, total: int):
        """Open the best candidates of one list; yield those that fit."""
        rejected = self.rejected.setdefault(clue.index, set())
        citing = [c for c in ranked if c[2]]
        shortlist = [(r, shared) for r, shared, _ in (citing or ranked)[: self.checks]]
        for i, (result, shared) in enumerate(shortlist):
            if result["doc_id"] in rejected or result["doc_id"] in {p.doc_id for p in self.found.values()}:
                continue
            title = result.get("title") or result["doc_id"]
            rank = result.get("rank", i + 1)
            decision = (thoughts.pick(self.rng, query, total, title, rank, shared, len(shortlist) - 1)
                        if i == 0 and query else thoughts.next_candidate(self.rng, title, rank, shared))
            page = self.page(result["doc_id"], decision)
            ok, reason = (False, "the page could not be read") if page is None else self.fits(clue, page, refs)
            while not ok and page is not None and page.unread and not reason.startswith("it is"):
                self.read_on(page, reason)
                ok, reason = self.fits(clue, page, refs)
            self.note_check(result["doc_id"], ok)
            rejected.add(result["doc_id"])
            if not ok:
                state["failed"].append(title)
                self.said = f"{self.said} {thoughts.ruled_out(self.rng, title, reason)}".strip()
                continue
            confirmed = thoughts.confirmed(self.rng, page.title, clue.short or "the question", reason,
                                           self.evidence_sentence(page, clue, refs), self.still_open(clue))
            self.said = f"{self.said} {confirmed}".strip()
            yield page
            state["fitted"] += 1
            if state["fitted"] >= self.max_fits:
                return

    def evidence_sentence(self, page: Page, clue: Clue, refs: list[Page]) -> str:
        """The sentence of the page that best shows the fit: most quoted words, or a referred title."""
        want = set(clue.quote_words) | {w for r in refs for w in content_words(r.title)}
        sentences = [x.strip() for x in re.split(r"(?<=[.!?])\s+|\n+", page.text) if len(x.strip()) > 20]
        if not sentences or not want:
            return ""
        best = max(sentences, key=lambda x: len(want & set(content_words(x))))
        return best if len(best) <= 220 else best[:217].rsplit(" ", 1)[0] + "…"

    def still_open(self, clue: Clue) -> list[str]:
        return [c.short for c in self.clues if c.index not in self.found and c.index != clue.index and c.short][:2]

    def note_check(self, doc_id: str, ok: bool) -> None:
        last = self.notes[-1] if self.notes else None
        if last and last["role"] == "check" and last.get("doc_id") in (None, doc_id) and last["kind"] == "open":
            last.update(kind="confirmed" if ok else "ruled_out", doc_id=doc_id)

    def queries(self, clue: Clue, refs: list[Page]) -> list[tuple[str, int]]:
        k = self.cfg.search_k
        if not refs:   # a description searched on its own words
            words = clue.quote_words or clue.keywords
            first = " ".join(words[:10])
            alts = [" ".join(clue.keywords[:16]), " ".join(words[:5]), " ".join(words[-6:])]
            return _unique([(first, k)] + [(q, k) for q in alts] + [(first, DEEP_K)])
        titles = " ".join(r.title for r in refs)
        # query with the type noun's own words ("game term"), never the category it stands for ("games"): a query
        # word must come from the question or a tool result (provenance.py)
        kinds = content_words(clue.noun) if clue.noun is not None else self.type_words(clue)
        rest = [] if clue.quote_words else [w for w in clue.keywords if w not in kinds][:2]   # e.g. a period
        own = " ".join(list(dict.fromkeys(clue.quote_words[:5] + kinds[:2] + rest)))
        queries = [(f"{titles} {own}".strip(), k), (f"{titles} {own}".strip(), DEEP_K), (titles, DEEP_K)]
        queries += [(r.title, DEEP_K) for r in refs if len(refs) > 1]
        return _unique(queries + ([(own, DEEP_K)] if len(own.split()) >= 2 else []))

    # -- the whole run: depth first over clues, backtracking on dead ends ----------------------------------
    def plan(self) -> tuple[Clue, list[int], str] | None:
        """The next clue to resolve, the resolved clues it refers to, and how: `anchor` (search its own words),
        `climb` (search the entries it refers to), `follow` (the links of the entry that refers to it)."""
        open_ = sorted((c for c in self.clues if c.index not in self.found), key=lambda c: -c.index)
        anchors = [c for c in open_ if c.descriptive and not c.refs]
        if anchors:
            anchors.sort(key=lambda c: (-len(c.quote_words), -c.index) if self.variant % 2 == 0 else (-c.index,))
            return anchors[0], [], "anchor"
        climbs = [(c, refs) for c in open_ if (refs := self.resolved_refs(c))]
        strong = [(c, refs) for c, refs in climbs if len(c.quote_words) >= 2]
        if strong:
            return strong[0][0], strong[0][1], "climb"
        quoted = [c for c in open_ if len(c.quote_words) >= 2]
        if quoted:
            return quoted[0], [], "anchor"
        follows = [(c, self.referrers(c)) for c in open_ if self.referrers(c)]
        if follows:
            return follows[0][0], follows[0][1], "follow"
        return (climbs[0][0], climbs[0][1], "climb") if climbs else None

    def resolved_refs(self, clue: Clue) -> list[int]:
        by_letter = {c.subject: c.index for c in self.clues if c.subject}
        if clue.refs:
            wanted = [by_letter.get(r) for r in clue.refs]
            return wanted if all(w is not None and w in self.found for w in wanted) else []
        if any(c.subject or c.refs for c in self.clues):
            return []
        used = {i for refs in self.used.values() for i in refs}     # no placeholders: any entity not yet used
        return [i for i in self.found if i not in used]

    def referrers(self, clue: Clue) -> list[int]:
        """Resolved clues whose entry refers to this clue's entity."""
        return [i for i in self.found if clue.subject and clue.subject in self.clues[i].refs]

    def descend(self) -> bool:
        if len(self.found) == len(self.clues):
            return True
        step = self.plan()
        if step is None:
            return False
        clue, refs, how = step
        pages = [self.found[i] for i in refs]
        asked = self.clues[0].short or "the entity described"
        if how == "follow":
            source = self.follow(clue, pages)
        else:
            queries = self.queries(clue, pages if how == "climb" else [])
            if not self.notes:
                opening = thoughts.first_search(self.rng, clue.short, queries[0][0], asked)
            elif how == "anchor":
                opening = thoughts.next_anchor(self.rng, "", clue.short, queries[0][0])
            else:
                opening = thoughts.climb(self.rng, "", clue.short or asked, [p.title for p in pages], queries[0][0])
            source = self.candidates(clue, pages if how == "climb" else [], queries, opening)
        for page in source:
            self.found[clue.index], self.used[clue.index] = page, (refs if how == "climb" else [])
            if self.descend():
                return True
            del self.found[clue.index], self.used[clue.index]
            self.said = f"{self.said} {thoughts.backtrack(self.rng, page.title, clue.short or asked)}".strip()
            self.backtracked = True
        return False

    def follow(self, clue: Clue, referrers: list[Page]):
        """Candidates for `clue` among the links of the entries that refer to it."""
        linked = [{"doc_id": d, "title": d, "rank": i + 1} for r in referrers for i, d in enumerate(sorted(r.links))]
        self.said = f"{self.said} {thoughts.follow_links(self.rng, [r.title for r in referrers])}".strip()
        state = {"failed": [], "fitted": 0}
        yield from self.check_list(clue, [], self.rank(linked, clue, []), state, None, len(linked))

    def solve(self) -> tuple[list[dict], list[dict], str]:
        if not any(c.descriptive and not c.refs for c in self.clues):
            raise GoldPathError("solver_no_clue", "no clause of the question can be searched on its own")
        if not self.descend():
            raise GoldPathError("solver_unresolved", "every candidate chain was ruled out")
        page = self.found[0]
        chain = [self.found[i].title for i in sorted(self.found)]
        why = f"{self.said} {thoughts.answer(self.rng, '', page.title, chain)}".strip()
        self.messages.append({"role": "assistant", "reasoning_content": why, "content": f"<answer>{page.title}</answer>"})
        self.notes.append({"turn": len(self.notes), "role": "answer", "kind": "answer"})
        return self.messages, self.notes, page.title


def _named_like(clue: Clue, title: str) -> bool:
    return not clue.prefix or normalize(title).startswith(normalize(clue.prefix))


def _years(text: str) -> list[int]:
    return [int(y) for y in re.findall(r"\b(1[89]\d\d|20[0-4]\d)\b", text)]


def _unique(queries: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [q for q in dict.fromkeys(q for q in queries if q[0].strip())]


def names_the_answer(answer: str | None, task: dict) -> bool:
    """The solver answers with a document title, so its answer is right only when it IS the answer's title or an
    alias. The lenient matcher (trajectories/judge.py) is for free-form model answers: it accepted "Common Object
    Request Broker Architecture" for "Object Request Broker" and so certified a wrong gold trajectory."""
    def norm(text: str) -> str:
        return " ".join(str(text).casefold().split())

    names = {norm(n) for n in [task.get("answer"), *(task.get("aliases") or [])] if n}
    return answer is not None and norm(answer) in names
