"""Filing, threading, acknowledgments, duplicates and SMTP answers through the real server."""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest
from sqlalchemy import text

from bot.ports import IncomingMessage
from channels.email.parse import parse_bytes, pqr_type_from_subject, to_incoming
from domain.pqr_types import Status
from storage.ports import PqrFilter
from tests.channels.email.conftest import MailWorld, mail, wait_until

RAD1 = "PQR-2026-000001"


async def test_files_a_pqr_and_the_acknowledgment_reaches_the_relay(any_world: MailWorld) -> None:
    code, answer = await any_world.send(mail())
    assert code == 250 and (await any_world.last()).radicado == RAD1
    pqr = await any_world.pqr(RAD1)
    assert pqr.type.value == "queja" and pqr.channel == "email"
    assert pqr.customer.email == "ana@cliente.co" and pqr.customer.name == "Ana Pérez"
    assert pqr.messages[0].external_id == "<m1@cliente.co>"
    [ack] = await any_world.delivered()
    assert f"[{RAD1}]" in ack["Subject"] and ack["To"] == "ana@cliente.co"
    assert ack["From"] == "pqr@pqr.example.co" and ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<m1@cliente.co>"
    assert RAD1 in ack.get_content()


async def test_answers_join_by_tag_by_reply_to_the_ack_and_by_references(any_world: MailWorld) -> None:
    await any_world.send(mail())
    [ack] = await any_world.delivered()
    # Reply to the acknowledgment: only In-Reply-To names it (the subject lost its tag).
    code, answer = await any_world.send(mail("Re: su mensaje", "Adjunto más datos.", message_id="<m2@cliente.co>",
                                             headers={"In-Reply-To": ack["Message-ID"]}))
    assert code == 250 and (await any_world.last()).radicado == RAD1
    # Tag in the subject, no headers.
    await any_world.send(mail(f"Otra cosa [{RAD1}]", "Un dato más.", message_id="<m3@cliente.co>"))
    # References naming the customer's first message.
    await any_world.send(mail("sin etiqueta", "Y otro.", message_id="<m4@cliente.co>",
                              headers={"References": "<zzz@elsewhere> <m1@cliente.co>"}))
    pqr = await any_world.pqr(RAD1)
    assert [m.body for m in pqr.messages if m.direction.value == "in"] == [
        "Me cobraron dos veces la factura.", "Adjunto más datos.", "Un dato más.", "Y otro."]
    assert await any_world.counts() == {"filed": 1, "joined": 3}


async def test_reply_from_staff_threads_back(world: MailWorld) -> None:
    await world.send(mail())
    await world.app.service.reply(RAD1, "Ya revisamos su caso.", actor="slack:U0STAFF", now=world.now[0])
    sent = await world.delivered()
    reply = sent[-1]
    pqr = await world.pqr(RAD1)
    out = [m for m in pqr.messages if m.direction.value == "out"]
    assert out[0].external_id == reply["Message-ID"]            # what is stored is what was sent
    assert reply["Auto-Submitted"] is None and f"[{RAD1}]" in reply["Subject"]
    await world.send(mail("Re: respuesta", "Gracias.", message_id="<m9@cliente.co>",
                          headers={"In-Reply-To": reply["Message-ID"]}))
    assert len((await world.pqr(RAD1)).messages) == 3


@pytest.mark.parametrize("body, expected", [
    ("Sigo sin respuesta.\n\nEl lun, 2 mar 2026 a las 10:00, PQR <pqr@pqr.example.co> escribió:\n> Hemos recibido su queja\n",
     "Sigo sin respuesta."),
    ("Sigo sin respuesta.\n\nEl lun, 2 mar 2026 a las 10:00, Atención PQR <\npqr@pqr.example.co> escribió:\n> Hemos recibido\n",
     "Sigo sin respuesta."),
    ("Sigo sin respuesta.\n\nDe: PQR <pqr@pqr.example.co>\nEnviado: lunes, 2 de marzo de 2026 10:00\n"
     "Para: Ana <ana@cliente.co>\nAsunto: [PQR-2026-000001] Hemos recibido su Queja\n\nHemos recibido su queja\n",
     "Sigo sin respuesta."),
    ("Still waiting.\n\nOn Mon, Mar 2, 2026 at 10:00 AM PQR <pqr@pqr.example.co> wrote:\n> We received your complaint\n",
     "Still waiting."),
])
async def test_quoted_text_is_stripped(world: MailWorld, body: str, expected: str) -> None:
    await world.send(mail())
    await world.send(mail(f"Re: [{RAD1}] Hemos recibido", body, message_id="<r@cliente.co>"))
    assert (await world.pqr(RAD1)).messages[-1].body == expected


async def test_a_resend_with_the_same_message_id_files_nothing_new(world: MailWorld) -> None:
    assert (await world.send(mail()))[0] == 250
    code, answer = await world.send(mail())
    assert code == 250 and (await world.last()).status == "duplicate"
    assert await world.app.service.count(PqrFilter(statuses=())) == 1
    assert await world.counts() == {"filed": 1, "duplicate": 1}


async def test_a_closed_pqr_reopens_when_the_customer_writes(world: MailWorld) -> None:
    await world.send(mail())
    await world.app.service.close(RAD1, "Resuelto.", actor="slack:U0STAFF", now=world.now[0])
    world.tick(days=3)
    await world.send(mail(f"Re: [{RAD1}] Respuesta final", "No está resuelto.", message_id="<m5@cliente.co>"))
    pqr = await world.pqr(RAD1)
    assert pqr.status is Status.REABIERTA and pqr.messages[-1].body == "No está resuelto."


async def test_recipients_outside_our_domains_get_550(world: MailWorld) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as err:
        await world.send(mail(), to=("alguien@otro.co",))
    assert err.value.recipients[0].code == 550
    assert await world.counts() == {}


async def test_too_big_gets_552(world: MailWorld) -> None:
    big = mail(body=("x" * 70 + "\n") * 160_000)     # > 10 MiB default
    with pytest.raises(aiosmtplib.SMTPResponseException) as err:
        await world.send(big)
    assert err.value.code == 552
    assert (await world.send(mail()))[0] == 250        # still serving


async def test_storage_failure_answers_451_and_the_retry_succeeds(world: MailWorld) -> None:
    async with world.app.db.uow() as uow:
        await uow.connection.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
        await uow.commit()
    with pytest.raises(aiosmtplib.SMTPResponseException) as err:
        await world.send(mail())
    assert err.value.code == 451 and "Traceback" not in err.value.message
    async with world.app.db.uow() as uow:
        await uow.connection.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
        await uow.commit()
    code, answer = await world.send(mail())              # nothing of the failed try was kept
    assert code == 250 and (await world.last()).radicado == RAD1


async def test_concurrent_sessions_share_commits(world: MailWorld) -> None:
    results = await asyncio.gather(*[
        world.send(mail(f"Queja {i}", "texto", sender=f"c{i}@cliente.co", message_id=f"<c{i}@cliente.co>"),
                   mail_from=f"c{i}@cliente.co") for i in range(20)])
    assert all(code == 250 for code, _ in results)
    await wait_until(lambda: _count_is(world, 20))
    assert world.channel.inbox.committer.batches < 20


async def _count_is(world: MailWorld, n: int) -> bool:
    return (await world.counts()).get("filed") == n


def _incoming(world: MailWorld, raw: str) -> IncomingMessage:
    data = raw.encode("utf-8")
    return to_incoming(parse_bytes(data), data, mail_from=None, received_at=world.now[0])


async def test_a_batch_files_like_one_by_one(any_world: MailWorld) -> None:
    intake = any_world.intake
    await any_world.send(mail())                                            # PQR 1, filed alone
    batch = [
        mail("Queja uno", "uno", sender="Bea <bea@cliente.co>", message_id="<b1@cliente.co>"),
        mail("Reclamo dos", "dos", sender="Ana <ana@cliente.co>", message_id="<a2@cliente.co>"),
        mail("Queja tres", "tres", sender="Bea B <bea@cliente.co>", message_id="<b3@cliente.co>"),
        mail("Queja uno", "uno", sender="Bea <bea@cliente.co>", message_id="<b1@cliente.co>"),  # resent
        mail(f"Dato [{RAD1}]", "más datos", message_id="<a5@cliente.co>"),  # joins PQR 1
        mail("Queja cuatro", "cuatro", sender="Cris <cris@cliente.co>", message_id="<c6@cliente.co>"),
    ]
    msgs = [_incoming(any_world, m) for m in batch]
    results = await asyncio.gather(*(intake.receive(m, pqr_type=pqr_type_from_subject(m.subject))
                                     for m in msgs))                       # queued together: one batch
    assert [r.disposition for r in results] == ["filed", "filed", "filed", "duplicate", "joined", "filed"]
    assert [r.radicado for r in results if r.disposition == "filed"] == [
        "PQR-2026-000002", "PQR-2026-000003", "PQR-2026-000004", "PQR-2026-000005"]
    assert intake.committer.bulk_items == 4 and intake.committer.bulk_failures == 0
    pqrs = [await any_world.pqr(f"PQR-2026-00000{n}") for n in range(1, 6)]
    assert pqrs[2].customer.id == pqrs[0].customer.id                    # Ana, stored before
    assert pqrs[1].customer.id == pqrs[3].customer.id != pqrs[0].customer.id   # Bea, new, twice
    assert pqrs[1].customer.name == pqrs[3].customer.name == "Bea"
    assert pqrs[2].type.value == "reclamo" and pqrs[2].status is Status.RADICADA
    assert [m.body for m in pqrs[0].messages] == ["Me cobraron dos veces la factura.", "más datos"]
    assert pqrs[1].messages[0].external_id == "<b1@cliente.co>"
    assert await any_world.counts() == {"filed": 5, "duplicate": 1, "joined": 1}
    acks = await any_world.delivered()
    assert sorted(a["To"] for a in acks) == sorted(["ana@cliente.co", "bea@cliente.co", "ana@cliente.co",
                                                    "bea@cliente.co", "cris@cliente.co"])
    async with any_world.app.db.uow(readonly=True) as uow:
        raws = {r.external_id: r for r in await uow.mail.list_raw(disposition="filed")}
    assert raws["<b3@cliente.co>"].pqr_id == pqrs[3].id


async def test_a_bad_message_in_a_batch_fails_alone(world: MailWorld) -> None:
    async with world.app.db.uow() as uow:
        await uow.connection.execute(text(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON pqrs WHEN NEW.subject = 'boom' "
            "BEGIN SELECT RAISE(ABORT, 'boom refused'); END"))
        await uow.commit()
    intake = world.intake
    subjects = ["Queja a", "boom", "Queja b", "Queja c"]
    msgs = [_incoming(world, mail(s, "texto", sender=f"c{i}@cliente.co", message_id=f"<x{i}@cliente.co>"))
            for i, s in enumerate(subjects)]
    results = await asyncio.gather(*(intake.receive(m) for m in msgs), return_exceptions=True)
    assert isinstance(results[1], Exception)
    assert [r.radicado for r in results if not isinstance(r, BaseException)] == [
        "PQR-2026-000001", "PQR-2026-000002", "PQR-2026-000003"]
    assert intake.committer.bulk_failures == 1
    assert await world.counts() == {"filed": 3}
    # The refused message left nothing behind: its retry (trigger gone) is filed.
    async with world.app.db.uow() as uow:
        await uow.connection.execute(text("DROP TRIGGER refuse_boom"))
        await uow.commit()
    code, answer = await world.send(mail("boom", "texto", sender="c1@cliente.co", message_id="<x1@cliente.co>"),
                                    mail_from="c1@cliente.co")
    assert code == 250 and (await world.last()).radicado == "PQR-2026-000004"


async def test_the_acknowledgment_speaks_the_customers_language(world: MailWorld) -> None:
    """Mail clients rarely declare Content-Language: the words of the message decide."""
    await world.send(mail("Complaint about a double charge",
                          "Hello, I was charged twice for my November invoice. Please refund it.",
                          sender="John Smith <john@client.com>", message_id="<en1@client.com>"))
    await world.send(mail("Queja", "Buenos días, me cobraron dos veces la factura de noviembre.",
                          sender="Ana <ana2@cliente.co>", message_id="<es1@cliente.co>"))
    acks = {a["To"]: a for a in await world.delivered()}
    assert "We received your" in acks["john@client.com"].get_content()
    assert "Hemos recibido su" in acks["ana2@cliente.co"].get_content()


async def test_a_follow_up_by_mail_tells_the_assignee(world: MailWorld) -> None:
    """As for Telegram: staff hear of a customer's follow-up, on the assignee's channel."""
    await world.send(mail())
    await world.app.service.assign(RAD1, "email:agente@pqr.example.co", actor="slack:U0STAFF", now=world.now[0])
    code, _ = await world.send(mail(f"Re: [{RAD1}]", "Les envío el extracto del banco.", message_id="<m9@cliente.co>"))
    assert code == 250
    async with world.app.db.uow(readonly=True) as uow:
        notices = [i for i in await uow.outbox.list() if i.payload.get("kind") == "followup"]
    assert [(n.channel, n.destination) for n in notices] == [("email", "agente@pqr.example.co")]
    assert RAD1 in notices[0].payload["text"] and "extracto del banco" in notices[0].payload["text"]
