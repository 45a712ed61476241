"""`TelegramStore`: Telegram conversations in progress and the bot messages about each PQR."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from storage.ports import TelegramConversation
from domain.files import FileData
from storage.repositories.common import insert_attachments, insert_ignore
from storage.sqlite_inline import SqlConnection
from storage.tables import pqrs, telegram_conversations, telegram_messages

_conv = telegram_conversations.c


def _conversation(r: Row[Any]) -> TelegramConversation:
    return TelegramConversation(chat_id=int(r.chat_id), user_id=int(r.user_id), language=r.language,
                                step=r.step, data=dict(r.data or {}), last_update_id=int(r.last_update_id),
                                updated_at=r.updated_at)


class SqlTelegramStore:
    """`TelegramStore` on `telegram_conversations` and `telegram_messages`."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def conversation(self, chat_id: int) -> TelegramConversation | None:
        """The chat's conversation; on PostgreSQL the row stays locked until commit."""
        stmt = select(telegram_conversations).where(_conv.chat_id == chat_id)
        if self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).first()
        return _conversation(row) if row else None

    async def save_conversation(self, conv: TelegramConversation) -> None:
        """Insert or replace the chat's conversation."""
        values = {"user_id": conv.user_id, "language": conv.language, "step": conv.step,
                  "data": conv.data, "last_update_id": conv.last_update_id, "updated_at": conv.updated_at}
        got = await self._conn.execute(update(telegram_conversations)
                                       .where(_conv.chat_id == conv.chat_id).values(**values))
        if got.rowcount == 0:
            await self._conn.execute(insert(telegram_conversations).values(chat_id=conv.chat_id, **values))

    async def drop_conversation(self, chat_id: int) -> bool:
        """Delete the chat's conversation; False when there was none."""
        got = await self._conn.execute(delete(telegram_conversations).where(_conv.chat_id == chat_id))
        return bool(got.rowcount)

    async def idle_conversations(self, updated_before: dt.datetime, *, limit: int = 100) -> list[TelegramConversation]:
        """Conversations untouched since `updated_before`, oldest first."""
        rows = (await self._conn.execute(select(telegram_conversations)
                                         .where(_conv.updated_at < updated_before)
                                         .order_by(_conv.updated_at).limit(limit))).all()
        return [_conversation(r) for r in rows]

    async def remember_message(self, chat_id: int, message_id: int, pqr_id: int, *, kind: str,
                               at: dt.datetime) -> None:
        """Record what PQR a bot message is about (a repeat is ignored)."""
        await self._conn.execute(insert_ignore(self._conn, telegram_messages, ["chat_id", "message_id"])
                                 .values(chat_id=chat_id, message_id=message_id, pqr_id=pqr_id,
                                         kind=kind, at=at))

    async def radicado_for_message(self, chat_id: int, message_id: int) -> str | None:
        """The radicado bot message `message_id` of this chat is about."""
        return (await self._conn.execute(
            select(pqrs.c.radicado).join(telegram_messages, telegram_messages.c.pqr_id == pqrs.c.id)
            .where(telegram_messages.c.chat_id == chat_id,
                   telegram_messages.c.message_id == message_id))).scalar()

    async def has_message(self, radicado: str, *, kind: str) -> bool:
        """Whether a bot message of `kind` about the PQR was recorded."""
        found = (await self._conn.execute(
            select(telegram_messages.c.message_id).join(pqrs, telegram_messages.c.pqr_id == pqrs.c.id)
            .where(pqrs.c.radicado == radicado.upper(), telegram_messages.c.kind == kind).limit(1))).first()
        return found is not None

    async def add_attachments(self, message_id: int, files: Collection[FileData]) -> None:
        """Insert the files of stored message `message_id`, with size and sha256."""
        await insert_attachments(self._conn, message_id, files)
