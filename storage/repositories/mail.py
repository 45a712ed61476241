"""`MailStore`: raw inbound messages (kept whatever became of them) and message attachments."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select

from storage.ports import RawMessage
from domain.files import FileData
from storage.repositories.common import chunks, insert_attachments
from storage.repositories.common import insert_returning_ids
from storage.sqlite_inline import SqlConnection
from storage.tables import attachments, messages, outbox, pqrs, raw_messages


_INSERT_RAW = insert(raw_messages).returning(raw_messages.c.id)


def _raw_from_row(r: Row[Any]) -> RawMessage:
    return RawMessage(channel=r.channel, external_id=r.external_id, received_at=r.received_at,
                      data=bytes(r.data), disposition=r.disposition, reason=r.reason,
                      pqr_id=r.pqr_id, id=r.id)


def _raw_values(raw: RawMessage) -> dict[str, Any]:
    return {"channel": raw.channel, "external_id": raw.external_id[:998] if raw.external_id else None,
            "received_at": raw.received_at, "data": raw.data, "pqr_id": raw.pqr_id,
            "disposition": raw.disposition, "reason": raw.reason}


class SqlMailStore:
    """`MailStore` on the `raw_messages` and `attachments` tables."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def keep_raw(self, raw: RawMessage) -> int:
        """Insert the raw message; returns its id."""
        return int((await self._conn.execute(_INSERT_RAW, _raw_values(raw))).scalar_one())

    async def keep_raw_many(self, raws: Sequence[RawMessage]) -> list[int]:
        """Insert several raw messages in one statement; returns their ids, in order."""
        if not raws:
            return []
        return await insert_returning_ids(self._conn, raw_messages, [_raw_values(r) for r in raws])

    async def add_attachments(self, message_id: int, files: Collection[FileData]) -> None:
        """Insert the files of stored message `message_id`, with size and sha256."""
        await insert_attachments(self._conn, message_id, files)

    async def radicado_for_external_ids(self, external_ids: Collection[str]) -> str | None:
        """The radicado holding any of the ids, whole: a stored message's (the newest wins),
        else the Message-ID of mail we queued (acknowledgments, notices; the newest wins)."""
        ids = [i for i in dict.fromkeys(external_ids) if i]
        for column, table in ((messages.c.external_id, messages), (outbox.c.message_id, outbox)):
            best: tuple[int, str] | None = None
            for part in chunks(ids):
                row = (await self._conn.execute(
                    select(table.c.id, pqrs.c.radicado).join(pqrs, pqrs.c.id == table.c.pqr_id)
                    .where(column.in_(part)).order_by(table.c.id.desc()).limit(1))).first()
                if row is not None and (best is None or row.id > best[0]):
                    best = (row.id, row.radicado)
            if best is not None:
                return best[1]
        return None

    async def raw_counts(self, *, channel: str | None = None) -> dict[str, int]:
        """Raw messages by disposition."""
        stmt = select(raw_messages.c.disposition, func.count()).group_by(raw_messages.c.disposition)
        if channel is not None:
            stmt = stmt.where(raw_messages.c.channel == channel)
        return {r[0]: int(r[1]) for r in await self._conn.execute(stmt)}

    async def list_raw(self, *, disposition: str | None = None, limit: int = 100) -> list[RawMessage]:
        """Newest first."""
        stmt = select(raw_messages).order_by(raw_messages.c.id.desc()).limit(limit)
        if disposition is not None:
            stmt = stmt.where(raw_messages.c.disposition == disposition)
        return [_raw_from_row(r) for r in (await self._conn.execute(stmt)).all()]

    async def attachments_of(self, message_id: int) -> list[tuple[FileData, int, str]]:
        """The files of one message, in insertion order, with size and sha256."""
        rows = (await self._conn.execute(select(attachments).where(attachments.c.message_id == message_id)
                                         .order_by(attachments.c.id))).all()
        return [(FileData(r.filename, r.content_type, bytes(r.data)), r.size, r.sha256)
                for r in rows]
