"""Stored attachments on SQLite and PostgreSQL: listed with the PQR's messages (in the batched
detail queries), one opened by id only through its own PQR, and the /pqr show card and the console
text listing them."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from domain.attachments import AttachmentNotFound, FileRefusal, NotTaken
from domain.errors import NotFound
from domain.files import FileData
from domain.pqr import Direction
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import PqrFilter

BOG = dt.timezone(dt.timedelta(hours=-5))
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)
STAFF = "slack:U0STAFF"
INVOICE = bytes(range(256)) * 5


def make_app(db: SqlDatabase) -> App:
    return build(parse_config({"roles": {"staff": [STAFF]}}), db=db, clock=lambda: NOW)


async def file(app: App, email: str, files: list[FileData], **kw: object) -> str:
    pqr = await app.service.file(FilingRequest(
        pqr_type=PqrType.RECLAMO, channel="email", name="Ana", subject="Cobro doble", body="Adjunto soportes",
        received_at=dt.datetime(2026, 12, 18, 10, tzinfo=BOG), actor=f"email:{email}", email=email, **kw))  # type: ignore[arg-type]
    assert pqr is not None and pqr.radicado and pqr.messages[0].id is not None
    async with app.db.uow() as uow:
        await uow.mail.add_attachments(pqr.messages[0].id, files)
        await uow.commit()
    return pqr.radicado


async def test_attachments_are_listed_and_opened_only_through_their_pqr(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app, "ana@example.co", [FileData("factura.pdf", "application/pdf", INVOICE),
                                             FileData("", "", b"sin nombre")])
    other = await file(app, "luis@example.co", [FileData("ajeno.txt", "text/plain", b"otro")])
    pqr = await app.service.show(rad)
    listed = pqr.messages[0].attachments
    assert [(a.filename, a.content_type, a.size, a.sha256) for a in listed] == [
        ("factura.pdf", "application/pdf", len(INVOICE), hashlib.sha256(INVOICE).hexdigest()),
        ("attachment", "application/octet-stream", 10, hashlib.sha256(b"sin nombre").hexdigest())]
    found, data = await app.service.attachment(rad.lower(), listed[0].id)
    assert found == listed[0] and data == INVOICE
    (foreign,) = (await app.service.show(other)).messages[0].attachments
    with pytest.raises(AttachmentNotFound) as wrong:
        await app.service.attachment(rad, foreign.id)
    assert (wrong.value.radicado, wrong.value.attachment_id) == (rad, foreign.id)
    for forged in (2 ** 62, 2 ** 70, 0, -1):                     # no row has these (2**70: past 64 bits)
        with pytest.raises(AttachmentNotFound):
            await app.service.attachment(rad, forged)
    with pytest.raises(NotFound) as unknown:
        await app.service.attachment("PQR-1999-000001", listed[0].id)
    assert not isinstance(unknown.value, AttachmentNotFound)
    many = await app.service.list(PqrFilter(statuses=()), details=True)
    assert {p.radicado: [a.filename for m in p.messages for a in m.attachments] for p in many} == {
        rad: ["factura.pdf", "attachment"], other: ["ajeno.txt"]}
    assert all(m.attachments == () for p in await app.service.list(PqrFilter(statuses=())) for m in p.messages)


async def test_show_lists_them_for_staff_in_the_card_text(database: SqlDatabase) -> None:
    app = make_app(database)
    rad = await file(app, "ana@example.co", [FileData("factura.pdf", "application/pdf", INVOICE)])
    (stored,) = (await app.service.show(rad)).messages[0].attachments
    reply = await app.commands.handle(STAFF, f"/pqr show {rad}", NOW)
    assert reply.ok and reply.cards[0].attachments == (stored,)
    assert f"Adjuntos:\n  #{stored.id} factura.pdf (application/pdf, 1,2 kB)" in reply.text


async def test_files_not_taken_become_a_note_and_a_line_of_the_acknowledgment(database: SqlDatabase) -> None:
    app = make_app(database)
    refused = (NotTaken("escaneo.tiff", FileRefusal.FILE_TOO_BIG, size=12 * 1024 * 1024, limit=10 * 1024 * 1024),)
    rad = await file(app, "ana@example.co", [], not_taken=refused)
    pqr = await app.service.show(rad)
    assert [m.direction for m in pqr.messages] == [Direction.IN, Direction.NOTE]
    assert pqr.messages[1].body == ("Adjuntos no recibidos (email):\n"
                                    "• escaneo.tiff (12 MB): supera el máximo de 10 MB por archivo")
    assert pqr.messages[1].author == "pqrbot:attachments"
    async with database.uow(readonly=True) as uow:
        (ack,) = [r for r in await uow.outbox.list() if r.payload["kind"] == "ack"]
    assert ack.payload["text"].endswith("hasta 10 MB por archivo) o en varios mensajes.")
    assert "• escaneo.tiff (12 MB): supera el máximo de 10 MB por archivo" in ack.payload["text"]
