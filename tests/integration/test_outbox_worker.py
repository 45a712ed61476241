"""The outbox worker against a real database with a controlled clock: delivery, retries with
backoff, dead rows, no double delivery between two workers."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

from bot.burst import MailBurst
from bot.ports.payloads import Alert, OutboxPayload
from bot.outbox.worker import OutboxWorker, RetryPolicy
from bot.ports import Permanent, Retryable
from storage.db import SqlDatabase
from storage.ports import OutboxItem

T0 = dt.datetime(2026, 12, 21, 14, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


class RecordingAdapter:
    """A channel adapter that records what it was asked to send and fails on demand."""

    name = "email"

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []   # (destination, stored payload)
        self.failures = list(failures or [])

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        await asyncio.sleep(0)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((destination, payload.stored()))
        return None


async def queue(db: SqlDatabase, n: int = 1, channel: str = "email") -> None:
    async with db.uow() as uow:
        for i in range(n):
            await uow.outbox.put(OutboxItem(channel=channel, destination=f"c{i}@example.co",
                                            payload=Alert(text=f"m{i}").stored()), now=T0)
        await uow.commit()


async def rows(db: SqlDatabase) -> list[OutboxItem]:
    async with db.uow(readonly=True) as uow:
        return await uow.outbox.list()


async def test_delivers_once(database: SqlDatabase) -> None:
    await queue(database, 3)
    await queue(database, 1, channel="telegram")   # no adapter here: left pending
    adapter, clock = RecordingAdapter(), Clock()
    worker = OutboxWorker(database, {"email": adapter}, clock)
    assert await worker.run_once() == 3
    assert await worker.run_once() == 0
    assert [d for d, _ in adapter.sent] == ["c0@example.co", "c1@example.co", "c2@example.co"]
    assert [r.status for r in await rows(database)] == ["sent", "sent", "sent", "pending"]


async def test_deliveries_wait_while_a_burst_of_mail_lasts(database: SqlDatabase) -> None:
    """While inbound mail keeps arriving the outbox holds its rows (the SMTP sessions keep the
    loop); once the mail stops, or the burst has lasted max_defer, it sends them."""
    class Monotonic:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    mono = Monotonic()
    burst = MailBurst(quiet=0.01, max_defer=1.0, clock=mono)
    asked = asyncio.Event()

    def hold() -> float:                 # the worker asking whether to wait, observed
        asked.set()
        return burst.hold()

    async def asks_again() -> None:
        asked.clear()
        await asyncio.wait_for(asked.wait(), 5)

    await queue(database, 2)
    adapter = RecordingAdapter()
    worker = OutboxWorker(database, {"email": adapter}, Clock(), hold=hold)
    burst.arrived()
    sending = asyncio.create_task(worker.run_once())
    for _ in range(5):
        await asks_again()               # the worker looks again every `quiet`; mail keeps coming
        mono.now += 0.005
        burst.arrived()
    assert adapter.sent == [] and not sending.done()
    mono.now += 0.02                     # quiet now
    assert await asyncio.wait_for(sending, 5) == 2

    await queue(database, 1)
    burst.arrived()
    sending = asyncio.create_task(worker.run_once())
    await asks_again()
    assert not sending.done()
    for _ in range(220):                 # a stream that does not stop (1.1 s): held for max_defer only
        mono.now += 0.005
        burst.arrived()
    assert burst.hold() == 0
    assert await asyncio.wait_for(sending, 5) == 1


async def test_retries_with_backoff_then_delivers(database: SqlDatabase) -> None:
    await queue(database)
    adapter = RecordingAdapter([Retryable("relay down"), Retryable("relay down", retry_after=600)])
    clock = Clock()
    worker = OutboxWorker(database, {"email": adapter}, clock, policy=RetryPolicy(base=dt.timedelta(seconds=10)))
    assert await worker.run_once() == 0
    first = (await rows(database))[0]
    assert first.attempts == 1 and first.status == "pending" and "relay down" in (first.last_error or "")
    assert first.next_attempt_at is not None
    assert dt.timedelta(seconds=5) <= first.next_attempt_at - T0 <= dt.timedelta(seconds=10)
    assert await worker.run_once() == 0          # not due yet: nothing claimed, nothing sent
    clock.now = first.next_attempt_at
    assert await worker.run_once() == 0          # second failure asks for 600 s
    second = (await rows(database))[0]
    assert second.next_attempt_at is not None and second.next_attempt_at - clock.now >= dt.timedelta(seconds=600)
    clock.now = second.next_attempt_at
    assert await worker.run_once() == 1
    assert len(adapter.sent) == 1 and (await rows(database))[0].status == "sent"


async def test_permanent_failure_and_exhausted_attempts_go_dead(database: SqlDatabase) -> None:
    await queue(database, 2)
    adapter = RecordingAdapter([Permanent("no such user"), Retryable("x"), Retryable("x")])
    clock = Clock()
    worker = OutboxWorker(database, {"email": adapter}, clock,
                          policy=RetryPolicy(max_attempts=2, base=dt.timedelta(seconds=1)))
    await worker.run_once()
    clock.now += dt.timedelta(minutes=1)
    await worker.run_once()
    statuses = [(r.status, r.attempts) for r in await rows(database)]
    assert statuses == [("dead", 1), ("dead", 2)]
    async with database.uow() as uow:
        dead = await uow.outbox.list(status="dead")
        assert dead[0].id is not None and await uow.outbox.retry(dead[0].id, now=clock.now)
        await uow.commit()
    assert await worker.run_once() == 1


async def test_two_workers_never_send_a_row_twice(database: SqlDatabase) -> None:
    await queue(database, 40)
    a, b, clock = RecordingAdapter(), RecordingAdapter(), Clock()
    wa = OutboxWorker(database, {"email": a}, clock, batch=5)
    wb = OutboxWorker(database, {"email": b}, clock, batch=5)
    for _ in range(10):
        await asyncio.gather(wa.run_once(), wb.run_once())
    sent = [p["text"] for _, p in a.sent + b.sent]
    assert sorted(sent) == sorted(f"m{i}" for i in range(40))


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=20, base=dt.timedelta(seconds=5), cap=dt.timedelta(minutes=10))
    rng = random.Random(7)
    delays = [(policy.next_attempt(n, T0, rng=rng) or T0) - T0 for n in range(12)]
    assert all(dt.timedelta(seconds=2.5) <= d for d in delays)
    assert delays[3] >= dt.timedelta(seconds=20)
    assert max(delays) <= dt.timedelta(minutes=10)
    assert policy.next_attempt(19, T0) is None


async def test_a_channel_found_down_is_paused_not_hammered(database: SqlDatabase) -> None:
    await queue(database, 5)
    await queue(database, 2, channel="telegram")
    down = Retryable("relay unreachable: ConnectionRefusedError", channel_down=True)
    email, telegram, clock = RecordingAdapter([down, down]), RecordingAdapter(), Clock()
    telegram.name = "telegram"
    policy = RetryPolicy(base=dt.timedelta(seconds=10))
    worker = OutboxWorker(database, {"email": email, "telegram": telegram}, clock, policy=policy)

    assert await worker.run_once() == 2                  # telegram flows; email tried once
    assert len(telegram.sent) == 2 and email.failures == [down]
    by_text = {r.payload["text"]: r for r in await rows(database) if r.channel == "email"}
    assert [by_text[f"m{i}"].attempts for i in range(5)] == [1, 0, 0, 0, 0]   # the others untried
    assert all(r.status == "pending" for r in by_text.values())
    first_pause = worker.paused_until("email")
    assert first_pause is not None and first_pause - clock.now >= dt.timedelta(seconds=5)

    await queue(database, 1)                             # new rows wait too: nothing is claimed
    assert await worker.run_once() == 0 and email.failures == [down]

    clock.now = first_pause                              # still down: the pause doubles
    assert await worker.run_once() == 0 and email.failures == []
    second_pause = worker.paused_until("email")
    assert second_pause is not None and second_pause - clock.now >= dt.timedelta(seconds=10)

    clock.now = second_pause + dt.timedelta(hours=1)     # back up: everything goes, once
    assert await worker.run_once() == 6
    assert worker.paused_until("email") is None
    assert sorted(p["text"] for _, p in email.sent) == sorted([f"m{i}" for i in range(5)] + ["m0"])
    assert all(r.status == "sent" for r in await rows(database))


async def test_a_row_whose_payload_does_not_parse_goes_dead_unsent(database: SqlDatabase) -> None:
    async with database.uow() as uow:
        for payload in ({"kind": "alrt", "text": "typo"}, {"text": "no kind"}, {"kind": "alert", "text": "ok"}):
            await uow.outbox.put(OutboxItem(channel="email", destination="c@example.co", payload=payload), now=T0)
        await uow.commit()
    dead: list[tuple[OutboxItem, str]] = []

    async def on_dead(item: OutboxItem, error: str) -> None:
        dead.append((item, error))

    adapter = RecordingAdapter()
    worker = OutboxWorker(database, {"email": adapter}, Clock(), on_dead=on_dead)
    assert await worker.run_once() == 1
    assert adapter.sent == [("c@example.co", {"kind": "alert", "text": "ok"})]
    bad = [(r.status, r.attempts, r.last_error or "") for r in await rows(database) if r.status != "sent"]
    assert [(status, attempts) for status, attempts, _ in bad] == [("dead", 1), ("dead", 1)]
    assert bad[0][2].startswith("permanent: outbox payload of kind 'alrt' does not parse")
    assert "kind None" in bad[1][2]
    assert [item.payload for item, _ in dead] == [{"kind": "alrt", "text": "typo"}, {"text": "no kind"}]
