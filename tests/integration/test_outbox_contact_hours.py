"""The outbox's contact hours on a real database (SQLite and PostgreSQL), with the worker and a
controlled clock: a survey queued long ago, retried or put back by an operator is checked again
when claimed; holding it is neither a failure nor an attempt; one a day per contact holds within a
batch, against a row another worker is sending, and between two workers claiming at once."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo


from bot.clock import system_clock
from bot.outbox.worker import OutboxWorker, RetryPolicy
from bot.ports import Retryable
from bot.ports.payloads import OutboxPayload, Reply
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.integration.test_outbox_worker import RecordingAdapter
from tests.unsolicited import survey

BOGOTA = ZoneInfo("America/Bogota")
ANA, BETO = "ana@cliente.co", "beto@cliente.co"


def bog(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=BOGOTA)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def put(db: SqlDatabase, now: dt.datetime, to: str = ANA, **fields: object) -> OutboxItem:
    item = OutboxItem(channel="email", destination=to, payload=survey(), **fields)  # type: ignore[arg-type]
    async with db.uow() as uow:
        await uow.outbox.put(item, now=now)
        await uow.commit()
    return item


async def get(db: SqlDatabase, item: OutboxItem) -> OutboxItem:
    async with db.uow(readonly=True) as uow:
        (found,) = [r for r in await uow.outbox.list(limit=1000) if r.id == item.id]
    return found


async def test_a_row_queued_long_ago_is_held_when_claimed_without_counting_an_attempt(database: SqlDatabase) -> None:
    item = await put(database, bog(2026, 3, 20, 10))          # Friday, inside the hours: due at once
    assert item.next_attempt_at == bog(2026, 3, 20, 10)
    clock, adapter = Clock(bog(2026, 3, 20, 20)), RecordingAdapter()   # the worker was down until 20:00
    worker = OutboxWorker(database, {"email": adapter}, clock)
    assert await worker.run_once() == 0 and adapter.sent == []
    held = await get(database, item)
    assert (held.status, held.attempts, held.last_error) == ("pending", 0, None)
    assert held.next_attempt_at == bog(2026, 3, 21, 8)
    clock.now = bog(2026, 3, 21, 8, 0, 1)
    assert await worker.run_once() == 1 and [d for d, _ in adapter.sent] == [ANA]


async def test_a_wanted_time_is_kept_and_moved_into_the_hours(database: SqlDatabase) -> None:
    """A survey asked for later (`next_attempt_at`: e.g. some hours after a PQR closed) goes then,
    or at the next opening after then."""
    later = await put(database, bog(2026, 3, 17, 9), next_attempt_at=bog(2026, 3, 17, 11))
    night = await put(database, bog(2026, 3, 17, 17), to=BETO, next_attempt_at=bog(2026, 3, 17, 19, 30))
    assert later.next_attempt_at == bog(2026, 3, 17, 11)
    assert night.next_attempt_at == bog(2026, 3, 18, 7)


async def test_a_failed_survey_counts_its_attempt_and_its_retry_still_waits_for_the_hours(
        database: SqlDatabase) -> None:
    item = await put(database, bog(2026, 3, 20, 18, 59, 30))
    clock = Clock(bog(2026, 3, 20, 18, 59, 30))
    adapter = RecordingAdapter([Retryable("relay down")])
    worker = OutboxWorker(database, {"email": adapter}, clock, policy=RetryPolicy(base=dt.timedelta(seconds=60)))
    assert await worker.run_once() == 0
    failed = await get(database, item)
    assert failed.attempts == 1 and failed.last_error and failed.next_attempt_at is not None
    assert failed.next_attempt_at >= bog(2026, 3, 20, 19)          # the backoff ends after closing
    clock.now = failed.next_attempt_at
    assert await worker.run_once() == 0
    held = await get(database, item)
    assert (held.attempts, held.status, held.next_attempt_at) == (1, "pending", bog(2026, 3, 21, 8))
    clock.now = bog(2026, 3, 21, 8)
    assert await worker.run_once() == 1
    assert (await get(database, item)).attempts == 1


async def test_an_operator_retry_keeps_the_hours_and_one_a_day(database: SqlDatabase) -> None:
    first = await put(database, bog(2026, 3, 17, 10))
    second = await put(database, bog(2026, 3, 17, 10))
    assert second.next_attempt_at == bog(2026, 3, 18, 7)
    async with database.uow() as uow:                               # `pqrbot outbox retry` of the second
        assert second.id is not None and await uow.outbox.retry(second.id, now=bog(2026, 3, 17, 10))
        await uow.commit()
    clock, adapter = Clock(bog(2026, 3, 17, 10)), RecordingAdapter()
    worker = OutboxWorker(database, {"email": adapter}, clock)
    assert await worker.run_once() == 1                             # both due, in one batch: one goes
    assert (await get(database, first)).status == "sent"
    assert (await get(database, second)).next_attempt_at == bog(2026, 3, 18, 7)
    async with database.uow() as uow:       # put back on Sunday: Tuesday then (Monday 23 is a holiday)
        await uow.outbox.retry(second.id, now=bog(2026, 3, 22, 10))
        await uow.commit()
    clock.now = bog(2026, 3, 22, 10)
    assert await worker.run_once() == 0
    assert (await get(database, second)).next_attempt_at == bog(2026, 3, 24, 7)


async def test_put_many_gives_each_survey_of_a_contact_its_own_day(database: SqlDatabase) -> None:
    now = bog(2026, 3, 19, 10)                                      # Thursday
    items = [OutboxItem(channel="email", destination=ANA, payload=survey(), dedupe_key=f"s{n}") for n in range(3)]
    items += [OutboxItem(channel="email", destination=BETO, payload=survey(), dedupe_key="s0-beto"),
              OutboxItem(channel="email", destination=ANA, payload=survey(), dedupe_key="s0"),   # repeated key
              OutboxItem(channel="email", destination=ANA, payload=Reply(
                  radicado="PQR-2026-000001", language="es", subject="Re", text="Respuesta").stored())]
    async with database.uow() as uow:
        await uow.outbox.put_many([(i, now) for i in items])
        await uow.commit()
    assert [i.next_attempt_at for i in items[:4]] == [now, bog(2026, 3, 20, 7), bog(2026, 3, 21, 8), now]
    assert items[4].id is None
    assert items[5].next_attempt_at == now                          # the answer is not held
    async with database.uow(readonly=True) as uow:
        assert len(await uow.outbox.list()) == 5


async def test_a_survey_being_sent_by_another_worker_holds_the_next_one(database: SqlDatabase) -> None:
    now = bog(2026, 3, 17, 10)
    first = await put(database, now)
    second = await put(database, now)
    async with database.uow() as uow:
        assert second.id is not None and await uow.outbox.retry(second.id, now=now)
        (claimed,) = await uow.outbox.claim(now=now, limit=1, lease=dt.timedelta(seconds=30),
                                            lease_now=system_clock())      # claims run on the wall clock
        await uow.commit()
    assert claimed.id == first.id                                   # another worker, mid-send
    adapter = RecordingAdapter()
    assert await OutboxWorker(database, {"email": adapter}, Clock(now)).run_once() == 0
    assert (await get(database, second)).next_attempt_at == bog(2026, 3, 18, 7)


class HeldAdapter(RecordingAdapter):
    """Sends only once `release` is set: the row stays mid-send while the other worker claims."""

    def __init__(self, release: asyncio.Event) -> None:
        super().__init__()
        self.release = release

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        await self.release.wait()
        return await super().send(destination, payload)


async def test_two_workers_claiming_at_once_send_a_contact_one_survey(database: SqlDatabase) -> None:
    now = bog(2026, 3, 17, 10)
    items = [await put(database, now) for _ in range(2)]
    async with database.uow() as uow:
        assert items[1].id is not None and await uow.outbox.retry(items[1].id, now=now)
        await uow.commit()
    release = asyncio.Event()
    adapters = [HeldAdapter(release), HeldAdapter(release)]
    workers = [OutboxWorker(database, {"email": a}, Clock(now), batch=1) for a in adapters]
    tasks = [asyncio.ensure_future(w.run_once()) for w in workers]
    # One worker holds the first survey mid-send; the other claims meanwhile and must get nothing
    # for that contact. (Were both to claim one, neither would finish: the timeout then lets the
    # assertions below say so.)
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    release.set()
    results = await asyncio.gather(*tasks)
    assert sum(results) == 1 and sum(len(a.sent) for a in adapters) == 1
    rows = [await get(database, i) for i in items]
    assert sorted(r.status for r in rows) == ["pending", "sent"]
    (waiting,) = [r for r in rows if r.status == "pending"]
    assert waiting.next_attempt_at == bog(2026, 3, 18, 7) and waiting.attempts == 0
