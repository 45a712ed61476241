"""Answer approval through the services on SQLite and PostgreSQL: a staff close waits en_revision
with its draft (the customer gets nothing, the managers get a request); approve sends the draft
as the closing and closes; return goes back to en_tramite with the comment and tells the drafter;
a non-manager, a second decision, a stale draft and a PQR not in review change nothing and are
recorded on the PQR; a draft waiting near its due date alerts the managers once (the clock moved)
and the digest lists it."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.bootstrap import App, build, scheduler
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from bot.review.service import ReviewService
from domain.errors import NotAllowed
from domain.pqr_types import PqrType, Status
from domain.review import NotInReview, StaleDraft
from storage.db import SqlDatabase
from storage.ports import OutboxItem

BOG = dt.timezone(dt.timedelta(hours=-5))
NOW = dt.datetime(2026, 12, 1, 10, tzinfo=BOG)          # a Tuesday
STAFF, BOSS = "email:ana.staff@empresa.co", "email:gerente@empresa.co"


def make_app(db: SqlDatabase, clock: list[dt.datetime]) -> App:
    return build(parse_config({"roles": {"staff": [STAFF], "managers": [BOSS]},
                               "channels": {"console": {"enabled": False}},
                               "approval": {"types": ["reclamo"]}}), db=db, clock=lambda: clock[0])


def review_of(app: App) -> ReviewService:
    assert app.review is not None
    return app.review


async def file(app: App, pqr_type: PqrType = PqrType.RECLAMO) -> str:
    pqr = await app.service.file(FilingRequest(
        pqr_type=pqr_type, channel="email", name="Ana", subject="Cobro doble", body="Me cobraron dos veces",
        received_at=NOW, actor="email:ana@example.co", email="ana@example.co"))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def rows(app: App, kind: str) -> list[OutboxItem]:
    async with app.db.uow(readonly=True) as uow:
        return [r for r in await uow.outbox.list(limit=500) if r.payload.get("kind") == kind]


async def test_close_waits_then_approve_sends_and_closes(database: SqlDatabase) -> None:
    clock = [NOW]
    app = make_app(database, clock)
    review = review_of(app)
    rad = await file(app)
    waiting = await app.service.close(rad, "Le reintegramos el cobro.", actor=STAFF, now=NOW)
    assert waiting.status is Status.EN_REVISION and waiting.draft is not None and waiting.draft.number == 1
    assert await rows(app, "closing") == []
    assert [(r.destination, r.payload["draft"]) for r in await rows(app, "answer_review")] == [
        ("gerente@empresa.co", 1)]

    with pytest.raises(NotAllowed):
        await review.approve(rad, actor=STAFF, now=NOW, draft=1)
    with pytest.raises(StaleDraft):
        await review.approve(rad, actor=BOSS, now=NOW, draft=0)
    assert (await app.service.show(rad)).status is Status.EN_REVISION

    closed = await review.approve(rad, actor=BOSS, now=NOW + dt.timedelta(hours=1), draft=1)
    assert closed.status is Status.CERRADA and closed.closed_at == NOW + dt.timedelta(hours=1)
    assert [(r.destination, r.payload["text"]) for r in await rows(app, "closing")] == [
        ("ana@example.co", "Le reintegramos el cobro.")]
    with pytest.raises(NotInReview):
        await review.approve(rad, actor=BOSS, now=NOW + dt.timedelta(hours=2), draft=1)
    assert len(await rows(app, "closing")) == 1

    stored = await app.service.show(rad)
    decided = next(e for e in reversed(stored.events) if e.kind == "status_changed")
    assert (decided.actor, decided.data["drafter"], decided.data["approver"]) == (BOSS, STAFF, BOSS)
    assert [(e.actor, e.data["action"], e.reason.split(":")[0] if e.reason else "") for e in stored.events
            if e.kind == "refused"] == [(STAFF, "answer_approve", "not_manager"),
                                        (BOSS, "answer_approve", "stale_draft"),
                                        (BOSS, "answer_approve", "not_in_review")]


async def test_return_then_a_new_draft_and_a_manager_closes_at_once(database: SqlDatabase) -> None:
    clock = [NOW]
    app = make_app(database, clock)
    review = review_of(app)
    rad = await file(app)
    with pytest.raises(NotInReview):                       # never sent for approval
        await review.send_back(rad, "¿?", actor=BOSS, now=NOW)
    await app.service.close(rad, "Primera versión", actor=STAFF, now=NOW)
    back = await review.send_back(rad, "Cite la norma", actor=BOSS, now=NOW, draft=1)
    assert back.status is Status.EN_TRAMITE and back.draft is None
    assert back.events[-1].reason == "Cite la norma"
    returned = [r for r in await rows(app, "alert") if r.payload.get("alert") == "answer_returned"]
    assert [(r.destination, "Cite la norma" in r.payload["text"]) for r in returned] == [
        ("ana.staff@empresa.co", True)]
    assert await rows(app, "closing") == []

    again = await app.service.close(rad, "Segunda versión", actor=STAFF, now=NOW)
    assert again.draft is not None and again.draft.number == 2
    with pytest.raises(StaleDraft):
        await review.send_back(rad, "sobre la primera", actor=BOSS, now=NOW, draft=1)
    await review.approve(rad, actor=BOSS, now=NOW, draft=2)
    assert [r.payload["text"] for r in await rows(app, "closing")] == ["Segunda versión"]

    own = await file(app)                                   # a manager's own close goes out at once
    assert (await app.service.close(own, "Respuesta de gerencia", actor=BOSS, now=NOW)).status is Status.CERRADA
    other = await file(app, PqrType.PETICION)               # a type the policy does not cover
    assert (await app.service.close(other, "Respuesta", actor=STAFF, now=NOW)).status is Status.CERRADA


async def test_a_waiting_draft_near_its_due_date_alerts_once_and_is_in_the_digest(database: SqlDatabase) -> None:
    clock = [NOW]
    app = make_app(database, clock)
    rad = await file(app)
    pqr = await app.service.close(rad, "Borrador", actor=STAFF, now=NOW)
    sched = scheduler(app)

    def due_alerts(found: list[OutboxItem]) -> list[OutboxItem]:
        return [r for r in found if r.payload.get("alert") == "review_due"]

    await sched.alerter.run(NOW)
    assert due_alerts(await rows(app, "alert")) == []
    clock[0] = pqr.due_at - dt.timedelta(days=1)            # the clock moved, not slept
    await sched.alerter.run(clock[0])
    await sched.alerter.run(clock[0] + dt.timedelta(minutes=5))
    alerts = due_alerts(await rows(app, "alert"))
    assert [(r.channel, r.destination) for r in alerts] == [("email", "gerente@empresa.co")]
    assert rad in alerts[0].payload["text"]
    digest = await app.service.digest(clock[0])
    assert [p.radicado for p in digest.awaiting_approval] == [rad]
