"""What the IMAP reader (channels/imap) may do with storage, and nothing more: read and write an
account's folder position (UIDVALIDITY + the last UID taken), and append fetched mail to the
durable inbox. The reader gets this object from bootstrap; it never opens a unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.intake.inbox import Inbox
from storage.ports import Database, InboxItem


@dataclass(frozen=True)
class FetchedMail:
    """One message taken from a mailbox: the raw bytes as the server holds them, when the
    mailbox received it (INTERNALDATE, never later than the clock), and a few headers for the
    inbox listing. `mail_from` is the Return-Path when the message carries one."""

    account: str
    data: bytes
    received_at: dt.datetime
    mail_from: str | None = None
    message_id: str | None = None
    subject: str | None = None


class Mailboxes:
    """Folder positions and inbox appends for the IMAP accounts."""

    def __init__(self, db: Database, inbox: Inbox, clock: Clock) -> None:
        self.db = db
        self.inbox = inbox
        self.clock = clock

    async def position(self, account: str, folder: str) -> tuple[int, int] | None:
        """(uidvalidity, last UID taken) of the account's folder, or None before the first take."""
        async with self.db.uow(readonly=True) as uow:
            return await uow.inbox.imap_position(account, folder)

    async def set_position(self, account: str, folder: str, *, uidvalidity: int, last_uid: int) -> None:
        """Remember how far the folder has been taken (committed on return)."""
        async with self.db.uow() as uow:
            await uow.inbox.set_imap_position(account, folder, uidvalidity=uidvalidity, last_uid=last_uid,
                                              now=self.clock())
            await uow.commit()

    async def append(self, mails: Sequence[FetchedMail]) -> list[int]:
        """Queue the messages in the inbox; returns their ids once committed (only then may the
        reader move them out of the folder). Raises when storage fails: nothing was queued."""
        return await self.inbox.append([InboxItem(source="imap", account=m.account, received_at=m.received_at,
                                                  data=m.data, mail_from=m.mail_from, message_id=m.message_id,
                                                  subject=m.subject) for m in mails])

    async def stop(self) -> None:
        """Commit what is queued, then stop (the channel's readers have stopped appending)."""
        await self.inbox.stop()


__all__: Sequence[str] = ["FetchedMail", "Mailboxes"]
