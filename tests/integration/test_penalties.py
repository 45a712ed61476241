"""Contracts and penalties on a real database (SQLite and PostgreSQL): contract linking and stricter
due dates, the penalty workflow with its outbox rows and refusals, the command layer, the report."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.penalties.service import NewPenalty
from bot.penalties.report import PenaltyReport, chart_png, report_json, write_xlsx
from bot.pqrs.service import FilingRequest
from domain.errors import InvalidTransition, NotAllowed
from domain.penalty import AlreadyDecided, PenaltyCategory, PenaltyStatus
from domain.files import FileData
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import OutboxItem

BOG = dt.timezone(dt.timedelta(hours=-5))
STAFF, BOSS, TG_BOSS, NOBODY = "slack:U0STAFF", "slack:U0BOSS", "telegram:1001", "telegram:5555"
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)   # a Monday

CONTRACTS = {
    "areas": [{"name": "laboratorio", "slack_channel": "C0LAB", "slack_user": "U0LABLEAD",
               "emails": ["lab@empresa.co"]},
              {"name": "logistica", "emails": ["log@empresa.co"]}],
    "clients": [
        {"name": "Acme S.A.S.", "nit": "900111222-3", "email_domains": ["acme.co"],
         "addresses": ["compras.acme@gmail.com"], "telegram_users": [2001],
         "notify_emails": ["contratos@acme.co"],
         "contract": {"name": "ANS-ACME", "targets": {"reclamo": {"first_response": "4h", "resolution": "5d"},
                                                      "queja": {"resolution": "16h"},
                                                      "consulta": {"resolution": "40d"}}}},
        {"name": "Beta Ltda.", "email_domains": ["beta.co"]},
    ],
}


def make_app(db: SqlDatabase, tmp_path: Path, contracts: dict[str, Any] | None = CONTRACTS) -> App:
    files = []
    if contracts is not None:
        path = tmp_path / "contracts.yaml"
        path.write_text(json.dumps(contracts))
        files.append(str(path))
    cfg = parse_config({
        "roles": {"staff": [STAFF], "managers": [BOSS, TG_BOSS]},
        "channels": {"slack": {"enabled": True}, "telegram": {"enabled": True}, "email": {"enabled": True}},
        "contracts": {"files": files},
        "accounting": {"slack_channel": "C0CONTA", "emails": ["conta@empresa.co"]},
    })
    return build(cfg, db=db, clock=lambda: NOW)


async def outbox(db: SqlDatabase, kind: str | None = None) -> list[OutboxItem]:
    async with db.uow(readonly=True) as uow:
        rows = await uow.outbox.list(limit=1000)
    return [r for r in rows if kind is None or r.payload.get("kind") == kind]


async def file(app: App, *, email: str | None = None, chat: int | None = None,
               pqr_type: PqrType = PqrType.RECLAMO, received: dt.datetime = NOW) -> Any:
    pqr = await app.service.file(FilingRequest(
        pqr_type=pqr_type, channel="email" if email else "telegram", name="Ana", subject="Falla",
        body="No funciona", received_at=received, actor="x", email=email, telegram_chat_id=chat))
    assert pqr is not None
    return pqr


# -- contract linking ----------------------------------------------------------------------------

async def test_pqrs_link_to_the_senders_contract_and_follow_stricter_targets(database: SqlDatabase,
                                                                             tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    by_domain = await file(app, email="ana@acme.co")
    assert by_domain.contract == "ANS-ACME"
    # 5 business days from Mon 21 Dec (Christmas is a holiday): 22, 23, 24, 28, 29.
    assert by_domain.due_at == dt.datetime(2026, 12, 29, 23, 59, 59, tzinfo=BOG)
    assert by_domain.due_rule == "contrato:ANS-ACME:resolucion:5d"
    assert by_domain.first_response_due_at == dt.datetime(2026, 12, 21, 13, 0, tzinfo=BOG)
    by_address = await file(app, email="Compras.Acme@gmail.com")
    assert by_address.contract == "ANS-ACME"
    # 16 business hours (08:00-18:00) from Mon 09:00: 9 h on Monday, 7 h on Tuesday.
    by_telegram = await file(app, chat=2001, pqr_type=PqrType.QUEJA)
    assert by_telegram.contract == "ANS-ACME"
    assert by_telegram.due_at == dt.datetime(2026, 12, 22, 15, 0, tzinfo=BOG)
    assert by_telegram.due_rule == "contrato:ANS-ACME:resolucion:16h"
    # A laxer contract target leaves the legal term (30 days for a consulta) in force.
    lax = await file(app, email="ana@acme.co", pqr_type=PqrType.CONSULTA)
    assert lax.contract == "ANS-ACME" and lax.due_rule == "ley:consulta:30d"
    stranger = await file(app, email="ana@gmail.com")
    assert stranger.contract is None and stranger.due_rule == "ley:reclamo:15d"
    stored = await app.service.show(by_domain.radicado)
    assert stored.contract == "ANS-ACME" and stored.due_at == by_domain.due_at


async def test_reload_is_seen_by_another_running_instance(database: SqlDatabase, tmp_path: Path) -> None:
    first, second = make_app(database, tmp_path), make_app(database, tmp_path)
    assert (await file(second, email="ana@beta.co")).contract is None
    changed = json.loads(json.dumps(CONTRACTS))
    changed["clients"][1]["contract"] = {"name": "ANS-BETA", "targets": {"reclamo": {"resolution": "2d"}}}
    (tmp_path / "contracts.yaml").write_text(json.dumps(changed))
    registry = await first.contracts.reload(now=NOW)
    assert registry.contract("ANS-BETA") is not None
    linked = await file(second, email="ana@beta.co")
    assert linked.contract == "ANS-BETA" and linked.due_rule == "contrato:ANS-BETA:resolucion:2d"
    (tmp_path / "contracts.yaml").write_text("clients: [{name: X, colour: red}]")
    with pytest.raises(Exception, match="clients.0.colour: unknown key"):
        await first.contracts.reload(now=NOW)
    assert (await file(second, email="ana@beta.co")).contract == "ANS-BETA"   # the old version stays


# -- the penalty workflow --------------------------------------------------------------------------

async def register(app: App, amount: str = "1500000.50", client: str = "acme s.a.s.",
                   category: PenaltyCategory = PenaltyCategory.KPI_ANS, area: str = "Laboratorio",
                   when: dt.datetime = NOW) -> int:
    p = await app.penalties.register(NewPenalty(client=client, category=category, amount=Decimal(amount),
                                                area=area, actor=STAFF), now=when)
    assert p.id is not None
    return p.id


async def test_approval_flow_with_outbox_rows(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    pqr = await file(app, email="ana@acme.co")
    pid = (await app.penalties.register(NewPenalty(
        client="Acme S.A.S.", category=PenaltyCategory.KPI_ANS, amount=Decimal("1500000.50"), area="laboratorio",
        actor=STAFF, pqr=pqr.radicado.lower(), description="ANS incumplido"), now=NOW)).id
    assert pid is not None
    p = await app.penalties.show(pid)
    assert (p.client, p.pqr, p.contract, str(p.amount)) == ("Acme S.A.S.", pqr.radicado, "ANS-ACME", "1500000.50")
    asks = await outbox(database, "penalty_evidence_request")
    assert sorted((r.channel, r.destination) for r in asks) == [
        ("email", "lab@empresa.co"), ("slack", "C0LAB"), ("slack", "U0LABLEAD")]
    assert asks[0].payload["amount"] == "1500000.50" and asks[0].payload["penalty_id"] == pid

    pdf = FileData("informe.pdf", "application/pdf", b"%PDF-1.4 informe")
    p = await app.penalties.add_evidence(pid, "El equipo llegó dañado", actor=STAFF, now=NOW, files=[pdf])
    assert p.status is PenaltyStatus.EN_EVALUACION
    cards = await outbox(database, "penalty_decision")
    assert sorted((r.channel, r.destination) for r in cards) == [("slack", "U0BOSS"), ("telegram", "1001")]
    card = cards[0].payload
    assert card["actions"] == [{"action": "penalty_approve", "value": str(pid), "label": "Aprobar"},
                               {"action": "penalty_reject", "value": str(pid), "label": "Rechazar"}]
    assert (card["client"], card["category"], card["amount"], card["currency"], card["area"]) == (
        "Acme S.A.S.", "kpi_ans", "1500000.50", "COP", "laboratorio")
    assert "El equipo llegó dañado [informe.pdf]" == card["evidence_summary"]
    assert card["evidence"][0]["files"][0]["sha256"] == pdf.sha256
    await app.penalties.add_evidence(pid, "Fotos", actor=STAFF, now=NOW)
    assert len(await outbox(database, "penalty_decision")) == 2          # asked once

    with pytest.raises(NotAllowed):
        await app.penalties.decide(pid, True, "yo apruebo", STAFF, NOW)
    with pytest.raises(NotAllowed):
        await app.penalties.add_evidence(pid, "soy cliente", actor=NOBODY, now=NOW)
    p = await app.penalties.decide(pid, True, "Incumplimos el ANS", TG_BOSS, NOW)
    assert (p.status, p.decision, p.decided_by) == (PenaltyStatus.PAGO_AUTORIZADO, PenaltyStatus.APROBADA, TG_BOSS)
    client = await outbox(database, "penalty_client_notice")
    assert [(r.channel, r.destination) for r in client] == [("email", "contratos@acme.co")]
    assert "Incumplimos el ANS" in client[0].payload["text"]
    pay = await outbox(database, "penalty_payment_authorization")
    assert sorted((r.channel, r.destination) for r in pay) == [("email", "conta@empresa.co"), ("slack", "C0CONTA")]
    rows = len(await outbox(database))

    with pytest.raises(AlreadyDecided):
        await app.penalties.decide(pid, False, "cambio de opinión", BOSS, NOW)
    assert len(await outbox(database)) == rows
    p = await app.penalties.mark_paid(pid, actor=STAFF, now=NOW)
    assert p.status is PenaltyStatus.PAGADA
    stored = await app.penalties.show(pid)
    assert stored.evidence[0].files[0].data == pdf.data
    refused = [(e.actor, e.reason) for e in stored.events if e.kind == "refused"]
    assert refused == [(STAFF, "not_manager"), (NOBODY, "not_staff"), (BOSS, "already_decided:aprobada")]
    path = [e.to for e in stored.events if e.kind in ("status_changed", "penalty_decided")]
    assert path == ["en_evaluacion", "aprobada", "cliente_notificada", "pago_autorizado", "pagada"]


async def test_rejection_tells_the_client_and_never_accounting(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    pid = await register(app)
    with pytest.raises(InvalidTransition):
        await app.penalties.decide(pid, False, "no aplica", BOSS, NOW)     # not in evaluation yet
    await app.penalties.add_evidence(pid, "Soporte", actor=STAFF, now=NOW)
    p = await app.penalties.decide(pid, False, "El retraso fue del cliente", BOSS, NOW)
    assert (p.status, p.decision) == (PenaltyStatus.CLIENTE_NOTIFICADA, PenaltyStatus.RECHAZADA)
    assert len(await outbox(database, "penalty_client_notice")) == 1
    assert await outbox(database, "penalty_payment_authorization") == []
    with pytest.raises(InvalidTransition):
        await app.penalties.mark_paid(pid, actor=STAFF, now=NOW)
    reasons = [e.reason for e in (await app.penalties.show(pid)).events if e.kind == "refused"]
    assert reasons == ["invalid_transition:notificada->rechazada", "invalid_transition:cliente_notificada->pagada"]


async def test_unknown_client_without_contact_stays_decided_until_notified(database: SqlDatabase,
                                                                           tmp_path: Path) -> None:
    app = make_app(database, tmp_path, contracts=None)
    pid = await register(app, client="Superintendencia", category=PenaltyCategory.MULTAS_SANCIONES, area="legal")
    assert await outbox(database, "penalty_evidence_request") == []     # no known contacts
    await app.penalties.add_evidence(pid, "Respuesta", actor=STAFF, now=NOW)
    p = await app.penalties.decide(pid, True, "Se acepta", BOSS, NOW)
    assert p.status is PenaltyStatus.APROBADA
    p = await app.penalties.notify_client(pid, actor=STAFF, now=NOW, reason="por correo certificado")
    assert p.status is PenaltyStatus.PAGO_AUTORIZADO
    assert len(await outbox(database, "penalty_payment_authorization")) == 2


# -- the command layer -----------------------------------------------------------------------------

async def test_chat_verbs_with_role_checks(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    h = app.commands.handle
    r = await h(STAFF, '/pqr penalty new "Acme S.A.S." kpi_ans 1500000.50 laboratorio -- ANS de diciembre', NOW)
    assert r.ok and "Penalidad #1 registrada" in r.text and "COP 1.500.000,50" in r.text
    assert not (await h(STAFF, "/pqr multa new Acme x 1 lab", NOW)).ok
    assert "no es un mes" in (await h(STAFF, "/pqr penalty report 2026-13", NOW)).text
    refused = await h(NOBODY, "/pqr penalty approve 1 -- sí", NOW)
    assert not refused.ok and "Solo el personal" in refused.text
    r = await h(STAFF, "/pqr penalty evidence 1 Informe técnico adjunto", NOW)
    assert r.ok and "en evaluación" in r.text
    shown = await h(STAFF, "/pqr penalty show 1", NOW)
    assert [b.action for b in shown.buttons] == ["penalty_approve", "penalty_reject"]
    r = await h(STAFF, "/pqr penalty approve 1 -- yo decido", NOW)
    assert not r.ok and "Solo un gerente" in r.text
    assert "motivo" in (await h(BOSS, "/pqr penalty reject 1", NOW)).text
    r = await h(BOSS, "/pqr multa rechazar 1 -- El retraso fue del cliente", NOW)
    assert r.ok and "rechazada" in r.text
    again = await h(BOSS, "/pqr penalty approve 1 -- mejor sí", NOW)
    assert not again.ok and "ya fue decidida" in again.text
    assert "#1" in (await h(STAFF, "/pqr penalty list", NOW)).text
    assert "No hay penalidades" in (await h(STAFF, "/pqr penalty list pagada", NOW)).text
    report = await h(STAFF, "/pqr penalty report 2026-12", NOW)
    assert report.ok and "COP 1.500.000,50" in report.text
    contracts = await h(STAFF, "/pqr contract list", NOW)
    assert "Acme S.A.S." in contracts.text and "ANS-ACME" in contracts.text
    one = await h(STAFF, "/pqr contrato ver Acme S.A.S.", NOW)
    assert "ANS-ACME" in one.text and "resolución 5d" in one.text and "resolución 16h" in one.text
    assert not (await h(STAFF, "/pqr contract show Nadie", NOW)).ok
    async with database.uow(readonly=True) as uow:
        audit = await uow.audit.list(kind="refused")
    assert (NOBODY, "not_staff") in [(e.actor, e.reason) for e in audit]
    trail = [(e.actor, e.reason) for e in (await app.penalties.show(1)).events if e.kind == "refused"]
    assert trail == [(STAFF, "not_manager"), (BOSS, "already_decided:rechazada")]


# -- the report ------------------------------------------------------------------------------------

async def test_monthly_report_totals_xlsx_and_chart(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    dec = dt.datetime(2026, 12, 10, 10, tzinfo=BOG)
    a = await register(app, "1500000.50", when=dec)
    await register(app, "0.25", category=PenaltyCategory.POSTVENTA, area="logistica", when=dec)
    await register(app, "200000.10", client="Beta Ltda.", area="logistica", when=dec)
    await register(app, "999", when=dt.datetime(2026, 11, 30, 23, 0, tzinfo=BOG))        # November, local
    await register(app, "1000", when=dt.datetime(2027, 1, 1, 0, 30, tzinfo=BOG))          # January
    await register(app, "7", when=dt.datetime(2026, 12, 31, 23, 59, tzinfo=BOG))           # still December
    await app.penalties.add_evidence(a, "ok", actor=STAFF, now=dec)
    await app.penalties.decide(a, True, "aceptada", BOSS, dec)

    report = PenaltyReport.of("2026-12", await app.penalties.month("2026-12"))
    doc = report_json(report, app.penalties.calendar)
    # By hand: kpi_ans 1500000.50 + 200000.10 + 7 = 1700007.60; postventa 0.25.
    assert doc["count"] == 4
    assert doc["by_category"] == {"kpi_ans": {"COP": "1700007.60"}, "postventa": {"COP": "0.25"}}
    assert doc["by_client"] == {"Acme S.A.S.": {"COP": "1500007.75"}, "Beta Ltda.": {"COP": "200000.10"}}
    assert doc["by_area"] == {"laboratorio": {"COP": "1500007.50"}, "logistica": {"COP": "200000.35"}}
    assert doc["by_status"] == {"notificada": 3, "pago_autorizado": 1}
    assert doc["total"] == {"COP": "1700007.85"} and doc["accepted"] == {"COP": "1500000.50"}

    xlsx = tmp_path / "report.xlsx"
    write_xlsx(report, xlsx, app.penalties.calendar)
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Resumen", "Detalle"]
    summary = [row for row in wb["Resumen"].iter_rows(values_only=True)]
    assert ("kpi_ans", "COP", Decimal("1700007.60")) in [(r[0], r[1], _dec(r[2])) for r in summary if r[0]]
    assert ("Total", "COP", Decimal("1700007.85")) in [(r[0], r[1], _dec(r[2])) for r in summary if r[0]]
    detail = list(wb["Detalle"].iter_rows(min_row=2, values_only=True))
    assert sum((_dec(r[8]) for r in detail), Decimal("0")) == Decimal("1700007.85")
    assert wb["Detalle"].cell(2, 9).number_format == '"COP" #,##0.00'
    assert isinstance(wb["Detalle"].cell(2, 9).value, (int, float))

    png = chart_png(report)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def _dec(value: object) -> Decimal | None:
    return None if value is None or isinstance(value, str) else Decimal(str(value))
