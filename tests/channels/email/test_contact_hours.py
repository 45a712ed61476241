"""Contact hours (Ley 2300 de 2023, art. 3) through the real outbox worker, the real email
channel and the SMTP sink, with the clock moved (never slept): a survey goes inside Monday–Friday
07:00–19:00 or Saturday 08:00–15:00, never on a Sunday or a holiday, at most one a day per
contact; answers to the customer's own PQR and messages to staff go at once. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest

from bot.ports.payloads import Alert
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.channels.email.conftest import MailWorld, mail, make_world
from tests.unsolicited import survey

BOGOTA = ZoneInfo("America/Bogota")
ANA, BETO = "ana@cliente.co", "beto@cliente.co"


def bog(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=BOGOTA)


@pytest.fixture
async def world(database: SqlDatabase) -> AsyncIterator[MailWorld]:
    async for w in make_world(database, address="pqr@pqr.example.co"):
        yield w


async def queue(world: MailWorld, at: dt.datetime, payload: dict[str, object] | None = None,
                to: str = ANA) -> OutboxItem:
    """Queue a survey (or `payload`) to `to` at `at`, with the clock at `at`."""
    world.now[0] = at
    item = OutboxItem(channel="email", destination=to, payload=payload or survey())
    async with world.app.db.uow() as uow:
        await uow.outbox.put(item, now=at)
        await uow.commit()
    return item


async def at(world: MailWorld, when: dt.datetime) -> list[str]:
    """Move the clock to `when`, run the worker once; (To, Subject) of what the relay took."""
    world.now[0] = when
    return [f"{m['To']}: {m['Subject']}" for m in await world.delivered()]


async def row(world: MailWorld, item: OutboxItem) -> OutboxItem:
    found: list[OutboxItem] = [r for r in await world.outbox() if r.id == item.id]
    return found[0]


SURVEY = "¿Cómo lo atendimos?"


async def test_a_survey_queued_on_friday_at_1850_goes_at_once(world: MailWorld) -> None:
    item = await queue(world, bog(2026, 3, 20, 18, 50))
    assert item.next_attempt_at == bog(2026, 3, 20, 18, 50)
    assert await at(world, bog(2026, 3, 20, 18, 50)) == [f"{ANA}: {SURVEY}"]
    sent = await row(world, item)
    assert sent.status == "sent" and sent.sent_at == bog(2026, 3, 20, 18, 50) and sent.attempts == 0


async def test_one_queued_on_friday_at_1910_waits_until_saturday_0800(world: MailWorld) -> None:
    item = await queue(world, bog(2026, 3, 20, 19, 10))
    assert item.next_attempt_at == bog(2026, 3, 21, 8)
    for when in (bog(2026, 3, 20, 19, 10), bog(2026, 3, 20, 23, 59), bog(2026, 3, 21, 7, 59, 59)):
        assert await at(world, when) == []
    assert await at(world, bog(2026, 3, 21, 8)) == [f"{ANA}: {SURVEY}"]
    sent = await row(world, item)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 0, None)


async def test_one_queued_on_saturday_at_1530_waits_until_monday_0700(world: MailWorld) -> None:
    item = await queue(world, bog(2026, 3, 14, 15, 30))
    assert item.next_attempt_at == bog(2026, 3, 16, 7)
    for when in (bog(2026, 3, 14, 15, 30), bog(2026, 3, 15, 10), bog(2026, 3, 16, 6, 59)):
        assert await at(world, when) == []
    assert await at(world, bog(2026, 3, 16, 7)) == [f"{ANA}: {SURVEY}"]


async def test_past_a_holiday_monday_it_waits_until_tuesday_0700(world: MailWorld) -> None:
    item = await queue(world, bog(2026, 3, 21, 15, 30))      # 2026-03-23 is San José's holiday Monday
    assert item.next_attempt_at == bog(2026, 3, 24, 7)
    for when in (bog(2026, 3, 22, 12), bog(2026, 3, 23, 7), bog(2026, 3, 23, 12), bog(2026, 3, 24, 6, 59, 59)):
        assert await at(world, when) == []
    assert await at(world, bog(2026, 3, 24, 7)) == [f"{ANA}: {SURVEY}"]
    assert (await row(world, item)).attempts == 0


async def test_a_contact_gets_at_most_one_a_day_the_next_at_the_next_opening(world: MailWorld) -> None:
    first = await queue(world, bog(2026, 3, 17, 10))                          # a Tuesday
    assert await at(world, bog(2026, 3, 17, 10)) == [f"{ANA}: {SURVEY}"]
    second = await queue(world, bog(2026, 3, 17, 11), survey("Segunda encuesta"))
    other = await queue(world, bog(2026, 3, 17, 11), to=BETO)                  # another contact: today
    third = await queue(world, bog(2026, 3, 17, 12), survey("Tercera encuesta"))
    assert second.next_attempt_at == bog(2026, 3, 18, 7)
    assert third.next_attempt_at == bog(2026, 3, 19, 7)                        # Wednesday is taken too
    assert other.next_attempt_at == bog(2026, 3, 17, 11)
    assert await at(world, bog(2026, 3, 17, 12)) == [f"{BETO}: {SURVEY}"]
    assert await at(world, bog(2026, 3, 17, 18, 59)) == []
    assert await at(world, bog(2026, 3, 18, 7)) == [f"{ANA}: Segunda encuesta"]
    assert await at(world, bog(2026, 3, 18, 15)) == []
    assert await at(world, bog(2026, 3, 19, 7)) == [f"{ANA}: Tercera encuesta"]
    rows = [await row(world, i) for i in (first, second, third, other)]
    assert [r.status for r in rows] == ["sent"] * 4 and all(r.attempts == 0 for r in rows)


async def test_an_answer_to_the_customers_own_pqr_on_saturday_at_1600_goes_at_once(world: MailWorld) -> None:
    held = await queue(world, bog(2026, 3, 14, 15, 30))                        # waits for Monday
    world.now[0] = bog(2026, 3, 14, 16)
    await world.send(mail(sender=f"Ana Pérez <{ANA}>"))
    (ack,) = await world.delivered()                                            # the acknowledgment
    assert str(ack["To"]) == ANA and "PQR-2026-" in str(ack["Subject"])
    radicado = (await world.last()).radicado
    assert radicado and radicado in str(ack["Subject"])
    await world.app.service.reply(radicado, "Ya revisamos su factura.", actor="slack:U0STAFF",
                                  now=bog(2026, 3, 14, 16))
    (answer,) = await world.delivered()
    body = answer.get_body(preferencelist=("plain",))
    assert str(answer["To"]) == ANA and body is not None and "Ya revisamos su factura." in body.get_content()
    # The answers took no contact day: the survey still goes on Monday at the opening.
    assert (await row(world, held)).next_attempt_at == bog(2026, 3, 16, 7)
    assert await at(world, bog(2026, 3, 16, 7)) == [f"{ANA}: {SURVEY}"]


async def test_messages_to_staff_are_never_held(world: MailWorld) -> None:
    sunday = bog(2026, 3, 22, 22)
    for n in range(2):
        item = await queue(world, sunday, Alert(text=f"Alerta {n}").stored(), to="gerencia@empresa.co")
        assert item.next_attempt_at == sunday
    assert len(await at(world, sunday)) == 2
