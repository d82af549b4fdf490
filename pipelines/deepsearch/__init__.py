"""Deep-search task synthesis: verified multi-hop questions from grounded walks over a corpus link graph.

    seeds.py      seed (answer) plan: --since window, rarity band, specificity heuristic, category balance
    kb.py         the corpus (synth.env.Corpus) as a knowledge graph: names/aliases, degrees, sentences
    links.py      link disambiguation: a confidence per link occurrence (case, see-also, category, context,
                  senses), calibrated on tests/deepsearch/data/link_labels.jsonl; the KB keeps trusted links
    facts.py      grounded facts: an Edge per link occurrence (its verbatim sentence), the opening sentences
    relations.py  typed relations (kind_of, created_by, based_on, ... or related) and attributes (year, name)
    abstract.py   abstract descriptions: the defining noun phrase with rare/proper/hidden words elided
    walk.py       grounded walk with back-off (trees), chords and diamonds (cycles), depth >= min hops
    operators.py  Masked quotes (used by facts.describe); the operators now live in formal.py / abstract.py
    formal.py     the formal question (variables, constants, constraints, target) + structure rules; the
                  period and partial operators
    verbalize.py  the realizer for --teacher none: a small grammar, typed verbs, no placeholders (types.txt)
    tokens.py     the token-level leak check (stems of name words; generic type nouns listed)
    phrases.py    exact phrase lookup over all articles (complete candidate sets for descriptions)
    solve.py      exact constraint solving: domains, arc consistency, backtracking over cycles
    verify.py     the gauntlet: support, no_leak, uniqueness (+ certificate), BM25 shortcut
    task.py       one item -> candidates -> first verified task (repairs: branch for not_unique, FUZZ for
                  shortcut); step.py wraps it as a datatrove step and builds the record
    llm.py, prompts/   teacher prompts (text files) and pure prompt/parse functions; the answer judge
    harness.py    solve(task, session, tools, k) -> pass rate: the solver interface (issue 6 implements it)
    dial.py       FUZZ / INJECT / DEEPEN / REVERT and the tier of a pass rate
    teacher.py    the teacher task: specificity filter, LLM verbalization, closed-book + tool solvers, dial
    build.py      CLI parameters -> engine Job;  stats.py  manifest statistics

Command: synth/commands/generate_deepsearch.py. Records: schemas/deepsearch_task.schema.json.

Reject reasons (an item is rejected with the reason of its last failed candidate; every failed candidate
is also counted in the kept task's `attempts` and in the manifest's `failed_candidates_by_reason`):
    dead_end            the walk found no usable link (hub, undescribable or already visited objects)
    no_description      a leaf has no opening sentence that identifies it once hidden names are elided
    bad_structure       the formal question breaks a structure rule
    no_support          a quote is not verbatim at its span, a link is not at its anchor, or the answer is
                        not the answer document's title
    answer_leak         a content word of an answer name (title, alias, abbreviation) appears, stemmed, in the question
    entity_leak         a content word of an intermediate entity's title appears, stemmed, in the question
    not_unique          more than one document satisfies every constraint (even after the branch repair)
    unsatisfiable       the truth does not satisfy its own constraints (a predicate/quote mismatch)
    shortcut            BM25 with the whole question or with one clause ranks the answer (or a hidden
                        intermediate that is not a leaf) in the top k, or a 4+ word span of the question
                        is an exact phrase of that document alone (even after the FUZZ repair)
    generic_seed        (teacher) the specificity filter judged the seed generic
    solved_closed_book  (teacher) a closed-book answer was right
    teacher_*           (teacher) a call failed for good (see synth/teachers/errors.py)
"""
