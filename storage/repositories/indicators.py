"""`IndicatorStore`: the aggregate queries behind the indicators, each one indexed range scan of a
period's rows (`received_at`, `closed_at`, `first_response_at`, or the open PQRs at its end),
grouped in SQL by every slicing dimension at once so one scan serves every `by_*` table.

Nothing here knows business time: the service passes instants (the period's bounds, the backlog's
age thresholds) already worked out on the calendar, and the per-PQR business times were measured
when they happened (`Pqr.measure`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from storage.ports import IndicatorGroup, IndicatorSlice
from storage.sqlite_inline import SqlConnection
from storage.tables import customers, events, pqrs

# The dimensions every grouped query returns, in this order.
_DIMENSIONS = (pqrs.c.type, pqrs.c.channel, pqrs.c.area, pqrs.c.cause, pqrs.c.client)
_LEGAL_DUE = func.coalesce(pqrs.c.legal_due_at, pqrs.c.due_at)


def _where(flt: IndicatorSlice) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for column, value in ((pqrs.c.client, flt.client), (pqrs.c.area, flt.area), (pqrs.c.type, flt.type),
                          (pqrs.c.channel, flt.channel), (pqrs.c.cause, flt.cause),
                          (pqrs.c.assignee, flt.assignee)):
        if value is not None:
            conds.append(func.lower(column) == value.lower() if column is not pqrs.c.type else column == value)
    return conds


def _open_at(end: dt.datetime) -> ColumnElement[bool]:
    """Received before `end` and not closed before it. Written as two indexable branches — open now
    (`closed_at` is NULL exactly while a PQR is open) or closed at or after `end` — so neither scans
    every PQR received before `end`."""
    return or_(and_(pqrs.c.closed_at.is_(None), pqrs.c.received_at < end),
               and_(pqrs.c.closed_at >= end, pqrs.c.received_at < end))


class SqlIndicators:
    """`IndicatorStore` on the `pqrs` and `events` tables."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def _all(self, stmt: Any) -> list[Any]:
        """The rows, untyped (each query says what its columns are)."""
        return list((await self._conn.execute(stmt)).all())

    async def _groups(self, stmt: Select[Any]) -> list[IndicatorGroup]:
        rows = await self._all(stmt.group_by(*_DIMENSIONS))
        return [IndicatorGroup(type=r[0], channel=r[1], area=r[2], cause=r[3], client=r[4],
                               count=int(r[5]), extra=int(r[6] or 0)) for r in rows]

    async def filed(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice) -> list[IndicatorGroup]:
        """PQRs received in [start, end), by dimensions (`extra`: 0)."""
        stmt = (select(*_DIMENSIONS, func.count(), func.sum(0))
                .where(pqrs.c.received_at >= start, pqrs.c.received_at < end, *_where(flt)))
        return await self._groups(stmt)

    async def answered(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice) -> list[IndicatorGroup]:
        """PQRs closed in [start, end), by dimensions; `extra`: those closed by their legal due date."""
        on_time = func.sum(case((pqrs.c.closed_at <= _LEGAL_DUE, 1), else_=0))
        stmt = (select(*_DIMENSIONS, func.count(), on_time)
                .where(pqrs.c.closed_at >= start, pqrs.c.closed_at < end, *_where(flt)))
        return await self._groups(stmt)

    async def open_late(self, end: dt.datetime, flt: IndicatorSlice) -> list[IndicatorGroup]:
        """PQRs open at `end` already past their legal due date, by dimensions (`extra`: 0)."""
        stmt = (select(*_DIMENSIONS, func.count(), func.sum(0))
                .where(_open_at(end), _LEGAL_DUE < end, *_where(flt)))
        return await self._groups(stmt)

    async def backlog(self, end: dt.datetime, thresholds: Sequence[dt.datetime],
                      flt: IndicatorSlice) -> tuple[list[int], int]:
        """Open PQRs at `end`, counted by age: one count per band, the bands split at the
        `thresholds` (received at or after the first, …, before the last); and how many of them
        were past their due date at `end`."""
        whens = [(pqrs.c.received_at >= t, i) for i, t in enumerate(thresholds)]
        band = case(*whens, else_=len(thresholds))
        stmt = (select(band, func.count(), func.sum(case((pqrs.c.due_at < end, 1), else_=0)))
                .where(_open_at(end), *_where(flt)).group_by(band))
        counts = [0] * (len(thresholds) + 1)
        breached = 0
        for b, n, late in await self._all(stmt):
            counts[int(b)] = int(n)
            breached += int(late or 0)
        return counts, breached

    async def first_response_hours(self, start: dt.datetime, end: dt.datetime,
                                   flt: IndicatorSlice) -> list[tuple[float | None, dt.datetime, dt.datetime]]:
        """(measured business hours, received_at, first_response_at) of the PQRs first answered
        in [start, end); hours None for rows from before the measure existed."""
        stmt = (select(pqrs.c.first_response_hours, pqrs.c.received_at, pqrs.c.first_response_at)
                .where(pqrs.c.first_response_at >= start, pqrs.c.first_response_at < end, *_where(flt)))
        return [(r[0], r[1], r[2]) for r in await self._all(stmt)]

    async def resolution_days(self, start: dt.datetime, end: dt.datetime,
                              flt: IndicatorSlice) -> list[tuple[int | None, dt.datetime, dt.datetime]]:
        """(measured business days, received_at, closed_at) of the PQRs closed in [start, end)."""
        stmt = (select(pqrs.c.resolution_days, pqrs.c.received_at, pqrs.c.closed_at)
                .where(pqrs.c.closed_at >= start, pqrs.c.closed_at < end, *_where(flt)))
        return [(r[0], r[1], r[2]) for r in await self._all(stmt)]

    async def event_counts(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice) -> tuple[int, int]:
        """(prórrogas granted, reopenings) in [start, end) on the sliced PQRs."""
        extended = func.sum(case((events.c.kind == "extended", 1), else_=0))
        reopened = func.sum(case((and_(events.c.kind == "status_changed", events.c.to_state == "reabierta"), 1),
                                 else_=0))
        stmt = (select(extended, reopened).select_from(events.join(pqrs, pqrs.c.id == events.c.pqr_id))
                .where(events.c.at >= start, events.c.at < end,
                       events.c.kind.in_(("extended", "status_changed")), *_where(flt)))
        rows = await self._all(stmt)
        row = rows[0] if rows else None
        return (int(row[0] or 0), int(row[1] or 0)) if row is not None else (0, 0)

    async def ans(self, start: dt.datetime, end: dt.datetime,
                  flt: IndicatorSlice) -> list[tuple[str | None, str, str, int, int]]:
        """ANS outcomes known in [start, end): (client, type, kind, measured, met) for kind
        `first_response` (answered in the period against `first_response_due_at`, or not answered
        and its deadline passed in the period) and `resolution` (closed in the period against
        `contract_due_at`, or open and its deadline passed in the period)."""
        out: list[tuple[str | None, str, str, int, int]] = []
        fr_done = and_(pqrs.c.first_response_at >= start, pqrs.c.first_response_at < end)
        fr_missed = and_(pqrs.c.first_response_at.is_(None), pqrs.c.first_response_due_at >= start,
                         pqrs.c.first_response_due_at < end)
        fr_met = case((and_(fr_done, pqrs.c.first_response_at <= pqrs.c.first_response_due_at), 1), else_=0)
        res_done = and_(pqrs.c.closed_at >= start, pqrs.c.closed_at < end)
        res_missed = and_(_open_at(end), pqrs.c.contract_due_at >= start, pqrs.c.contract_due_at < end)
        res_met = case((and_(res_done, pqrs.c.closed_at <= pqrs.c.contract_due_at), 1), else_=0)
        for kind, due, measured, met in (
                ("first_response", pqrs.c.first_response_due_at, or_(fr_done, fr_missed), fr_met),
                ("resolution", pqrs.c.contract_due_at, or_(res_done, res_missed), res_met)):
            stmt = (select(pqrs.c.client, pqrs.c.type, func.count(), func.sum(met))
                    .where(pqrs.c.contract.is_not(None), due.is_not(None), measured, *_where(flt))
                    .group_by(pqrs.c.client, pqrs.c.type))
            out += [(r[0], r[1], kind, int(r[2]), int(r[3] or 0)) for r in await self._all(stmt)]
        return out

    async def breaches(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice,
                       limit: int = 1000) -> list[dict[str, Any]]:
        """The ANS targets missed in [start, end), oldest due first: radicado, type, kind, due_at,
        done_at (None: still not done at `end`), area, cause."""
        out: list[dict[str, Any]] = []
        for kind, due, done in (("first_response", pqrs.c.first_response_due_at, pqrs.c.first_response_at),
                                ("resolution", pqrs.c.contract_due_at, pqrs.c.closed_at)):
            late_done = and_(done >= start, done < end, done > due)
            not_done = and_(or_(done.is_(None), done >= end), due >= start, due < end)
            if kind == "resolution":
                not_done = and_(_open_at(end), due >= start, due < end)
            stmt = (select(pqrs.c.radicado, pqrs.c.type, due, done, pqrs.c.area, pqrs.c.cause)
                    .where(pqrs.c.contract.is_not(None), due.is_not(None), or_(late_done, not_done), *_where(flt))
                    .order_by(due).limit(limit))
            for r in await self._all(stmt):
                out.append({"radicado": r[0], "type": r[1], "kind": kind, "due_at": r[2],
                            "done_at": r[3] if r[3] is not None and r[3] < end else None,
                            "area": r[4], "cause": r[5]})
        out.sort(key=lambda b: b["due_at"])
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
