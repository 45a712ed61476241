"""`SqlIndicatorDays`: the daily indicator roll-ups (`domain.indicator_days`) — kept up to date by
the PQR repository in the transactions that store PQRs, rebuilt from the PQRs when they were
counted in another time zone or never counted (a database upgraded to 0012), and summed over a
period's days by the indicators."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from domain.events import Event
from domain.indicator_days import COUNTS, DIMENSIONS, FIELDS, DaysKey, Key, accumulate, difference, event_mark
from storage.sqlite_inline import SqlConnection
from storage.tables import events, indicator_days, indicator_resolution_days, indicator_rollup, pqrs

log = logging.getLogger(__name__)

_FIELD_COLUMNS = [pqrs.c[name] for name in FIELDS]
_REBUILD_PAGE = 20_000
_INSERT_CHUNK = 5_000


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@cache
def _upserts(dialect: str) -> tuple[Any, Any]:
    """The two upserts that add to stored counts, built once per dialect (building and caching
    a statement's key costs more than the few rows a filing adds)."""
    insert_ = _insert(dialect)
    days = insert_(indicator_days)
    days = days.on_conflict_do_update(
        index_elements=["slice", "slice_key", "day", "dim", "key"],
        set_={name: indicator_days.c[name] + days.excluded[name] for name in COUNTS})
    res = insert_(indicator_resolution_days)
    res = res.on_conflict_do_update(
        index_elements=["slice", "slice_key", "day", "days"],
        set_={"count": indicator_resolution_days.c.count + res.excluded.count})
    return days, res


_STORED_FIELDS = select(pqrs.c.id, *_FIELD_COLUMNS).where(pqrs.c.id.in_(bindparam("ids", expanding=True)))


def marks(found: Iterable[Event]) -> list[tuple[str, dt.datetime]]:
    """The (EXTENDED | REOPENED, instant) marks of a PQR's events."""
    out = []
    for e in found:
        mark = event_mark(e.kind, e.to)
        if mark is not None:
            out.append((mark, e.at))
    return out


def fields_of(values: Mapping[str, Any], found: Iterable[Event] = ()) -> dict[str, Any]:
    """The roll-up fields of a `pqrs` row's values, with the marks of its events `found`."""
    return {**{name: values.get(name) for name in FIELDS}, "events": marks(found)}


class SqlIndicatorDays:
    """The roll-up tables on one connection; days are local days in `tz`."""

    def __init__(self, conn: SqlConnection, tz: ZoneInfo) -> None:
        self._conn = conn
        self.tz = tz

    # -- maintaining ----------------------------------------------------------------------------
    async def stored_fields(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The roll-up fields of stored PQRs, by id (what their columns count for now; the
        caller adds the marks of their stored events)."""
        rows = (await self._conn.execute(_STORED_FIELDS, {"ids": list(ids)})).all()
        return {int(r[0]): dict(zip(FIELDS, r[1:], strict=True)) for r in rows}

    async def change(self, before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> None:
        """Move the counts of PQRs stored as `before` to what they are as `after` (both lists of
        roll-up fields; `before` empty for new PQRs)."""
        counts, days = difference(before, after, self.tz)
        await self.add(counts, days)

    async def add(self, counts: Mapping[Key, Sequence[int]], days: Mapping[DaysKey, int]) -> None:
        """Add to the stored counts (upserts in key order, so concurrent PostgreSQL transactions
        take the rows' locks in the same order)."""
        stmt, stmt2 = _upserts(self._conn.dialect.name)
        if counts:
            rows = [{"day": k[0], "slice": k[1], "slice_key": k[2], "dim": k[3], "key": k[4],
                     **dict(zip(COUNTS, v, strict=True))} for k, v in sorted(counts.items())]
            for start in range(0, len(rows), _INSERT_CHUNK):
                await self._conn.execute(stmt, rows[start:start + _INSERT_CHUNK])
        if days:
            rows2 = [{"day": k[0], "slice": k[1], "slice_key": k[2], "days": k[3], "count": v}
                     for k, v in sorted(days.items())]
            for start in range(0, len(rows2), _INSERT_CHUNK):
                await self._conn.execute(stmt2, rows2[start:start + _INSERT_CHUNK])

    async def built_for(self) -> str | None:
        """The time zone the roll-ups were counted in; None when they were never built."""
        return (await self._conn.execute(select(indicator_rollup.c.timezone)
                                         .where(indicator_rollup.c.id == 1))).scalar()

    async def rebuild(self, *, now: dt.datetime) -> int:
        """Count every PQR again (in this transaction, which must be a writing one); the number of
        PQRs counted. PostgreSQL: PQR writers wait until it commits (SHARE lock)."""
        started = time.monotonic()
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(text("LOCK TABLE pqrs IN SHARE MODE"))
        await self._conn.execute(delete(indicator_days))
        await self._conn.execute(delete(indicator_resolution_days))
        acc: tuple[dict[Key, list[int]], dict[DaysKey, int]] = ({}, {})
        after, n = 0, 0
        while True:
            rows = (await self._conn.execute(select(pqrs.c.id, *_FIELD_COLUMNS).where(pqrs.c.id > after)
                                             .order_by(pqrs.c.id).limit(_REBUILD_PAGE))).all()
            if not rows:
                break
            found: dict[int, list[tuple[str, dt.datetime]]] = {}
            page: list[Any] = list((await self._conn.execute(
                select(events.c.pqr_id, events.c.kind, events.c.to_state, events.c.at)
                .where(events.c.pqr_id > after, events.c.pqr_id <= rows[-1][0],
                       or_(events.c.kind == "extended", events.c.to_state == "reabierta")))).all())
            for pqr_id, kind, to_state, at in page:
                mark = event_mark(kind, to_state)
                if mark is not None:
                    found.setdefault(int(pqr_id), []).append((mark, at))
            accumulate(({**dict(zip(FIELDS, r[1:], strict=True)), "events": found.get(int(r[0]), [])}
                        for r in rows), self.tz, into=acc)
            after, n = int(rows[-1][0]), n + len(rows)
        counts, days = acc
        await self.add({k: v for k, v in counts.items() if any(v)}, {k: v for k, v in days.items() if v})
        await self._conn.execute(delete(indicator_rollup))
        await self._conn.execute(indicator_rollup.insert().values(id=1, timezone=self.tz.key, built_at=now))
        if self._conn.dialect.name == "postgresql":       # the planner's statistics of the new rows
            await self._conn.execute(text("ANALYZE indicator_days, indicator_resolution_days"))
        log.info("indicator roll-ups rebuilt: %d PQRs, %d rows in %.1f s", n, len(counts),
                 time.monotonic() - started)
        return n

    # -- reading --------------------------------------------------------------------------------
    async def sums(self, start: dt.date, end: dt.date, slice_: str, key: str,
                   dims: Sequence[str] | None = None) -> dict[str, dict[str, list[int]]]:
        """The counts of the days [start, end) of one slice, by dimension and key."""
        d = indicator_days.c
        stmt = (select(d.dim, d.key, *[func.sum(d[name]) for name in COUNTS])
                .where(d.slice == slice_, d.slice_key == key, d.day >= start, d.day < end))
        if dims is not None:
            stmt = stmt.where(d.dim.in_(list(dims)))
        out: dict[str, dict[str, list[int]]] = {}
        for r in (await self._conn.execute(stmt.group_by(d.dim, d.key))).all():
            out.setdefault(r[0], {})[r[1]] = [int(v or 0) for v in r[2:]]
        return out

    async def by_client_type(self, start: dt.date, end: dt.date) -> dict[tuple[str, str], list[int]]:
        """The counts of the days [start, end) by (client lower-cased, type), over every client."""
        d = indicator_days.c
        stmt = (select(d.slice_key, d.key, *[func.sum(d[name]) for name in COUNTS])
                .where(d.slice == "client", d.dim == "type", d.day >= start, d.day < end)
                .group_by(d.slice_key, d.key))
        return {(r[0], r[1]): [int(v or 0) for v in r[2:]] for r in (await self._conn.execute(stmt)).all()}

    async def open_due_before(self, end: dt.date, slice_: str, key: str,
                              since: dt.date | None) -> dict[str, dict[str, int]]:
        """PQRs open now whose legal due day is before `end`, of one slice, by dimension and key;
        `since`: the earliest legal due day of an open PQR (no row before it counts one)."""
        d = indicator_days.c
        if since is None:
            return {}
        stmt = (select(d.dim, d.key, func.sum(d.open_due))
                .where(d.slice == slice_, d.slice_key == key, d.dim.in_(DIMENSIONS), d.day >= since, d.day < end)
                .group_by(d.dim, d.key).having(func.sum(d.open_due) != 0))
        out: dict[str, dict[str, int]] = {}
        rows: list[Any] = list((await self._conn.execute(stmt)).all())
        for row in rows:
            out.setdefault(row[0], {})[row[1]] = int(row[2])
        return out

    async def open_by_day(self, end: dt.date, slice_: str, key: str,
                          since: dt.date | None) -> list[tuple[dt.date, int]]:
        """(receipt day, PQRs open now) of the days before `end`, of one slice; `since`: the
        earliest receipt day of an open PQR (no row before it counts one)."""
        d = indicator_days.c
        if since is None:
            return []
        stmt = (select(d.day, func.sum(d.open))
                .where(d.slice == slice_, d.slice_key == key, d.dim == "type", d.day >= since, d.day < end)
                .group_by(d.day).having(func.sum(d.open) != 0))
        rows: list[Any] = list((await self._conn.execute(stmt)).all())
        return [(row[0], int(row[1])) for row in rows]

    async def resolution_days(self, start: dt.date, end: dt.date, slice_: str, key: str) -> list[tuple[int, int]]:
        """(business days, PQRs) of the closings in the days [start, end) of one slice."""
        r = indicator_resolution_days.c
        stmt = (select(r.days, func.sum(r.count))
                .where(r.slice == slice_, r.slice_key == key, r.day >= start, r.day < end)
                .group_by(r.days).having(func.sum(r.count) != 0).order_by(r.days))
        rows: list[Any] = list((await self._conn.execute(stmt)).all())
        return [(int(row[0]), int(row[1])) for row in rows]
