"""`IndicatorStore`: the queries behind the indicators.

The sums over a period (filed, answered, on time, ANS targets met, resolution days, by every
dimension) are read from the daily roll-ups (`storage.repositories.indicator_days`): a period
costs its days, not its PQRs. A slice the roll-ups do not keep (type, channel, cause, assignee,
or two fields at once) is counted from the PQRs instead, with the same rules
(`domain.indicator_days`).

What depends on the state at the period's end (open PQRs, late ones, deadlines passed without
an answer) is counted from the PQRs, each an index scan bounded by the period or by the open
PQRs: open now (partial indexes on `is_open`), or closed at or after the end (read from
`ix_pqrs_closed_cover` alone) — few, for a period that ended recently. The first-response times
are read from `ix_pqrs_first_response_cover` alone (exact medians need the values).

Nothing here knows business time: the service passes instants and local days worked out on the
calendar, and the per-PQR business times were measured when they happened (`Pqr.measure`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from domain.indicator_days import COUNTS, DIMENSIONS, slice_key
from storage.ports import IndicatorSlice
from storage.repositories.indicator_days import SqlIndicatorDays
from storage.sqlite_inline import SqlConnection
from storage.tables import customers, events, pqrs

# By dimension, by key ("" for none): the COUNTS of domain.indicator_days.
Sums = dict[str, dict[str, list[int]]]

_DIMS = tuple(pqrs.c[d] for d in DIMENSIONS)
_LEGAL_DUE = func.coalesce(pqrs.c.legal_due_at, pqrs.c.due_at)
_OPEN = pqrs.c.is_open == True  # noqa: E712  (renders `is_open = 1` / `is_open = true`: the partial indexes' predicate)


def _where(flt: IndicatorSlice) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for column, value in ((pqrs.c.client, flt.client), (pqrs.c.area, flt.area), (pqrs.c.type, flt.type),
                          (pqrs.c.channel, flt.channel), (pqrs.c.cause, flt.cause),
                          (pqrs.c.assignee, flt.assignee)):
        if value is not None:
            conds.append(func.lower(column) == value.lower() if column is not pqrs.c.type else column == value)
    return conds


def rolled_up(flt: IndicatorSlice) -> tuple[str, str] | None:
    """The roll-ups' (slice, key) for `flt`, or None when they do not keep it."""
    given = {name: getattr(flt, name) for name in ("client", "area", "type", "channel", "cause", "assignee")
             if getattr(flt, name) is not None}
    if not given:
        return "", ""
    if len(given) == 1 and next(iter(given)) in ("client", "area"):
        name, value = next(iter(given.items()))
        return name, slice_key(value)
    return None


def _fold(rows: Sequence[Any], width: int) -> Sums:
    """Rows of (type, channel, area, cause, client, count…) summed by each dimension."""
    out: Sums = {d: {} for d in DIMENSIONS}
    for r in rows:
        for i, d in enumerate(DIMENSIONS):
            have = out[d].setdefault(r[i] or "", [0] * width)
            for j in range(width):
                have[j] += int(r[5 + j] or 0)
    return out


class SqlIndicators:
    """`IndicatorStore` on the `pqrs` and `events` tables and the roll-ups."""

    def __init__(self, conn: SqlConnection, days: SqlIndicatorDays) -> None:
        self._conn = conn
        self._days = days

    async def _all(self, stmt: Any) -> list[Any]:
        """The rows, untyped (each query says what its columns are)."""
        return list((await self._conn.execute(stmt)).all())

    # -- sums over the period -------------------------------------------------------------------
    async def sums(self, start_day: dt.date, end_day: dt.date, start: dt.datetime, end: dt.datetime,
                   flt: IndicatorSlice) -> Sums:
        """The period's COUNTS by dimension and key: from the roll-ups' days [start_day, end_day)
        where they keep the slice, else counted from the PQRs in [start, end)."""
        where = rolled_up(flt)
        if where is not None:
            found = await self._days.sums(start_day, end_day, *where, dims=DIMENSIONS)
            return {d: found.get(d, {}) for d in DIMENSIONS}
        return await self.counted_sums(start, end, flt)

    async def counted_sums(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice) -> Sums:
        """`sums` counted from the PQRs of [start, end) (a slice the roll-ups do not keep; and
        what the tests hold the roll-ups to)."""
        out: Sums = {d: {} for d in DIMENSIONS}
        n = len(COUNTS)
        c = pqrs.c
        has_contract = c.contract.is_not(None)

        def counts(**given: Any) -> list[Any]:
            """The COUNTS columns of one scan: those `given`, zero for the others."""
            return [given.get(name, func.sum(0)) for name in COUNTS]

        def when(cond: ColumnElement[bool]) -> Any:
            return func.sum(case((cond, 1), else_=0))

        parts = (
            (counts(filed=func.count(), open=when(c.closed_at.is_(None))), [c.received_at >= start, c.received_at < end]),
            (counts(answered=func.count(), on_time=when(c.closed_at <= _LEGAL_DUE),
                    res_done=when(and_(has_contract, c.contract_due_at.is_not(None))),
                    res_met=when(and_(has_contract, c.closed_at <= c.contract_due_at))),
             [c.closed_at >= start, c.closed_at < end]),
            (counts(fr_done=func.count(), fr_met=when(c.first_response_at <= c.first_response_due_at)),
             [c.first_response_at >= start, c.first_response_at < end, has_contract,
              c.first_response_due_at.is_not(None)]),
            (counts(open_due=func.count()), [_OPEN, _LEGAL_DUE >= start, _LEGAL_DUE < end]),
        )
        event_parts = (
            (counts(extensions=func.count()), [events.c.kind == "extended"]),
            (counts(reopened=func.count()), [events.c.kind == "status_changed", events.c.to_state == "reabierta"]),
        )
        for columns, conds in event_parts:
            stmt = (select(*_DIMS, *columns).select_from(events.join(pqrs, pqrs.c.id == events.c.pqr_id))
                    .where(*conds, events.c.at >= start, events.c.at < end, *_where(flt)).group_by(*_DIMS))
            for d, by_key in _fold(await self._all(stmt), n).items():
                for k, v in by_key.items():
                    have = out[d].setdefault(k, [0] * n)
                    for i in range(n):
                        have[i] += v[i]
        for columns, conds in parts:
            stmt = select(*_DIMS, *columns).where(*conds, *_where(flt)).group_by(*_DIMS)
            for d, by_key in _fold(await self._all(stmt), n).items():
                for k, v in by_key.items():
                    have = out[d].setdefault(k, [0] * n)
                    for i in range(n):
                        have[i] += v[i]
        return out

    async def ans_done(self, start_day: dt.date, end_day: dt.date, start: dt.datetime, end: dt.datetime,
                       flt: IndicatorSlice) -> dict[tuple[str, str], list[int]]:
        """The ANS targets settled in the period — (fr_done, fr_met, res_done, res_met) by
        (client, type); the client as stored, "" for none."""
        where = rolled_up(flt)
        if where == ("", ""):
            names = {slice_key(k): k for k in (await self._days.sums(start_day, end_day, "", "", dims=("client",)))
                     .get("client", {})}
            found = await self._days.by_client_type(start_day, end_day)
            return {(names.get(c, c), t): v[3:7] for (c, t), v in found.items()}
        if where is not None and where[0] == "client":
            by_type = (await self.sums(start_day, end_day, start, end, flt))["type"]
            return {(flt.client or "", t): v[3:7] for t, v in by_type.items()}
        return await self._by_client_type_live(start, end, flt)

    async def _by_client_type_live(self, start: dt.datetime, end: dt.datetime,
                                   flt: IndicatorSlice) -> dict[tuple[str, str], list[int]]:
        out: dict[tuple[str, str], list[int]] = {}
        fr = (select(pqrs.c.client, pqrs.c.type, func.count(),
                     func.sum(case((pqrs.c.first_response_at <= pqrs.c.first_response_due_at, 1), else_=0)))
              .where(pqrs.c.first_response_at >= start, pqrs.c.first_response_at < end, pqrs.c.contract.is_not(None),
                     pqrs.c.first_response_due_at.is_not(None), *_where(flt))
              .group_by(pqrs.c.client, pqrs.c.type))
        res = (select(pqrs.c.client, pqrs.c.type, func.count(),
                      func.sum(case((pqrs.c.closed_at <= pqrs.c.contract_due_at, 1), else_=0)))
               .where(pqrs.c.closed_at >= start, pqrs.c.closed_at < end, pqrs.c.contract.is_not(None),
                      pqrs.c.contract_due_at.is_not(None), *_where(flt))
               .group_by(pqrs.c.client, pqrs.c.type))
        for stmt, at in ((fr, 0), (res, 2)):
            for client, ptype, n, met in await self._all(stmt):
                have = out.setdefault((client or "", ptype), [0, 0, 0, 0])
                have[at] += int(n)
                have[at + 1] += int(met or 0)
        return out

    async def ans_missed(self, start: dt.datetime, as_of: dt.datetime,
                         flt: IndicatorSlice) -> dict[tuple[str, str], list[int]]:
        """The ANS deadlines of [start, as_of) passed without being met by `as_of`: (first
        responses, resolutions) by (client, type). A first response is missed while it has not
        been given; a resolution while the PQR was open at `as_of` (open now, or closed since)."""
        out: dict[tuple[str, str], list[int]] = {}
        base = [pqrs.c.contract.is_not(None), *_where(flt)]
        fr_due, res_due = pqrs.c.first_response_due_at, pqrs.c.contract_due_at
        queries = (
            (0, [pqrs.c.first_response_at.is_(None), fr_due >= start, fr_due < as_of]),
            (1, [_OPEN, res_due >= start, res_due < as_of]),
            (1, [res_due >= start, res_due < as_of, pqrs.c.closed_at >= as_of]),
        )
        # One statement: three indexed scans, each of its own index (a round trip costs more
        # than some of the scans).
        stmt = union_all(*[select(literal(at), pqrs.c.client, pqrs.c.type, func.count()).where(*conds, *base)
                           .group_by(pqrs.c.client, pqrs.c.type) for at, conds in queries])
        for at, client, ptype, n in await self._all(stmt):
            out.setdefault((client or "", ptype), [0, 0])[int(at)] += int(n)
        return out

    async def resolution_days(self, start_day: dt.date, end_day: dt.date, start: dt.datetime, end: dt.datetime,
                              flt: IndicatorSlice, answered: int,
                              ) -> tuple[list[tuple[int, int]], list[tuple[dt.datetime, dt.datetime]]]:
        """The business days of the PQRs closed in the period, as (days, PQRs); and (received_at,
        closed_at) of those closed before the measure existed (the service counts them). From the
        roll-ups when they hold all `answered` closings of the period."""
        where = rolled_up(flt)
        if where is not None:
            hist = await self._days.resolution_days(start_day, end_day, *where)
            if sum(n for _, n in hist) == answered:
                return hist, []
        return await self.counted_resolution_days(start, end, flt)

    async def counted_resolution_days(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice,
                                      ) -> tuple[list[tuple[int, int]], list[tuple[dt.datetime, dt.datetime]]]:
        """`resolution_days` counted from the PQRs closed in [start, end)."""
        cond = [pqrs.c.closed_at >= start, pqrs.c.closed_at < end, *_where(flt)]
        hist_stmt = (select(pqrs.c.resolution_days, func.count()).where(*cond, pqrs.c.resolution_days.is_not(None))
                     .group_by(pqrs.c.resolution_days).order_by(pqrs.c.resolution_days))
        hist = [(int(d), int(n)) for d, n in await self._all(hist_stmt)]
        unmeasured = await self._all(select(pqrs.c.received_at, pqrs.c.closed_at)
                                     .where(*cond, pqrs.c.resolution_days.is_(None)))
        return hist, [(r[0], r[1]) for r in unmeasured]

    async def first_response_hours(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice,
                                   ) -> tuple[list[float], list[tuple[dt.datetime, dt.datetime]]]:
        """The measured business hours of the first responses given in [start, end) (from the
        covering index alone); and (received_at, first_response_at) of those never measured."""
        cond = [pqrs.c.first_response_at >= start, pqrs.c.first_response_at < end, *_where(flt)]
        found = await self._floats(select(pqrs.c.first_response_hours).where(*cond))
        hours = [h for h in found if h is not None]
        if len(hours) == len(found):
            return hours, []
        unmeasured = await self._all(select(pqrs.c.received_at, pqrs.c.first_response_at)
                                     .where(*cond, pqrs.c.first_response_hours.is_(None)))
        return hours, [(r[0], r[1]) for r in unmeasured]

    async def first_response_spread(self, start: dt.datetime, end: dt.datetime,
                                    flt: IndicatorSlice) -> dict[str, float | None] | None:
        """PostgreSQL: the median and p90 of the measured first-response hours of [start, end),
        computed by the server (`percentile_cont`, the same linear interpolation as
        `statistics.quantiles(method="inclusive")`), two decimals; None elsewhere, or when some
        first response of the period was never measured (the service counts those)."""
        if self._conn.dialect.name != "postgresql":
            return None
        cond = [pqrs.c.first_response_at >= start, pqrs.c.first_response_at < end, *_where(flt)]
        hours = pqrs.c.first_response_hours
        row = (await self._conn.execute(select(
            func.count(hours), func.count(), func.percentile_cont(0.5).within_group(hours),
            func.percentile_cont(0.9).within_group(hours)).where(*cond))).one()
        if int(row[0]) != int(row[1]):
            return None
        if int(row[0]) == 0:
            return {"median": None, "p90": None}
        return {"median": round(float(row[2]), 2), "p90": round(float(row[3]), 2)}

    async def _floats(self, stmt: Select[Any]) -> list[float | None]:
        """The one float column of `stmt`'s rows (None for NULL). On SQLite's read connections the rows are
        fetched by the driver itself: a year's first responses are 400k rows, which SQLAlchemy's
        result rows take five times as long to build as the query takes to run."""
        conn = self._conn
        if conn.dialect.name == "sqlite" and isinstance(conn, AsyncConnection):
            compiled = stmt.compile(dialect=conn.dialect)
            params = compiled.construct_params()
            values = []
            for k in compiled.positiontup or ():
                process = compiled.binds[k].type.bind_processor(conn.dialect)
                values.append(process(params[k]) if process is not None else params[k])
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection          # aiosqlite.Connection
            cursor = await driver.execute(str(compiled), values)
            try:
                return [r[0] for r in await cursor.fetchall()]
            finally:
                await cursor.close()
        return [None if r[0] is None else float(r[0]) for r in await self._all(stmt)]

    # -- the state at the period's end ----------------------------------------------------------
    async def late_open(self, end: dt.datetime, flt: IndicatorSlice) -> Sums:
        """PQRs open at `end` already past their legal due date, by dimension and key: [count]."""
        rows: list[Any] = []
        scans = [[pqrs.c.closed_at >= end, pqrs.c.legal_due_at < end]]
        where = rolled_up(flt)
        kept: dict[str, dict[str, int]] = {}
        if where is None:
            scans.append([_OPEN, pqrs.c.legal_due_at < end])
        else:
            # Open now and due before `end`'s day: the roll-ups' `open_due` by legal due day;
            # due on that day before `end` (a period still running): from the open PQRs.
            tz = self._days.tz
            day = end.astimezone(tz).date()
            kept = await self._days.open_due_before(day, *where, since=await self._earliest_open(pqrs.c.legal_due_at))
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
            if end > midnight:
                scans.append([_OPEN, pqrs.c.legal_due_at >= midnight, pqrs.c.legal_due_at < end])
        for conds in scans:
            rows += await self._all(select(*_DIMS, func.count()).where(*conds, *_where(flt)).group_by(*_DIMS))
        out = _fold(rows, 1)
        for d, by_key in kept.items():
            for k, n in by_key.items():
                out[d].setdefault(k, [0])[0] += n
        return out

    async def backlog(self, end: dt.datetime, thresholds: Sequence[dt.datetime],
                      flt: IndicatorSlice) -> tuple[list[int], int]:
        """Open PQRs at `end`, counted by age: one count per band, the bands split at the
        `thresholds` (received at or after the first, …, before the last); and how many of them
        were past their due date at `end`. Open now, and closed at or after `end`: two index
        scans, neither reading a row."""
        whens = [(pqrs.c.received_at >= t, i) for i, t in enumerate(thresholds)]
        band = case(*whens, else_=len(thresholds))
        counts = [0] * (len(thresholds) + 1)
        breached = 0
        scans = [[pqrs.c.closed_at >= end, pqrs.c.received_at < end]]
        where = rolled_up(flt)
        if where is None:
            scans.append([_OPEN, pqrs.c.received_at < end])
        else:
            # Open now: the roll-ups' `open` count by receipt day (what is open now was received
            # before now, so "received before `end`" is every day up to `end`'s).
            tz = self._days.tz
            last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
            firsts = [t.astimezone(tz).date() for t in thresholds]
            since = await self._earliest_open(pqrs.c.received_at)
            for day, n in await self._days.open_by_day(last + dt.timedelta(days=1), *where, since=since):
                counts[next((i for i, f in enumerate(firsts) if day >= f), len(firsts))] += n
            breached += int((await self._conn.execute(
                select(func.count()).where(_OPEN, pqrs.c.due_at < end, *_where(flt)))).scalar() or 0)
        for conds in scans:
            stmt = (select(band, func.count(), func.sum(case((pqrs.c.due_at < end, 1), else_=0)))
                    .where(*conds, *_where(flt)).group_by(band))
            for b, n, late in await self._all(stmt):
                counts[int(b)] += int(n)
                breached += int(late or 0)
        return counts, breached

    async def _earliest_open(self, column: Any) -> dt.date | None:
        """The local day of the earliest `column` (receipt, legal due) among the open PQRs, the
        first of their partial indexes; None when none is open."""
        first = (await self._conn.execute(select(func.min(column)).where(_OPEN))).scalar()
        return first.astimezone(self._days.tz).date() if first is not None else None

    # -- lists ----------------------------------------------------------------------------------
    async def breaches(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice,
                       limit: int = 1000) -> list[dict[str, Any]]:
        """The ANS targets missed in [start, end), oldest due first: radicado, type, kind, due_at,
        done_at (None: still not done at `end`), area, cause."""
        out: list[dict[str, Any]] = []
        for kind, due, done in (("first_response", pqrs.c.first_response_due_at, pqrs.c.first_response_at),
                                ("resolution", pqrs.c.contract_due_at, pqrs.c.closed_at)):
            late_done = [done >= start, done < end, done > due]
            not_done: list[list[ColumnElement[bool]]] = [[due >= start, due < end, done.is_(None)],
                                                         [due >= start, due < end, done >= end]]
            for conds in (late_done, *not_done):
                stmt = (select(pqrs.c.radicado, pqrs.c.type, due, done, pqrs.c.area, pqrs.c.cause)
                        .where(pqrs.c.contract.is_not(None), due.is_not(None), *conds, *_where(flt))
                        .order_by(due).limit(limit))
                for r in await self._all(stmt):
                    out.append({"radicado": r[0], "type": r[1], "kind": kind, "due_at": r[2],
                                "done_at": r[3] if r[3] is not None and r[3] < end else None,
                                "area": r[4], "cause": r[5]})
        out.sort(key=lambda b: (b["due_at"], b["radicado"], b["kind"]))
        return out[:limit]

    async def incidences(self, start: dt.datetime, end: dt.datetime,
                         flt: IndicatorSlice) -> list[tuple[str | None, str | None, int]]:
        """PQRs received in [start, end) by (cause, area), most first."""
        stmt = (select(pqrs.c.cause, pqrs.c.area, func.count()).where(
            pqrs.c.received_at >= start, pqrs.c.received_at < end, *_where(flt))
            .group_by(pqrs.c.cause, pqrs.c.area).order_by(func.count().desc()))
        return [(r[0], r[1], int(r[2])) for r in await self._all(stmt)]

    async def detail(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice, *,
                     after_id: int = 0, limit: int = 5000) -> list[tuple[Any, ...]]:
        """One page of the PQRs received in [start, end) (by id, after `after_id`): id, radicado,
        type, status, channel, client, area, cause, received_at, first_response_at, closed_at,
        due_at, legal_due_at, first_response_hours, resolution_days, customer name, subject."""
        stmt = (select(pqrs.c.id, pqrs.c.radicado, pqrs.c.type, pqrs.c.status, pqrs.c.channel, pqrs.c.client,
                       pqrs.c.area, pqrs.c.cause, pqrs.c.received_at, pqrs.c.first_response_at,
                       pqrs.c.closed_at, pqrs.c.due_at, _LEGAL_DUE, pqrs.c.first_response_hours,
                       pqrs.c.resolution_days, customers.c.name, pqrs.c.subject)
                .join(customers, customers.c.id == pqrs.c.customer_id)
                .where(pqrs.c.received_at >= start, pqrs.c.received_at < end, pqrs.c.id > after_id, *_where(flt))
                .order_by(pqrs.c.id).limit(limit))
        return [tuple(r) for r in await self._all(stmt)]

