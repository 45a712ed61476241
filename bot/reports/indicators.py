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

import bisect
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.calendar import BusinessCalendar
from domain.indicator_days import COUNTS
from storage.ports import Database, IndicatorSlice

BANDS = ("0-5", "6-10", "11-15", ">15")
_BAND_LIMITS = (5, 10, 15)
DIMENSIONS = ("type", "channel", "area", "cause", "client")
NONE_KEY = "none"          # the key of PQRs without an area, cause or client in the by_* maps


def pct(part: int, whole: int) -> float | None:
    """`part` of `whole` as a percentage with one decimal; None when `whole` is 0."""
    return round(100.0 * part / whole, 1) if whole else None


def _spread_of(n: int, at: Callable[[int], float]) -> dict[str, float | None]:
    """Median and p90 of `n` ordered values, `at(i)` the i-th: as `statistics.median` and
    `statistics.quantiles(n=10, method="inclusive")[8]` compute them (linear between the closest
    ranks), two decimals; None for no values."""
    if n == 0:
        return {"median": None, "p90": None}
    if n == 1:
        return {"median": round(at(0), 2), "p90": round(at(0), 2)}
    median = at(n // 2) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2
    m = n - 1
    j, delta = (9 * m) // 10, (9 * m) % 10
    p90 = (at(j) * (10 - delta) + at(j + 1) * delta) / 10
    return {"median": round(median, 2), "p90": round(p90, 2)}


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """Median and p90 (linear between closest ranks), two decimals; None for no values."""
    ordered = sorted(values)
    return _spread_of(len(ordered), ordered.__getitem__)


def spread_counts(counts: Sequence[tuple[int, int]]) -> dict[str, float | None]:
    """`spread` of values given as (value, how many), in ascending value order."""
    values = [float(v) for v, _ in counts]
    ends = list(itertools.accumulate(n for _, n in counts))
    return _spread_of(ends[-1] if ends else 0, lambda i: values[bisect.bisect_right(ends, i)])


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
        # The roll-ups count by the calendar's local days (bootstrap sets the same; a test that
        # builds this service on its own database gets it here).
        db.tz = calendar.tz
        self._rollups_checked = False

    def bounds(self, start: dt.date, end: dt.date) -> Bounds:
        return Bounds.of(start, end, self.calendar)

    def _as_of(self, b: Bounds) -> dt.datetime:
        """The period's end, or now for a period that has not ended."""
        return min(b.end, self.clock()) if self.clock is not None else b.end

    async def ensure_rollups(self) -> None:
        """Count every PQR into the daily roll-ups when they were never counted (a database just
        upgraded) or were counted in another time zone. Once per process; `pqrbot run` does it
        at start, so a report does not wait for it."""
        if self._rollups_checked:
            return
        tz = self.db.tz.key
        async with self.db.uow(readonly=True) as uow:
            built = await uow.indicator_days.built_for()
        if built != tz:
            async with self.db.uow() as uow:
                if await uow.indicator_days.built_for() != tz:
                    now = self.clock() if self.clock is not None else dt.datetime.now(dt.timezone.utc)
                    await uow.indicator_days.rebuild(now=now)
                    await uow.commit()
        self._rollups_checked = True

    async def kpis(self, start: dt.date, end: dt.date, flt: IndicatorSlice = IndicatorSlice()) -> dict[str, Any]:
        """The `report kpis` document for [start, end) (local dates) and the slice."""
        await self.ensure_rollups()
        b = self.bounds(start, end)
        cal = self.calendar
        as_of = self._as_of(b)
        last_day = cal.local(as_of - dt.timedelta(microseconds=1)).date()
        async with self.db.uow(readonly=True) as uow:
            store = uow.indicators
            sums = await store.sums(b.start_day, b.end_day, b.start, b.end, flt)
            late = await store.late_open(as_of, flt)
            bands, breached = await store.backlog(as_of, backlog_thresholds(cal, last_day), flt)
            first = await store.first_response_spread(b.start, b.end, flt)
            hours, fr_unmeasured = await store.first_response_hours(b.start, b.end, flt) if first is None else ([], [])
            totals = [sum(col) for col in zip(*sums["type"].values(), strict=True)] or [0] * len(COUNTS)
            hist, res_unmeasured = await store.resolution_days(b.start_day, b.end_day, b.start, b.end, flt,
                                                               answered=totals[1])
            extensions, reopened = totals[COUNTS.index("extensions")], totals[COUNTS.index("reopened")]
            missed = await store.ans_missed(b.start, as_of, flt)
        if first is None:
            hours += [cal.business_hours_between(r, f) for r, f in fr_unmeasured]
            first = spread(hours)
        if res_unmeasured:
            days = [d for d, n in hist for _ in range(n)]
            days += [cal.business_days_between(cal.effective_filing_day(r), cal.local(c).date())
                     for r, c in res_unmeasured]
            resolution = spread([float(d) for d in days])
        else:
            resolution = spread_counts(hist)
        filed, n_answered, on_time = totals[0], totals[1], totals[2]
        n_late_open = sum(v[0] for v in late["type"].values())
        measured = totals[3] + totals[5] + sum(f + r for f, r in missed.values())
        met = totals[4] + totals[6]
        doc: dict[str, Any] = {
            "from": start.isoformat(), "to": end.isoformat(),
            "filed": filed, "answered": n_answered,
            "on_time_pct": pct(on_time, n_answered + n_late_open),
            "ans_compliance_pct": pct(met, measured),
            "first_response_hours": first, "resolution_business_days": resolution,
            "open_at_end": sum(bands), "breached_open": breached,
            "backlog_age": dict(zip(BANDS, bands, strict=True)),
            "extensions": extensions, "reopened": reopened,
        }
        for dim in DIMENSIONS:
            doc[f"by_{dim}"] = _by(sums[dim], late[dim])
        return doc

    async def ans_targets(self, start: dt.date, end: dt.date,
                          flt: IndicatorSlice) -> list[tuple[str | None, str, str, int, int]]:
        """(client, type, kind, measured, met) of the ANS outcomes known in the period: targets
        settled in it (met or not) and deadlines of it passed unmet by its end (or by now)."""
        await self.ensure_rollups()
        b = self.bounds(start, end)
        async with self.db.uow(readonly=True) as uow:
            done = await uow.indicators.ans_done(b.start_day, b.end_day, b.start, b.end, flt)
            missed = await uow.indicators.ans_missed(b.start, self._as_of(b), flt)
        merged: dict[tuple[str, str], list[Any]] = {}      # (client folded, type) -> name, fr…, res…
        for (client, ptype), v in done.items():
            row = merged.setdefault((client.casefold(), ptype), [client, 0, 0, 0, 0])
            for i in range(4):
                row[1 + i] += v[i]
        for (client, ptype), (fr, res) in missed.items():
            row = merged.setdefault((client.casefold(), ptype), [client, 0, 0, 0, 0])
            row[1] += fr
            row[3] += res
        out: list[tuple[str | None, str, str, int, int]] = []
        for (_, ptype), (name, fr_n, fr_met, res_n, res_met) in sorted(merged.items()):
            for kind, n, met in (("first_response", fr_n, fr_met), ("resolution", res_n, res_met)):
                if n:
                    out.append((name or None, ptype, kind, n, met))
        return out

    async def breaches(self, start: dt.date, end: dt.date, flt: IndicatorSlice) -> list[dict[str, Any]]:
        """The ANS targets missed in the period, by its end or by now for a period still running
        (instants as stored: aware UTC)."""
        b = self.bounds(start, end)
        async with self.db.uow(readonly=True) as uow:
            return await uow.indicators.breaches(b.start, self._as_of(b), flt)

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


def _by(sums: dict[str, list[int]], late: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    """`{key: {"filed", "answered", "on_time_pct"}}` for one dimension, keys sorted; keys with
    nothing filed, answered or late in the period are left out."""
    out: dict[str, dict[str, Any]] = {}
    for key in sorted({*sums, *late}, key=lambda k: k or NONE_KEY):
        counts = sums.get(key, [0] * len(COUNTS))
        n_late = late.get(key, [0])[0]
        if counts[0] or counts[1] or n_late:
            out[key or NONE_KEY] = {"filed": counts[0], "answered": counts[1],
                                    "on_time_pct": pct(counts[2], counts[1] + n_late)}
    return dict(sorted(out.items()))
