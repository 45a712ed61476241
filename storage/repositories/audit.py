"""`AuditLog` (events outside a loaded aggregate) and `InboundKeys` (inbound de-duplication)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.events import Event
from storage.repositories.common import event_from_row, event_values
from storage.sqlite_inline import SqlConnection
from storage.tables import ack_counts, events, inbound_keys, pqrs


@cache
def _remember_stmt(dialect: str) -> Any:
    """`INSERT … ON CONFLICT (channel, key) DO NOTHING RETURNING channel, key`."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert_(inbound_keys).on_conflict_do_nothing(index_elements=["channel", "key"])
            .returning(inbound_keys.c.channel, inbound_keys.c.key))


class SqlAuditLog:
    """`AuditLog` on the `events` table, shared with the PQR aggregates' events."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def record(self, event: Event, *, pqr_id: int | None = None) -> None:
        """Store an audit entry, tied to a PQR or not."""
        await self._conn.execute(insert(events).values(**event_values(event, pqr_id=pqr_id)))

    async def list(self, *, kind: str | None = None, limit: int = 100) -> list[Event]:
        """The latest entries first, optionally of one kind."""
        stmt = select(events).order_by(events.c.at.desc(), events.c.id.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(events.c.kind == kind)
        return [event_from_row(r) for r in (await self._conn.execute(stmt)).all()]


class SqlInboundKeys:
    """`InboundKeys` on the `inbound_keys` table (unique per channel and key)."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def remember(self, channel: str, key: str, *, now: dt.datetime,
                       pqr_id: int | None = None) -> bool:
        """Record the key; False when it was already recorded. The transaction stays usable."""
        row = {"channel": channel, "key": key, "created_at": now, "pqr_id": pqr_id}
        return (await self._conn.execute(_remember_stmt(self._conn.dialect.name), row)).first() is not None

    async def remember_many(self, keys: Sequence[tuple[str, str, dt.datetime]]) -> list[bool]:
        """`remember` for several (channel, key, now) at once, in one statement; for each, False
        when it was recorded already (before, or earlier in `keys`)."""
        first: dict[tuple[str, str], int] = {}
        for i, (channel, key, _) in enumerate(keys):
            first.setdefault((channel, key), i)
        if not first:
            return []
        rows = [{"channel": keys[i][0], "key": keys[i][1], "created_at": keys[i][2], "pqr_id": None}
                for i in first.values()]
        result = await self._conn.execute(_remember_stmt(self._conn.dialect.name), rows)
        new = {(r[0], r[1]) for r in result.all()}
        return [(channel, key) in new and first[(channel, key)] == i
                for i, (channel, key, _) in enumerate(keys)]

    async def filed_for(self, channel: str, key: str) -> tuple[dt.datetime, str | None] | None:
        """When the key was recorded and the radicado of the PQR linked to it (None when none
        is), or None for a key never recorded."""
        row: Any = (await self._conn.execute(
            select(inbound_keys.c.created_at, pqrs.c.radicado)
            .outerjoin(pqrs, pqrs.c.id == inbound_keys.c.pqr_id)
            .where(inbound_keys.c.channel == channel, inbound_keys.c.key == key))).first()
        return (row[0], row[1]) if row is not None else None

    async def renew(self, channel: str, key: str, *, now: dt.datetime) -> None:
        """Record the key again as of `now`, linked to no PQR (its earlier use has lapsed)."""
        await self._conn.execute(update(inbound_keys).where(inbound_keys.c.channel == channel,
                                                            inbound_keys.c.key == key)
                                 .values(created_at=now, pqr_id=None))

    async def link_pqr(self, channel: str, key: str, pqr_id: int) -> None:
        """Link a recorded key to the PQR it filed."""
        await self._conn.execute(update(inbound_keys).where(inbound_keys.c.channel == channel,
                                                            inbound_keys.c.key == key).values(pqr_id=pqr_id))

    async def acks_since(self, keys: Collection[str], since: dt.datetime) -> dict[str, int]:
        """How many acknowledgments each key counted from `since` on (keys without any: 0)."""
        found = {k: 0 for k in keys}
        if found:
            rows = await self._conn.execute(
                select(ack_counts.c.key, func.count()).where(ack_counts.c.key.in_(list(found)),
                                                              ack_counts.c.at >= since)
                .group_by(ack_counts.c.key))
            found.update({r[0]: int(r[1]) for r in rows})
        return found

    async def count_acks(self, rows: Sequence[tuple[str, dt.datetime]], *, forget_before: dt.datetime) -> None:
        """Count one acknowledgment per (key, at), and forget those keys' counts older than
        `forget_before` (outside every window still asked about)."""
        if not rows:
            return
        keys = list({k for k, _ in rows})
        await self._conn.execute(delete(ack_counts).where(ack_counts.c.key.in_(keys),
                                                          ack_counts.c.at < forget_before))
        await self._conn.execute(insert(ack_counts), [{"key": k[:400], "at": at} for k, at in rows])
