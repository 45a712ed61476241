"""A scheduled report by email through the real outbox worker and the real email channel (as
bootstrap wires it) to the aiosmtpd sink: one mail per destination with the XLSX and the PDF
attached, their bytes loaded from the database; a row naming a file that is not stored is dead,
never a mail without its files."""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

import pytest

from bot.bootstrap import App, build, email_channel
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from bot.ports.payloads import ReportDelivery, ReportFileRef
from bot.reports.schedule import PDF, XLSX, ScheduledReports
from channels.email.adapter import EmailChannel
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.channels.email.conftest import PQR_ADDRESS, Sink

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))   # November's send day
TO = ("gerencia@empresa.co", "calidad@empresa.co")


@dataclass
class ReportWorld:
    app: App
    channel: EmailChannel
    sink: Sink
    worker: OutboxWorker

    def delivered(self) -> list[EmailMessage]:
        out = [email.message_from_bytes(e.original_content or e.content, policy=policy.default)  # type: ignore[arg-type]
               for e in self.sink.messages]
        return [m for m in out if isinstance(m, EmailMessage)]


@pytest.fixture
async def world(sqlite_database: SqlDatabase) -> AsyncIterator[ReportWorld]:
    sink = Sink()
    await sink.start()
    cfg = parse_config({
        "database": {"url": sqlite_database.url},
        "channels": {"console": {"enabled": False},
                     "email": {"listen": {"host": "127.0.0.1", "port": 0}, "address": PQR_ADDRESS,
                               "relay": {"host": "127.0.0.1", "port": sink.port}}},
        "reports": {"schedule": [{"report": "monthly", "every": "month", "day": 5,
                                  "to": [f"email:{a}" for a in TO]}]}})
    app = build(cfg, db=sqlite_database, clock=lambda: NOW)
    channel = email_channel(app)
    await channel.start()
    try:
        yield ReportWorld(app, channel, sink, OutboxWorker(sqlite_database, {"email": channel}, app.clock))
    finally:
        await channel.stop()
        await sink.stop()


async def test_the_report_goes_as_one_mail_per_destination_with_the_xlsx_and_pdf_attached(
        world: ReportWorld) -> None:
    app = world.app
    job = ScheduledReports(app.db, app.config, app.reports, app.service.calendar)
    assert await job.run(NOW) == 2
    assert await world.worker.run_once() == 2
    mails = world.delivered()
    assert sorted(str(m["To"]) for m in mails) == sorted(TO)
    async with app.db.uow(readonly=True) as uow:
        row = next(i for i in await uow.outbox.list() if i.payload["kind"] == "report")
        stored = [await uow.report_files.get(f["file_id"]) for f in row.payload["files"]]
    for msg in mails:
        assert msg["Subject"] == "Informe mensual de PQR · 2026-11"
        assert msg["Auto-Submitted"] == "auto-replied"        # generated: no out-of-office answers back
        assert msg.get_content_type() == "multipart/mixed"
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None and "informe mensual de PQR de 2026-11" in body.get_content()
        assert body["Content-Language"] == "es"
        parts = list(msg.iter_attachments())
        assert [(p.get_content_type(), p.get_filename()) for p in parts] == [
            (XLSX, "informe-mensual-2026-11.xlsx"), (PDF, "informe-mensual-2026-11.pdf")]
        data = [p.get_content() for p in parts]
        assert all(isinstance(d, bytes) and d for d in data)
        assert data[0].startswith(b"PK") and data[1].startswith(b"%PDF")
        assert data == [f.data for f in stored if f is not None]
    assert await world.worker.run_once() == 0          # sent once


async def test_a_row_whose_file_is_not_stored_is_dead_and_no_mail_goes(world: ReportWorld) -> None:
    payload = ReportDelivery(report="monthly", period="2026-11", client=None, language="es", subject="Informe",
                             text="Adjunto", files=[ReportFileRef(file_id=999, filename="x.pdf",
                                                                  content_type=PDF)])
    async with world.app.db.uow() as uow:
        await uow.outbox.put(OutboxItem(channel="email", destination=TO[0], payload=payload.stored()), now=NOW)
        await uow.commit()
    assert await world.worker.run_once() == 0
    assert world.sink.messages == []
    async with world.app.db.uow(readonly=True) as uow:
        (row,) = await uow.outbox.list()
    assert row.status == "dead" and "#999" in (row.last_error or "") and "not stored" in (row.last_error or "")
