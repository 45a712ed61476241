"""Long polling with our own `getUpdates`, and updates processed concurrently across chats.

python-telegram-bot's `Bot.get_updates` turns the whole answer into `Update`s at once, so one
update it cannot read (a recorded photo without `file_unique_id`, a field from a newer Bot API)
fails the call every time it is offered: the queue would be stuck behind it for good. Here the
answer is fetched as JSON and each update is read on its own; an unreadable one is handed to
`on_unreadable` (logged and kept) and confirmed like any other.

Updates of one chat are processed in the order Telegram gave them (`ChatLocks`); updates of
different chats run at the same time. A batch is confirmed (the next `offset`) only once every
update before it was processed, so a crash offers the unprocessed ones again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
READ_MARGIN = 10.0          # seconds allowed beyond the long-poll timeout for the answer to arrive
BATCH_LIMIT = 100           # Telegram's maximum


@dataclass(frozen=True)
class Unreadable:
    """An update python-telegram-bot could not read (or that is not an Update at all)."""

    update_id: int | None
    data: Any
    error: str


async def fetch(bot: Bot, *, offset: int | None, timeout: float, limit: int = BATCH_LIMIT) -> list[Any]:
    """One `getUpdates` call, answered as raw JSON (a list of dicts). Errors are those of the Bot
    API (`RetryAfter`, `NetworkError`, `Conflict`, …)."""
    data: dict[str, Any] = {"offset": offset, "timeout": timeout, "limit": limit,
                            "allowed_updates": ALLOWED_UPDATES}
    # `Bot._post` is what `Bot.get_updates` calls before parsing the whole list in one go; it
    # picks the request object reserved for getUpdates and maps error answers to exceptions.
    result = await bot._post("getUpdates", data, read_timeout=timeout + READ_MARGIN)
    return result if isinstance(result, list) else []


def parse(raw: list[Any], bot: Bot) -> list[Update | Unreadable]:
    """Each raw update read on its own: an `Update`, or `Unreadable` with the reason."""
    out: list[Update | Unreadable] = []
    for item in raw:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int):
            out.append(Unreadable(None, item, "no update_id"))
            continue
        try:
            update = Update.de_json(item, bot)
        except Exception as exc:           # anything the library raises on odd JSON
            out.append(Unreadable(update_id, item, f"{type(exc).__name__}: {exc}"))
            continue
        out.append(update if update is not None else Unreadable(update_id, item, "empty update"))
    return out


def next_offset(items: list[Update | Unreadable], current: int | None) -> int | None:
    """The offset confirming every update in `items`."""
    ids = [i.update_id for i in items if i.update_id is not None]
    return max(ids) + 1 if ids else current


def chat_key(update: Update) -> str:
    """What orders updates: the chat (or the user, or the update alone)."""
    chat = update.effective_chat
    if chat is not None:
        return f"c{chat.id}"
    user = update.effective_user
    return f"u{user.id}" if user is not None else f"#{update.update_id}"


class ChatLocks:
    """One FIFO lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


async def run_batch(updates: list[Update], handle: Callable[[Update], Awaitable[bool]], *,
                    concurrency: int) -> int | None:
    """Run `handle` on every update, at most `concurrency` at a time (per-chat order is kept by
    `handle` itself, through `ChatLocks`). Returns the update_id of the first update left
    unprocessed (`handle` returned False: the bot is stopping), or None when all were done."""
    gate = asyncio.Semaphore(concurrency)

    async def one(update: Update) -> bool:
        async with gate:
            return await handle(update)

    # Tasks start in list order, so each chat's lock is queued for in Telegram's order.
    done = await asyncio.gather(*(one(u) for u in updates))
    left = [u.update_id for u, ok in zip(updates, done) if not ok]
    return min(left) if left else None
