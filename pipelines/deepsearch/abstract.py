"""Abstract descriptions (issue 20, point 2): an entity's opening definition as a short noun phrase that
describes without quoting.

From the opening sentence (facts.describe) only the defining noun phrase is used, cut at the first
clause boundary, and split into a head ("A compiler generator") and modifier phrases, each starting at a
preposition or participle ("written | by Andreas Koschinsky | for the M-20"). Then:

  elide    rare words (in fewer than RARE_DOCS entries), proper names and any word of a hidden name
           are dropped: from the head word by word, a modifier phrase as a whole (so what remains is
           still a whole noun phrase, never "designed by for")
  years    a modifier phrase with a year goes (the period operator states the year as a decade instead)

What the check may rely on is the bag of content words left (every one occurs in the entity's entry):
looser than the text, never wrong. The result must keep a head noun and >= MIN_WORDS content words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.tokens import content_stems, stem

RARE_SHARE = 1 / 4000  # a word in fewer than this share of entries finds its entity by itself: elided
MIN_WORDS = 2          # content words an abstract description must keep
MAX_MODIFIERS = 1      # modifier phrases kept after the head (longer reads as a quote)
_BOUNDARY = re.compile(r"[,;:(\[\"“]|\s(?:which|that|who|whose|where|when|i\.e\.|e\.g\.|and is|but)\s|\.\s|\.$")
_PREPS = frozenset(["by", "at", "in", "on", "for", "from", "with", "of", "to", "into", "under", "using", "via", "between", "over", "about", "as",
                    # read in round 3: "a boundary across" (a preposition the list lacked became the head noun)
                    "across", "through", "within", "without", "against", "among", "along", "around", "behind",
                    "beyond", "during", "toward", "towards", "upon", "onto", "per", "inside", "outside", "near",
                    "below", "above", "beneath", "throughout", "except", "versus", "after", "before", "since",
                    "until", "like", "than", "via"])
_DETERMINERS = frozenset(["a", "an", "the"])
_DANGLING = frozenset(["no", "any", "its", "their", "his", "her", "this", "these", "those", "such", "both", "either", "than", "very", "also", "more", "most", "as", "best", "well", "now", "still", "first", "widely"])
_RELATIVES = frozenset(["which", "that", "who", "whom", "whose", "where", "when"])
MAX_MODIFIER_WORDS = 6  # a longer modifier phrase is a quote, and shares 13-grams with its entry (leak guard)
_VERBS = frozenset(["is", "are", "was", "were", "has", "have", "had", "does", "do", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "refers", "means", "other", "same", "following", "above", "previous", "latter", "former"])  # verbs, or anaphora: a clause, not a name
# third-person verbs that end a clipped clause ("A PLD consists | of logic elements"): as the last word of the
# head they read as a noun ("a hardware term described as consists of ..."), so such a head is a clause
_VERB_FORMS = frozenset(["consists", "contains", "provides", "allows", "enables", "lets", "describes", "defines",
                         "represents", "includes", "produces", "requires", "performs", "stores", "implements",
                         "converts", "generates", "translates", "computes", "specifies", "handles", "denotes",
                         "indicates", "operates", "connects", "transmits", "sends", "receives", "displays",
                         "manages", "creates", "becomes", "supports", "takes", "gives", "makes", "comprises",
                         "involves", "occurs", "exists", "depends", "belongs", "lies", "appears", "acts", "serves",
                         "determines", "causes", "ensures", "gets", "goes", "comes", "consist", "contain", "works",
                         "maps", "keeps", "holds", "runs", "uses", "refers", "means", "says", "calls", "checks"])
# particles of phrasal verbs ("An organisation set up | to coordinate"): a head ending in one is a clause
_PARTICLES_OF_VERBS = frozenset(["up", "out", "off", "down", "away", "back"])
HEAD_WORDS = 2         # content words of the head noun phrase shown (the head noun and one modifier)
MAX_HEAD = 5           # a longer head without a preposition is a clause ("The parser derives ..."), not a name
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-+#]*")
_PARTICIPLES = frozenset(["written", "built", "made", "known", "used", "run", "seen", "done", "given", "taken", "found", "held", "kept", "containing", "consisting", "using", "allowing", "providing", "including", "having", "representing", "running", "supporting", "describing", "implementing", "combining", "producing", "requiring", "giving"])
_COORDINATORS = frozenset(["and", "or", "nor", "but"])
_WANTS_COMPLEMENT = frozenset(["belonging", "according", "regarding", "including", "concerning", "involving",
                               "relating", "corresponding", "due", "similar", "equivalent", "related"])
# a modifier with one of these is a clause or points outside the phrase ("in this term comes", "intended to
# be"): cut out of its sentence it reads as a broken fragment, so it is elided whole
_ANAPHORA = frozenset(["this", "these", "those", "it", "its", "they", "their", "them", "such", "here", "there"])
_CLAUSE_VERBS = _VERBS | frozenset(["be", "been", "being", "comes", "goes", "gets", "makes", "takes", "uses"])
# singular nouns ending in -s: everything else ending in a single -s is read as a plural head ("transport
# mappings"), which takes no indefinite article
_SINGULAR_S = frozenset(["series", "species", "means", "bus", "process", "status", "apparatus", "corpus", "gas",
                         "lens", "atlas", "canvas", "alias", "bias", "chaos", "cosmos", "thesis", "basis", "axis",
                         "analysis", "syntax", "news", "physics", "mathematics", "graphics", "logistics"])


@dataclass
class Abstract:
    text: str                                   # the noun phrase shown ("a compiler generator for parsers")
    words: list[str]                            # content words a matching entry must contain
    elided: list[str] = field(default_factory=list)   # words and phrases the elide operator dropped

    def to_json(self) -> dict:
        return {"kind": "abstract", "text": self.text, "words": self.words, "elided": self.elided}


def _segments(phrase: str) -> list[list[str]]:
    """Head + modifier phrases: a new phrase starts at a preposition or an -ed/-ing participle."""
    segs: list[list[str]] = [[]]
    for w in _WORD.findall(phrase):
        low = w.lower()
        starts = low in _PREPS or _participle(low)
        if starts and segs[-1] and (len(segs) > 1 or len(segs[0]) > 1):
            if _participle(segs[-1][-1].lower()) and low in _PREPS and len(segs) > 1 and len(segs[-1]) == 1:
                segs[-1].append(w)  # "written by": participle + preposition stay one phrase
                continue
            segs.append([])
        segs[-1].append(w)
    return [s for s in segs if s]


def _dangles(word: str) -> bool:
    low = word.lower()
    # "-ly" adverbs, and words that wanted a complement cut off at the boundary ("the variables belonging",
    # "a channel capable"); a gerund noun ("concurrent marking") is whole, so "-ing" alone is not enough
    return (low in _PREPS or low in _DETERMINERS or low in _DANGLING or (low.endswith("ly") and len(low) > 4)
            or low in _WANTS_COMPLEMENT or (low.endswith(("able", "ible")) and len(low) > 5))


def _participle(low: str) -> bool:
    # "object-oriented", "stack-based" are adjectives inside the noun phrase, not participles starting a phrase
    return low in _PARTICIPLES or (len(low) > 4 and low.endswith("ed") and "-" not in low)


def _rare(kb, word: str) -> bool:
    low = word.lower()
    if low in tx.STOPWORDS or low in _PREPS:
        return False
    return doc_freq(kb, low) < rare_docs(kb)


def rare_docs(kb) -> int:
    return max(1, round(len(kb) * RARE_SHARE))  # tiny corpora: every word is rare, none is elided for it


def doc_freq(kb, word: str) -> int:
    """How many entries contain the word (exact-phrase index, capped: only 'rare or not' matters)."""
    return kb.cache("doc_freq").get_or(word, lambda: len(kb.phrases.find(f" {word} ", limit=rare_docs(kb)).rows))


def _proper(word: str, first: bool) -> bool:
    return not first and (word[:1].isupper() or any(ch.isdigit() for ch in word))


def _bad(kb, word: str, first: bool, hidden: set[str]) -> bool:
    return stem(word.lower()) in hidden or _proper(word, first) or _rare(kb, word) or bool(tx.years(word))


def abstract(kb, quote: str, hidden_names: list[str], modifiers: int | None = None) -> Abstract | None:
    """The abstract noun phrase of a description quote, or None when too little is left."""
    segs = _segments(_BOUNDARY.split(quote, maxsplit=1)[0])
    if not segs or segs[0][0].lower() not in _DETERMINERS or len(segs[0]) > MAX_HEAD:
        return None  # not a defining noun phrase ("When a technology is ...", "Tends to imply ...")
    hidden = set().union(*(content_stems(n) for n in hidden_names)) if hidden_names else set()
    elided: list[str] = []
    head = _head(kb, segs[0], hidden, elided)
    if head is None:
        return None
    limit = MAX_MODIFIERS if modifiers is None else modifiers
    mods = _modifiers(kb, segs[1:], hidden, elided, limit)
    words = tx.content_words(" ".join(head + [w for m in mods for w in m]))
    if len(words) < MIN_WORDS:
        return None
    return Abstract(_render(head, mods), sorted(set(words)), elided)


def _head(kb, seg: list[str], hidden: set[str], elided: list[str]) -> list[str] | None:
    """The head noun phrase without rare, proper or hidden words, at most HEAD_WORDS content words
    (the last is the head noun); None when it is a clause or its head noun had to go."""
    if any(w.lower().endswith("ly") or w.lower() in _VERBS | _COORDINATORS | _VERB_FORMS for w in seg[1:]) \
            or seg[-1].lower() in _PARTICLES_OF_VERBS:
        return None  # an adverb or a verb: a clause ("the output typically goes ..."); "x or y": two heads
    body = [w for w in seg if w.lower() not in _DETERMINERS]
    while body and _dangles(body[-1]):
        elided.append(body.pop())
    if not body or _bad(kb, body[-1], len(body) == len(seg), hidden):
        return None  # the head noun itself had to go: what is left names nothing
    kept = []
    for i, w in enumerate(body):
        if _bad(kb, w, seg.index(w) == 0, hidden) or (i < len(body) - HEAD_WORDS):
            elided.append(w)
        else:
            kept.append(w)
    return kept


def _modifiers(kb, segs: list[list[str]], hidden: set[str], elided: list[str], limit: int) -> list[list[str]]:
    """Modifier phrases kept whole (none with a rare, proper or hidden word, or a year), up to `limit`."""
    kept: list[list[str]] = []
    for seg in segs:
        if len(kept) >= limit or len(seg) > MAX_MODIFIER_WORDS or _fragment(seg) or any(
                _bad(kb, w, False, hidden) or w.lower() in _RELATIVES for w in seg):
            elided.append(" ".join(seg))
        else:
            kept.append(list(seg))
    while kept and _dangles(kept[-1][-1]):
        if len(kept[-1]) > 2:
            elided.append(kept[-1].pop())
        else:
            elided.append(" ".join(kept.pop()))
    if kept and _fragment(kept[-1]):   # trimming can leave a bare infinitive ("to coordinate the" -> "to coordinate")
        elided.append(" ".join(kept.pop()))
    return kept


def _fragment(seg: list[str]) -> bool:
    """A modifier that is not a whole phrase on its own: it holds a verb or an anaphor, or ends in a bare
    infinitive ("transmitted to indicate"); or coordinates, which cut at a clause boundary leaves half-said
    ("one used to create and print", "one on one side and interconnections")."""
    low = [w.lower() for w in seg]
    return (any(w in _ANAPHORA or w in _CLAUSE_VERBS or w in _COORDINATORS for w in low)  # "create and print"
            or (len(low) >= 2 and low[-2] == "to") or low[-1] in _VERB_FORMS)


def _render(head: list[str], mods: list[list[str]]) -> str:
    """"a reclamation scheme, one with concurrent marking": the head, then the modifier after ", one",
    so no run of the entry's own wording longer than the head survives into the question."""
    text = _with_article(" ".join(head))
    for mod in mods:
        text += (" " if mod[0].lower() == "of" else ", one ") + " ".join(mod)  # "one of ..." would mislead
    return text


def _with_article(text: str) -> str:
    body = text[0].lower() + text[1:] if not text[:2].isupper() else text
    if plural(body.split()[-1]):
        return body
    first = body.split()[0].lower()
    superlative = first.endswith("est") and len(first) > 5 and first not in ("interest", "request", "digest")
    return f"the {body}" if superlative else f"{tx.article(body)} {body}"  # "the simplest kind", not "a simplest"


def plural(noun: str) -> bool:
    """A plural head noun ("conventions"), which takes no "a"/"an"; a guess from the spelling, erring singular."""
    low = noun.lower()
    return (len(low) > 3 and low.endswith("s") and not low.endswith(("ss", "us", "is", "'s"))
            and low not in _SINGULAR_S)
