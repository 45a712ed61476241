"""`AuditLog` (events outside a loaded aggregate) and `InboundKeys` (inbound de-duplication)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event
from storage.repositories.common import event_from_row, event_values, insert_ignore
from storage.tables import events, inbound_keys


class SqlAuditLog:
    """`AuditLog` on the `events` table, shared with the PQR aggregates' events."""

    def __init__(self, conn: AsyncConnection) -> None:
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

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def remember(self, channel: str, key: str, *, now: dt.datetime,
                       pqr_id: int | None = None) -> bool:
        """Record the key; False when it was already recorded. The transaction stays usable."""
        stmt = (insert_ignore(self._conn, inbound_keys, ["channel", "key"])
                .values(channel=channel, key=key, created_at=now, pqr_id=pqr_id)
                .returning(inbound_keys.c.id))
        return (await self._conn.execute(stmt)).scalar() is not None
