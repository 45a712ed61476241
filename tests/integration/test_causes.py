"""A PQR's cause (config `causes`) through the /pqr command layer on SQLite and PostgreSQL: set by
key or label, refused with the accepted list, audited, shown on the card, and required to close
where `close_requires_cause` says so."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.bootstrap import App, build
from bot.commands.handler import CommandHandler
from bot.commands.replies import Visibility
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from channels.slack.blocks import render_reply
from domain.pqr_types import PqrType
from storage.db import SqlDatabase

BOG = dt.timezone(dt.timedelta(hours=-5))
STAFF, BOSS, NOBODY = "slack:U0STAFF", "slack:U0BOSS", "slack:UNOBODY"
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)
LATER = NOW + dt.timedelta(hours=2)
DEFAULT_KEYS = ("facturacion", "servicio_tecnico", "entrega", "garantia", "atencion", "producto",
                "datos_personales", "otro")


def make_app(db: SqlDatabase, language: str = "es", **config: Any) -> App:
    cfg = parse_config({"language": language, "roles": {"staff": [STAFF], "managers": [BOSS]}, **config})
    app = build(cfg, db=db, clock=lambda: NOW)
    # The labels come from config `causes`; bot.bootstrap does not hand them to the handler yet.
    app.commands = CommandHandler(app.service, app.roles, language=language, causes=cfg.causes)
    return app


async def file(app: App) -> str:
    pqr = await app.service.file(FilingRequest(
        pqr_type=PqrType.RECLAMO, channel="email", name="Ana", subject="Cobro doble", body="Me cobraron dos veces",
        received_at=dt.datetime(2026, 12, 18, 10, tzinfo=BOG), actor="email:ana@example.co",
        email="ana@example.co"))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def refusals(db: SqlDatabase) -> list[tuple[str, str | None, object]]:
    async with db.uow(readonly=True) as uow:
        return [(e.actor, e.reason, e.data.get("action")) for e in await uow.audit.list(kind="refused")]


async def test_cause_by_key_with_area_then_by_label(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    done = await app.commands.handle(STAFF, f"/pqr causa {rad.lower()} facturacion --area Facturación y cartera", NOW)
    assert done.ok and done.visibility is Visibility.PUBLIC, done.text
    assert done.text == f"{rad}: causa registrada, Facturación; área responsable, Facturación y cartera."
    assert (done.cards[0].cause, done.cards[0].area) == ("Facturación", "Facturación y cartera")

    by_label = await app.commands.handle(STAFF, f'/pqr cause {rad} "Servicio Tecnico"', LATER)
    assert by_label.ok and by_label.text == f"{rad}: causa registrada, Servicio técnico.", by_label.text

    async with database.uow(readonly=True) as uow:
        pqr = await uow.pqrs.get(rad)
    assert pqr is not None and (pqr.cause, pqr.area) == ("servicio_tecnico", "Facturación y cartera")
    changes = [(e.actor, e.from_, e.to, e.data) for e in pqr.events if e.kind == "cause_set"]
    assert changes == [(STAFF, None, "facturacion", {"area": "Facturación y cartera"}),
                       (STAFF, "facturacion", "servicio_tecnico", {})]

    shown = await app.commands.handle(STAFF, f"/pqr ver {rad}", LATER)
    assert "Causa: Servicio técnico" in shown.text.splitlines()
    assert "Área: Facturación y cartera" in shown.text.splitlines()


async def test_an_unknown_cause_answers_with_the_accepted_list_and_is_audited(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    unknown = await app.commands.handle(STAFF, f"/pqr cause {rad} precio", NOW)
    assert not unknown.ok
    assert unknown.text.startswith("No conozco la causa «precio». Causas aceptadas: facturacion (Facturación), "
                                   "servicio_tecnico (Servicio técnico), entrega (Entrega)")
    assert all(key in unknown.text for key in DEFAULT_KEYS)
    async with database.uow(readonly=True) as uow:
        pqr = await uow.pqrs.get(rad)
    assert pqr is not None and pqr.cause is None
    assert (STAFF, "cause:unknown", "cause") in await refusals(database)


async def test_only_staff_and_usage(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    stranger = await app.commands.handle(NOBODY, f"/pqr causa {rad} otro", NOW)
    assert not stranger.ok and "Solo el personal" in stranger.text
    assert (NOBODY, "not_staff", "cause") in await refusals(database)
    manager = await app.commands.handle(BOSS, f"/pqr cause {rad} otro", NOW)
    assert manager.ok, manager.text

    for text in (f"/pqr cause {rad}", "/pqr cause", f"/pqr cause {rad} otro --area", f"/pqr cause {rad} a b"):
        usage = await app.commands.handle(STAFF, text, NOW)
        assert not usage.ok and usage.text.startswith("Uso: /pqr cause RADICADO CAUSA [--area ÁREA]"), text
        assert "facturacion (Facturación)" in usage.text
    missing = await app.commands.handle(STAFF, "/pqr cause PQR-2026-999999 otro", NOW)
    assert not missing.ok and missing.text == "No encontré la PQR PQR-2026-999999."


async def test_english_and_help(database: SqlDatabase) -> None:
    app = make_app(database, language="en")
    rad = await file(app)
    done = await app.commands.handle(STAFF, f"/pqr cause {rad} entrega", NOW)
    assert done.ok and done.text == f"{rad}: cause recorded, Entrega."
    unknown = await app.commands.handle(STAFF, f"/pqr cause {rad} nope", NOW)
    assert not unknown.ok and unknown.text.startswith('Unknown cause "nope". Accepted causes: facturacion (Facturación)')
    assert "cause RAD CAUSE [--area AREA]" in (await app.commands.handle(STAFF, "/pqr help", NOW)).text
    spanish = make_app(database)
    assert "cause RAD CAUSA [--area ÁREA]" in (await spanish.commands.handle(STAFF, "/pqr ayuda", NOW)).text
    assert "(causa)" in (await spanish.commands.handle(STAFF, "/pqr frobnicar", NOW)).text


async def test_a_close_that_needs_a_cause_is_refused_with_the_list_until_one_is_set(database: SqlDatabase) -> None:
    app = make_app(database, close_requires_cause=True)
    rad = await file(app)
    refused = await app.commands.handle(STAFF, f"/pqr cerrar {rad} Reintegramos el valor.", NOW)
    assert not refused.ok
    assert refused.text.startswith("Para cerrar esta PQR hay que registrar antes su causa, con /pqr cause RADICADO")
    assert "Causas aceptadas: facturacion (Facturación)" in refused.text and "otro (Otro)" in refused.text
    assert (STAFF, "cause:required", "close") in await refusals(database)
    async with database.uow(readonly=True) as uow:
        pqr = await uow.pqrs.get(rad)
        kinds = [r.payload["kind"] for r in await uow.outbox.list()]
    assert pqr is not None and pqr.status.value == "radicada" and "closing" not in kinds

    assert (await app.commands.handle(STAFF, f"/pqr causa {rad} facturacion", NOW)).ok
    closed = await app.commands.handle(STAFF, f"/pqr cerrar {rad} Reintegramos el valor.", LATER)
    assert closed.ok, closed.text
    assert closed.cards[0].status == "cerrada" and closed.cards[0].cause == "Facturación"


async def test_without_the_rule_a_close_needs_no_cause(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app)
    assert (await app.commands.handle(STAFF, f"/pqr close {rad} Listo.", NOW)).ok
    late = await app.commands.handle(STAFF, f"/pqr cause {rad} atencion", LATER)     # settled after the answer
    assert late.ok and late.cards[0].cause == "Atención"


async def test_the_slack_card_shows_the_cause_label_escaped(database: SqlDatabase) -> None:
    app = make_app(database, causes={"facturacion": "Facturación", "otro": "Otro <!channel> & más"})
    rad = await file(app)
    reply = await app.commands.handle(STAFF, f"/pqr cause {rad} otro", NOW)
    assert reply.ok
    fields = [f["text"] for b in render_reply(reply, app.commands)["blocks"] for f in b.get("fields", [])]
    assert "*Causa*\nOtro &lt;!channel&gt; &amp; más" in fields
    assert "<!channel>" not in render_reply(reply, app.commands)["text"]
