"""`report nps` and `report csat`: the figures of the surveys sent in a period `[from, to)` (local
days), with the answers they got. NPS = % promoters (9–10) − % detractors (0–6), passives in the
denominator; response rate = answers / sent; CSAT = share of 4–5."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from domain.calendar import BusinessCalendar
from domain.surveys import DETRACTOR_MAX, NpsFigures, csat_pct, one_decimal, pct
from storage.ports import Database, SurveyRecord


def _nps_block(rows: list[SurveyRecord]) -> dict[str, Any]:
    scores = [r.score for r in rows if r.score is not None]
    fig = NpsFigures.of(scores)
    return {"sent": len(rows), "responses": fig.responses, "response_rate_pct": pct(fig.responses, len(rows)),
            "promoters": fig.promoters, "passives": fig.passives, "detractors": fig.detractors, "nps": fig.nps}


def _grouped(rows: Iterable[SurveyRecord], key: Callable[[SurveyRecord], str],
             block: Callable[[list[SurveyRecord]], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: defaultdict[str, list[SurveyRecord]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return {k: block(v) for k, v in sorted(groups.items())}


def matches(segment: str | None, r: SurveyRecord) -> bool:
    """Whether a survey belongs to `segment` (`b2b`, `b2c`, `client:NAME`, None: all)."""
    if not segment:
        return True
    if segment.lower().startswith("client:"):
        return (r.client or "").casefold() == segment[7:].strip().casefold()
    return (r.segment or "") == segment.lower()


class SurveyResults:
    def __init__(self, db: Database, calendar: BusinessCalendar) -> None:
        self.db = db
        self.calendar = calendar

    def _span(self, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
        tz = self.calendar.tz
        return dt.datetime.combine(start, dt.time(0), tzinfo=tz), dt.datetime.combine(end, dt.time(0), tzinfo=tz)

    async def _rows(self, kind: str, start: dt.date, end: dt.date) -> list[SurveyRecord]:
        a, b = self._span(start, end)
        async with self.db.uow(readonly=True) as uow:
            return await uow.surveys.sent(kind, a, b)

    def _iso(self, when: dt.datetime | None) -> str | None:
        return self.calendar.local(when).isoformat() if when is not None else None

    async def nps(self, start: dt.date, end: dt.date, segment: str | None = None) -> dict[str, Any]:
        """The `report nps` document."""
        rows = [r for r in await self._rows("nps", start, end) if matches(segment, r)]
        doc = _nps_block(rows)
        doc["by_segment"] = _grouped(rows, lambda r: r.segment or "none", _nps_block)
        doc["by_client"] = _grouped(rows, lambda r: r.client or "none", _nps_block)
        doc["by_month"] = _grouped(rows, lambda r: self.calendar.local(r.sent_at).strftime("%Y-%m"), _nps_block)
        doc["detractors_list"] = [
            {"contact": r.contact, "client": r.client, "score": r.score, "comment": r.comment,
             "at": self._iso(r.answered_at), "followed_up": r.followup_radicado is not None,
             "pqr": r.followup_radicado}
            for r in rows if r.score is not None and r.score <= DETRACTOR_MAX]
        return doc

    async def nps_summary(self, start: dt.date, end: dt.date, segment: str | None = None) -> dict[str, Any] | None:
        """The NPS block of the client and monthly reports; None when no survey was sent."""
        rows = [r for r in await self._rows("nps", start, end) if matches(segment, r)]
        return _nps_block(rows) if rows else None

    async def csat(self, start: dt.date, end: dt.date) -> dict[str, Any]:
        """The `report csat` document."""
        rows = await self._rows("csat", start, end)

        def block(group: list[SurveyRecord]) -> dict[str, Any]:
            scores = [r.score for r in group if r.score is not None]
            return {"sent": len(group), "responses": len(scores), "csat_pct": csat_pct(scores),
                    "avg": one_decimal(sum(scores) / len(scores)) if scores else None}

        doc = block(rows)
        doc["by_type"] = _grouped(rows, lambda r: r.pqr_type or "none", block)
        doc["by_area"] = _grouped(rows, lambda r: r.area or "none", block)
        doc["low"] = [{"radicado": r.radicado, "score": r.score, "comment": r.comment}
                      for r in rows if r.score is not None and r.score <= 2]
        return doc
