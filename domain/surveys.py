"""Satisfaction surveys: the two scales (CSAT 1–5 after a PQR closes, NPS 0–10 in campaigns),
how an answer is classed, and the figures DESIGN.md defines (NPS = % promoters − % detractors,
passives in the denominator; CSAT = share of 4–5). Pure: no I/O, time passed in."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class SurveyKind(StrEnum):
    CSAT = "csat"
    NPS = "nps"


SCALES: dict[SurveyKind, tuple[int, int]] = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}
LOW_CSAT = 2          # a CSAT answer at or below this alerts the assignee and the managers
DETRACTOR_MAX = 6     # NPS 0–6: detractor; 7–8: passive; 9–10: promoter
PROMOTER_MIN = 9
COMMENT_MAX = 2000


class SurveyError(Exception):
    """Why an answer is not taken: `code` is `not_found`, `used`, `expired` or `bad_score`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def valid_score(kind: SurveyKind, score: int) -> bool:
    low, high = SCALES[kind]
    return low <= score <= high


def nps_class(score: int) -> str:
    """`promoter` (9–10), `passive` (7–8) or `detractor` (0–6)."""
    if score >= PROMOTER_MIN:
        return "promoter"
    return "passive" if score > DETRACTOR_MAX else "detractor"


def one_decimal(value: float) -> float:
    """Rounded half away from zero to one decimal (30.05 → 30.1), as the reports print."""
    scaled = abs(value) * 10
    rounded = math.floor(scaled + 0.5 + 1e-9) / 10
    return rounded if value >= 0 else -rounded


def pct(part: int, whole: int) -> float | None:
    return one_decimal(100.0 * part / whole) if whole else None


@dataclass(frozen=True)
class NpsFigures:
    responses: int
    promoters: int
    passives: int
    detractors: int

    @classmethod
    def of(cls, scores: Iterable[int]) -> NpsFigures:
        classes = [nps_class(s) for s in scores]
        return cls(len(classes), classes.count("promoter"), classes.count("passive"), classes.count("detractor"))

    @property
    def nps(self) -> float | None:
        """% promoters − % detractors, one decimal; None without answers."""
        if not self.responses:
            return None
        return one_decimal(100.0 * (self.promoters - self.detractors) / self.responses)


def csat_pct(scores: Iterable[int]) -> float | None:
    """The share of 4–5 answers, one decimal; None without answers."""
    values = list(scores)
    return pct(sum(1 for s in values if s >= 4), len(values))


def is_open(expires_at: dt.datetime, answered_at: dt.datetime | None, now: dt.datetime) -> str | None:
    """None when a survey may still be answered at `now`; else `used` or `expired`."""
    if answered_at is not None:
        return "used"
    if now >= expires_at:
        return "expired"
    return None
