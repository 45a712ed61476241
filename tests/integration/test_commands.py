"""The /pqr command layer on a real database (SQLite and PostgreSQL): answers, refusals recorded
in the audit trail, customer messages queued in the outbox."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.commands.replies import Visibility
from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType
from storage.db import SqlDatabase

BOG = dt.timezone(dt.timedelta(hours=-5))
STAFF, OTHER_STAFF, BOSS, NOBODY = "slack:U0STAFF", "slack:U0ANA", "slack:U0BOSS", "slack:UNOBODY"
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)


def make_app(db: SqlDatabase, language: str = "es") -> App:
    cfg = parse_config({"language": language,
                        "roles": {"staff": [STAFF, OTHER_STAFF], "managers": [BOSS]}})
    return build(cfg, db=db, clock=lambda: NOW)


async def file(app: App, *, email: str | None = "ana@example.co", chat: int | None = None,
               received: dt.datetime = dt.datetime(2026, 12, 18, 10, tzinfo=BOG), channel: str = "email") -> str:
    pqr = await app.service.file(FilingRequest(
        pqr_type=PqrType.RECLAMO, channel=channel, name="Ana", subject="Cobro doble", body="Me cobraron dos veces",
        received_at=received, actor=f"email:{email}", email=email, telegram_chat_id=chat))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def test_filing_queues_one_acknowledgment_in_the_customers_language(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    async with database.uow(readonly=True) as uow:
        rows = await uow.outbox.list()
    assert len(rows) == 1
    ack = rows[0]
    assert (ack.channel, ack.destination, ack.payload["kind"]) == ("email", "ana@example.co", "ack")
    assert f"[{rad}]" in ack.payload["subject"]
    assert "2027-01-13" in ack.payload["text"] and rad in ack.payload["text"]
    assert ack.payload["message_id"].startswith("<") and ack.payload["auto_submitted"] is True


async def test_refusals_are_answered_and_recorded(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    reply = await app.commands.handle(NOBODY, "/pqr list", NOW)
    assert not reply.ok and "Solo el personal" in reply.text
    reply = await app.commands.handle(STAFF, f"/pqr estado {rad} reabierta", NOW)
    assert not reply.ok and "Desde «radicada» se permite: asignada" in reply.text
    async with database.uow(readonly=True) as uow:
        refused = await uow.audit.list(kind="refused")
    reasons = sorted((e.actor, e.reason) for e in refused)
    assert (NOBODY, "not_staff") in reasons
    assert (STAFF, "invalid_transition:radicada->reabierta") in reasons


async def test_assign_only_to_staff_and_mentions(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    refused = await app.commands.handle(STAFF, f"/pqr assign {rad} <@UNOBODY>", NOW)
    assert not refused.ok and "slack:UNOBODY" in refused.text
    done = await app.commands.handle(STAFF, f"/pqr asignar {rad.lower()} <@U0ANA|ana>", NOW)
    assert done.ok and done.visibility is Visibility.PUBLIC
    assert done.cards[0].assignee == OTHER_STAFF and done.cards[0].status == "asignada"
    mine = await app.commands.handle(OTHER_STAFF, "/pqr list mine", NOW)
    assert [c.radicado for c in mine.cards] == [rad]
    assert (await app.commands.handle(STAFF, "/pqr list mine", NOW)).cards == ()


async def test_reply_goes_to_the_customers_channel_and_notes_stay_inside(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app, email=None, chat=4242, channel="telegram")
    await app.commands.handle(STAFF, f"/pqr note {rad} revisar con facturación", NOW)
    reply = await app.commands.handle(STAFF, f"/pqr reply {rad} Hola Ana -- ya lo revisamos", NOW)
    assert reply.ok and "telegram" in reply.text
    async with database.uow(readonly=True) as uow:
        rows = [r for r in await uow.outbox.list() if r.payload["kind"] == "reply"]
        pqr = await uow.pqrs.get(rad)
    assert len(rows) == 1 and rows[0].destination == "4242"
    assert rows[0].payload["text"] == "Hola Ana -- ya lo revisamos"
    assert pqr is not None and [m.direction.value for m in pqr.messages] == ["in", "note", "out"]


async def test_extension_and_its_refusals(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    no_reason = await app.commands.handle(STAFF, f"/pqr due {rad} 15 de enero", NOW)
    assert not no_reason.ok and "motivo" in no_reason.text
    unreadable = await app.commands.handle(STAFF, f"/pqr due {rad} cuando se pueda -- x", NOW)
    assert not unreadable.ok and "No entendí la fecha «cuando se pueda»" in unreadable.text
    too_far = await app.commands.handle(STAFF, f"/pqr due {rad} 30 de marzo de 2027 -- x", NOW)
    assert not too_far.ok and "2027-02-03 23:59" in too_far.text
    ok = await app.commands.handle(STAFF, f"/pqr plazo {rad} en 20 días hábiles -- concepto técnico", NOW)
    assert ok.ok, ok.text
    again = await app.commands.handle(STAFF, f"/pqr plazo {rad} en 21 días hábiles -- otra vez", NOW)
    assert not again.ok and "una sola" in again.text
    async with database.uow(readonly=True) as uow:
        kinds = [r.payload["kind"] for r in await uow.outbox.list()]
    assert kinds.count("extension") == 1


async def test_english_and_paging(database: SqlDatabase) -> None:
    app = make_app(database, language="en")
    rads = [await file(app, email=f"c{i}@example.co") for i in range(23)]
    first = await app.commands.handle(STAFF, "/pqr list", NOW)
    assert len(first.cards) == 20 and "23 PQRs (open)" in first.text and "… and 3 more" in first.text
    second = await app.commands.handle(STAFF, "/pqr list page:2", NOW)
    assert [c.radicado for c in second.cards] == rads[20:]
    bad = await app.commands.handle(STAFF, "/pqr list colour:red", NOW)
    assert not bad.ok and "Unknown filter" in bad.text
    unknown = await app.commands.handle(STAFF, "/pqr show PQR-2026-999999", NOW)
    assert not unknown.ok and unknown.text == "PQR PQR-2026-999999 not found."


async def test_close_reopen_and_stats(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    closed = await app.commands.handle(STAFF, f"/pqr close {rad} Reintegramos el valor.", NOW)
    assert closed.ok
    later = NOW + dt.timedelta(days=30)
    reopened = await app.commands.handle(STAFF, f"/pqr reopen {rad} -- el cliente insiste", later)
    assert reopened.ok and "nuevo vencimiento" in reopened.text
    stats = await app.commands.handle(STAFF, "/pqr stats", later)
    assert "Abiertas: 1" in stats.text and "reabierta: 1" in stats.text


@pytest.mark.parametrize("text", ["", "/pqr", "/pqr ayuda", "help"])
async def test_help(sqlite_database: SqlDatabase, text: str) -> None:
    reply = await make_app(sqlite_database).commands.handle(STAFF, text, NOW)
    assert reply.ok and "/pqr" in reply.text and "plazo" in reply.text
    for verb in ("approve RAD", "return RAD -- comentario", "templates [RAD]", "@plantilla"):
        assert verb in reply.text, verb


async def test_help_in_english_names_approval_and_templates(sqlite_database: SqlDatabase) -> None:
    reply = await make_app(sqlite_database, "en").commands.handle(STAFF, "help", NOW)
    for verb in ("approve RAD", "return RAD -- comment", "templates [RAD]", "@template"):
        assert verb in reply.text, verb
