"""The one indicators service: every figure of DESIGN.md "Indicators" for a period [from, to) of
local dates and a slice (client, area, type, channel, cause, assignee), as the `report kpis` JSON
document. The CLI, Slack, the report files and the web all read these same documents.

Counting rules (the DESIGN.md definitions, made exact):
- *filed*: received in the period. *answered*: closed in the period (a PQR reopened and closed
  again counts at its last closing).
- *on time (legal)*: closed at or before the legal due date (`legal_due_at`, moved by a
  prórroga); the percentage is over the answered PQRs plus the PQRs open at the end of the period
  already past their legal due date (those count as late).
- *ANS compliance*: over the contract targets whose outcome is known in the period — a first
  response given in the period (met when at or before `first_response_due_at`) or whose deadline
  passed in the period without one; a PQR closed in the period (met when at or before the ANS
  resolution deadline, which the contract pause moves) or open at the end with that deadline
  passed in the period. met / measured, over both kinds.
- *first response time* (business hours) and *resolution time* (business days, from the start of
  the current term): median and p90 (linear interpolation between the closest ranks) of the PQRs
  first answered / closed in the period.
- *backlog*: PQRs open at the end of the period by age: business days from the effective filing
  day to the period's last day (0–5, 6–10, 11–15, >15); *breached_open*: those past due then.
  For a period still running (this month), "the end" is now: the backlog and the open PQRs past
  due are counted as of the clock, not of a future midnight.
- percentages 0–100 with one decimal, null where nothing counts."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.calendar import BusinessCalendar
from storage.ports import Database, IndicatorGroup, IndicatorSlice

BANDS = ("0-5", "6-10", "11-15", ">15")
_BAND_LIMITS = (5, 10, 15)
DIMENSIONS = ("type", "channel", "area", "cause", "client")
NONE_KEY = "none"          # the key of PQRs without an area, cause or client in the by_* maps


def pct(part: int, whole: int) -> float | None:
    """`part` of `whole` as a percentage with one decimal; None when `whole` is 0."""
    return round(100.0 * part / whole, 1) if whole else None


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """Median and p90 (linear between closest ranks), two decimals; None for no values."""
    if not values:
        return {"median": None, "p90": None}
    ordered = sorted(values)
    if len(ordered) == 1:
        return {"median": round(ordered[0], 2), "p90": round(ordered[0], 2)}
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[8]
    return {"median": round(statistics.median(ordered), 2), "p90": round(p90, 2)}


@dataclass(frozen=True)
class Bounds:
    """A period as instants: local midnight of `start` to local midnight of `end` (exclusive)."""

    start_day: dt.date
    end_day: dt.date
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, start: dt.date, end: dt.date, calendar: BusinessCalendar) -> Bounds:
        return cls(start, end, dt.datetime.combine(start, dt.time(0), tzinfo=calendar.tz),
                   dt.datetime.combine(end, dt.time(0), tzinfo=calendar.tz))


def backlog_thresholds(calendar: BusinessCalendar, last_day: dt.date) -> list[dt.datetime]:
    """The earliest receipt instants whose age at `last_day` is at most 5, 10 and 15 business
    days (age: business days in (effective filing day, last_day])."""
    out = []
    for limit in _BAND_LIMITS:
        day, age = last_day, 0
        while True:
            older = age + (1 if calendar.is_business_day(day) else 0)
            if older > limit:
                break
            day, age = day - dt.timedelta(days=1), older
        # `day` is the earliest filing day of age <= limit; days before it that are not business
        # days file on the next business day, which may be `day` itself.
        first = day
        while not calendar.is_business_day(first - dt.timedelta(days=1)) and \
                calendar.next_business_day(first - dt.timedelta(days=1)) >= day:
            first -= dt.timedelta(days=1)
        out.append(dt.datetime.combine(first, dt.time(0), tzinfo=calendar.tz))
    return out


class IndicatorService:
    """Indicators on a storage `Database`, counted on the business `calendar`."""

    def __init__(self, db: Database, calendar: BusinessCalendar, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self.calendar = calendar
        self.clock = clock          # "now", for a period that has not ended yet

    def bounds(self, start: dt.date, end: dt.date) -> Bounds:
        return Bounds.of(start, end, self.calendar)

    async def kpis(self, start: dt.date, end: dt.date, flt: IndicatorSlice = IndicatorSlice()) -> dict[str, Any]:
        """The `report kpis` document for [start, end) (local dates) and the slice."""
        b = self.bounds(start, end)
        cal = self.calendar
        as_of = min(b.end, self.clock()) if self.clock is not None else b.end
        last_day = cal.local(as_of - dt.timedelta(microseconds=1)).date()
        async with self.db.uow(readonly=True) as uow:
            store = uow.indicators
            filed = await store.filed(b.start, b.end, flt)
            answered = await store.answered(b.start, b.end, flt)
            late_open = await store.open_late(as_of, flt)
            bands, breached = await store.backlog(as_of, backlog_thresholds(cal, last_day), flt)
            first = await store.first_response_hours(b.start, b.end, flt)
            resolution = await store.resolution_days(b.start, b.end, flt)
            extensions, reopened = await store.event_counts(b.start, b.end, flt)
            ans = await store.ans(b.start, b.end, flt)
        hours = [h if h is not None else cal.business_hours_between(r, f) for h, r, f in first]
        days = [d if d is not None else cal.business_days_between(cal.effective_filing_day(r), cal.local(c).date())
                for d, r, c in resolution]
        n_answered = sum(g.count for g in answered)
        on_time = sum(g.extra for g in answered)
        n_late_open = sum(g.count for g in late_open)
        measured, met = sum(a[3] for a in ans), sum(a[4] for a in ans)
        doc: dict[str, Any] = {
            "from": start.isoformat(), "to": end.isoformat(),
            "filed": sum(g.count for g in filed), "answered": n_answered,
            "on_time_pct": pct(on_time, n_answered + n_late_open),
            "ans_compliance_pct": pct(met, measured),
            "first_response_hours": spread(hours), "resolution_business_days": spread([float(d) for d in days]),
            "open_at_end": sum(bands), "breached_open": breached,
            "backlog_age": dict(zip(BANDS, bands, strict=True)),
            "extensions": extensions, "reopened": reopened,
        }
        for dim in DIMENSIONS:
            doc[f"by_{dim}"] = _by(dim, filed, answered, late_open)
        return doc

    async def ans_targets(self, start: dt.date, end: dt.date,
                          flt: IndicatorSlice) -> list[tuple[str | None, str, str, int, int]]:
        """(client, type, kind, measured, met) of the ANS outcomes known in the period."""
        b = self.bounds(start, end)
        async with self.db.uow(readonly=True) as uow:
            return await uow.indicators.ans(b.start, b.end, flt)

    async def breaches(self, start: dt.date, end: dt.date, flt: IndicatorSlice) -> list[dict[str, Any]]:
        """The ANS targets missed in the period (instants as stored: aware UTC)."""
        b = self.bounds(start, end)
        async with self.db.uow(readonly=True) as uow:
            return await uow.indicators.breaches(b.start, b.end, flt)

    async def incidences(self, start: dt.date, end: dt.date,
                         flt: IndicatorSlice = IndicatorSlice()) -> list[dict[str, Any]]:
        """PQRs received in the period by cause × area, most first."""
        b = self.bounds(start, end)
        async with self.db.uow(readonly=True) as uow:
            rows = await uow.indicators.incidences(b.start, b.end, flt)
        out = [{"cause": c or NONE_KEY, "area": a or NONE_KEY, "count": n} for c, a, n in rows]
        return sorted(out, key=lambda i: (-i["count"], i["cause"], i["area"]))

    async def detail(self, start: dt.date, end: dt.date, flt: IndicatorSlice = IndicatorSlice(),
                     page: int = 5000) -> AsyncIterator[tuple[Any, ...]]:
        """One row per PQR received in the period, read a page at a time (the workbook's detail
        sheet streams them): radicado, type, status, channel, client, area, cause, received_at,
        first_response_at, closed_at, due_at, legal_due_at, on_time, first_response_hours,
        resolution_business_days, customer name, subject."""
        b = self.bounds(start, end)
        after = 0
        while True:
            async with self.db.uow(readonly=True) as uow:
                rows = await uow.indicators.detail(b.start, b.end, flt, after_id=after, limit=page)
            for r in rows:
                closed, legal = r[10], r[12]
                on_time = None if closed is None else closed <= legal
                yield (*r[1:13], on_time, *r[13:])
            if len(rows) < page:
                return
            after = rows[-1][0]


def _by(dim: str, filed: Sequence[IndicatorGroup], answered: Sequence[IndicatorGroup],
        late_open: Sequence[IndicatorGroup]) -> dict[str, dict[str, Any]]:
    """`{key: {"filed", "answered", "on_time_pct"}}` for one dimension, keys sorted."""
    acc: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])   # filed, answered, on time, late open
    for groups, slot in ((filed, 0), (answered, 1), (late_open, 3)):
        for g in groups:
            row = acc[getattr(g, dim) or NONE_KEY]
            row[slot] += g.count
            if slot == 1:
                row[2] += g.extra
    return {k: {"filed": v[0], "answered": v[1], "on_time_pct": pct(v[2], v[1] + v[3])}
            for k, v in sorted(acc.items())}
