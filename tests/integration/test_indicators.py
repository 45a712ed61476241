"""Exact indicator figures on hand-built PQRs (SQLite and PostgreSQL): received across a holiday,
answered one business hour late against the ANS, a contract pause that turns a miss into a met
target, a reopened PQR, an open PQR past due, and the backlog bands — every expected number
written here, worked out by hand on Colombia's 2026 calendar (2 and 16 November are holidays;
business hours 08:00–18:00)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from domain.periods import Period
from domain.pqr_types import PqrType, Status
from storage.db import SqlDatabase
from storage.ports import IndicatorSlice

BOG = dt.timezone(dt.timedelta(hours=-5))
STAFF = "slack:U0STAFF"
CONTRACTS = {"clients": [{"name": "Acme S.A.S.", "email_domains": ["acme.co"],
                          "contract": {"name": "ANS-ACME", "pauses_when_waiting": True,
                                       "targets": {"queja": {"first_response": "4h", "resolution": "10h"}}}}]}


def at(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=BOG)


def make_app(db: SqlDatabase, tmp_path: Path) -> App:
    path = tmp_path / "contracts.yaml"
    path.write_text(json.dumps(CONTRACTS))
    cfg = parse_config({"roles": {"staff": [STAFF], "managers": []}, "contracts": {"files": [str(path)]}})
    return build(cfg, db=db, clock=lambda: at(12, 1, 9))


async def file(app: App, pqr_type: PqrType, email: str, received: dt.datetime) -> str:
    pqr = await app.service.file(FilingRequest(pqr_type=pqr_type, channel="email", name="Cliente", subject="Asunto",
                                               body="Texto", received_at=received, actor=f"email:{email}",
                                               email=email))
    assert pqr is not None and pqr.radicado is not None
    return pqr.radicado


async def build_month(app: App) -> dict[str, str]:
    s = app.service
    rad = {}
    # A: received Friday 13 Nov 17:00; Monday 16 is a holiday; first reply Tuesday 09:00 (2 h),
    # closed Tuesday 10:00 (1 business day).
    rad["A"] = await file(app, PqrType.PETICION, "ana@correo.co", at(11, 13, 17))
    await s.set_cause(rad["A"], "facturacion", actor=STAFF, now=at(11, 13, 17))
    await s.reply(rad["A"], "Lo revisamos", actor=STAFF, now=at(11, 17, 9))
    await s.close(rad["A"], "Resuelto", actor=STAFF, now=at(11, 17, 10))
    # B (Acme, queja: first response 4 h, resolution 10 h): Monday 9 Nov 09:00; replied 14:00
    # (5 h: one late), closed Tuesday 10:00 (11 h: one business hour late), 1 business day.
    rad["B"] = await file(app, PqrType.QUEJA, "compras@acme.co", at(11, 9, 9))
    await s.set_cause(rad["B"], "facturacion", actor=STAFF, now=at(11, 9, 9))
    await s.reply(rad["B"], "Recibido", actor=STAFF, now=at(11, 9, 14))
    await s.close(rad["B"], "Resuelto", actor=STAFF, now=at(11, 10, 10))
    # C (Acme, queja): Tuesday 10 Nov 08:00, replied 11:00 (3 h, met); waiting for the customer from
    # 12:00 (6 h of the 10 left) to Thursday 08:00, so the ANS deadline moves to Thursday 14:00;
    # closed Thursday 13:00: met (without the pause it was due Tuesday 18:00). 2 business days.
    rad["C"] = await file(app, PqrType.QUEJA, "ventas@acme.co", at(11, 10, 8))
    await s.set_cause(rad["C"], "entrega", actor=STAFF, now=at(11, 10, 8))
    await s.reply(rad["C"], "Necesitamos un dato", actor=STAFF, now=at(11, 10, 11))
    await s.change_status(rad["C"], Status.ESPERANDO_CLIENTE, actor=STAFF, now=at(11, 10, 12))
    await s.change_status(rad["C"], Status.EN_TRAMITE, actor=STAFF, now=at(11, 12, 8))
    await s.close(rad["C"], "Resuelto", actor=STAFF, now=at(11, 12, 13))
    # D: Tuesday 3 Nov 10:00, answered and closed Wednesday 10:00 (first response 10 h), reopened
    # Thursday 10:00, closed again Friday 10:00: 1 business day from the reopening.
    rad["D"] = await file(app, PqrType.RECLAMO, "dora@correo.co", at(11, 3, 10))
    await s.close(rad["D"], "Resuelto", actor=STAFF, now=at(11, 4, 10))
    await s.reopen(rad["D"], actor=STAFF, now=at(11, 5, 10))
    await s.close(rad["D"], "Resuelto de nuevo", actor=STAFF, now=at(11, 6, 10))
    # E: filed 1 Oct, never answered: open and past its legal due date all November.
    rad["E"] = await file(app, PqrType.PETICION, "eva@correo.co", at(10, 1, 9))
    # F: Friday 27 Nov 10:00, open at the end (age 1 business day), a prórroga on Monday 30.
    rad["F"] = await file(app, PqrType.SUGERENCIA, "fer@correo.co", at(11, 27, 10))
    await s.extend(rad["F"], at(12, 30, 9), reason="Falta información", actor=STAFF, now=at(11, 30, 10))
    return rad


async def test_the_months_kpis_are_exact(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    await build_month(app)
    k = await app.reports.indicators.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert k["from"] == "2026-11-01" and k["to"] == "2026-12-01"
    assert (k["filed"], k["answered"]) == (5, 4)           # E was filed in October
    assert k["on_time_pct"] == 80.0                         # 4 on time of 4 answered + E open and late
    assert k["ans_compliance_pct"] == 50.0                  # B missed both targets, C met both
    assert k["first_response_hours"] == {"median": 4.0, "p90": 8.5}          # 2, 3, 5, 10
    assert k["resolution_business_days"] == {"median": 1.0, "p90": 1.7}     # 1, 1, 1, 2
    assert (k["open_at_end"], k["breached_open"]) == (2, 1)
    assert k["backlog_age"] == {"0-5": 1, "6-10": 0, "11-15": 0, ">15": 1}
    assert (k["extensions"], k["reopened"]) == (1, 1)
    assert k["by_client"] == {"Acme S.A.S.": {"filed": 2, "answered": 2, "on_time_pct": 100.0},
                              "none": {"filed": 3, "answered": 2, "on_time_pct": 66.7}}
    assert k["by_type"] == {"peticion": {"filed": 1, "answered": 1, "on_time_pct": 50.0},
                            "queja": {"filed": 2, "answered": 2, "on_time_pct": 100.0},
                            "reclamo": {"filed": 1, "answered": 1, "on_time_pct": 100.0},
                            "sugerencia": {"filed": 1, "answered": 0, "on_time_pct": None}}
    assert k["by_cause"] == {"entrega": {"filed": 1, "answered": 1, "on_time_pct": 100.0},
                             "facturacion": {"filed": 2, "answered": 2, "on_time_pct": 100.0},
                             "none": {"filed": 2, "answered": 1, "on_time_pct": 50.0}}
    assert k["by_channel"] == {"email": {"filed": 5, "answered": 4, "on_time_pct": 80.0}}
    acme = await app.reports.indicators.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1),
                                             IndicatorSlice(client="acme s.a.s."))
    assert (acme["filed"], acme["ans_compliance_pct"], acme["first_response_hours"]["median"]) == (2, 50.0, 4.0)


async def test_the_backlog_bands_move_with_the_period_end(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    await build_month(app)
    # At the end of October only E is open: received Thursday 1 Oct, age 20 business days at
    # Saturday 31 (12 Oct is a holiday) — past its due date of 23 October.
    k = await app.reports.indicators.kpis(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    assert k["backlog_age"] == {"0-5": 0, "6-10": 0, "11-15": 0, ">15": 1}
    assert (k["filed"], k["answered"], k["on_time_pct"], k["breached_open"]) == (1, 0, 0.0, 1)
    # 15 business days after 1 Oct is 23 Oct: the band of a period ending on the 22nd is 11-15.
    k = await app.reports.indicators.kpis(dt.date(2026, 10, 1), dt.date(2026, 10, 23))
    assert k["backlog_age"] == {"0-5": 0, "6-10": 0, "11-15": 1, ">15": 0}
    assert k["on_time_pct"] is None and k["breached_open"] == 0


async def test_the_client_report_has_targets_breaches_and_trend(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    rad = await build_month(app)
    r = await app.reports.client("ACME S.A.S.", Period.parse("2026-Q4"))
    assert (r["client"], r["period"], r["from"], r["to"]) == ("Acme S.A.S.", "2026-Q4", "2026-10-01", "2027-01-01")
    assert r["targets"] == [
        {"type": "queja", "kind": "first_response", "target": "4h", "measured": 2, "met": 1, "pct": 50.0},
        {"type": "queja", "kind": "resolution", "target": "10h", "measured": 2, "met": 1, "pct": 50.0}]
    assert r["ans_compliance_pct"] == 50.0
    assert [(b["radicado"], b["kind"], b["due_at"], b["done_at"]) for b in r["breaches"]] == [
        (rad["B"], "first_response", "2026-11-09T13:00:00-05:00", "2026-11-09T14:00:00-05:00"),
        (rad["B"], "resolution", "2026-11-10T09:00:00-05:00", "2026-11-10T10:00:00-05:00")]
    assert r["breaches"][0]["cause"] == "facturacion"
    assert [t["period"] for t in r["trend"]] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert all(t["ans_compliance_pct"] is None for t in r["trend"])
    assert r["penalties"] == {"count": 0, "amount": {}, "by_status": {}}
    assert r["kpis"]["filed"] == 2


async def test_the_monthly_report_consolidates(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    await build_month(app)
    m = await app.reports.monthly(Period.parse("2026-11"))
    assert m["month"] == "2026-11" and m["kpis"]["filed"] == 5
    assert m["clients"] == [{"client": "Acme S.A.S.", "filed": 2, "answered": 2, "on_time_pct": 100.0,
                             "ans_compliance_pct": 50.0, "breaches": 2}]
    assert m["incidences"] == [{"cause": "facturacion", "area": "none", "count": 2},
                               {"cause": "none", "area": "none", "count": 2},
                               {"cause": "entrega", "area": "none", "count": 1}]
    assert m["penalties"]["count"] == 0 and m["nps"] is None


async def test_a_running_period_counts_its_backlog_as_of_now(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)         # the clock: Tuesday 1 December 09:00
    await build_month(app)
    k = await app.reports.indicators.kpis(dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    # F (27 Nov, extended to 30 Dec) is 2 business days old today and not yet due; counted as of
    # 1 January it would be 21 days old and past due.
    assert k["backlog_age"] == {"0-5": 1, "6-10": 0, "11-15": 0, ">15": 1}
    assert (k["open_at_end"], k["breached_open"]) == (2, 1)
