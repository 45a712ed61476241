"""The outbox worker: claims due rows, hands each to its channel adapter, records the outcome.

Delivery is at least once per claim lease and effectively once: a row is marked sent in its own
transaction right after the adapter accepts it, and a row another worker holds is never claimed.
Failures retry with exponential backoff and jitter; after `max_attempts` the row is dead. The
adapter gets the row's payload parsed into its kind (bot.ports.payloads); a payload that does not
parse goes dead at once, unsent, rather than being guessed at.

When an adapter says its whole channel is down (`Retryable(channel_down=True)`: the relay refuses
connections), the row that found out counts a failed attempt, the channel's other claimed rows
are released untried, and the channel is paused until that row's retry time — one attempt per
backoff step instead of one per queued row. The pause grows while the channel stays down and
ends with the first delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.clock import Clock
from bot.ports.payloads import InvalidPayload, parse
from bot.ports import ChannelAdapter, Permanent, Retryable
from storage.ports import Database, OutboxItem

log = logging.getLogger(__name__)
_RNG = random.Random()


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
                 lease: dt.timedelta = dt.timedelta(minutes=2), poll: float = 1.0,
                 on_dead: DeadLetterHook | None = None, wake: asyncio.Event | None = None) -> None:
        self.db = db
        self.adapters = adapters
        self.clock = clock
        self.policy = policy
        self.batch = batch
        self.lease = lease
        self.poll = poll
        self.on_dead = on_dead
        self.wake = wake or asyncio.Event()
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
                                           channels=channels)
            await uow.commit()
        delivered = 0
        untried: list[int] = []
        for item in items:
            if self.paused_until(item.channel) is not None:
                assert item.id is not None
                untried.append(item.id)
                continue
            delivered += await self._deliver(item)
        if untried:
            async with self.db.uow() as uow:
                await uow.outbox.release(untried)
                await uow.commit()
        return delivered

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
        self._downs.pop(item.channel, None)
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
            log.warning("outbox: channel %s is down (%s); not trying it again before %s",
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
        else:
            log.warning("outbox %s to %s:%s failed (%s); retry at %s", item.id, item.channel,
                        item.destination, error, retry_at.isoformat())
        return 0

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`; a new row can `wake` the worker early."""
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("outbox worker pass failed")
                busy = 0
            if busy:
                continue
            self.wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            await asyncio.wait(waiters, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
