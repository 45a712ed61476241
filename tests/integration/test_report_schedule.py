"""Scheduled reports (`reports.schedule`) with a controlled clock, on SQLite and PostgreSQL: the send
day on Colombia's calendar (a day 5 on a Sunday or a holiday moves to the next business day), one
outbox row per destination with the XLSX and PDF stored once, nothing more on later ticks, only
the scheduler's leader generating (and two overlapping leaders still queueing once), and a run
missed while the service was down sent when it comes back — the latest period only."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import holidays
import pytest
from sqlalchemy import func, select

from bot.bootstrap import App, build, scheduler
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from bot.reports.schedule import PDF, XLSX, Run, ScheduledReports, latest_due, send_day
from domain.calendar import BusinessCalendar
from domain.periods import Period
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from storage.tables import report_files

BOG = dt.timezone(dt.timedelta(hours=-5))
CAL = BusinessCalendar()
CONTRACTS = {"clients": [
    {"name": "Acme S.A.S.", "email_domains": ["acme.co"],
     "contract": {"name": "ANS-ACME", "targets": {"queja": {"first_response": "4h", "resolution": "3d"}}}},
    {"name": "Beta Ltda.", "email_domains": ["beta.co"],
     "contract": {"name": "ANS-BETA", "targets": {"reclamo": {"resolution": "5d"}}}}]}
MONTHLY = {"report": "monthly", "every": "month", "day": 5,
           "to": ["email:gerencia@empresa.co", "slack:C0MANAGERS"]}
QUARTERLY = {"report": "client", "client": "*", "every": "quarter", "day": 5, "to": ["email:cuentas@empresa.co"]}


def bog(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BOG)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_app(db: SqlDatabase, tmp_path: Path, clock: Clock, *schedule: dict[str, Any]) -> App:
    path = tmp_path / "contracts.yaml"
    path.write_text(json.dumps(CONTRACTS))
    cfg = parse_config({
        "roles": {"staff": ["slack:U0STAFF"], "managers": []},
        "channels": {"console": {"enabled": False}, "slack": {"enabled": True, "triage_channel": "C0TRIAGE"}},
        "digest": {"slack_channel": None},
        "contracts": {"files": [str(path)]},
        "reports": {"schedule": list(schedule)}})
    return build(cfg, db=db, clock=clock)


async def file(app: App, email: str, received: dt.datetime) -> str:
    pqr = await app.service.file(FilingRequest(pqr_type=PqrType.QUEJA, channel="email", name="Cliente",
                                               subject="Cobro doble", body="Me cobraron dos veces",
                                               received_at=received, actor=f"email:{email}", email=email))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def report_rows(db: SqlDatabase) -> list[OutboxItem]:
    async with db.uow(readonly=True) as uow:
        return [i for i in await uow.outbox.list(limit=1000) if i.payload.get("kind") == "report"]


async def keys(db: SqlDatabase) -> list[str]:
    return sorted(r.dedupe_key or "" for r in await report_rows(db))


async def stored_files(db: SqlDatabase) -> int:
    async with db.uow(readonly=True) as uow:
        return int((await uow.connection.execute(select(func.count()).select_from(report_files))).scalar_one())


# -- the send day on the calendar --------------------------------------------------------------

def test_a_send_day_that_is_not_a_business_day_moves_to_the_next_business_day() -> None:
    co = {y: holidays.CO(years=y) for y in (2026, 2027)}
    # 5 July 2027 is a Monday holiday (San Pedro y San Pablo, moved by Ley Emiliani): June's report,
    # the second quarter's and the first half's go out on Tuesday the 6th.
    assert dt.date(2027, 7, 5) in co[2027] and dt.date(2027, 7, 5).weekday() == 0
    for label in ("2027-06", "2027-Q2", "2027-H1"):
        assert send_day(Period.parse(label), 5, CAL) == dt.date(2027, 7, 6)
    # 5 April 2026 is a Sunday (Easter): March's report goes out on Monday the 6th.
    assert dt.date(2026, 4, 5).weekday() == 6 and dt.date(2026, 4, 6) not in co[2026]
    assert send_day(Period.parse("2026-03"), 5, CAL) == dt.date(2026, 4, 6)
    # 5 December 2026 is a Saturday: November's report goes out on Monday the 7th (the 8th is a holiday).
    assert dt.date(2026, 12, 8) in co[2026]
    assert send_day(Period.parse("2026-11"), 5, CAL) == dt.date(2026, 12, 7)
    # A business day stays: the year 2026 on Tuesday 5 January 2027; day 28 as well.
    assert send_day(Period.parse("2026"), 5, CAL) == dt.date(2027, 1, 5)
    assert send_day(Period.parse("2026-Q4"), 28, CAL) == dt.date(2027, 1, 28)


def test_the_latest_period_due_changes_on_the_send_day_not_before() -> None:
    assert latest_due("month", 5, dt.date(2027, 7, 5), CAL) == Period.parse("2027-05")
    assert latest_due("month", 5, dt.date(2027, 7, 6), CAL) == Period.parse("2027-06")
    assert latest_due("quarter", 5, dt.date(2027, 7, 5), CAL) == Period.parse("2027-Q1")
    assert latest_due("quarter", 5, dt.date(2027, 7, 6), CAL) == Period.parse("2027-Q2")
    assert latest_due("semester", 5, dt.date(2027, 7, 6), CAL) == Period.parse("2027-H1")
    assert latest_due("year", 5, dt.date(2027, 1, 4), CAL) == Period.parse("2025")
    assert latest_due("year", 5, dt.date(2027, 1, 5), CAL) == Period.parse("2026")


# -- queued once per destination ---------------------------------------------------------------

async def test_the_send_day_queues_one_row_per_destination_with_the_files_stored_once(
        database: SqlDatabase, tmp_path: Path) -> None:
    clock = Clock(bog(2026, 12, 4, 9))
    app = make_app(database, tmp_path, clock, MONTHLY)
    await file(app, "compras@acme.co", bog(2026, 11, 10, 9))
    await file(app, "ana@correo.co", bog(2026, 11, 12, 10))
    sched = scheduler(app, holder="a")

    # A fresh install sends the latest report due (October's, sent on 5 November), not the history.
    assert (await sched.tick()).jobs["reports"] == 2
    assert await keys(database) == ["report:monthly:-:2026-10:email:gerencia@empresa.co",
                                    "report:monthly:-:2026-10:slack:C0MANAGERS"]
    # Saturday 5 and Sunday 6 December: November's report is not due yet.
    for instant in (bog(2026, 12, 5, 0), bog(2026, 12, 6, 23, 59)):
        clock.now = instant
        assert (await sched.tick()).jobs["reports"] == 0

    clock.now = bog(2026, 12, 7, 0, 1)
    assert (await sched.tick()).jobs["reports"] == 2
    rows = [r for r in await report_rows(database) if r.payload["period"] == "2026-11"]
    assert sorted((r.channel, r.destination) for r in rows) == [("email", "gerencia@empresa.co"),
                                                                ("slack", "C0MANAGERS")]
    payload = rows[0].payload
    assert rows[1].payload == payload
    assert (payload["report"], payload["client"], payload["language"]) == ("monthly", None, "es")
    assert payload["subject"] == "Informe mensual de PQR · 2026-11"
    assert "del 2026-11-01 al 2026-11-30" in payload["text"]
    assert [(f["filename"], f["content_type"]) for f in payload["files"]] == [
        ("informe-mensual-2026-11.xlsx", XLSX), ("informe-mensual-2026-11.pdf", PDF)]
    async with database.uow(readonly=True) as uow:
        xlsx, pdf = [await uow.report_files.get(f["file_id"]) for f in payload["files"]]
    assert xlsx is not None and xlsx.data.startswith(b"PK") and xlsx.content_type == XLSX
    assert pdf is not None and pdf.data.startswith(b"%PDF") and pdf.content_type == PDF
    assert await stored_files(database) == 4          # two reports, two files each, shared by their rows

    # The same day again, the next days, the end of the month: nothing more.
    for instant in (bog(2026, 12, 7, 0, 2), bog(2026, 12, 7, 18), bog(2026, 12, 9, 8), bog(2026, 12, 31, 23)):
        clock.now = instant
        assert (await sched.tick()).jobs["reports"] == 0
    # A restarted instance neither.
    assert (await scheduler(app, holder="a").tick()).jobs["reports"] == 0
    assert len(await report_rows(database)) == 4 and await stored_files(database) == 4


async def test_only_the_leader_generates_and_overlapping_leaders_queue_once(
        database: SqlDatabase, tmp_path: Path) -> None:
    clock = Clock(bog(2026, 12, 7, 9))
    one = make_app(database, tmp_path, clock, MONTHLY)
    two = make_app(database, tmp_path, clock, MONTHLY)
    a, b = scheduler(one, holder="a"), scheduler(two, holder="b")
    assert (await a.tick()).jobs["reports"] == 2         # November's report, to both destinations
    follower = await b.tick()
    assert not follower.leader and follower.jobs == {}
    assert (await a.tick()).jobs["reports"] == 0 and (await b.tick()).jobs == {}
    assert await keys(database) == ["report:monthly:-:2026-11:email:gerencia@empresa.co",
                                    "report:monthly:-:2026-11:slack:C0MANAGERS"]
    assert await stored_files(database) == 2

    # Two leaders at once (a paused process whose lease ran out) on the next send day: both look,
    # both may generate, the dedupe keys let one set of rows through and the other rolls back
    # with the files it stored.
    clock.now = bog(2027, 1, 5, 9)
    jobs = [ScheduledReports(app.db, app.config, app.reports, app.service.calendar) for app in (one, two)]
    queued = await asyncio.gather(*(job.run(clock.now) for job in jobs))
    assert sorted(queued) == [0, 2]
    rows = await report_rows(database)
    assert len(rows) == 4 and len({r.dedupe_key for r in rows}) == 4
    assert {r.payload["period"] for r in rows} == {"2026-11", "2026-12"}
    assert await stored_files(database) == 4
    assert [await job.run(clock.now) for job in jobs] == [0, 0]


async def test_a_missed_run_is_sent_when_the_service_comes_back_and_only_the_latest(
        database: SqlDatabase, tmp_path: Path) -> None:
    clock = Clock(bog(2026, 12, 20, 9))
    app = make_app(database, tmp_path, clock, QUARTERLY)
    await file(app, "compras@acme.co", bog(2026, 12, 10, 9))
    first = scheduler(app, holder="a")
    assert (await first.tick()).jobs["reports"] == 2     # the third quarter's, one per client
    await first.release()                                   # the service stops
    # Down from 21 December until Tuesday 12 January 2027 (5 January, the send day, went by;
    # Monday 11 is a holiday): the fourth quarter's reports go out when it comes back, and no
    # other period is generated again.
    clock.now = bog(2027, 1, 12, 10)
    back = scheduler(make_app(database, tmp_path, clock, QUARTERLY), holder="c")
    assert (await back.tick()).jobs["reports"] == 2
    assert await keys(database) == [
        "report:client:Acme S.A.S.:2026-Q3:email:cuentas@empresa.co",
        "report:client:Acme S.A.S.:2026-Q4:email:cuentas@empresa.co",
        "report:client:Beta Ltda.:2026-Q3:email:cuentas@empresa.co",
        "report:client:Beta Ltda.:2026-Q4:email:cuentas@empresa.co"]
    acme = next(r.payload for r in await report_rows(database)
                if r.payload["client"] == "Acme S.A.S." and r.payload["period"] == "2026-Q4")
    assert acme["subject"] == "Informe de ANS · Acme S.A.S. · 2026-Q4"
    assert "del 2026-10-01 al 2026-12-31" in acme["text"]
    assert [f["filename"] for f in acme["files"]] == ["informe-ans-acme-s-a-s-2026-Q4.xlsx",
                                                      "informe-ans-acme-s-a-s-2026-Q4.pdf"]
    clock.now = bog(2027, 1, 13, 10)
    assert (await back.tick()).jobs["reports"] == 0
    assert await stored_files(database) == 8


async def test_a_destination_on_a_disabled_channel_is_skipped(database: SqlDatabase, tmp_path: Path) -> None:
    clock = Clock(bog(2026, 12, 7, 9))
    app = make_app(database, tmp_path, clock, {**MONTHLY, "to": ["slack:C0MANAGERS", "email:gerencia@empresa.co"]})
    cfg = app.config.model_copy(update={"channels": app.config.channels.model_copy(
        update={"slack": app.config.channels.slack.model_copy(update={"enabled": False})})})
    job = ScheduledReports(app.db, cfg, app.reports, app.service.calendar)
    assert await job.run(clock.now) == 1
    assert await keys(database) == ["report:monthly:-:2026-11:email:gerencia@empresa.co"]
    assert await job.run(clock.now) == 0


async def test_a_client_not_in_the_contract_files_is_said_once_and_nothing_is_queued(
        database: SqlDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(bog(2026, 12, 7, 9))
    app = make_app(database, tmp_path, clock, {**QUARTERLY, "client": "Nadie S.A."})
    sched = scheduler(app, holder="a")
    with caplog.at_level(logging.WARNING, logger="bot.reports.schedule"):
        assert (await sched.tick()).jobs["reports"] == 0
        assert (await sched.tick()).jobs["reports"] == 0
    assert [r.getMessage() for r in caplog.records] == [
        "reports.schedule: no client 'Nadie S.A.' in the contract files; its report is not sent"]
    assert await report_rows(database) == [] and await stored_files(database) == 0


def test_a_dedupe_key_too_long_for_its_column_stays_unique() -> None:
    run = Run("client", "C" * 300, Period.parse("2026-Q4"), ())
    first, second = run.key("email:" + "a" * 200 + "@x.co"), run.key("email:" + "a" * 200 + "@y.co")
    assert len(first) == len(second) == 400 and first != second
    assert run.key("slack:C0MANAGERS") == f"report:client:{'C' * 300}:2026-Q4:slack:C0MANAGERS"
