"""Issue 14's cases, through the real SMTP server on SQLite and PostgreSQL: what a forged header,
a stranger, a forwarded bounce, a reused Message-ID or a backscatter run can no longer do."""

from __future__ import annotations

import aiosmtplib
import pytest

from bot.pqrs.service import INTAKE_ACTOR
from channels.email.adapter import EmailChannel
from bot.bootstrap import inbox_for
from domain.pqr_types import Status
from storage.db import SqlDatabase
from tests.channels.email.conftest import PQR_ADDRESS, MailWorld, mail, make_world

RAD1, RAD2 = "PQR-2026-000001", "PQR-2026-000002"


async def radicado(world: MailWorld) -> str:
    """The radicado the last message sent became (its inbox item's)."""
    found = (await world.last()).radicado
    assert isinstance(found, str), found
    return found


async def notes(world: MailWorld, rad: str) -> list[str]:
    return [m.body for m in (await world.pqr(rad)).messages if m.author == INTAKE_ACTOR]


# -- 1. the acknowledgment goes only where the author wrote from ----------------------------------

@pytest.mark.parametrize(("from_value", "address"), [
    ("=?utf-8?q?Ana=0D=0ABcc:_victim2@evil.example?= <inj2@correo.co>", "inj2@correo.co"),
    ('"victim@evil.example" <real@cliente.co>', "real@cliente.co"),
    ("victim@evil.example <real@cliente.co>", "real@cliente.co"),
    ("real@cliente.co (victim@evil.example)", "real@cliente.co"),
    ("Ana <ana@cliente.co>, Bob <bob@otro.co>", "ana@cliente.co"),
    ("=?utf-8?b?dmljdGltQGV2aWwuZXhhbXBsZQ==?=", "env@cliente.co"),     # no address part: the envelope
])
async def test_the_address_comes_from_the_address_part_only(any_world: MailWorld, from_value: str,
                                                            address: str) -> None:
    code, answer = await any_world.send(mail(sender=from_value), mail_from="env@cliente.co")
    assert code == 250
    pqr = await any_world.pqr(await radicado(any_world))
    assert pqr.customer.email == address
    [ack] = await any_world.delivered()
    assert ack["To"] == address
    assert all("victim" not in r for e in any_world.sink.messages for r in e.rcpt_tos)


# -- 2. strangers do not join other customers' PQRs ----------------------------------------------

async def test_a_stranger_naming_a_radicado_files_a_new_pqr_that_names_it(any_world: MailWorld) -> None:
    await any_world.send(mail())
    await any_world.delivered()
    code, answer = await any_world.send(
        mail(f"Re: [{RAD1}] más datos", "Soy otra persona", sender="Eve <eve@evil.co>",
             message_id="<e1@evil.co>"), mail_from="eve@evil.co")
    assert await radicado(any_world) == RAD2
    first, second = await any_world.pqr(RAD1), await any_world.pqr(RAD2)
    assert [m.body for m in first.messages if m.author != INTAKE_ACTOR] == ["Me cobraron dos veces la factura."]
    assert second.customer.email == "eve@evil.co"
    assert any(RAD1 in n and "eve@evil.co" in n for n in await notes(any_world, RAD2))
    assert any(RAD2 in n and "eve@evil.co" in n for n in await notes(any_world, RAD1))
    assert not [i for i in await any_world.outbox() if i.payload.get("kind") == "followup"]
    sent = await any_world.delivered()
    assert [a["To"] for a in sent] == ["eve@evil.co"] and RAD2 in sent[0]["Subject"]


async def test_a_stranger_does_not_reopen_a_closed_pqr(any_world: MailWorld) -> None:
    await any_world.send(mail())
    await any_world.app.service.close(RAD1, "Resuelto", actor="slack:U0STAFF", now=any_world.now[0])
    code, answer = await any_world.send(mail(f"[{RAD1}] reabran", sender="eve@evil.co", message_id="<e2@evil.co>"),
                                        mail_from="eve@evil.co")
    assert await radicado(any_world) == RAD2
    assert (await any_world.pqr(RAD1)).status is Status.CERRADA


async def test_a_header_joins_only_by_a_whole_id_we_stored(any_world: MailWorld) -> None:
    await any_world.send(mail(message_id="<orig@cliente.co>"))
    [ack] = await any_world.delivered()
    guess = f"<{RAD1}.0@pqr.example.co>"         # our format, but never sent
    for n, sender in enumerate(("eve@evil.co", "ana@cliente.co")):
        code, answer = await any_world.send(
            mail("hola", "¿qué pasó?", sender=sender, message_id=f"<g{n}@x.co>", headers={"In-Reply-To": guess}),
            mail_from=sender)
        assert await radicado(any_world) != RAD1, sender
    code, answer = await any_world.send(
        mail("Re: acuse", "Respondo al acuse", message_id="<r1@cliente.co>", headers={"In-Reply-To": ack["Message-ID"]}))
    assert await radicado(any_world) == RAD1                 # the acknowledgment's own id: the customer joins
    code, answer = await any_world.send(
        mail("Re: acuse", "yo también", sender="eve@evil.co", message_id="<r2@evil.co>",
             headers={"In-Reply-To": ack["Message-ID"]}), mail_from="eve@evil.co")
    assert await radicado(any_world) != RAD1                 # …and a stranger who got hold of it does not
    pqr = await any_world.pqr(RAD1)
    assert [m.body for m in pqr.messages if m.author != INTAKE_ACTOR] == [
        "Me cobraron dos veces la factura.", "Respondo al acuse"]


async def test_the_customer_still_joins_by_tag_and_reopens(any_world: MailWorld) -> None:
    await any_world.send(mail())
    await any_world.app.service.close(RAD1, "Resuelto", actor="slack:U0STAFF", now=any_world.now[0])
    code, answer = await any_world.send(mail(f"Re: [{RAD1}] sigue mal", "Sigue igual", sender="ANA@Cliente.co",
                                             message_id="<a2@cliente.co>"))
    assert await radicado(any_world) == RAD1
    assert (await any_world.pqr(RAD1)).status is Status.REABIERTA


# -- 3. forwarded bounces and auto-replies are kept aside ---------------------------------------

BOUNCES = {
    "mailer-daemon": {"sender": "Mail Delivery Subsystem <mailer-daemon@mx.otro.co>",
                      "subject": "Delivery Status Notification (Failure)"},
    "X-Failed-Recipients": {"sender": "mx@otro.co", "headers": {"X-Failed-Recipients": "x@y.co"}},
    "Return-Path <>": {"sender": "alguien@otro.co", "headers": {"Return-Path": "<>"}},
    "postmaster, Undeliverable": {"sender": "postmaster@otro.co", "subject": "Undeliverable: Queja"},
    "qmail failure notice": {"sender": "MAILER-DAEMON@mx.otro.co", "subject": "failure notice"},
    "Precedence auto_reply": {"sender": "a@otro.co", "headers": {"Precedence": "auto_reply"}},
    "X-Autoreply-From": {"sender": "a@otro.co", "headers": {"X-Autoreply-From": "a@otro.co"}},
    "X-Autorespond": {"sender": "a@otro.co", "headers": {"X-Autorespond": "yes"}},
    "out-of-office subject": {"sender": "a@otro.co", "subject": "Respuesta automática: Queja"},
}


@pytest.mark.parametrize("kind", sorted(BOUNCES))
async def test_a_forwarded_bounce_is_kept_aside_and_reopens_nothing(any_world: MailWorld, kind: str) -> None:
    await any_world.send(mail())
    await any_world.app.service.close(RAD1, "Resuelto", actor="slack:U0STAFF", now=any_world.now[0])
    await any_world.delivered()
    spec = dict(BOUNCES[kind])
    spec["subject"] = f"{spec.get('subject', 'Fuera de la oficina')} [{RAD1}]"
    code, answer = await any_world.send(mail(message_id="<bounce@otro.co>", **spec),  # type: ignore[arg-type]
                                        mail_from="buzon@empresa.co")   # forwarded: not a null sender
    assert code == 250 and (await any_world.last()).status == "kept_aside"
    [kept] = await any_world.raws("kept_aside")
    assert kept.reason
    assert (await any_world.pqr(RAD1)).status is Status.CERRADA
    assert await any_world.delivered() == []


async def test_a_person_writing_from_postmaster_still_files(any_world: MailWorld) -> None:
    code, answer = await any_world.send(mail("Queja por el servicio", sender="postmaster@otro.co"),
                                        mail_from="postmaster@otro.co")
    assert ((await any_world.last()).radicado or "").startswith("PQR-")


# -- 4. a reused Message-ID is a new message unless sender and content match -------------------

async def test_a_reused_message_id_is_a_duplicate_only_when_it_is_a_resend(any_world: MailWorld) -> None:
    first = mail(body="primero", sender="ana@cliente.co", message_id="<1@localhost>")
    await any_world.send(first)
    assert await radicado(any_world) == RAD1
    other = mail(body="segundo, distinto", sender="bob@otro.co", message_id="<1@localhost>")
    await any_world.send(other, mail_from="bob@otro.co")
    assert await radicado(any_world) == RAD2
    changed = mail(body="tercero", sender="ana@cliente.co", message_id="<1@localhost>")
    await any_world.send(changed)
    assert await radicado(any_world) == "PQR-2026-000003"
    await any_world.send(first)
    assert (await any_world.last()).status == "duplicate"          # the same mail again
    assert await any_world.counts() == {"filed": 3, "duplicate": 1}


# -- 5. backscatter: acknowledgments are limited per client, envelope sender and author ---------

SLACK_ON = {"channels": {"slack": {"enabled": True, "triage_channel": "C0TRIAGE"}}}


async def _flood(world: MailWorld, n: int, *, envelope: str = "spammer@evil.co", start: int = 0) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=world.port, timeout=30) as smtp:
        for i in range(start, start + n):
            raw = mail(sender=f"victim{i}@third{i}.co", message_id=f"<s{i}@evil.co>")
            await smtp.sendmail(envelope, [PQR_ADDRESS], raw.encode())
    await world.settle()


async def test_a_backscatter_run_files_everything_and_acknowledges_up_to_the_limit(database: SqlDatabase) -> None:
    async for world in make_world(database, config=SLACK_ON):
        await _flood(world, 30)
        assert await world.counts() == {"filed": 30}
        acks = await world.delivered()
        assert len(acks) == 20                          # rate_limit.max_messages: 20 an hour
        assert {a["To"] for a in acks} == {f"victim{i}@third{i}.co" for i in range(20)}
        withheld = await notes(world, "PQR-2026-000021")
        assert any("client:127.0.0.1" in n for n in withheld)
        alerts = [i for i in await world.outbox("slack") if i.payload.get("kind") == "alert"]
        keys = ("client:127.0.0.1", "envelope:spammer@evil.co")
        assert sorted(k for a in alerts for k in keys if k in a.payload["text"]) == list(keys)  # once per key
        world.tick(minutes=61)                         # the window has passed: acknowledged again
        await _flood(world, 1, start=30)
        assert len(await world.delivered()) == 1


async def test_the_limit_holds_across_instances(database: SqlDatabase) -> None:
    async for world in make_world(database):
        other = EmailChannel(world.app.config.channels.email, inbox_for(world.app), world.app.clock)
        await other.start()
        try:
            await _flood(world, 12)
            assert other.address is not None
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=other.address[1], timeout=30) as smtp:
                for i in range(12, 24):
                    raw = mail(sender=f"victim{i}@third{i}.co", message_id=f"<s{i}@evil.co>")
                    await smtp.sendmail("spammer@evil.co", [PQR_ADDRESS], raw.encode())
            await world.settle()
        finally:
            await other.stop()
        assert await world.counts() == {"filed": 24}
        assert len(await world.delivered()) == 20


async def test_the_company_relay_is_not_one_client(database: SqlDatabase) -> None:
    """Behind the company's mail server every message comes from its address: exempt, only the
    envelope sender and the author are counted."""
    async for world in make_world(database, rate_limit={"exempt_clients": ["127.0.0.0/8"]}):
        for i in range(25):
            await world.send(mail(sender=f"c{i}@cliente.co", message_id=f"<c{i}@cliente.co>"),
                             mail_from=f"c{i}@cliente.co")
        assert len(await world.delivered()) == 25


# -- DMARC, as the trusted relay saw it ------------------------------------------------------------

def _results(authserv: str, dmarc: str) -> dict[str, str]:
    return {"Authentication-Results": f"{authserv}; spf=pass smtp.mailfrom=cliente.co; "
                                      f"dmarc={dmarc} (p=reject) header.from=cliente.co"}


@pytest.mark.parametrize(("authserv", "dmarc", "acknowledged"), [
    ("mx.empresa.co", "fail", False),
    ("MX.Empresa.co", "fail", False),
    ("mx.empresa.co", "pass", True),
    ("mx.evil.co", "fail", True),            # not the trusted server: says nothing
    ("mx.empresa.co", "none", True),
])
async def test_no_acknowledgment_when_the_trusted_relay_says_dmarc_failed(
        database: SqlDatabase, authserv: str, dmarc: str, acknowledged: bool) -> None:
    async for world in make_world(database, trusted_authserv_id="mx.empresa.co"):
        code, answer = await world.send(mail(headers=_results(authserv, dmarc)))
        assert await radicado(world) == RAD1
        assert len(await world.delivered()) == (1 if acknowledged else 0)
        assert any("DMARC" in n for n in await notes(world, RAD1)) is not acknowledged


async def test_a_forged_customer_address_does_not_join_their_pqr(database: SqlDatabase) -> None:
    async for world in make_world(database, trusted_authserv_id="mx.empresa.co"):
        await world.send(mail(headers=_results("mx.empresa.co", "pass")))
        code, answer = await world.send(mail(f"Re: [{RAD1}] cierren", "cierren el caso", message_id="<f@x.co>",
                                             headers=_results("mx.empresa.co", "fail")))
        assert await radicado(world) == RAD2
        assert len((await world.pqr(RAD1)).messages) == 2      # the message and the note naming RAD2
