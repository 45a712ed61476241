"""A manager's chat waiting for a typed reason or comment (a penalty decision, a returned
answer): the filing draft the chat had is set aside while it waits and put back after, and a
state a newer press replaced is left alone. Shared by `penalty_decisions` and `answer_decisions`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from storage.ports import Database, TelegramConversation


def stash(conv: TelegramConversation | None, awaiting: Collection[str]) -> dict[str, Any] | None:
    """A filing conversation to set aside; an `awaiting` state keeps what it set aside."""
    if conv is None:
        return None
    if conv.step in awaiting:
        previous = conv.data.get("previous")
        return previous if isinstance(previous, dict) else None
    return {"step": conv.step, "data": conv.data, "language": conv.language,
            "last_update_id": conv.last_update_id, "updated_at": conv.updated_at.isoformat()}


def unstash(chat_id: int, user_id: int, saved: dict[str, Any]) -> TelegramConversation:
    return TelegramConversation(chat_id=chat_id, user_id=user_id, language=str(saved.get("language") or "es"),
                                step=str(saved["step"]), data=dict(saved.get("data") or {}),
                                last_update_id=int(saved.get("last_update_id") or 0),
                                updated_at=dt.datetime.fromisoformat(str(saved["updated_at"])))


async def finish(db: Database, chat_id: int, conv: TelegramConversation, step: str) -> None:
    """Leave the awaiting `step`, putting back a filing draft it had set aside."""
    async with db.uow() as uow:
        current = await uow.telegram.conversation(chat_id)
        if current is None or current.step != step or current.updated_at != conv.updated_at:
            return          # pressed again meanwhile: that newer state stays
        previous = conv.data.get("previous")
        if isinstance(previous, dict):
            await uow.telegram.save_conversation(unstash(chat_id, conv.user_id, previous))
        else:
            await uow.telegram.drop_conversation(chat_id)
        await uow.commit()
