"""SLA alerts, the daily digest and the leader lease, with controlled clocks (no sleeping)."""

from __future__ import annotations

import datetime as dt

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.sla.scheduler import Scheduler
from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import OutboxItem

BOG = dt.timezone(dt.timedelta(hours=-5))
FILED = dt.datetime(2026, 12, 18, 10, tzinfo=BOG)   # a queja filed then is due 2027-01-13 23:59:59


def bog(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BOG)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_app(db: SqlDatabase, clock: Clock, **digest: object) -> App:
    cfg = parse_config({
        "roles": {"staff": ["slack:U0STAFF", "telegram:77"], "managers": []},
        "channels": {"slack": {"enabled": True, "triage_channel": "C0TRIAGE"}, "telegram": {"enabled": True}},
        "digest": {"time": "08:00", "slack_channel": "C0MANAGERS", "telegram_chat": 1001,
                   "emails": ["jefe@example.co"], **digest},
    })
    return build(cfg, db=db, clock=clock)


async def file(app: App, *, received: dt.datetime = FILED, area: str | None = None, n: int = 0) -> str:
    pqr = await app.service.file(FilingRequest(
        pqr_type=PqrType.QUEJA, channel="phone", name=f"Cliente {n}", subject=f"Asunto {n}", body="…",
        received_at=received, actor="cli:test", phone="300", area=area))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def alerts(db: SqlDatabase) -> list[OutboxItem]:
    async with db.uow(readonly=True) as uow:
        return [i for i in await uow.outbox.list(limit=1000) if i.payload.get("kind") == "alert"]


async def test_alerts_fire_once_at_the_right_instants(database: SqlDatabase) -> None:
    clock = Clock(bog(2027, 1, 7, 9))
    app = make_app(database, clock)
    rad = await file(app)
    await app.service.assign(rad, "telegram:77", actor="slack:U0STAFF", now=FILED)
    sched = Scheduler(database, app.config, app.service, clock, holder="a")

    # Thu Jan 7: three business days left (Jan 8, 12, 13; Mon Jan 11 is a holiday): no alert.
    assert (await sched.tick()).alerts == 0
    # Fri Jan 8 08:00: two business days left → near breach, to the assignee and the triage channel.
    clock.now = bog(2027, 1, 8, 8)
    assert (await sched.tick()).alerts == 1
    rows = await alerts(database)
    assert sorted((r.channel, r.destination, r.payload["alert"]) for r in rows) == [
        ("slack", "C0TRIAGE", "near_breach"), ("telegram", "77", "near_breach")]
    assert rad in rows[0].payload["text"]
    # The weekend, the holiday and the last second of the due day: nothing new.
    for instant in (bog(2027, 1, 9, 12), bog(2027, 1, 11, 10), bog(2027, 1, 13, 23, 59, 59)):
        clock.now = instant
        assert (await sched.tick()).alerts == 0
    # The first second after the due date: breached, once.
    clock.now = bog(2027, 1, 14, 0, 0, 0)
    assert (await sched.tick()).alerts == 1
    assert (await sched.tick()).alerts == 0
    # A restarted instance does not send them again.
    again = Scheduler(database, app.config, app.service, clock, holder="a")
    assert (await again.tick()).alerts == 0
    kinds = sorted(r.payload["alert"] for r in await alerts(database))
    assert kinds == ["breached", "breached", "near_breach", "near_breach"]


async def test_an_extension_rearms_the_near_breach_alert(database: SqlDatabase) -> None:
    clock = Clock(bog(2027, 1, 8, 9))
    app = make_app(database, clock)
    rad = await file(app)
    sched = Scheduler(database, app.config, app.service, clock, holder="a")
    assert (await sched.tick()).alerts == 1
    await app.service.extend(rad, bog(2027, 1, 27, 12), reason="concepto técnico", actor="slack:U0STAFF", now=clock.now)
    clock.now = bog(2027, 1, 25, 9)        # two business days before Jan 27
    assert (await sched.tick()).alerts == 1


async def test_a_pqr_filed_already_late_gets_only_the_breach_alert(database: SqlDatabase) -> None:
    clock = Clock(bog(2027, 3, 1, 9))
    app = make_app(database, clock)
    await file(app)
    sched = Scheduler(database, app.config, app.service, clock, holder="a")
    assert (await sched.tick()).alerts == 1
    # Unassigned: only the triage channel hears of it.
    assert [(r.destination, r.payload["alert"]) for r in await alerts(database)] == [("C0TRIAGE", "breached")]


async def test_digest_once_per_business_day_grouped_by_area_and_assignee(database: SqlDatabase) -> None:
    clock = Clock(bog(2027, 1, 13, 7, 59))
    app = make_app(database, clock)
    late = await file(app, received=bog(2026, 12, 1, 9), area="facturación", n=1)     # due 2026-12-22
    later = await file(app, received=bog(2026, 12, 2, 9), area="facturación", n=2)    # due 2026-12-23
    today = await file(app, received=FILED, area="laboratorio", n=3)                  # due 2027-01-13
    soon = await file(app, received=bog(2026, 12, 21, 9), n=4)                        # due 2027-01-14
    await file(app, received=bog(2027, 1, 12, 9), n=5)                                # due in February
    await app.service.assign(late, "slack:U0STAFF", actor="slack:U0STAFF", now=clock.now)
    sched = Scheduler(database, app.config, app.service, clock, holder="a")
    assert (await sched.tick()).digest_rows == 0          # before 08:00
    clock.now = bog(2027, 1, 13, 8, 0)
    assert (await sched.tick()).digest_rows == 3          # Slack, Telegram, email
    clock.now = bog(2027, 1, 13, 15, 0)
    assert (await sched.tick()).digest_rows == 0
    assert (await Scheduler(database, app.config, app.service, clock, holder="b").tick()).digest_rows == 0
    async with database.uow(readonly=True) as uow:
        rows = [i for i in await uow.outbox.list(limit=1000) if i.payload["kind"] == "digest"]
    assert sorted((r.channel, r.destination) for r in rows) == [
        ("email", "jefe@example.co"), ("slack", "C0MANAGERS"), ("telegram", "1001")]
    sections = {s["key"]: s for s in rows[0].payload["sections"]}
    assert [i["radicado"] for i in sections["breached"]["items"]] == [late, later]
    assert sections["breached"]["groups"] == [{"area": "facturación", "assignee": "sin asignar", "count": 1},
                                              {"area": "facturación", "assignee": "slack:U0STAFF", "count": 1}]
    assert [i["radicado"] for i in sections["due_today"]["items"]] == [today]
    assert [i["radicado"] for i in sections["due_soon"]["items"]] == [soon]
    assert "Vencidas: 2" in rows[0].payload["text"] and "Vencen hoy: 1" in rows[0].payload["text"]
    # Saturday and the holiday: no digest.
    for instant in (bog(2027, 1, 16, 9), bog(2027, 1, 11, 9)):
        clock.now = instant
        assert (await Scheduler(database, app.config, app.service, clock, holder="c").tick()).digest_rows == 0


async def test_only_the_lease_holder_works_and_a_dead_leaders_lease_expires(database: SqlDatabase) -> None:
    clock = Clock(bog(2027, 1, 14, 9))
    wall = Clock(dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc))
    app = make_app(database, clock)
    await file(app)
    a = Scheduler(database, app.config, app.service, clock, holder="a", wall_clock=wall)
    b = Scheduler(database, app.config, app.service, clock, holder="b", wall_clock=wall)
    first = await a.tick()
    assert first.leader and first.alerts == 1
    assert not (await b.tick()).leader
    wall.now += dt.timedelta(seconds=25)                              # within the 30 s lease
    assert (await a.tick()).leader and not (await b.tick()).leader   # renewed
    # "a" dies: no more renewals. Before the lease ends "b" waits; after, it takes over.
    wall.now += dt.timedelta(seconds=29)
    assert not (await b.tick()).leader
    wall.now += dt.timedelta(seconds=2)
    await file(app, n=9)
    taken = await b.tick()
    assert taken.leader and taken.alerts == 1
