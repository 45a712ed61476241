"""The durable inbox's front door: raw inbound mail (SMTP, IMAP) appended and committed before the
sender is let go (the SMTP `250`, the IMAP move), then left to the intake worker (`bot.intake.worker`).

Concurrent appends share transactions (`GroupCommitter`): every SMTP session's message and every
IMAP batch waiting while one commit runs go in the next one, with one INSERT for all of them, so
the commits per second stay flat while the messages per commit grow with the load.

Channels may not import storage (the import-linter contract): they take `InboxItem` from here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.clock import Clock
from bot.intake.group_commit import GroupCommitter
from storage.ports import Database, InboxItem, UnitOfWork


class Inbox:
    """Appends raw messages to the inbox; `append` returns once they are committed, then wakes the
    intake worker (`wake`)."""

    def __init__(self, db: Database, clock: Clock, *, wake: asyncio.Event | None = None,
                 max_batch: int = 512, on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.wake = wake
        self._on_commit = on_commit
        self.committer: GroupCommitter[tuple[InboxItem, ...], list[int]] = GroupCommitter(
            db, self._append, apply_many=self._append_many, max_batch=max_batch, on_commit=self._committed)

    async def append(self, items: Sequence[InboxItem]) -> list[int]:
        """Queue `items` as pending; returns their ids (in order) once committed. Raises when
        storage fails (nothing of `items` was written: the sender should try again)."""
        if not items:
            return []
        return await self.committer.submit(tuple(items))

    async def items(self, *, status: str | None = None, limit: int = 100) -> list[InboxItem]:
        """Newest first, without the raw bytes (`pqrbot inbox list`)."""
        async with self.db.uow(readonly=True) as uow:
            return await uow.inbox.list(status=status, limit=limit)

    async def item(self, item_id: int) -> InboxItem | None:
        """One item with its raw bytes, or None."""
        async with self.db.uow(readonly=True) as uow:
            return await uow.inbox.get(item_id)

    async def depth(self) -> dict[str, int]:
        """How many items each status holds."""
        async with self.db.uow(readonly=True) as uow:
            return await uow.inbox.depth()

    async def retry(self, item_id: int) -> bool:
        """A failed (or pending) item due again now, its attempts kept; False when there is none such."""
        async with self.db.uow() as uow:
            ok = await uow.inbox.retry(item_id, now=self.clock())
            await uow.commit()
        if ok:
            self._committed()
        return ok

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        await self.committer.stop()

    def _committed(self) -> None:
        if self.wake is not None:
            self.wake.set()
        if self._on_commit is not None:
            self._on_commit()

    async def _append(self, uow: UnitOfWork, items: tuple[InboxItem, ...]) -> list[int]:
        return await uow.inbox.append_many(items, now=self.clock())

    async def _append_many(self, uow: UnitOfWork, groups: Sequence[tuple[InboxItem, ...]]) -> list[list[int] | None]:
        """Every caller's items in one INSERT; each caller gets its own ids back."""
        ids = await uow.inbox.append_many([item for group in groups for item in group], now=self.clock())
        out: list[list[int] | None] = []
        start = 0
        for group in groups:
            out.append(ids[start:start + len(group)])
            start += len(group)
        return out


__all__: Sequence[str] = ["Inbox", "InboxItem"]
