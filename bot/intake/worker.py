"""The intake worker: files the durable inbox.

It claims pending items in batches (a lease, so several instances share the work: `FOR UPDATE SKIP
LOCKED` on PostgreSQL), reads each raw message through the channel's `RawMailReader` (outside any
transaction), files the batch through `IntakeService.receive_many_in` and marks every item with
what it became in that same transaction. So an item is filed exactly once whatever crashes when: a
crash before the commit leaves it pending (claimable again once the lease runs out), after it the
item is marked. There is no lease renewal: a batch is filed right after it is read, well inside the
lease, and a batch whose lease ran out meanwhile (a process suspended) is left to whoever claims it.

A message that fails to file rolls back alone (its savepoint) and is tried again later, the wait
doubling from `base_delay`; after `max_attempts` it stays `failed` and the Slack triage channel, if
any, is told. A batch whose transaction fails as a whole is filed again one item per transaction,
so only the item that breaks it is charged an attempt.

Woken by every inbox commit (`wake`), it polls every `poll` seconds otherwise (retries come due).
It yields to the SMTP sessions, as a mail server's queue manager does: woken, it lets a burst gather
for a moment (`gather`, at most `max_gather`) so that a batch carries many messages — filing 256 in
one transaction costs a fraction per message of filing 8 — and while mail keeps arriving it takes
at most `busy_share` of the loop (after a batch that took t, it waits t·(1−share)/share, at most
`max_pause`), so accepting mail keeps most of the loop during a burst and the inbox absorbs it.
Once the mail stops, or once the burst has lasted `max_defer` (`burst`, bot.burst.MailBurst), it
files at full speed."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.burst import MailBurst
from bot.clock import Clock
from bot.i18n import t
from bot.intake.service import IntakeResult, IntakeService
from bot.ports.mail import RawMailReader, ReadMail
from bot.ports.payloads import Alert
from storage.ports import Database, InboxItem, OutboxItem, UnitOfWork

log = logging.getLogger(__name__)

READ_CHUNK = 16      # messages read (parsed) between two yields to the loop
BURST_BATCH = 16     # items per pass while a burst of mail holds (bot.burst)


@dataclass(frozen=True)
class InboxRetry:
    """An item is tried `max_attempts` times, waiting `base`, then twice as long each time."""

    max_attempts: int = 5
    base: dt.timedelta = dt.timedelta(seconds=30)

    def next_attempt(self, attempts_so_far: int, now: dt.datetime) -> dt.datetime | None:
        """When to try again after the (attempts_so_far + 1)-th failure; None: failed for good."""
        if attempts_so_far + 1 >= self.max_attempts:
            return None
        wait: dt.timedelta = self.base * (2 ** attempts_so_far)
        return now + wait


class IntakeWorker:
    """Claims, reads, files and marks inbox items until stopped."""

    def __init__(self, db: Database, intake: IntakeService, reader: RawMailReader, clock: Clock, *,
                 wake: asyncio.Event | None = None, batch: int = 256,
                 lease: dt.timedelta = dt.timedelta(seconds=60), poll: float = 1.0,
                 retry: InboxRetry = InboxRetry(), triage_channel: str | None = None, language: str = "es",
                 on_commit: Callable[[], None] | None = None, busy_share: float = 0.05,
                 gather: float = 0.02, max_gather: float = 0.1, max_pause: float = 2.0,
                 burst: MailBurst | None = None) -> None:
        self.db = db
        self.burst = burst
        self.busy_share = busy_share
        self.gather = gather
        self.max_gather = max_gather
        self.max_pause = max_pause
        self.intake = intake
        self.reader = reader
        self.clock = clock
        self.wake = wake or asyncio.Event()
        self.batch = batch
        self.lease = lease
        self.poll = poll
        self.retry = retry
        self.triage_channel = triage_channel
        self.language = language
        self.on_commit = on_commit
        self.batches = 0                          # filing transactions committed (tests, bench)
        self.items = 0                            # items marked filed, joined, duplicate or kept aside
        self.batch_sizes: list[int] = []          # claimed per pass, the last 10,000 (bench)
        self.pass_seconds = 0.0                   # the loop time the last pass took for itself

    async def run(self, stop: asyncio.Event) -> None:
        """File until `stop`; each inbox commit wakes the worker early."""
        loop = asyncio.get_running_loop()
        failing: str | None = None      # a failure that lasts (a database gone) is logged once
        while not stop.is_set():
            self.wake.clear()
            try:
                busy = await self.run_once()
                failing = None
            except Exception as exc:
                what = f"{type(exc).__name__}: {exc}"
                log.log(logging.DEBUG if what == failing else logging.ERROR, "intake worker pass failed",
                        exc_info=True)
                failing, busy = what, 0
            if busy:
                # Mail still coming in (a filing transaction may not yield to the sessions at
                # all, so look a moment after it): leave most of the loop to them for a while.
                if (await self._woken(stop, self.gather) and self.busy_share < 1
                        and (self.burst is None or self.burst.hold() > 0)):
                    pause = self.pass_seconds * (1 - self.busy_share) / self.busy_share
                    await self._sleep(stop, min(pause, self.max_pause))
                continue
            if await self._woken(stop, self.poll):
                await self._let_gather(stop)

    def _pass_size(self) -> int:
        """`batch`, or `BURST_BATCH` while a burst holds: a pass holds the loop for all its
        items (~1.4 ms each), and a batch of 256 taken in the middle of a burst would stall the
        sessions ~0.35 s, far more than `busy_share` of the burst."""
        if self.burst is not None and self.burst.hold() > 0:
            return min(self.batch, BURST_BATCH)
        return self.batch

    async def _let_gather(self, stop: asyncio.Event) -> None:
        """Woken by new mail: wait until none came for `gather` seconds, at most `max_gather`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_gather
        while not stop.is_set() and loop.time() < deadline:
            self.wake.clear()
            if not await self._woken(stop, min(self.gather, deadline - loop.time())):
                return

    async def _woken(self, stop: asyncio.Event, timeout: float) -> bool:
        """Wait for `wake` (True) or `stop`, at most `timeout` seconds."""
        if self.wake.is_set():
            return True
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        await asyncio.wait(waiters, timeout=max(timeout, 0), return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()
        return self.wake.is_set()

    @staticmethod
    async def _sleep(stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass

    async def run_once(self) -> int:
        """Claim one batch of due items and file it; how many were claimed (0: nothing due).
        Reading yields to the loop every `READ_CHUNK` messages (no transaction is open then)."""
        now, started = self.clock(), time.perf_counter()
        async with self.db.uow() as uow:
            claimed = await uow.inbox.claim(now=now, limit=self._pass_size(), lease=self.lease)
            await uow.commit()
        own = time.perf_counter() - started
        if not claimed:
            self.pass_seconds = own
            return 0
        self.batch_sizes.append(len(claimed))
        if len(self.batch_sizes) > 10_000:
            del self.batch_sizes[:5_000]
        read: list[ReadMail] = []
        for start in range(0, len(claimed), READ_CHUNK):
            began = time.perf_counter()
            read.extend(self._read(item) for item in claimed[start:start + READ_CHUNK])
            own += time.perf_counter() - began
            await asyncio.sleep(0)
        if self.clock() >= now + self.lease:
            log.warning("intake: the lease on %d inbox item(s) ran out before they were filed; leaving them",
                        len(claimed))
        else:
            began = time.perf_counter()
            await self._file(claimed, read)
            own += time.perf_counter() - began
        self.pass_seconds = own
        return len(claimed)

    def _read(self, item: InboxItem) -> ReadMail:
        return self.reader.read(item.data, mail_from=item.mail_from, client=item.client,
                                received_at=item.received_at)

    async def _file(self, items: Sequence[InboxItem], read: Sequence[ReadMail]) -> None:
        """File and mark `items` in one transaction; if it fails as a whole, one by one."""
        try:
            async with self.db.uow() as uow:
                results = await self.intake.receive_many_in(uow, [(r.message, r.pqr_type, r.kept_aside) for r in read])
                marked = await self._mark(uow, items, results)
                await uow.commit()
        except Exception as exc:
            if len(items) > 1:
                log.warning("intake: a batch of %d inbox item(s) failed (%s: %s); filing them one by one",
                            len(items), type(exc).__name__, exc)
                for item, one in zip(items, read, strict=True):
                    await self._file([item], [one])
                return
            await self._record_failure(items[0], exc)
            return
        self.batches += 1
        self.items += marked
        if self.on_commit is not None:
            self.on_commit()

    async def _mark(self, uow: UnitOfWork, items: Sequence[InboxItem],
                    results: Sequence[IntakeResult | Exception]) -> int:
        """Each item's disposition and radicado, or its failed attempt; how many were marked done."""
        now, done = self.clock(), 0
        for item, result in zip(items, results, strict=True):
            assert item.id is not None
            if isinstance(result, Exception):
                await self._failed(uow, item, result, now)
                continue
            await uow.inbox.mark(item.id, result.disposition, now=now, reason=result.reason, radicado=result.radicado)
            done += 1
        return done

    async def _failed(self, uow: UnitOfWork, item: InboxItem, exc: Exception, now: dt.datetime) -> None:
        """One failed attempt: due again later, or failed for good (and the triage channel told)."""
        assert item.id is not None
        reason = f"{type(exc).__name__}: {exc}"
        retry_at = self.retry.next_attempt(item.attempts, now)
        await uow.inbox.failed(item.id, reason=reason, now=now, retry_at=retry_at)
        if retry_at is not None:
            log.warning("intake: inbox item %d failed (attempt %d of %d), retried at %s: %s", item.id,
                        item.attempts + 1, self.retry.max_attempts, retry_at.isoformat(), reason)
            return
        log.error("intake: inbox item %d failed %d times; it stays failed (pqrbot inbox retry %d): %s",
                  item.id, item.attempts + 1, item.id, reason)
        if self.triage_channel:
            text = t(self.language, "inbox.failed_alert", id=item.id, attempts=item.attempts + 1,
                     sender=item.mail_from or "-", subject=(item.subject or "-")[:200], error=reason[:300])
            await uow.outbox.put(OutboxItem(channel="slack", destination=self.triage_channel,
                                            payload=Alert(alert="inbox_failed", text=text).stored(),
                                            dedupe_key=f"inbox-failed:{item.id}:{item.attempts + 1}"), now=now)

    async def _record_failure(self, item: InboxItem, exc: Exception) -> None:
        """An item whose own transaction failed: charge the attempt in a new one. If even that
        fails (the database is gone), the lease runs out and the item is claimed again."""
        try:
            async with self.db.uow() as uow:
                await self._failed(uow, item, exc, self.clock())
                await uow.commit()
        except Exception:
            log.exception("intake: recording the failure of inbox item %s failed; it is retried when its lease ends",
                          item.id)
            raise exc from None
        if self.on_commit is not None:
            self.on_commit()


__all__: Sequence[str] = ["InboxRetry", "IntakeWorker"]
