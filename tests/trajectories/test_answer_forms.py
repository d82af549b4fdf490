"""Issue 21: the paraphrase-aware answer forms (answer_forms.py), each on a case read from WebDancer, and the
near-misses beside every form that must stay wrong (data/answer_near_misses.json)."""

import json
from pathlib import Path

import pytest
from synth.pipelines.trajectories.judge import match

HERBIE = "Who is the race car driver protagonist in the Disney film series featuring Herbie?"
CIFOR = "Does the CIFOR Toolkit aid in implementing guidelines released in 2020?"
CRUSTACEANS = "What is the primary method of introduction for crustaceans into non-native waters?"


@pytest.mark.parametrize("predicted, answer, question, method", [
    ("The race car driver protagonist is **Jim Douglas**.", "jim douglas race car driver", HERBIE, "emphasis"),
    ("The festival known as loaf mass is **Lammas**.", "Lammas day", "Which Christian festival?", "emphasis"),
    ("The country referenced is **Lithuania**.", "Republic of Lithuania (1918–1940)", "Which country?", "emphasis"),
    ("Washington is the U.S. state.", "washington university disambiguation",
     "Which U.S. state shares its name with a university?", "leading_span"),
    ("John Landy, an Australian athlete, ran it.", "Landy, John Michael", "Which Australian athlete?", "leading_span"),
    ("The play is **The Comedy of Errors**.", "The Comedie of Errors", "Which play?", "emphasis"),
    ("It is the song \"Jailhouse Rock,\" where **the jailhouse** is the place.", "in jail house rock", "Where?",
     "contained"),
    ("The dates were **September 3 to September 13, 1752**.", "3rd to 13th September", "Which dates?", "dates"),
    ("The **Post Graduate Diploma in Sustainable Rural Development (PGDSRD)** is it.", "PGDSRD", "Which?",
     "abbreviation"),
    ("It is through the discharge of ballast water from ships.", "ballast water discharge", CRUSTACEANS,
     "reordered_words"),
    ("Eggs rose 4.6%.\n\n**Final Answer:** Yes, eggs rose more.", "Yes", "Did eggs rise more than bacon?",
     "leading_span"),
    ("All 298 people on board died.\n\n**Casualties**: 298 deaths.", "two hundred and ninety eight", "How many?",
     "number"),
    ("The sources agree.\n\n**Final Answer**\nThe number is \\boxed{10}.", "10", "Which number?", "number"),
    ("The CIFOR Toolkit does aid in implementing the guidelines released in 2020.", "Yes", CIFOR, "restated"),
    ("The CIFOR Toolkit does not aid in implementing the guidelines released in 2020.", "No", CIFOR, "restated"),
])
def test_paraphrase_forms_accept_what_a_reader_accepts(predicted, answer, question, method):
    verdict = match(predicted, answer, None, question)
    assert verdict.correct is True and verdict.method == method, verdict


def test_forms_that_need_the_question_do_not_fire_without_it():
    assert match("The race car driver protagonist is **Jim Douglas**.", "jim douglas race car driver").correct is False
    assert match("The CIFOR Toolkit does aid in implementing the guidelines released in 2020.", "Yes").correct is False


def test_near_misses_stay_wrong():
    cases = json.loads((Path(__file__).parent / "data" / "answer_near_misses.json").read_text(encoding="utf-8"))["cases"]
    assert len(cases) >= 20
    accepted = [(c["form"], c["predicted"]) for c in cases
                if match(c["predicted"], c["answer"], None, c["question"]).correct is not False]
    assert accepted == []
