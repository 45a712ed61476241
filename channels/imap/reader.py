"""One company mailbox read into the inbox: new messages in the folder (UIDs above the position
remembered for its UIDVALIDITY, read or not) are fetched in batches, appended to the inbox, and
only once that is committed moved to the processed folder; then the position moves on. Between
rounds the reader IDLEs where the server offers it (re-issued before servers drop it at 30
minutes), else it polls. A lost or refused connection is retried with backoff, 1 s doubling to
60 s, logged once when the outage starts and once when it ends."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterator, Sequence

import aioimaplib

from bot.clock import Clock
from bot.config import ImapAccount
from bot.intake.mailboxes import FetchedMail, Mailboxes
from channels.imap.client import ConnectionLost, Credentials, ImapError, ImapSession
from channels.imap.oauth import TokenError
from channels.imap.parse import Fetched, headers

log = logging.getLogger(__name__)

IDLE_RENEW_SECONDS = 25 * 60.0
"""IDLE is ended and issued again this often (RFC 2177: servers may drop it after 30 minutes)."""
BATCH_MESSAGES = 100
BATCH_BYTES = 16 * 1024 * 1024
"""A fetch brings at most this many messages and (past the first) this many bytes."""

# What ends a session without being a bug of ours: the network, the server, the identity platform.
EXPECTED = (OSError, ImapError, TokenError, asyncio.TimeoutError, aioimaplib.AioImapException, ssl.SSLError)


class Backoff:
    """Waits between attempts: `first` seconds, doubled each time, at most `cap`."""

    def __init__(self, first: float = 1.0, cap: float = 60.0) -> None:
        self.first, self.cap = first, cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first


def batches(uids: Sequence[int], sizes: dict[int, int], *, most: int = BATCH_MESSAGES,
            budget: int = BATCH_BYTES) -> Iterator[list[int]]:
    """`uids` in fetch batches of at most `most` messages and `budget` bytes (a message larger
    than the budget goes alone)."""
    batch: list[int] = []
    used = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= most or used + size > budget):
            yield batch
            batch, used = [], 0
        batch.append(uid)
        used += size
    if batch:
        yield batch


class MailboxReader:
    """Reads `account.folder` until stopped. `state` says what it is doing (connecting, taking,
    idle, polling, waiting, stopped); `taken` counts the messages appended to the inbox,
    `failures` the sessions failed in a row and `idles` the IDLE commands issued."""

    def __init__(self, account: ImapAccount, credentials: Credentials, mailboxes: Mailboxes, clock: Clock, *,
                 idle: bool = True, poll_seconds: float = 60.0, idle_renew: float = IDLE_RENEW_SECONDS,
                 backoff: Backoff | None = None, timeout: float = 30.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.account = account
        self.credentials = credentials
        self.mailboxes = mailboxes
        self.clock = clock
        self.idle = idle
        self.poll_seconds = poll_seconds
        self.idle_renew = idle_renew
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.state = "connecting"
        self.taken = 0
        self.failures = 0           # sessions failed in a row
        self.idles = 0              # IDLE commands issued
        self._outage: str | None = None

    @property
    def where(self) -> str:
        return f"{self.account.host}:{self.account.port}"

    async def run(self, stop: asyncio.Event) -> None:
        """Sessions until `stop`, each after a backoff wait when the previous one failed."""
        try:
            while not stop.is_set():
                session = ImapSession(self.account.host, self.account.port, self.account.security,
                                      timeout=self.timeout, ssl_context=self.ssl_context)
                try:
                    self.state = "connecting"
                    await self._session(session, stop)
                except EXPECTED as exc:
                    self._failed(exc, expected=True)
                except Exception as exc:      # a bug of ours must not end the reader for good
                    self._failed(exc, expected=False)
                finally:
                    await session.logout()
                if stop.is_set():
                    break
                self.state = "waiting"
                await _wait(stop, self.backoff.next())
        finally:
            self.state = "stopped"

    def _failed(self, exc: BaseException, *, expected: bool) -> None:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        self.failures += 1
        if self._outage is None:
            self._outage = reason
            log.warning("imap %s: %s (%s); trying again with backoff (up to %g s), logged again once it is back",
                        self.account.name, reason, self.where, self.backoff.cap, exc_info=not expected)
        else:
            log.debug("imap %s: still failing: %s", self.account.name, reason)

    async def _session(self, session: ImapSession, stop: asyncio.Event) -> None:
        acc = self.account
        await session.connect()
        await session.authenticate(self.credentials)
        await session.ensure_folder(acc.processed_folder)
        uidvalidity, _ = await session.select(acc.folder)
        can_idle = self.idle and session.has("IDLE")
        how = "IDLE" if can_idle else f"polling every {self.poll_seconds:g} s"
        if self._outage is not None:
            log.info("imap %s: connected again to %s (the outage was: %s)", acc.name, self.where, self._outage)
            self._outage = None
        else:
            log.info("imap %s: reading %s on %s (%s), moving taken mail to %s", acc.name, acc.folder, self.where,
                     how, acc.processed_folder)
        last = await self._start_position(uidvalidity)
        while not stop.is_set():
            self.state = "taking"
            last = await self._take(session, uidvalidity, last, stop)
            self.failures = 0
            self.backoff.reset()          # a full round went through: the next outage starts over at 1 s
            if stop.is_set():
                return
            if can_idle:
                self.state = "idle"
                self.idles += 1
                try:
                    await session.idle(renew=self.idle_renew, stop=stop)
                except ConnectionLost:
                    raise
                except ImapError as exc:      # announced but refused: poll on this connection
                    log.warning("imap %s: %s; polling every %g s instead", acc.name, exc, self.poll_seconds)
                    can_idle = False
            else:
                self.state = "polling"
                await _wait(stop, self.poll_seconds)
            if stop.is_set():
                return
            # SELECT again: it syncs the folder, and a folder deleted and created again under the
            # same name (a rebuilt mailbox) shows its new UIDVALIDITY only here.
            current, _ = await session.select(acc.folder)
            if current != uidvalidity:
                self._rebuilt(uidvalidity, current)
                uidvalidity, last = current, 0

    async def _start_position(self, uidvalidity: int) -> int:
        acc = self.account
        known = await self.mailboxes.position(acc.name, acc.folder)
        if known is None:
            return 0
        if known[0] != uidvalidity:
            self._rebuilt(known[0], uidvalidity)
            return 0
        return known[1]

    def _rebuilt(self, was: int, current: int) -> None:
        # The folder was rebuilt (or moved to another server): its UIDs name other messages now.
        # Read it all again; the intake worker's Message-ID dedupe drops what was already filed.
        log.warning("imap %s: %s has a new UIDVALIDITY (%d, was %d); reading the whole folder again",
                    self.account.name, self.account.folder, current, was)

    async def _take(self, session: ImapSession, uidvalidity: int, last: int, stop: asyncio.Event) -> int:
        """Take every message above `last` (again while new ones keep arriving); the new last UID."""
        acc = self.account
        while not stop.is_set():
            uids = await session.search_after(last)
            if not uids:
                return last
            known = await session.sizes(uids)
            for batch in batches(uids, known):
                got = await session.fetch(batch)
                if got:
                    await self.mailboxes.append([self._mail(f) for f in got])     # committed
                    self.taken += len(got)
                    try:
                        await session.move([f.uid for f in got], acc.processed_folder)
                    except ConnectionLost:
                        raise
                    except ImapError as exc:
                        # Queued already: the position below keeps it from being taken twice; it
                        # stays in the folder for someone to look at.
                        log.warning("imap %s: could not move %d message(s) to %s: %s", acc.name, len(got),
                                    acc.processed_folder, exc)
                last = max(batch)
                await self.mailboxes.set_position(acc.name, acc.folder, uidvalidity=uidvalidity, last_uid=last)
                if stop.is_set():
                    break
        return last

    def _mail(self, message: Fetched) -> FetchedMail:
        now = self.clock()
        stamp = message.internaldate
        # When the company's mailbox got it is when the customer filed it (the legal term counts
        # from there, even if pqrbot was down); a server clock ahead of ours is not believed.
        received = stamp if stamp is not None and stamp <= now else now
        head = headers(message.data)
        return FetchedMail(account=self.account.name, data=message.data, received_at=received.astimezone(now.tzinfo),
                           mail_from=head.return_path, message_id=head.message_id, subject=head.subject)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


__all__: Sequence[str] = ["Backoff", "MailboxReader", "batches"]
