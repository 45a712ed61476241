"""The contract clock's pause on a real database (SQLite and PostgreSQL): the legal deadline and the
pause columns through filing (one and many), status changes and reloads, and migration 0005's
backfill of rows filed before it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.cli.serialize import pqr_json
from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType, Status
from domain.terms import Unit
from storage.db import SqlDatabase, alembic_config
from storage.tables import UtcDateTime

BOG = dt.timezone(dt.timedelta(hours=-5))
STAFF = "slack:U0STAFF"
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)   # a Monday; Christmas and New Year are holidays

CONTRACTS = {
    "clients": [
        {"name": "Acme S.A.S.", "email_domains": ["acme.co"],
         "contract": {"name": "ANS-ACME", "pauses_when_waiting": True,
                      "targets": {"reclamo": {"resolution": "5d"}, "queja": {"resolution": "16h"}}}},
        {"name": "Beta Ltda.", "email_domains": ["beta.co"],
         "contract": {"name": "ANS-BETA", "targets": {"reclamo": {"resolution": "5d"}}}},
    ],
}


def make_app(db: SqlDatabase, tmp_path: Path) -> App:
    path = tmp_path / "contracts.yaml"
    path.write_text(json.dumps(CONTRACTS))
    cfg = parse_config({"roles": {"staff": [STAFF], "managers": []}, "contracts": {"files": [str(path)]}})
    return build(cfg, db=db, clock=lambda: NOW)


def request(email: str, pqr_type: PqrType) -> FilingRequest:
    return FilingRequest(pqr_type=pqr_type, channel="email", name="Ana", subject="Falla", body="No funciona",
                         received_at=NOW, actor=f"email:{email}", email=email)


async def test_days_pause_round_trips(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    filed = await app.service.file(request("ana@acme.co", PqrType.RECLAMO))
    assert filed is not None and filed.radicado is not None
    rad = filed.radicado
    # 5 business days from Mon 21 Dec: 22, 23, 24, 28, 29. The law's 15 end on Thu 14 Jan.
    contract_due = dt.datetime(2026, 12, 29, 23, 59, 59, tzinfo=BOG)
    legal = dt.datetime(2027, 1, 14, 23, 59, 59, tzinfo=BOG)
    stored = await app.service.show(rad)
    assert (stored.due_at, stored.legal_due_at, stored.pause_unit, stored.pause_remaining) == (
        contract_due, legal, Unit.DAYS, None)

    await app.service.change_status(rad, Status.ESPERANDO_CLIENTE, actor=STAFF,
                                    now=dt.datetime(2026, 12, 22, 10, tzinfo=BOG))
    paused = await app.service.show(rad)
    assert paused.status is Status.ESPERANDO_CLIENTE
    assert (paused.due_at, paused.legal_due_at, paused.pause_unit) == (legal, legal, Unit.DAYS)
    assert paused.pause_remaining == 4 and isinstance(paused.pause_remaining, int)   # 23, 24, 28, 29

    # The customer answers on Mon 28 Dec: 4 business days from then (Jan 1 is a holiday).
    await app.service.change_status(rad, Status.EN_TRAMITE, actor=STAFF,
                                    now=dt.datetime(2026, 12, 28, 9, tzinfo=BOG))
    resumed = await app.service.show(rad)
    assert resumed.due_at == dt.datetime(2027, 1, 4, 23, 59, 59, tzinfo=BOG)
    assert (resumed.legal_due_at, resumed.pause_unit, resumed.pause_remaining) == (legal, Unit.DAYS, None)
    assert [e.data for e in resumed.events if e.kind == "status_changed"] == [
        {"clock": "paused", "remaining": "4d", "due_at": legal.isoformat()},
        {"clock": "resumed", "remaining": "4d", "due_at": "2027-01-04T23:59:59-05:00"}]
    doc = pqr_json(resumed, app.service.calendar)
    assert doc["legal_due_at"] == "2027-01-14T23:59:59-05:00"
    assert doc["due_at"] == "2027-01-04T23:59:59-05:00"


async def test_hours_pause_keeps_fractional_hours(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    filed = await app.service.file(request("ana@acme.co", PqrType.QUEJA))
    assert filed is not None and filed.radicado is not None
    assert filed.due_at == dt.datetime(2026, 12, 22, 15, tzinfo=BOG)   # Mon 9 h, Tue 7 h
    await app.service.change_status(filed.radicado, Status.ESPERANDO_CLIENTE, actor=STAFF,
                                    now=dt.datetime(2026, 12, 21, 17, 30, tzinfo=BOG))
    paused = await app.service.show(filed.radicado)
    assert (paused.pause_unit, paused.pause_remaining) == (Unit.HOURS, 7.5)
    await app.service.close(filed.radicado, "Resuelto", actor=STAFF, now=dt.datetime(2026, 12, 24, 10, tzinfo=BOG))
    closed = await app.service.show(filed.radicado)
    assert closed.status is Status.CERRADA
    assert closed.due_at == dt.datetime(2026, 12, 24, 17, 30, tzinfo=BOG)
    assert closed.pause_remaining is None


async def test_batch_filing_stores_the_legal_due_and_pause_unit(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    async with database.uow() as uow:
        filed = await app.service.file_many_in(uow, [request("ana@acme.co", PqrType.RECLAMO),
                                                     request("ana@beta.co", PqrType.RECLAMO),
                                                     request("ana@gmail.com", PqrType.RECLAMO)])
        await uow.commit()
    got = [await app.service.show(p.radicado or "") for p in filed if p is not None]
    assert [(p.contract, p.pause_unit) for p in got] == [("ANS-ACME", Unit.DAYS), ("ANS-BETA", None), (None, None)]
    legal = dt.datetime(2027, 1, 14, 23, 59, 59, tzinfo=BOG)
    assert [p.legal_due_at for p in got] == [legal] * 3
    assert [p.due_at for p in got] == [dt.datetime(2026, 12, 29, 23, 59, 59, tzinfo=BOG)] * 2 + [legal]


# -- migration 0005 ----------------------------------------------------------------------------------

OLD_PQRS = sa.table("pqrs", *(sa.column(c, UtcDateTime) for c in (
    "due_at", "original_due_at", "received_at", "updated_at")), *(sa.column(c) for c in (
        "radicado", "year", "seq", "type", "status", "is_open", "channel", "customer_id", "subject",
        "due_rule")))
OLD_CUSTOMERS = sa.table("customers", sa.column("name"), sa.column("created_at", UtcDateTime))


def _migrate(connection: Connection, url: str, action: Any, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    action(cfg, revision)


async def test_migration_0005_backfills_legal_due_at(database: SqlDatabase) -> None:
    async with database.engine.begin() as conn:
        await conn.run_sync(_migrate, database.url, command.downgrade, "0004")
        columns = await conn.run_sync(lambda c: {col["name"] for col in sa.inspect(c).get_columns("pqrs")})
        assert not columns & {"legal_due_at", "pause_unit", "pause_remaining"}
        customer_id: int = (await conn.execute(sa.insert(OLD_CUSTOMERS).values(name="Ana", created_at=NOW)
                                          .returning(sa.column("id")))).scalar_one()
        due = dt.datetime(2027, 1, 14, 23, 59, 59, tzinfo=BOG)
        await conn.execute(sa.insert(OLD_PQRS).values(
            radicado="PQR-2026-000001", year=2026, seq=1, type="reclamo", status="esperando_cliente",
            is_open=True, channel="email", customer_id=customer_id, subject="Falla", due_rule="ley:reclamo:15d",
            due_at=due, original_due_at=due, received_at=NOW, updated_at=NOW))
    await database.upgrade()

    async with database.engine.connect() as conn:
        row = (await conn.execute(sa.text(
            "SELECT legal_due_at, due_at, pause_unit, pause_remaining FROM pqrs"))).one()
    assert row[0] == row[1] and row[2] is None and row[3] is None
    async with database.uow(readonly=True) as uow:
        old = await uow.pqrs.get("PQR-2026-000001")
    assert old is not None
    assert (old.due_at, old.legal_due_at, old.pause_unit, old.pause_remaining) == (due, due, None, None)

    # A row left without legal_due_at still loads with its due date as the legal one.
    async with database.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE pqrs SET legal_due_at = NULL"))
    async with database.uow() as uow:
        old = await uow.pqrs.get("PQR-2026-000001")
        assert old is not None and old.legal_due_at == due
        # Waiting already, by law: answering changes nothing and saves the legal due.
        old.receive("Aquí está", channel="email", at=NOW + dt.timedelta(days=1), actor="email:ana@example.co")
        await uow.pqrs.save(old)
        await uow.commit()
    async with database.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT status FROM pqrs"))).scalar_one() == "en_tramite"
    async with database.uow(readonly=True) as uow:
        again = await uow.pqrs.get("PQR-2026-000001")
    assert again is not None and again.legal_due_at == again.due_at == due
