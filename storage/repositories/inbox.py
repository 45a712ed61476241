"""`InboxStore`: the durable queue of inbound mail (SMTP and IMAP). A message is appended in the
transaction that lets the sender go (SMTP 250; the IMAP move), then claimed by an intake worker
(a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL so instances share the work) and marked with what
became of it in the transaction that filed it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, update

from storage.ports import InboxItem
from storage.repositories.common import insert_returning_ids, insert_ignore
from storage.sqlite_inline import SqlConnection
from storage.tables import imap_positions, inbox

_SUMMARY = [c for c in inbox.c if c.name != "data"]
_SQLITE_APPEND = ("INSERT INTO inbox (source, account, received_at, mail_from, rcpt_tos, client, message_id, subject, "
                  "data, status, attempts, next_attempt_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)")


def _message_id(item: InboxItem) -> str | None:
    return (item.message_id or None) and item.message_id[:998]


def _sqlite_instant(at: dt.datetime) -> str:
    """An instant as SQLAlchemy's SQLite DateTime stores it (naive UTC, microseconds)."""
    if at.utcoffset() is not None:
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def _item(r: Any, *, with_data: bool) -> InboxItem:
    return InboxItem(id=r.id, source=r.source, account=r.account, received_at=r.received_at, mail_from=r.mail_from,
                     rcpt_tos=tuple(r.rcpt_tos or ()), client=r.client, message_id=r.message_id, subject=r.subject,
                     data=r.data if with_data else b"", status=r.status, reason=r.reason, attempts=r.attempts,
                     next_attempt_at=r.next_attempt_at, radicado=r.radicado)


class SqlInbox:
    """`InboxStore` on the `inbox` and `imap_positions` tables."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def append_many(self, items: Sequence[InboxItem], *, now: dt.datetime) -> list[int]:
        """Queue raw messages as pending, due now; returns their ids in order."""
        if not items:
            return []
        if self._conn.dialect.name == "sqlite":
            return await self._append_sqlite(items, now=now)
        rows = [{"source": i.source, "account": i.account, "received_at": i.received_at, "mail_from": i.mail_from,
                 "rcpt_tos": list(i.rcpt_tos), "client": i.client, "message_id": _message_id(i),
                 "subject": i.subject, "data": i.data, "status": "pending", "attempts": 0, "next_attempt_at": now,
                 "updated_at": now} for i in items]
        return await insert_returning_ids(self._conn, inbox, rows)

    async def _append_sqlite(self, items: Sequence[InboxItem], *, now: dt.datetime) -> list[int]:
        """SQLite: one `executemany` of plain values, the instants in the text SQLAlchemy writes.
        The SMTP sessions wait for this statement (their 250), a few messages per commit: through
        SQLAlchemy's insert-many path and type processing it cost about as much as the rest of
        the session. Under the write lock a rowid table gives the rows the largest id + 1 each, so
        the ids are the last one's and those before it."""
        stamp = _sqlite_instant(now)
        rows = [(i.source, i.account, _sqlite_instant(i.received_at), i.mail_from, json.dumps(list(i.rcpt_tos)),
                 i.client, _message_id(i), i.subject, i.data, stamp, stamp) for i in items]
        await self._conn.exec_driver_sql(_SQLITE_APPEND, rows)
        last = int((await self._conn.exec_driver_sql("SELECT last_insert_rowid()")).scalar_one())
        return list(range(last - len(rows) + 1, last + 1))

    async def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[InboxItem]:
        """Due pending items, oldest first, leased to the caller until `now + lease`."""
        stmt = (select(inbox).where(inbox.c.status == "pending", inbox.c.next_attempt_at <= now,
                                    or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until <= now))
                .order_by(inbox.c.next_attempt_at, inbox.c.id).limit(limit))
        if self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        items = [_item(r, with_data=True) for r in (await self._conn.execute(stmt)).all()]
        if items:
            await self._conn.execute(update(inbox).where(inbox.c.id.in_([i.id for i in items]))
                                     .values(claimed_until=now + lease))
        return items

    async def mark(self, item_id: int, status: str, *, now: dt.datetime, reason: str | None = None,
                   radicado: str | None = None) -> None:
        """What became of an item (filed | joined | duplicate | kept_aside), in the filing transaction."""
        await self._conn.execute(update(inbox).where(inbox.c.id == item_id).values(
            status=status, reason=reason, radicado=radicado, claimed_until=None, updated_at=now))

    async def failed(self, item_id: int, *, reason: str, now: dt.datetime, retry_at: dt.datetime | None) -> None:
        """One failed attempt: pending again at `retry_at`, or `failed` for good when None."""
        values: dict[str, Any] = {"reason": reason[:4000], "attempts": inbox.c.attempts + 1, "claimed_until": None,
                                  "updated_at": now}
        if retry_at is None:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = retry_at
        await self._conn.execute(update(inbox).where(inbox.c.id == item_id).values(**values))

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[InboxItem]:
        """Newest first, without the raw bytes."""
        stmt = select(*_SUMMARY).order_by(inbox.c.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(inbox.c.status == status)
        return [_item(r, with_data=False) for r in (await self._conn.execute(stmt)).all()]

    async def get(self, item_id: int) -> InboxItem | None:
        row = (await self._conn.execute(select(inbox).where(inbox.c.id == item_id))).first()
        return _item(row, with_data=True) if row is not None else None

    async def retry(self, item_id: int, *, now: dt.datetime) -> bool:
        """Put a failed (or pending) item back to pending, due now; False when there is none such."""
        result = await self._conn.execute(update(inbox).where(inbox.c.id == item_id,
                                                              inbox.c.status.in_(("failed", "pending")))
                                          .values(status="pending", next_attempt_at=now, claimed_until=None,
                                                  updated_at=now))
        return bool(result.rowcount)

    async def depth(self) -> dict[str, int]:
        """How many items each status holds."""
        rows = await self._conn.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status))
        return {r[0]: int(r[1]) for r in rows}

    async def depth_by_status(self, statuses: Sequence[str]) -> dict[str, int]:
        """How many items each of `statuses` holds (0 for none), on the status index only: the
        items already filed, however many, are not counted."""
        found = dict.fromkeys(statuses, 0)
        rows = await self._conn.execute(select(inbox.c.status, func.count()).where(inbox.c.status.in_(list(found)))
                                        .group_by(inbox.c.status))
        found.update({r[0]: int(r[1]) for r in rows})
        return found

    # -- IMAP positions --------------------------------------------------------------------------
    async def imap_position(self, account: str, folder: str) -> tuple[int, int] | None:
        """(uidvalidity, last UID taken) of an account's folder, or None."""
        row: Any = (await self._conn.execute(select(imap_positions.c.uidvalidity, imap_positions.c.last_uid).where(
            imap_positions.c.account == account, imap_positions.c.folder == folder))).first()
        return (int(row[0]), int(row[1])) if row is not None else None

    async def set_imap_position(self, account: str, folder: str, *, uidvalidity: int, last_uid: int,
                                now: dt.datetime) -> None:
        found = await self.imap_position(account, folder)
        if found is None:
            await self._conn.execute(insert_ignore(self._conn, imap_positions, ["account", "folder"]).values(
                account=account, folder=folder, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now))
        else:
            await self._conn.execute(update(imap_positions).where(
                imap_positions.c.account == account, imap_positions.c.folder == folder).values(
                uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now))


__all__: Sequence[str] = ["SqlInbox"]
