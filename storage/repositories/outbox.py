"""`Outbox`: notifications queued in the business transaction, sent later by a worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.ports import OutboxItem
from storage.repositories.common import insert_returning_ids
from storage.sqlite_inline import SqlConnection
from storage.tables import outbox

_INSERT = insert(outbox).returning(outbox.c.id)


@cache
def _insert_deduped(dialect: str, *, many: bool) -> Any:
    """`INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING` (the key too, for many rows)."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return stmt.returning(outbox.c.id, outbox.c.dedupe_key) if many else stmt.returning(outbox.c.id)


def _row(item: OutboxItem, now: dt.datetime) -> dict[str, Any]:
    return {"channel": item.channel, "destination": item.destination, "payload": item.payload,
            "status": "pending", "attempts": 0, "next_attempt_at": item.next_attempt_at or now,
            "created_at": now, "dedupe_key": item.dedupe_key, "pqr_id": item.pqr_id,
            "message_id": _message_id(item.payload)}


def _message_id(payload: dict[str, Any]) -> str | None:
    """The Message-ID an email payload was given at queue time, if any."""
    value = payload.get("message_id")
    return value[:998] if isinstance(value, str) and value else None


def _item_from_row(r: Row[Any]) -> OutboxItem:
    return OutboxItem(channel=r.channel, destination=r.destination, payload=dict(r.payload),
                      id=r.id, status=r.status, attempts=r.attempts,
                      next_attempt_at=r.next_attempt_at, created_at=r.created_at,
                      sent_at=r.sent_at, last_error=r.last_error, dedupe_key=r.dedupe_key,
                      pqr_id=r.pqr_id)


class SqlOutbox:
    """`Outbox` on the `outbox` table. A claim is a lease (`claimed_until`): a worker that dies
    mid-send leaves the row to be claimed again once the lease ends."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def put(self, item: OutboxItem, *, now: dt.datetime) -> None:
        """Queue `item` (due at its `next_attempt_at`, else now); sets `item.id`. A repeated
        `dedupe_key` queues nothing and leaves `item.id` None."""
        stmt = _insert_deduped(self._conn.dialect.name, many=False) if item.dedupe_key else _INSERT
        item.id = (await self._conn.execute(stmt, _row(item, now))).scalar()
        self._queued(item, now)

    async def put_many(self, items: Sequence[tuple[OutboxItem, dt.datetime]]) -> None:
        """`put` for several (item, now): one statement for the items with a dedupe key, one for
        those without. A key repeated (stored, or earlier in `items`) queues nothing."""
        keyed: dict[str, tuple[OutboxItem, dt.datetime]] = {}
        plain: list[tuple[OutboxItem, dt.datetime]] = []
        for item, now in items:
            item.id = None
            if item.dedupe_key is None:
                plain.append((item, now))
            else:
                keyed.setdefault(item.dedupe_key, (item, now))
        if keyed:
            stmt = _insert_deduped(self._conn.dialect.name, many=True)
            result = await self._conn.execute(stmt, [_row(i, now) for i, now in keyed.values()])
            for item_id, key in result.all():
                item, now = keyed[key]
                item.id = item_id
                self._queued(item, now)
        if plain:
            ids = await insert_returning_ids(self._conn, outbox, [_row(i, now) for i, now in plain])
            for (item, now), item_id in zip(plain, ids, strict=True):
                item.id = item_id
                self._queued(item, now)

    @staticmethod
    def _queued(item: OutboxItem, now: dt.datetime) -> None:
        if item.id is not None:
            item.status, item.attempts = "pending", 0
            item.next_attempt_at, item.created_at = item.next_attempt_at or now, now

    async def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta,
                    channels: Collection[str] | None = None,
                    lease_now: dt.datetime | None = None) -> list[OutboxItem]:
        """Due pending rows (of `channels`, when given), oldest first, leased to the caller until
        `lease_now + lease`. Due-ness is on `now` (the business clock the rows were queued
        with); claims are on `lease_now` (the wall clock, `now` when not given)."""
        lease_now = lease_now or now
        stmt = (select(outbox)
                .where(outbox.c.status == "pending",
                       or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
                       or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= lease_now))
                .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit))
        if channels is not None:
            stmt = stmt.where(outbox.c.channel.in_(list(channels)))
        if self._conn.dialect.name == "postgresql":
            # Concurrent workers skip each other's rows instead of waiting; on SQLite the
            # BEGIN IMMEDIATE transaction already serializes claimers.
            stmt = stmt.with_for_update(skip_locked=True)
        items = [_item_from_row(r) for r in (await self._conn.execute(stmt)).all()]
        if items:
            await self._conn.execute(update(outbox).where(outbox.c.id.in_([i.id for i in items]))
                                     .values(claimed_until=lease_now + lease))
        return items

    async def extend(self, item_ids: Collection[int], *, now: dt.datetime, until: dt.datetime) -> int:
        """Keep claims alive: rows still pending whose claim has not ended by `now` are held until
        `until`. A claim that already ended is not revived (another worker may have it now).
        Returns how many rows were extended."""
        if not item_ids:
            return 0
        result = await self._conn.execute(
            update(outbox).where(outbox.c.id.in_(list(item_ids)), outbox.c.status == "pending",
                                 outbox.c.claimed_until > now)
            .values(claimed_until=until))
        return int(result.rowcount)

    async def mark_sent(self, item_id: int, *, now: dt.datetime) -> None:
        """The item was delivered."""
        await self._conn.execute(update(outbox).where(outbox.c.id == item_id)
                                 .values(status="sent", sent_at=now, claimed_until=None))

    async def release(self, item_ids: Collection[int]) -> None:
        """End the claim on rows that were not attempted (no attempt counted)."""
        if item_ids:
            await self._conn.execute(update(outbox).where(outbox.c.id.in_(list(item_ids)))
                                     .values(claimed_until=None))

    async def mark_failed(self, item_id: int, *, error: str, retry_at: dt.datetime | None) -> None:
        """Count a failed attempt; retry at `retry_at`, or move the row to dead when None."""
        await self._conn.execute(
            update(outbox).where(outbox.c.id == item_id)
            .values(attempts=outbox.c.attempts + 1, last_error=error, claimed_until=None,
                    status="pending" if retry_at else "dead", next_attempt_at=retry_at))

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Rows in queue order, optionally of one status."""
        stmt = select(outbox).order_by(outbox.c.id).limit(limit)
        if status is not None:
            stmt = stmt.where(outbox.c.status == status)
        return [_item_from_row(r) for r in (await self._conn.execute(stmt)).all()]

    async def depth_by_status(self, statuses: Collection[str]) -> dict[str, int]:
        """How many rows each of `statuses` holds, counted exactly (0 for none); one query on the
        (status, next_attempt_at) index."""
        found = dict.fromkeys(statuses, 0)
        rows = await self._conn.execute(select(outbox.c.status, func.count()).where(outbox.c.status.in_(list(found)))
                                        .group_by(outbox.c.status))
        found.update({r[0]: int(r[1]) for r in rows})
        return found

    async def retry(self, item_id: int, *, now: dt.datetime) -> bool:
        """Put a dead or pending row back to pending, due now; False if none (or sent)."""
        result = await self._conn.execute(
            update(outbox).where(outbox.c.id == item_id, outbox.c.status.in_(("dead", "pending")))
            .values(status="pending", next_attempt_at=now, claimed_until=None))
        return bool(result.rowcount)
