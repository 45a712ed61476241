"""The IMAP channel: one reader task per configured mailbox, started and stopped with pqrbot.
It only reads; answers to mail taken from a mailbox go out through the email channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.intake.mailboxes import Mailboxes
from bot.ports import Permanent
from bot.ports.payloads import OutboxPayload
from channels.imap.reader import MailboxReader

log = logging.getLogger(__name__)


class ImapChannel:
    """`ChannelAdapter` for the company mailboxes (`channels.imap.accounts`)."""

    name = "imap"

    def __init__(self, readers: Sequence[MailboxReader], mailboxes: Mailboxes, *, stop_timeout: float = 10.0) -> None:
        self.readers = list(readers)
        self.mailboxes = mailboxes
        self.stop_timeout = stop_timeout
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start reading every mailbox; a mailbox that cannot be reached now is retried in the
        background (it does not keep pqrbot from starting)."""
        self._stop.clear()
        self._tasks = [asyncio.create_task(r.run(self._stop), name=f"imap:{r.account.name}") for r in self.readers]

    async def stop(self) -> None:
        """Let each reader finish the batch it is on (at most `stop_timeout` seconds), then stop."""
        self._stop.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.stop_timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
        await self.mailboxes.stop()

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        raise Permanent("the imap channel only reads mailboxes; answers go out by email")
