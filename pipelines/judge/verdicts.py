"""Pair-wise verdicts and the position swap.

Every comparison of candidates X and Y is judged twice: X shown as "A" (order `xy`), then Y shown as "A"
(order `yx`). A verdict is one of A>>B, A>B, A=B, B>A, B>>A, i.e. a preference for the response shown
first of +2, +1, 0, -1, -2; seen from X, the second verdict's preference changes sign. The outcome:

    both prefer X (signs > 0)          X wins, margin = (|p1| + |p2|) / 4  in {0.5, 0.75, 1.0}
    both prefer Y                      Y wins, same margin
    both say A=B                       tie       (consistent)
    anything else (X in one order, Y   tie       (position-inconsistent: the verdict followed the position,
      or a tie in the other)                      not the content, so it is no preference at all)
    a verdict missing (teacher failed) failed    (no preference; the tournament breaks it like a tie)

"Swap-consistent" = both orders give the same outcome (same winner, or both A=B).
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERDICTS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
PREFERENCE = {"A>>B": 2, "A>B": 1, "A=B": 0, "B>A": -1, "B>>A": -2}

WIN, TIE, INCONSISTENT, FAILED = "win", "tie", "inconsistent", "failed"
REASONS = {TIE: "judge_tie", INCONSISTENT: "position_inconsistent"}  # reject reasons of non-decisive matches


def verdict_schema(analysis_chars: int = 400) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["analysis", "verdict"],
            "properties": {"analysis": {"type": "string", "maxLength": analysis_chars},
                           "verdict": {"enum": list(VERDICTS)}}}


@dataclass
class Outcome:
    status: str                      # win | tie | inconsistent | failed
    winner: str | None = None        # "x" | "y" when status == win
    margin: float = 0.0
    verdicts: list[dict] = field(default_factory=list)

    @property
    def consistent(self) -> bool | None:
        return None if self.status == FAILED else self.status in (WIN, TIE)


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def combine(first: str | None, second: str | None) -> tuple[str, str | None, float]:
    """(status, winner "x"|"y"|None, margin) from the verdict of order xy and the verdict of order yx."""
    if first not in PREFERENCE or second not in PREFERENCE:
        return FAILED, None, 0.0
    p1, p2 = PREFERENCE[first], -PREFERENCE[second]  # both as a preference for X
    if _sign(p1) != _sign(p2):
        return INCONSISTENT, None, 0.0
    if p1 == 0:
        return TIE, None, 0.0
    return WIN, "x" if p1 > 0 else "y", (abs(p1) + abs(p2)) / 4


def verdict_record(order: str, first: str, second: str, reply: dict | None, error: str | None = None) -> dict:
    """One judged order as stored in `preference_pair.verdicts`: who was shown as A and B, and the verdict."""
    record = {"order": order, "a": first, "b": second,
              "verdict": (reply or {}).get("verdict"), "analysis": (reply or {}).get("analysis")}
    if reply is not None:
        record["preference_for_a"] = PREFERENCE.get(record["verdict"])
    if error:
        record["error"] = error
    return record


def outcome(x: str, y: str, reply_xy: dict | None, reply_yx: dict | None,
            errors: tuple[str | None, str | None] = (None, None)) -> Outcome:
    verdicts = [verdict_record("xy", x, y, reply_xy, errors[0]), verdict_record("yx", y, x, reply_yx, errors[1])]
    status, winner, margin = combine(verdicts[0]["verdict"], verdicts[1]["verdict"])
    return Outcome(status, winner, margin, verdicts)
