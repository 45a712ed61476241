"""Penalty decisions by a manager on Telegram, end to end through the real `Application` and the
fake Bot API: the decision request delivered by the outbox worker as a card with an inline
keyboard, presses as Telegram sends them (callback_query updates), the reason as the manager's
next message (surviving a restart), the card edited with the outcome; refusals for staff and
customers, double presses, wrong states, /cancelar."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from bot.bootstrap import telegram_channel
from bot.bootstrap import build
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from bot.penalties.service import NewPenalty
from channels.telegram import TelegramChannel
from domain.events import Event
from domain.penalty import PenaltyCategory, PenaltyStatus
from storage.db import SqlDatabase
from tests.channels.telegram.conftest import MANAGER, SECRET, Clock, Harness
from tests.fakes import telegram_updates as tu
from tests.fakes.telegram_api import FakeTelegram

STAFF_TG, CUSTOMER = 2002, 5555
CLIENT = "Acme <S.A.S.> & Cía"


class PenaltyHarness(Harness):
    """The Telegram channel with a Telegram staff member and a Telegram manager."""

    def __init__(self, db: SqlDatabase, fake: FakeTelegram, clock: Clock, mode: str = "polling") -> None:
        super().__init__(db, fake, clock, mode)
        self.app = build(parse_config({
            "language": "es",
            "roles": {"staff": ["slack:U0STAFF", f"telegram:{STAFF_TG}"],
                      "managers": ["slack:U0BOSS", f"telegram:{MANAGER}"]},
            "channels": {"console": {"enabled": False}, "email": {"enabled": False}, "slack": {"enabled": False},
                         "telegram": {"enabled": True, "mode": mode, "base_url": fake.base_url,
                                      "webhook": {"host": "127.0.0.1", "port": 0, "path": "/telegram"}}},
        }), db=db, clock=clock)
        self.channel = telegram_channel(self.app, token=fake.token, webhook_secret=SECRET if mode == "webhook" else None,
                                       poll_timeout=5, sweep_every=3600)

    async def in_evaluation(self, *, evidence: bool = True) -> int:
        """A penalty registered by staff and given evidence (the managers' requests are queued)."""
        p = await self.app.penalties.register(NewPenalty(
            client=CLIENT, category=PenaltyCategory.MULTAS_SANCIONES, amount=Decimal("2500000"),
            area="logística", actor="slack:U0STAFF", description="Multa <b>SIC</b>"), now=self.clock())
        assert p.id is not None
        if evidence:
            await self.app.penalties.add_evidence(p.id, "Guías de entrega <firmadas>", actor=f"telegram:{STAFF_TG}",
                                                  now=self.clock())
        return p.id

    async def card(self) -> dict[str, Any]:
        """Deliver the queue through the real adapter; the manager's newest card (a copy)."""
        await OutboxWorker(self.app.db, {"telegram": self.channel}, self.clock).run_once()
        cards = [m for (chat, _), m in self.fake.sent.items() if chat == MANAGER and "reply_markup" in m]
        assert cards, self.fake.calls_to("sendMessage")
        return copy.deepcopy(max(cards, key=lambda m: m["message_id"]))

    def answers(self) -> list[dict[str, Any]]:
        return self.fake.calls_to("answerCallbackQuery")

    async def refusals(self, actor: str) -> list[Event]:
        async with self.app.db.uow(readonly=True) as uow:
            return [e for e in await uow.audit.list(kind="refused", limit=500) if e.actor == actor]


@pytest.fixture(params=["polling", "webhook"])
async def any_mode(request: pytest.FixtureRequest, sqlite_database: SqlDatabase, fake: FakeTelegram,
                   clock: Clock) -> AsyncIterator[PenaltyHarness]:
    h = PenaltyHarness(sqlite_database, fake, clock, request.param)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
async def h(sqlite_database: SqlDatabase, fake: FakeTelegram, clock: Clock) -> AsyncIterator[PenaltyHarness]:
    harness = PenaltyHarness(sqlite_database, fake, clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


# -- the card and the decision ---------------------------------------------------------------------

async def test_the_manager_approves_with_a_reason_and_the_card_shows_it(any_mode: PenaltyHarness) -> None:
    h = any_mode
    pid = await h.in_evaluation()
    card = await h.card()
    text = card["text"]
    for shown in ("Multas y sanciones", "COP 2.500.000", "logística", "Acme &lt;S.A.S.&gt; &amp; Cía",
                  "Guías de entrega &lt;firmadas&gt;", "Multa &lt;b&gt;SIC&lt;/b&gt;"):
        assert shown in text, shown
    assert h.fake.calls_to("sendMessage")[-1]["parse_mode"] == "HTML"
    assert tu.buttons(card) == {"Aprobar": f"m:penalty_approve:{pid}", "Rechazar": f"m:penalty_reject:{pid}"}
    await h.press(MANAGER, "Aprobar", on=card)
    assert h.answers()[-1]["text"] == "Escriba el motivo en el chat."
    assert "aprobar" in h.last_text(MANAGER) and "&lt;S.A.S.&gt;" in h.last_text(MANAGER)
    assert (await h.app.penalties.show(pid)).status is PenaltyStatus.EN_EVALUACION
    await h.say(MANAGER, "Incumplimos la entrega <del> lunes")
    p = await h.app.penalties.show(pid)
    assert (p.decision, p.decided_by, p.decision_reason) == (PenaltyStatus.APROBADA, f"telegram:{MANAGER}",
                                                             "Incumplimos la entrega <del> lunes")
    edited = h.fake.sent[(MANAGER, card["message_id"])]
    assert "reply_markup" not in edited                                  # the keyboard is gone
    assert "Aprobada por telegram:1001: Incumplimos la entrega &lt;del&gt; lunes" in edited["text"]
    assert f"Penalidad #{pid} aprobada" in h.last_text(MANAGER)
    assert [e.reason for e in p.events if e.kind == "penalty_decided"] == ["Incumplimos la entrega <del> lunes"]


async def test_reject_then_the_next_message_is_no_reason_any_more(h: PenaltyHarness) -> None:
    pid = await h.in_evaluation()
    card = await h.card()
    await h.press(MANAGER, "Rechazar", on=card)
    assert "rechazar" in h.last_text(MANAGER)
    await h.say(MANAGER, "Cumplimos: ver guías")
    assert (await h.app.penalties.show(pid)).decision is PenaltyStatus.RECHAZADA
    assert "Rechazada" in h.fake.sent[(MANAGER, card["message_id"])]["text"]
    await h.say(MANAGER, "hola")                                          # back to the ordinary chat
    assert "/start" in h.last_text(MANAGER)
    assert (await h.app.penalties.show(pid)).decision_reason == "Cumplimos: ver guías"


async def test_the_awaited_reason_survives_a_restart(sqlite_database: SqlDatabase, fake: FakeTelegram,
                                                     clock: Clock) -> None:
    first = PenaltyHarness(sqlite_database, fake, clock)
    await first.start()
    try:
        pid = await first.in_evaluation()
        card = await first.card()
        await first.press(MANAGER, "Aprobar", on=card)
    finally:
        await first.stop()
    second = PenaltyHarness(sqlite_database, fake, clock)
    await second.start()
    try:
        await second.say(MANAGER, "Aceptada tras revisar")
        p = await second.app.penalties.show(pid)
        assert p.decision is PenaltyStatus.APROBADA and p.decision_reason == "Aceptada tras revisar"
        assert "reply_markup" not in fake.sent[(MANAGER, card["message_id"])]
    finally:
        await second.stop()


async def test_cancel_leaves_the_case_undecided_and_a_filing_draft_is_kept(h: PenaltyHarness) -> None:
    pid = await h.in_evaluation()
    card = await h.card()
    await h.say(MANAGER, "/start")
    await h.press(MANAGER, "Radicar PQR")                                 # a filing draft at its first step
    await h.press(MANAGER, "Aprobar", on=card)
    await h.deliver(tu.photo(MANAGER, "PHOTO1", 10))                      # not a reason
    assert "como texto" in h.last_text(MANAGER)
    await h.say(MANAGER, "/cancelar")
    assert f"No se decidió la penalidad #{pid}" in h.last_text(MANAGER)
    assert (await h.app.penalties.show(pid)).status is PenaltyStatus.EN_EVALUACION
    assert "reply_markup" in h.fake.sent[(MANAGER, card["message_id"])]   # the buttons still work
    async with h.app.db.uow(readonly=True) as uow:
        conv = await uow.telegram.conversation(MANAGER)
    assert conv is not None and conv.step == "type"


# -- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", [STAFF_TG, CUSTOMER])
async def test_staff_and_customers_are_refused_and_it_is_recorded(h: PenaltyHarness, who: int) -> None:
    pid = await h.in_evaluation()
    card = await h.card()
    sends = len(h.fake.calls_to("sendMessage"))
    await h.deliver(tu.callback(who, f"m:penalty_approve:{pid}", card))
    await h.deliver(tu.callback(who, f"m:penalty_reject:{pid}", card))
    refused = h.answers()[-2:]
    assert all("solo para gerentes" in a["text"] and a["show_alert"] in (True, "true", "True") for a in refused)
    assert len(h.fake.calls_to("sendMessage")) == sends                   # no reason asked
    await h.deliver(tu.text(who, "Apruebo"))                             # and no reason taken
    assert (await h.app.penalties.show(pid)).status is PenaltyStatus.EN_EVALUACION
    assert sorted((e.data["action"], e.reason) for e in await h.refusals(f"telegram:{who}")) == [
        ("manager:penalty_approve", "not_manager"), ("manager:penalty_reject", "not_manager")]


async def test_a_second_press_changes_nothing(h: PenaltyHarness) -> None:
    pid = await h.in_evaluation()
    card = await h.card()
    await h.press(MANAGER, "Aprobar", on=card)
    await h.say(MANAGER, "Aceptamos")
    edits = len(h.fake.calls_to("editMessageText"))
    await h.press(MANAGER, "Rechazar", on=card)                           # the old keyboard, pressed again
    assert "ya fue decidida" in h.answers()[-1]["text"]
    await h.say(MANAGER, "Mejor no")
    p = await h.app.penalties.show(pid)
    assert p.decision is PenaltyStatus.APROBADA and p.decision_reason == "Aceptamos"
    assert len(h.fake.calls_to("editMessageText")) == edits
    assert [e.reason for e in await h.refusals(f"telegram:{MANAGER}")] == ["already_decided:aprobada"]


async def test_decided_elsewhere_while_the_reason_was_awaited(h: PenaltyHarness) -> None:
    pid = await h.in_evaluation()
    card = await h.card()
    await h.press(MANAGER, "Aprobar", on=card)
    await h.app.penalties.decide(pid, False, "Rechazada por Slack", "slack:U0BOSS", h.clock())
    await h.say(MANAGER, "Aceptamos")
    assert "ya fue decidida" in h.last_text(MANAGER)
    p = await h.app.penalties.show(pid)
    assert p.decision is PenaltyStatus.RECHAZADA and p.decided_by == "slack:U0BOSS"
    assert "reply_markup" in h.fake.sent[(MANAGER, card["message_id"])]   # not redrawn by the refusal


async def test_a_case_not_in_evaluation_is_refused(h: PenaltyHarness) -> None:
    pid = await h.in_evaluation(evidence=False)
    other = await h.in_evaluation()
    card = await h.card()
    await h.deliver(tu.callback(MANAGER, f"m:penalty_approve:{pid}", card))
    assert "está notificada" in h.answers()[-1]["text"]
    await h.deliver(tu.callback(MANAGER, "m:penalty_approve:99999", card))
    assert "No encontré" in h.answers()[-1]["text"]
    await h.say(MANAGER, "Aceptamos")                                     # nothing was awaiting a reason
    assert (await h.app.penalties.show(pid)).status is PenaltyStatus.NOTIFICADA
    assert (await h.app.penalties.show(other)).status is PenaltyStatus.EN_EVALUACION
    assert [e.reason for e in await h.refusals(f"telegram:{MANAGER}")] == ["invalid_transition:notificada->aprobada"]
