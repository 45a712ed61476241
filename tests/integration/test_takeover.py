"""Taking over from a dead instance, in one process with short real-time leases: a follower
scheduler takes the lease as soon as a stopped leader releases it and works at once; a killed
outbox worker's claims run out and another worker sends those rows, while a live worker's slow
send keeps its claim and is never sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable

from bot.bootstrap import build
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from bot.ports.payloads import Alert, OutboxPayload
from bot.pqrs.service import FilingRequest
from bot.sla.scheduler import LEASE_NAME, Scheduler
from domain.pqr_types import PqrType
from sqlalchemy import select
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from storage.tables import leases, outbox

BOG = dt.timezone(dt.timedelta(hours=-5))
NOW = dt.datetime(2027, 1, 14, 9, tzinfo=BOG)            # a queja filed Dec 18 is breached by now
LEASE = dt.timedelta(seconds=0.6)


class SlowAdapter:
    """Takes `delay` seconds per send (forever when None) and records what it sent."""

    name = "email"

    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self.sent: list[str] = []
        self.started = asyncio.Event()

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        self.started.set()
        await (asyncio.sleep(self.delay) if self.delay is not None else asyncio.Event().wait())
        self.sent.append(destination)
        return None


async def queue(db: SqlDatabase, n: int) -> None:
    async with db.uow() as uow:
        for i in range(n):
            await uow.outbox.put(OutboxItem(channel="email", destination=f"c{i}@example.co",
                                            payload=Alert(text=f"m{i}").stored()), now=NOW)
        await uow.commit()


async def statuses(db: SqlDatabase) -> list[str]:
    async with db.uow(readonly=True) as uow:
        return [i.status for i in await uow.outbox.list()]


async def claims_until(db: SqlDatabase) -> list[dt.datetime | None]:
    """Each outbox row's claim end, read from the table (the port does not expose it)."""
    async with db.engine.connect() as conn:
        return list((await conn.execute(select(outbox.c.claimed_until).order_by(outbox.c.id))).scalars())


async def lease_expires(db: SqlDatabase) -> dt.datetime:
    async with db.engine.connect() as conn:
        return (await conn.execute(select(leases.c.expires_at).where(leases.c.name == LEASE_NAME))).scalar_one()


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_slow_send_keeps_its_claim_and_is_sent_once(database: SqlDatabase) -> None:
    await queue(database, 2)
    lease = dt.timedelta(seconds=1.2)       # extended every 0.4 s: 0.8 s of slack on a busy machine
    slow, other = SlowAdapter(1.5), SlowAdapter(0)          # each send outlasts the claim
    a = OutboxWorker(database, {"email": slow}, lambda: NOW, lease=lease, poll=0.1)
    b = OutboxWorker(database, {"email": other}, lambda: NOW, lease=lease, poll=0.1)
    stop = asyncio.Event()
    task_a = asyncio.create_task(a.run(stop))
    await slow.started.wait()                                # "a" holds the whole batch
    task_b = asyncio.create_task(b.run(stop))
    await wait_until(lambda: _all_sent(database), timeout=10)
    stop.set()
    await asyncio.gather(task_a, task_b)
    assert sorted(slow.sent) == ["c0@example.co", "c1@example.co"]
    assert other.sent == []


async def _all_sent(db: SqlDatabase) -> bool:
    return all(s == "sent" for s in await statuses(db))


async def test_a_killed_workers_claims_run_out_and_another_sends_them(database: SqlDatabase) -> None:
    await queue(database, 2)
    stuck = SlowAdapter(None)
    dead = OutboxWorker(database, {"email": stuck}, lambda: NOW, lease=LEASE)
    pass_ = asyncio.create_task(dead.run_once())
    await stuck.started.wait()
    first = await claims_until(database)

    async def extended() -> bool:       # its keeper has extended the claims once
        return all(c is not None and f is not None and c > f for c, f in zip(await claims_until(database), first))

    await wait_until(extended, timeout=5)
    pass_.cancel()               # the process dies: no release, no mark
    killed = time.monotonic()
    await asyncio.gather(pass_, return_exceptions=True)
    survivor = SlowAdapter(0)
    sender = OutboxWorker(database, {"email": survivor}, lambda: NOW, lease=LEASE)
    assert await sender.run_once() == 0                      # still claimed right after the kill
    while await sender.run_once() == 0:
        assert time.monotonic() - killed < 5, "the dead worker's claims never ran out"
        await asyncio.sleep(0.02)
    took = time.monotonic() - killed
    await wait_until(lambda: _all_sent(database))
    assert took <= LEASE.total_seconds() + 1.0, took          # the lease, not minutes
    assert sorted(survivor.sent) == ["c0@example.co", "c1@example.co"] and stuck.sent == []


def sched_config() -> dict[str, object]:
    return {"roles": {"staff": ["slack:U0STAFF"], "managers": []},
            "channels": {"slack": {"enabled": True, "triage_channel": "C0TRIAGE"}},
            "digest": {"slack_channel": None},
            "scheduler": {"tick_seconds": 60, "lease_seconds": 0.9, "renew_seconds": 10, "standby_seconds": 0.2}}


async def lease_holder(db: SqlDatabase) -> str | None:
    async with db.uow(readonly=True) as uow:
        return await uow.leases.holder(LEASE_NAME, now=dt.datetime.now(dt.timezone.utc))


async def test_a_cleanly_stopped_leader_hands_over_at_once_and_the_new_leader_works_at_once(
        database: SqlDatabase) -> None:
    app = build(parse_config(sched_config()), db=database, clock=lambda: NOW)
    a = Scheduler(database, app.config, app.service, app.clock, holder="a")
    b = Scheduler(database, app.config, app.service, app.clock, holder="b")
    assert (a.renew_every, a.standby_every) == (0.3, 0.2)   # at most a third of the lease
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    run_a = asyncio.create_task(a.run(stop_a))
    await wait_until(lambda: _holder_is(database, "a"))
    first_expiry = await lease_expires(database)
    run_b = asyncio.create_task(b.run(stop_b))

    async def renewed_past_first_lease() -> bool:     # "b" stood by longer than a whole lease
        return await lease_expires(database) > first_expiry + dt.timedelta(seconds=0.9)

    await wait_until(renewed_past_first_lease, timeout=5)
    assert await lease_holder(database) == "a" and not b.leader

    # A PQR breached by now is filed; "a" would see it only at its next tick (60 s away).
    await app.service.file(FilingRequest(
        pqr_type=PqrType.QUEJA, channel="phone", name="Ana", subject="Cobro", body="…",
        received_at=dt.datetime(2026, 12, 18, 10, tzinfo=BOG), actor="cli:test", phone="300"))
    stop_a.set()
    await run_a
    assert not a.leader and await lease_holder(database) is None   # released, not left to expire
    await wait_until(lambda: _holder_is(database, "b"), timeout=2)
    await wait_until(lambda: _alerts(database, 1), timeout=2)  # the new leader worked at once
    stop_b.set()
    await run_b
    assert await lease_holder(database) is None


async def _holder_is(db: SqlDatabase, holder: str) -> bool:
    return await lease_holder(db) == holder


async def _alerts(db: SqlDatabase, n: int) -> bool:
    async with db.uow(readonly=True) as uow:
        return len([i for i in await uow.outbox.list() if i.payload.get("kind") == "alert"]) == n
