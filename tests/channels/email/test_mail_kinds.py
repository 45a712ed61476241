"""Loop protection, charsets, HTML-only mail, attachments and relay outages."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage

import pytest

from tests.channels.email.conftest import PQR_ADDRESS, MailWorld, mail

RAD1 = "PQR-2026-000001"


@pytest.mark.parametrize("headers, reason", [
    ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted"),
    ({"Auto-Submitted": "auto-generated"}, "Auto-Submitted"),
    ({"Precedence": "bulk"}, "Precedence"),
    ({"Precedence": "junk"}, "Precedence"),
    ({"Precedence": "list"}, "Precedence"),
    ({"List-Id": "<clientes.lists.example.co>"}, "List-Id"),
    ({"X-Autoreply": "yes"}, "X-Autoreply"),
    ({"X-Autorespond": "yes"}, "X-Autorespond"),
    ({"X-Auto-Response-Suppress": "All"}, "X-Auto-Response-Suppress"),
])
async def test_automatic_mail_is_kept_aside_and_never_answered(world: MailWorld, headers: dict[str, str],
                                                              reason: str) -> None:
    code, answer = await world.send(mail(headers=headers))
    assert code == 250 and (await world.last()).status == "kept_aside"
    [raw] = await world.raws("kept_aside")
    assert reason in (raw.reason or "")
    assert await world.pqr(RAD1) is None
    await world.worker.run_once()
    assert world.sink.messages == []


async def test_auto_submitted_no_is_a_person(world: MailWorld) -> None:
    await world.send(mail(headers={"Auto-Submitted": "no"}))
    assert (await world.last()).radicado == RAD1


async def test_delivery_reports_null_sender_own_address_and_floods_are_kept_aside(world: MailWorld) -> None:
    dsn = ("From: MAILER-DAEMON@mx.cliente.co\r\nTo: pqr@pqr.example.co\r\nSubject: Undelivered\r\n"
           "Message-ID: <dsn1@mx>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=BB\r\n\r\n"
           "--BB\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n"
           "--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
           "Final-Recipient: rfc822; x@y\r\nAction: failed\r\nStatus: 5.1.1\r\n--BB--\r\n")
    await world.send(dsn, mail_from="bounces@mx.cliente.co")
    await world.send(mail(message_id="<n1@x>"), mail_from="")
    await world.send(mail(sender="pqr@pqr.example.co", message_id="<own@x>"), mail_from="pqr@pqr.example.co")
    for i in range(21):        # rate_limit default: 20 per 60 minutes
        await world.send(mail(f"Queja {i}", message_id=f"<f{i}@x>", sender="flood@cliente.co"),
                         mail_from="flood@cliente.co")
    reasons = [r.reason for r in await world.raws("kept_aside")]
    assert any("delivery report" in r for r in reasons)
    assert any("null return path" in r for r in reasons)
    assert any("own address" in r for r in reasons)
    assert any("rate limit" in r for r in reasons)
    assert (await world.counts()) == {"kept_aside": 4, "filed": 20}


async def test_charsets_and_encoded_subjects(world: MailWorld) -> None:
    def raw(charset: str, body: str, subject: str) -> bytes:
        head = (f"From: =?iso-8859-1?q?Jos=E9_N=FA=F1ez?= <jose@cliente.co>\r\nTo: {PQR_ADDRESS}\r\n"
                f"Subject: {subject}\r\nMessage-ID: <{charset}@cliente.co>\r\nMIME-Version: 1.0\r\n"
                f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
        return head.encode("ascii") + body.encode("cp1252" if charset != "utf-8" else "utf-8") + b"\r\n"
    await world.send(raw("iso-8859-1", "Petición de información: año, señal", "=?utf-8?b?UmVjbGFtbyBwb3IgZmFjdHVyYWNpw7Nu?="),
                     mail_from="jose@cliente.co")
    await world.send(raw("windows-1252", "Comillas “curvas” — y €", "=?windows-1252?q?Queja_=93urgente=94?="),
                     mail_from="jose@cliente.co")
    one, two = await world.pqr(RAD1), await world.pqr("PQR-2026-000002")
    assert one.subject == "Reclamo por facturación" and one.type.value == "reclamo"
    assert one.messages[0].body == "Petición de información: año, señal"
    assert one.customer.name == "José Núñez"
    assert two.subject == "Queja “urgente”" and two.messages[0].body == "Comillas “curvas” — y €"


async def test_html_only_mail_is_stored_as_text(world: MailWorld) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ana@cliente.co", PQR_ADDRESS, "Sugerencia de horario"
    msg["Message-ID"] = "<html@cliente.co>"
    msg.set_content("<html><head><style>p{}</style></head><body><p>Abran los <b>sábados</b>.</p>"
                     "<p>Gracias &amp; saludos</p></body></html>", subtype="html")
    await world.send(msg.as_bytes())
    pqr = await world.pqr(RAD1)
    assert pqr.type.value == "sugerencia"
    assert pqr.messages[0].body == "Abran los sábados.\n\nGracias & saludos"


async def test_attachments_are_kept_with_name_type_size_and_hash(world: MailWorld) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ana@cliente.co", PQR_ADDRESS, "Reclamo con soporte"
    msg["Message-ID"] = "<att@cliente.co>"
    msg.set_content("Adjunto la factura.")
    pdf = b"%PDF-1.4 factura" * 100
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="factura marzo.pdf")
    await world.send(msg.as_bytes())
    pqr = await world.pqr(RAD1)
    async with world.app.db.uow(readonly=True) as uow:
        [(stored, size, sha)] = await uow.mail.attachments_of(pqr.messages[0].id)
    assert (stored.filename, stored.content_type, size) == ("factura marzo.pdf", "application/pdf", len(pdf))
    assert sha == hashlib.sha256(pdf).hexdigest() and stored.data == pdf
    [raw] = await world.raws("filed")
    assert b"factura marzo.pdf" in raw.data


async def test_relay_down_then_up_delivers_once(world: MailWorld) -> None:
    port = world.sink.port
    await world.sink.stop()
    await world.send(mail())
    assert await world.worker.run_once() == 0          # relay down: Retryable, backoff
    async with world.app.db.uow(readonly=True) as uow:
        [row] = await uow.outbox.list()
    assert row.status == "pending" and row.attempts == 1 and "unreachable" in (row.last_error or "")
    await world.sink.start(port)
    assert await world.worker.run_once() == 0          # not due yet
    world.tick(minutes=5)
    assert await world.worker.run_once() == 1
    world.tick(hours=2)
    assert await world.worker.run_once() == 0
    assert len(world.sink.messages) == 1
