"""Responses and judgments: candidate responses (`synth generate responses`), point-wise and pair-wise judging.

    responses.py   K candidates per prompt (synth generate responses)
    candidates.py  any record with one response to one prompt -> Candidate; rendering for judge prompts
    rubric.py      rubric files (rubric.yaml is the default) -> criteria, reply schema, weighted score
    prompts.py     prompts/*.txt filled in
    pointwise.py   per-criterion scores 1-10 with rationale (synth judge pointwise)
    verdicts.py    A>>B..B>>A verdicts, the position swap, inconsistent -> tie
    tournament.py  seeded knockout bracket with byes, tie-breaks, placements
    pairwise.py    the combination (point-wise filter, then knockout) -> preference pairs (synth judge pairwise)
    grouping.py    candidates grouped by prompt in bounded memory (the pairwise work items)
    reliability.py swap consistency, tie rate, position bias, rank agreement (Kendall tau-b)
"""
