"""The outbox worker: claims due rows, hands each to its channel adapter, records the outcome.

Delivery is effectively once: a row is marked sent in its own transaction right after the adapter
accepts it, and a row another worker holds is never claimed. A claim is short (`CLAIM_LEASE`, on
the wall clock) and the worker extends it every third of that for the rows of its batch it has
not finished, so a slow send by a live worker is never taken over, while the claims of a killed
worker run out within 30 s and another instance sends those rows then. The at-least-once
window: a worker killed after the channel accepted a message but before the row was marked
sent (one commit, milliseconds), or one stalled longer than the claim (its event loop frozen),
can have that row sent again. Failures retry with exponential backoff and jitter; after
`max_attempts` the row is dead. The
adapter gets the row's payload parsed into its kind (bot.ports.payloads); a payload that does not
parse goes dead at once, unsent, rather than being guessed at.

When an adapter says its whole channel is down (`Retryable(channel_down=True)`: the relay refuses
connections), the row that found out counts a failed attempt, the channel's other claimed rows
are released untried, and the channel is paused until that row's retry time — one attempt per
backoff step instead of one per queued row. The pause grows while the channel stays down and
ends with the first delivery. The outage is a warning when it starts and one when it ends; the
retries in between are logged at INFO.

`hold` (bot.burst.MailBurst.hold): before each delivery the worker waits while it says so, so a
burst of inbound mail keeps the event loop for its SMTP sessions and the acknowledgments go out
once it has passed (or once it has lasted `max_defer`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.clock import Clock, system_clock
from bot.ports.payloads import InvalidPayload, parse
from bot.ports import ChannelAdapter, Permanent, Retryable
from storage.ports import Database, OutboxItem

log = logging.getLogger(__name__)
_RNG = random.Random()

CLAIM_LEASE = dt.timedelta(seconds=30)
"""How long a claim holds rows before another worker may take them, unless it is extended."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base: dt.timedelta = dt.timedelta(seconds=5)
    cap: dt.timedelta = dt.timedelta(hours=1)

    def next_attempt(self, attempts_so_far: int, now: dt.datetime, *, retry_after: float | None = None,
                     rng: random.Random | None = None) -> dt.datetime | None:
        """When to try a row again after its (attempts_so_far + 1)-th failure; None: give up."""
        if attempts_so_far + 1 >= self.max_attempts:
            return None
        return self.backoff(attempts_so_far, now, retry_after=retry_after, rng=rng)

    def backoff(self, failures_so_far: int, now: dt.datetime, *, retry_after: float | None = None,
                rng: random.Random | None = None) -> dt.datetime:
        """`now` plus the wait after the (failures_so_far + 1)-th failure in a row: doubling from
        `base`, capped, with "equal jitter" (50-100 %), and never shorter than `retry_after`."""
        delay = min(self.cap, self.base * (1 << min(failures_so_far, 30)))
        fraction: float = 0.5 + (rng or _RNG).random() / 2
        jittered = delay * fraction
        if retry_after is not None:
            jittered = max(jittered, dt.timedelta(seconds=retry_after))
        return now + jittered


DeadLetterHook = Callable[[OutboxItem, str], Awaitable[None]]


class OutboxWorker:
    """Delivers outbox rows for the channels it has adapters for."""

    def __init__(self, db: Database, adapters: Mapping[str, ChannelAdapter], clock: Clock, *,
                 policy: RetryPolicy = RetryPolicy(), batch: int = 50,
                 lease: dt.timedelta = CLAIM_LEASE, poll: float = 1.0,
                 on_dead: DeadLetterHook | None = None, wake: asyncio.Event | None = None,
                 wall_clock: Clock = system_clock, hold: Callable[[], float] | None = None) -> None:
        self.db = db
        self.adapters = adapters
        self.clock = clock
        self.wall_clock = wall_clock     # claims; `clock` (the business clock) for due times
        self.policy = policy
        self.batch = batch
        self.lease = lease
        self.poll = poll
        self.on_dead = on_dead
        self.wake = wake or asyncio.Event()
        self.hold = hold
        self._paused: dict[str, dt.datetime] = {}   # channel -> not before
        self._downs: dict[str, int] = {}            # channel -> consecutive channel_down failures

    def paused_until(self, channel: str) -> dt.datetime | None:
        """When a channel found down will be tried again (None: not paused)."""
        until = self._paused.get(channel)
        return until if until is not None and until > self.clock() else None

    async def run_once(self) -> int:
        """Claim one batch and try each row once; returns how many were delivered."""
        if not self.adapters:
            return 0
        channels = [c for c in self.adapters if self.paused_until(c) is None]
        if not channels:
            return 0
        async with self.db.uow() as uow:
            items = await uow.outbox.claim(now=self.clock(), limit=self.batch, lease=self.lease,
                                           channels=channels, lease_now=self.wall_clock())
            await uow.commit()
        if not items:
            return 0
        delivered = 0
        untried: list[int] = []
        held = {item.id for item in items if item.id is not None}   # claimed, not yet done
        keeper = asyncio.create_task(self._keep_claims(held), name="outbox-claims")
        try:
            for item in items:
                assert item.id is not None
                await self._give_way()
                if self.paused_until(item.channel) is not None:
                    untried.append(item.id)
                else:
                    delivered += await self._deliver(item)
                held.discard(item.id)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        if untried:
            async with self.db.uow() as uow:
                await uow.outbox.release(untried)
                await uow.commit()
        return delivered

    async def _give_way(self) -> None:
        """Wait while inbound mail is arriving in a burst (`hold`); the claims stay extended."""
        while self.hold is not None and (wait := self.hold()) > 0:
            await asyncio.sleep(wait)

    async def _keep_claims(self, held: set[int]) -> None:
        """Every third of the lease, extend the claim on the batch's rows not done yet, so that
        no other worker takes a row this live worker is still sending or about to send."""
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            if not held:
                continue
            try:
                now = self.wall_clock()
                async with self.db.uow() as uow:
                    await uow.outbox.extend(list(held), now=now, until=now + self.lease)
                    await uow.commit()
            except Exception:   # the next try may succeed before the claims end
                log.exception("outbox: could not extend the claim on %d row(s)", len(held))

    async def _deliver(self, item: OutboxItem) -> int:
        assert item.id is not None
        adapter = self.adapters[item.channel]
        try:
            payload = parse(item.payload)
        except InvalidPayload as exc:   # never guess: a row that does not parse is not sent
            return await self._failed(item, f"permanent: {exc}", None, give_up=True)
        try:
            await adapter.send(item.destination, payload)
        except Retryable as exc:
            return await self._failed(item, f"retryable: {exc}", exc.retry_after, channel_down=exc.channel_down)
        except Permanent as exc:
            return await self._failed(item, f"permanent: {exc}", None, give_up=True)
        except Exception as exc:  # an adapter bug must not stop the worker
            log.exception("outbox %s: %s adapter failed", item.id, item.channel)
            return await self._failed(item, f"error: {type(exc).__name__}: {exc}", None)
        failures = self._downs.pop(item.channel, 0)
        if failures:   # WARNING like the outage it ends: whoever saw one line sees the other
            log.warning("outbox: channel %s is back after %d failed attempt(s); sending what waited",
                        item.channel, failures)
        async with self.db.uow() as uow:
            await uow.outbox.mark_sent(item.id, now=self.clock())
            await uow.commit()
        return 1

    async def _failed(self, item: OutboxItem, error: str, retry_after: float | None, *,
                      give_up: bool = False, channel_down: bool = False) -> int:
        assert item.id is not None
        now = self.clock()
        retry_at = None if give_up else self.policy.next_attempt(item.attempts, now, retry_after=retry_after)
        if channel_down:
            downs = self._downs.get(item.channel, 0)
            self._downs[item.channel] = downs + 1
            pause = self.policy.backoff(downs, now, retry_after=retry_after)
            self._paused[item.channel] = pause
            if downs == 0:   # once per outage; the retries until it ends are INFO
                log.warning("outbox: channel %s is down (%s); its messages wait in the outbox and are "
                            "retried with backoff (pqrbot outbox list shows them)", item.channel, error)
            else:
                log.info("outbox: channel %s still down (%s); not trying it again before %s",
                         item.channel, error, pause.isoformat())
        async with self.db.uow() as uow:
            await uow.outbox.mark_failed(item.id, error=error[:500], retry_at=retry_at)
            await uow.commit()
        if retry_at is None:
            log.error("outbox %s to %s:%s is dead after %d attempt(s): %s", item.id, item.channel,
                      item.destination, item.attempts + 1, error)
            if self.on_dead is not None:
                try:
                    await self.on_dead(item, error)
                except Exception:
                    log.exception("dead-letter hook failed for outbox %s", item.id)
        else:   # a row caught in an outage says nothing the outage line did not
            log.log(logging.INFO if channel_down else logging.WARNING, "outbox %s to %s:%s failed (%s); retry at %s",
                    item.id, item.channel, item.destination, error, retry_at.isoformat())
        return 0

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`; a new row can `wake` the worker early."""
        failing: str | None = None       # a failure that lasts (a database gone) is logged once
        while not stop.is_set():
            try:
                busy = await self.run_once()
                failing = None
            except Exception as exc:
                what = f"{type(exc).__name__}: {exc}"
                log.log(logging.DEBUG if what == failing else logging.ERROR, "outbox worker pass failed",
                        exc_info=True)
                failing, busy = what, 0
            if busy:
                continue
            self.wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            await asyncio.wait(waiters, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
