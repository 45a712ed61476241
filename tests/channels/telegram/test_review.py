"""Answer approval by a manager on Telegram, end to end through the real `Application` and the
fake Bot API: a Telegram staff member's close on a PQR the policy covers waits en_revision, the
outbox worker delivers the manager's card with its inline keyboard, Aprobar as Telegram sends the
press → the customer's Telegram chat gets the answer, the PQR closes and the card is redrawn with
the decision; Devolver → the manager's next message is the comment → en_tramite, the drafter told
in their chat; a second press, a stale card and non-managers refused with a clear text."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.bootstrap import build, telegram_channel
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from domain.events import Event
from domain.pqr_types import Status
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.channels.telegram.conftest import MANAGER, SECRET, Clock, Harness
from tests.channels.telegram.helpers import file_pqr
from tests.fakes import telegram_updates as tu
from tests.fakes.telegram_api import FakeTelegram

STAFF_TG, CUSTOMER = 2002, 5555
DRAFT = "Le reintegramos <b>el cobro</b> & más"


class ReviewHarness(Harness):
    """The Telegram channel with a Telegram staff member, a Telegram manager, and answers to
    quejas approved by a manager (`approval`); `extra` is more config (e.g. `templates`)."""

    def __init__(self, db: SqlDatabase, fake: FakeTelegram, clock: Clock, mode: str = "polling",
                 **extra: Any) -> None:
        self.db, self.fake, self.clock, self.mode = db, fake, clock, mode
        self.app = build(parse_config({
            "language": "es",
            "roles": {"staff": [f"telegram:{STAFF_TG}"], "managers": [f"telegram:{MANAGER}"]},
            "channels": {"console": {"enabled": False}, "email": {"enabled": False}, "slack": {"enabled": False},
                         "telegram": {"enabled": True, "mode": mode, "base_url": fake.base_url,
                                      "webhook": {"host": "127.0.0.1", "port": 0, "path": "/telegram"}}},
            "approval": {"types": ["queja"]},
            **extra,
        }), db=db, clock=clock)
        self.channel = telegram_channel(self.app, token=fake.token, webhook_secret=SECRET if mode == "webhook" else None,
                                       poll_timeout=5, sweep_every=3600)

    async def flush(self) -> int:
        """Deliver the outbox through the real adapter."""
        return await OutboxWorker(self.app.db, {"telegram": self.channel}, self.clock).run_once()

    async def drafted(self, text: str = DRAFT) -> tuple[str, dict[str, Any]]:
        """A customer's queja closed by staff (so waiting en_revision) and the manager's card (a copy)."""
        rad = await file_pqr(self, CUSTOMER, files=False, email=None)
        reply = await self.app.commands.handle(f"telegram:{STAFF_TG}", f"close {rad} {text}", self.clock())
        assert "en revisión" in reply.text, reply.text
        return rad, await self.card()

    async def card(self) -> dict[str, Any]:
        await self.flush()
        cards = [m for (chat, _), m in self.fake.sent.items() if chat == MANAGER and "reply_markup" in m]
        assert cards, self.fake.calls_to("sendMessage")
        return copy.deepcopy(max(cards, key=lambda m: m["message_id"]))

    def answers(self) -> list[dict[str, Any]]:
        return self.fake.calls_to("answerCallbackQuery")

    async def outbox(self, kind: str) -> list[OutboxItem]:
        async with self.app.db.uow(readonly=True) as uow:
            return [r for r in await uow.outbox.list(limit=500) if r.payload.get("kind") == kind]

    async def refusals(self, actor: str) -> list[Event]:
        async with self.app.db.uow(readonly=True) as uow:
            return [e for e in await uow.audit.list(kind="refused", limit=500) if e.actor == actor]


@pytest.fixture(params=["polling", "webhook"])
async def any_mode(request: pytest.FixtureRequest, sqlite_database: SqlDatabase, fake: FakeTelegram,
                   clock: Clock) -> AsyncIterator[ReviewHarness]:
    h = ReviewHarness(sqlite_database, fake, clock, request.param)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
async def h(sqlite_database: SqlDatabase, fake: FakeTelegram, clock: Clock) -> AsyncIterator[ReviewHarness]:
    harness = ReviewHarness(sqlite_database, fake, clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def alerted(answer: dict[str, Any]) -> bool:
    return answer.get("show_alert") in (True, "true", "True")


async def test_approve_sends_the_answer_to_the_customer_closes_and_redraws_the_card(any_mode: ReviewHarness) -> None:
    h = any_mode
    rad, card = await h.drafted()
    filed = h.last_text(CUSTOMER)
    for shown in (f"Respuesta por aprobar: {rad}", "Le reintegramos &lt;b&gt;el cobro&lt;/b&gt; &amp; más",
                  f"telegram:{STAFF_TG}", "Queja"):
        assert shown in card["text"], shown
    assert "<b>el cobro</b>" not in card["text"]                          # customer-facing text escaped
    assert tu.buttons(card) == {"Aprobar": f"m:answer_approve:{rad}:1", "Devolver": f"m:answer_return:{rad}:1"}
    assert h.last_text(CUSTOMER) == filed and await h.outbox("closing") == []   # nothing sent yet

    await h.press(MANAGER, "Aprobar", on=card)
    assert "aprobada y enviada" in h.answers()[-1]["text"]
    pqr = await h.app.service.show(rad)
    assert pqr.status is Status.CERRADA
    assert (pqr.events[-1].data["drafter"], pqr.events[-1].data["approver"]) == (f"telegram:{STAFF_TG}",
                                                                                   f"telegram:{MANAGER}")
    redrawn = h.fake.sent[(MANAGER, card["message_id"])]
    assert "reply_markup" not in redrawn                                    # the keyboard is gone
    assert f"Aprobada por telegram:{MANAGER}" in redrawn["text"]            # and the decision shown
    assert "Le reintegramos &lt;b&gt;el cobro" in redrawn["text"]           # the draft still readable

    await h.flush()
    assert "Le reintegramos &lt;b&gt;el cobro&lt;/b&gt; &amp; más" in h.last_text(CUSTOMER)

    await h.press(MANAGER, "Aprobar", on=card)                              # the old keyboard, pressed again
    again = h.answers()[-1]
    assert f"ya fue aprobada por telegram:{MANAGER}" in again["text"] and alerted(again)
    assert len(await h.outbox("closing")) == 1


async def test_return_takes_the_next_message_as_the_comment_and_tells_the_drafter(h: ReviewHarness) -> None:
    rad, card = await h.drafted()
    await h.press(MANAGER, "Devolver", on=card)
    assert h.answers()[-1]["text"] == "Escriba el comentario."
    assert f"quien redactó la respuesta de {rad}" in h.last_text(MANAGER)
    assert (await h.app.service.show(rad)).status is Status.EN_REVISION

    await h.say(MANAGER, "Falta el <valor> exacto")
    pqr = await h.app.service.show(rad)
    assert pqr.status is Status.EN_TRAMITE and pqr.events[-1].reason == "Falta el <valor> exacto"
    assert "devuelta" in h.last_text(MANAGER)
    redrawn = h.fake.sent[(MANAGER, card["message_id"])]
    assert "reply_markup" not in redrawn
    assert f"Devuelta por telegram:{MANAGER}: Falta el &lt;valor&gt; exacto" in redrawn["text"]

    await h.flush()
    told = h.last_text(STAFF_TG)
    assert rad in told and "Falta el &lt;valor&gt; exacto" in told
    assert await h.outbox("closing") == []                                  # the customer got nothing
    await h.say(MANAGER, "hola")                                            # no comment awaited any more
    assert (await h.app.service.show(rad)).events[-1].reason == "Falta el <valor> exacto"


async def test_a_stale_card_is_refused_and_the_new_one_decides(h: ReviewHarness) -> None:
    rad, first = await h.drafted()
    await h.press(MANAGER, "Devolver", on=first)
    await h.say(MANAGER, "Cite la norma")
    await h.app.commands.handle(f"telegram:{STAFF_TG}", f"close {rad} Segunda versión", h.clock())
    second = await h.card()
    assert second["message_id"] != first["message_id"]
    assert tu.buttons(second)["Aprobar"] == f"m:answer_approve:{rad}:2"

    await h.deliver(tu.callback(MANAGER, f"m:answer_approve:{rad}:1", first))   # the first card, kept
    stale = h.answers()[-1]
    assert "respuesta anterior" in stale["text"] and alerted(stale)
    assert (await h.app.service.show(rad)).status is Status.EN_REVISION
    await h.deliver(tu.callback(MANAGER, f"m:answer_return:{rad}:1", first))
    assert "respuesta anterior" in h.answers()[-1]["text"]
    async with h.app.db.uow(readonly=True) as uow:                          # and no comment is awaited
        conv = await uow.telegram.conversation(MANAGER)
    assert conv is None or conv.step != "answer_comment"

    await h.press(MANAGER, "Aprobar", on=second)
    assert (await h.app.service.show(rad)).status is Status.CERRADA
    await h.flush()
    assert "Segunda versión" in h.last_text(CUSTOMER)


@pytest.mark.parametrize("who", [STAFF_TG, CUSTOMER])
async def test_staff_and_customers_cannot_decide_and_it_is_recorded(h: ReviewHarness, who: int) -> None:
    rad, card = await h.drafted()
    sends = len(h.fake.calls_to("sendMessage"))
    await h.deliver(tu.callback(who, f"m:answer_approve:{rad}:1", card))
    await h.deliver(tu.callback(who, f"m:answer_return:{rad}:1", card))
    refused = h.answers()[-2:]
    assert all("solo para gerentes" in a["text"] and alerted(a) for a in refused)
    assert len(h.fake.calls_to("sendMessage")) == sends                    # no comment asked
    assert (await h.app.service.show(rad)).status is Status.EN_REVISION
    assert "reply_markup" in h.fake.sent[(MANAGER, card["message_id"])]   # the manager's card still works
    assert sorted((e.data["action"], e.reason) for e in await h.refusals(f"telegram:{who}")) == [
        ("manager:answer_approve", "not_manager"), ("manager:answer_return", "not_manager")]
