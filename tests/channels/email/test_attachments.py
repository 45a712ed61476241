"""Attachment limits on mail through the real SMTP server: the message is filed (or joined) with
the files within `attachments:`, a file past them is not stored, staff get an internal note and the
customer is told which file and why (in the acknowledgment, or in a notice for a follow-up)."""

from __future__ import annotations

import email
import hashlib
from collections.abc import AsyncIterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from bot.bootstrap import build, inbox_for
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from channels.email.adapter import EmailChannel
from domain.pqr import Direction
from storage.db import SqlDatabase
from tests.channels.email.conftest import PQR_ADDRESS, T0, MailWorld, Sink, filing

RAD1 = "PQR-2026-000001"
INVOICE = b"%PDF-1.4 factura de noviembre " * 60          # 1,800 bytes
SCAN = bytes(range(256)) * 24                              # 6,144 bytes


async def limited_world(db: SqlDatabase, **limits: int) -> AsyncIterator[MailWorld]:
    sink = Sink()
    await sink.start()
    cfg = parse_config({"database": {"url": db.url}, "attachments": limits,
                        "channels": {"console": {"enabled": False},
                                     "email": {"listen": {"host": "127.0.0.1", "port": 0},
                                               "relay": {"host": "127.0.0.1", "port": sink.port}}}})
    now = [T0]
    app = build(cfg, db=db, clock=lambda: now[0])
    channel = EmailChannel(cfg.channels.email, inbox_for(app), app.clock)
    await channel.start()
    try:
        async with filing(app) as filer:
            yield MailWorld(app=app, channel=channel, sink=sink, worker=OutboxWorker(db, {"email": channel}, app.clock),
                            now=now, filer=filer)
    finally:
        await channel.stop()
        await sink.stop()


@pytest.fixture
async def small_files(database: SqlDatabase) -> AsyncIterator[MailWorld]:
    """At most 4 KiB a file (SQLite and PostgreSQL)."""
    async for w in limited_world(database, max_file_bytes=4096):
        yield w


def with_files(files: list[tuple[str, str, bytes]], *, subject: str = "Reclamo por la factura",
               message_id: str = "<a1@cliente.co>", body: str = "Adjunto la factura y el escaneo.") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana Pérez <ana@cliente.co>"
    msg["To"] = PQR_ADDRESS
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = "Mon, 02 Mar 2026 10:00:00 -0500"
    msg.set_content(body)
    for name, ctype, data in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


async def acks(world: MailWorld) -> list[Any]:
    await world.worker.run_once()
    return [email.message_from_bytes(e.original_content or e.content, policy=policy.default)  # type: ignore[misc]
            for e in world.sink.messages]


async def test_a_file_over_the_limit_is_left_out_and_both_sides_are_told(small_files: MailWorld) -> None:
    world = small_files
    code, answer = await world.send(with_files([("factura.pdf", "application/pdf", INVOICE),
                                                ("escaneo <grande>.tiff", "image/tiff", SCAN)]))
    assert code == 250 and (await world.last()).radicado == RAD1
    pqr = await world.pqr(RAD1)
    first = pqr.messages[0]
    assert first.body.startswith("Adjunto la factura")
    assert [(a.filename, a.content_type, a.size, a.sha256) for a in first.attachments] == [
        ("factura.pdf", "application/pdf", len(INVOICE), hashlib.sha256(INVOICE).hexdigest())]
    [note] = [m for m in pqr.messages if m.direction is Direction.NOTE]
    assert "escaneo <grande>.tiff (6 kB): supera el máximo de 4 kB por archivo" in note.body
    assert "(email)" in note.body
    assert await world.counts() == {"filed": 1}                       # the raw mail is kept as received
    [ack] = await acks(world)
    text = ack.get_content()
    assert RAD1 in text and "No pudimos recibir estos archivos" in text
    assert "• escaneo <grande>.tiff (6 kB): supera el máximo de 4 kB por archivo" in text
    assert "hasta 4 kB por archivo" in text and "factura.pdf" not in text


async def test_a_follow_up_with_a_file_over_the_limit_joins_and_the_customer_is_told(small_files: MailWorld) -> None:
    world = small_files
    await world.send(with_files([("factura.pdf", "application/pdf", INVOICE)]))
    await acks(world)
    code, answer = await world.send(with_files([("escaneo.tiff", "image/tiff", SCAN)], subject=f"Re: [{RAD1}]",
                                               message_id="<a2@cliente.co>", body="Va el escaneo."))
    assert code == 250 and (await world.last()).radicado == RAD1
    pqr = await world.pqr(RAD1)
    assert [m.body for m in pqr.messages if m.direction is Direction.IN] == [
        "Adjunto la factura y el escaneo.", "Va el escaneo."]
    assert [a.filename for m in pqr.messages for a in m.attachments] == ["factura.pdf"]
    assert any("escaneo.tiff" in m.body for m in pqr.messages if m.direction is Direction.NOTE)
    notices = (await acks(world))[1:]
    assert [n["Subject"] for n in notices] == [f"[{RAD1}] Archivos que no pudimos recibir"]
    assert notices[0]["Auto-Submitted"] == "auto-replied" and "escaneo.tiff (6 kB)" in notices[0].get_content()


async def test_files_past_the_count_and_the_message_total_are_refused(sqlite_database: SqlDatabase) -> None:
    async for world in limited_world(sqlite_database, max_files=2, max_message_bytes=3000):
        files = [("a.pdf", "application/pdf", INVOICE), ("b.pdf", "application/pdf", INVOICE),
                 ("c.pdf", "application/pdf", b"x" * 10), ("d.txt", "text/plain", b"short")]
        code, _ = await world.send(with_files(files))
        assert code == 250
        pqr = await world.pqr(RAD1)
        assert [a.filename for a in pqr.messages[0].attachments] == ["a.pdf", "c.pdf"]
        [note] = [m.body for m in pqr.messages if m.direction is Direction.NOTE]
        assert "b.pdf (1,8 kB): con él, los adjuntos del mensaje pasarían de 2,9 kB" in note
        assert "d.txt: el mensaje ya trae el máximo de archivos (2)" in note
