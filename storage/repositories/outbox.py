"""`Outbox`: notifications queued in the business transaction, sent later by a worker.

Rows of the kinds a customer did not ask for (`domain.contact_hours.UNSOLICITED_KINDS`: the
surveys) wait for the contact hours, one per contact (channel + destination) per local day: `put`
dates them at the first free opening, and `claim` checks again, so a row queued long ago, retried
or put back by an operator still keeps the window. A row's day is the local date of its
`next_attempt_at`: a pending row reserves that day, and a claimed one is re-dated to the claim
instant, so a sent row's day is the day it went out. No column is added for this."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.contact_hours import UNSOLICITED_KINDS, ContactHours
from storage.ports import OutboxItem
from storage.repositories.common import insert_returning_ids
from storage.sqlite_inline import SqlConnection
from storage.tables import outbox

_INSERT = insert(outbox).returning(outbox.c.id)
_UNSOLICITED = sorted(UNSOLICITED_KINDS)

log = logging.getLogger(__name__)


@cache
def _insert_deduped(dialect: str, *, many: bool) -> Any:
    """`INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING` (the key too, for many rows)."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return stmt.returning(outbox.c.id, outbox.c.dedupe_key) if many else stmt.returning(outbox.c.id)


def _unsolicited(item: OutboxItem) -> bool:
    return item.payload.get("kind") in UNSOLICITED_KINDS


def _same_contact(item: OutboxItem) -> tuple[ColumnElement[bool], ...]:
    """Unsolicited rows to the contact `item` goes to."""
    return (outbox.c.channel == item.channel, outbox.c.destination == item.destination,
            outbox.c.payload["kind"].as_string().in_(_UNSOLICITED))


def _lock_key(channel: str, destination: str) -> int:
    """A PostgreSQL advisory-lock key for one contact (a collision only serializes two contacts)."""
    digest = hashlib.blake2b(f"outbox-contact\0{channel}\0{destination}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _row(item: OutboxItem, now: dt.datetime, due: dt.datetime | None = None) -> dict[str, Any]:
    return {"channel": item.channel, "destination": item.destination, "payload": item.payload,
            "status": "pending", "attempts": 0, "next_attempt_at": due or item.next_attempt_at or now,
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

    def __init__(self, conn: SqlConnection, contact_hours: ContactHours | None = None) -> None:
        self._conn = conn
        self._hours = contact_hours or ContactHours()

    async def put(self, item: OutboxItem, *, now: dt.datetime) -> None:
        """Queue `item` (due at its `next_attempt_at`, else now); sets `item.id`. A repeated
        `dedupe_key` queues nothing and leaves `item.id` None. An unsolicited kind is due at
        the first opening of the contact hours from then on, on a day its contact has no other."""
        due = None
        if _unsolicited(item):
            wanted = item.next_attempt_at or now
            due = self._hours.schedule(wanted, await self._taken_days(item, since=wanted))
        stmt = _insert_deduped(self._conn.dialect.name, many=False) if item.dedupe_key else _INSERT
        item.id = (await self._conn.execute(stmt, _row(item, now, due))).scalar()
        self._queued(item, now, due)

    async def put_many(self, items: Sequence[tuple[OutboxItem, dt.datetime]]) -> None:
        """`put` for several (item, now): one statement for the items with a dedupe key, one for
        those without. A key repeated (stored, or earlier in `items`) queues nothing. Unsolicited
        kinds are put one by one, after the others, each seeing the days the earlier ones took."""
        keyed: dict[str, tuple[OutboxItem, dt.datetime]] = {}
        plain: list[tuple[OutboxItem, dt.datetime]] = []
        held: list[tuple[OutboxItem, dt.datetime]] = []
        for item, now in items:
            item.id = None
            if _unsolicited(item):
                held.append((item, now))
            elif item.dedupe_key is None:
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
        for item, now in held:     # a key already stored (or just put) queues nothing, as above
            await self.put(item, now=now)

    @staticmethod
    def _queued(item: OutboxItem, now: dt.datetime, due: dt.datetime | None = None) -> None:
        if item.id is not None:
            item.status, item.attempts = "pending", 0
            item.next_attempt_at, item.created_at = due or item.next_attempt_at or now, now

    async def _taken_days(self, item: OutboxItem, *, since: dt.datetime) -> set[dt.date]:
        """The local dates, from the day of `since` on, on which `item`'s contact has another
        unsolicited row sent or due (the index on (status, next_attempt_at) bounds the search)."""
        start, _ = self._hours.day_span(self._hours.day_of(since))
        stmt = select(outbox.c.next_attempt_at).where(
            outbox.c.status.in_(("pending", "sent")), outbox.c.next_attempt_at >= start, *_same_contact(item))
        if item.id is not None:
            stmt = stmt.where(outbox.c.id != item.id)
        return {self._hours.day_of(r[0]) for r in (await self._conn.execute(stmt)).all()}

    async def _had_today(self, item: OutboxItem, *, now: dt.datetime, lease_now: dt.datetime) -> bool:
        """Whether `item`'s contact was sent an unsolicited row on the local day of `now`, or has
        one being sent (claimed, its claim not over)."""
        start, end = self._hours.day_span(self._hours.day_of(now))
        stmt = select(outbox.c.id).where(
            outbox.c.id != item.id, outbox.c.next_attempt_at >= start, outbox.c.next_attempt_at < end,
            or_(outbox.c.status == "sent",
                and_(outbox.c.status == "pending", outbox.c.claimed_until > lease_now)),
            *_same_contact(item)).limit(1)
        return (await self._conn.execute(stmt)).first() is not None

    async def _contact_hours(self, items: list[OutboxItem], *, now: dt.datetime,
                             lease_now: dt.datetime) -> list[OutboxItem]:
        """The claimed `items` that may go now. An unsolicited row outside the contact hours, or
        whose contact already had one today (sent, being sent, or earlier in this batch), is
        re-dated to when it may go, unclaimed and without counting an attempt; one that may go is
        dated `now`, which makes today its contact's day."""
        unsolicited = [i for i in items if _unsolicited(i)]
        if not unsolicited:
            return items
        if self._conn.dialect.name == "postgresql":
            # Workers claiming rows of one contact take turns (in one order: no deadlock), so the
            # second sees the first's claim, committed, and holds its row for another day.
            for key in sorted({_lock_key(i.channel, i.destination) for i in unsolicited}):
                await self._conn.execute(select(func.pg_advisory_xact_lock(key)))
        going: set[tuple[str, str]] = set()
        keep: list[OutboxItem] = []
        for item in items:
            if not _unsolicited(item):
                keep.append(item)
                continue
            contact = (item.channel, item.destination)
            if not self._hours.is_open(now):
                wanted = now
            elif contact in going or await self._had_today(item, now=now, lease_now=lease_now):
                wanted = self._hours.opening_after(self._hours.day_of(now))
            else:
                going.add(contact)
                item.next_attempt_at = now
                await self._conn.execute(update(outbox).where(outbox.c.id == item.id).values(next_attempt_at=now))
                keep.append(item)
                continue
            until = self._hours.schedule(wanted, await self._taken_days(item, since=wanted))
            await self._conn.execute(update(outbox).where(outbox.c.id == item.id).values(next_attempt_at=until))
            log.info("outbox %s to %s:%s waits for the contact hours until %s", item.id, item.channel,
                     item.destination, until.isoformat())
        return keep

    async def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta,
                    channels: Collection[str] | None = None,
                    lease_now: dt.datetime | None = None) -> list[OutboxItem]:
        """Due pending rows (of `channels`, when given), oldest first, leased to the caller until
        `lease_now + lease`. Due-ness is on `now` (the business clock the rows were queued
        with); claims are on `lease_now` (the wall clock, `now` when not given). Unsolicited rows
        that may not go now are re-dated instead of claimed (see the module docstring)."""
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
        items = await self._contact_hours(items, now=now, lease_now=lease_now)
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

    async def cancel_unsolicited(self, channel: str, destination: str, *, reason: str) -> int:
        """The contact's pending surveys → `cancelled` (an opt-out): claim and retry skip them."""
        result = await self._conn.execute(
            update(outbox).where(outbox.c.status == "pending", outbox.c.channel == channel,
                                 func.lower(outbox.c.destination) == destination.lower(),
                                 outbox.c.payload["kind"].as_string().in_(_UNSOLICITED))
            .values(status="cancelled", last_error=reason[:400], claimed_until=None))
        return int(result.rowcount)
