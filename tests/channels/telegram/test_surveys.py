"""Satisfaction surveys on Telegram, end to end through the real `Application` and the fake Bot
API, the clock moved: a closed PQR's CSAT reaches the customer's chat `delay_hours` later (inside
the contact hours) with 1–5 buttons; pressing 2 records it, the next message is its comment and
the low-rating alert is queued for the assignee and the managers; a second press is refused. An
NPS campaign's 0–10 keyboard (held to the next day's opening: one such message a contact a day)
is answered too. `/start` shows the consent notice and records it (`telegram_start`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.bootstrap import build, nps_campaigns, telegram_channel
from bot.config import parse_config
from bot.i18n import t
from bot.outbox.worker import OutboxWorker
from storage.db import SqlDatabase
from storage.ports import OutboxItem, SurveyRecord
from tests.channels.telegram.conftest import MANAGER, SECRET, Clock, Harness
from tests.channels.telegram.helpers import file_pqr
from tests.fakes.telegram_api import FakeTelegram

STAFF_TG, CUSTOMER = 2002, 5555
BOG = dt.timezone(dt.timedelta(hours=-5))


class SurveyHarness(Harness):
    """The Telegram channel with a Telegram staff member and manager, the CSAT two hours after closing."""

    def __init__(self, db: SqlDatabase, fake: FakeTelegram, clock: Clock, mode: str = "polling") -> None:
        self.db, self.fake, self.clock, self.mode = db, fake, clock, mode
        self.app = build(parse_config({
            "language": "es",
            "roles": {"staff": [f"telegram:{STAFF_TG}"], "managers": [f"telegram:{MANAGER}"]},
            "channels": {"console": {"enabled": False}, "email": {"enabled": False}, "slack": {"enabled": False},
                         "telegram": {"enabled": True, "mode": mode, "base_url": fake.base_url,
                                      "webhook": {"host": "127.0.0.1", "port": 0, "path": "/telegram"}}},
            "surveys": {"csat": {"delay_hours": 2}},
        }), db=db, clock=clock)
        self.channel = telegram_channel(self.app, token=fake.token, webhook_secret=SECRET if mode == "webhook" else None,
                                       poll_timeout=5, sweep_every=3600)

    async def flush(self) -> int:
        """Deliver what the outbox holds now through the real adapter."""
        return await OutboxWorker(self.app.db, {"telegram": self.channel}, self.clock).run_once()

    async def outbox(self, kind: str) -> list[OutboxItem]:
        async with self.app.db.uow(readonly=True) as uow:
            return [r for r in await uow.outbox.list(limit=500) if r.payload.get("kind") == kind]

    async def survey(self, survey_id: int) -> SurveyRecord:
        async with self.app.db.uow(readonly=True) as uow:
            found = await uow.surveys.get(survey_id)
        assert found is not None
        return found

    async def closed(self) -> str:
        """A customer's queja filed on Telegram, taken and closed by the Telegram staff member."""
        rad = await file_pqr(self, CUSTOMER, files=False, email=None)
        await self.app.commands.handle(f"telegram:{STAFF_TG}", f"take {rad}", self.clock())
        reply = await self.app.commands.handle(f"telegram:{STAFF_TG}", f"close {rad} Resuelto", self.clock())
        assert "cerrada" in reply.text.lower(), reply.text
        await self.flush()
        return rad


@pytest.fixture(params=["polling", "webhook"])
async def h(request: pytest.FixtureRequest, sqlite_database: SqlDatabase, fake: FakeTelegram,
            clock: Clock) -> AsyncIterator[SurveyHarness]:
    harness = SurveyHarness(sqlite_database, fake, clock, request.param)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def labels(msg: dict[str, Any]) -> list[str]:
    return [b["text"] for row in msg["reply_markup"]["inline_keyboard"] for b in row]


async def test_the_csat_reaches_the_chat_and_a_low_score_with_its_comment_alerts_staff(h: SurveyHarness) -> None:
    assert h.app.surveys is not None
    rad = await h.closed()
    h.clock.advance(hours=1, minutes=59)
    assert await h.app.surveys.run(h.clock()) == 0                       # not before delay_hours
    h.clock.advance(minutes=1)
    assert h.clock().astimezone(BOG).hour == 12                           # Friday noon: inside the contact hours
    assert await h.app.surveys.run(h.clock()) == 1
    assert await h.flush() == 1
    card = h.fake.last_message(CUSTOMER)
    assert rad in card["text"] and t("es", "survey.tg_hint") in card["text"]
    assert labels(card) == ["1", "2", "3", "4", "5"]
    (row,) = await h.outbox("survey_csat")
    survey_id = int(row.payload["survey_id"])

    await h.press(CUSTOMER, "2", on=card)
    assert h.last_text(CUSTOMER) == t("es", "survey.tg_thanks", score=2)
    answered = await h.survey(survey_id)
    assert (answered.score, answered.comment, answered.radicado) == (2, None, rad)

    await h.say(CUSTOMER, "Nadie me <b>llamó</b>")                       # the next message is the comment
    assert h.last_text(CUSTOMER) == t("es", "survey.tg_comment_thanks")
    assert (await h.survey(survey_id)).comment == "Nadie me <b>llamó</b>"
    alerts = await h.outbox("survey_alert")
    with_comment = {r.destination for r in alerts if r.payload["comment"] == "Nadie me <b>llamó</b>"}
    assert with_comment == {str(STAFF_TG), str(MANAGER)}                  # the assignee and the manager
    assert all(r.payload["alert"] == "low_csat" and r.payload["action"]["value"] == rad for r in alerts)

    await h.press(CUSTOMER, "5", on=card)                                 # the old keyboard, pressed again
    assert h.last_text(CUSTOMER) == t("es", "survey.tg_used")
    assert (await h.survey(survey_id)).score == 2
    await h.say(CUSTOMER, "otro mensaje")                                  # no comment awaited any more
    assert (await h.survey(survey_id)).comment == "Nadie me <b>llamó</b>"


async def test_start_shows_the_consent_notice_and_records_it_an_opt_out_stays(h: SurveyHarness) -> None:
    await h.say(CUSTOMER, "/start")
    welcome = h.fake.last_message(CUSTOMER)
    assert t("es", "survey.tg_consent") in welcome["text"] and "Radicar PQR" in labels(welcome)
    async with h.app.db.uow(readonly=True) as uow:
        assert await uow.surveys.contact_flags([f"telegram:{CUSTOMER}"]) == {
            f"telegram:{CUSTOMER}": ("telegram_start", False)}
    await file_pqr(h, CUSTOMER, files=False, email=None)                   # a B2C customer now
    chosen = await nps_campaigns(h.app).send("b2c", now=h.clock(), dry_run=True)
    assert [x.who.contact for x in chosen.selected] == [f"telegram:{CUSTOMER}"]
    async with h.app.db.uow() as uow:
        assert await uow.surveys.opt_out(f"telegram:{CUSTOMER}", now=h.clock())
        await uow.commit()
    await h.say(CUSTOMER, "/start")
    async with h.app.db.uow(readonly=True) as uow:
        assert (await uow.surveys.contact_flags([f"telegram:{CUSTOMER}"]))[f"telegram:{CUSTOMER}"][1] is True
    result = await nps_campaigns(h.app).send("b2c", now=h.clock(), dry_run=True)
    assert result.selected == [] and result.skipped_no_consent == 1        # a later /start does not undo it


async def test_an_nps_keyboard_answer_is_recorded_after_the_next_opening(h: SurveyHarness) -> None:
    assert h.app.surveys is not None
    await h.closed()
    h.clock.advance(hours=2)
    assert await h.app.surveys.run(h.clock()) == 1 and await h.flush() == 1   # the CSAT: today's one message
    result = await nps_campaigns(h.app).send("b2c", now=h.clock())
    assert [x.who.contact for x in result.selected] == [f"telegram:{CUSTOMER}"] and result.queued == 1
    assert await h.flush() == 0                                             # held: one a contact a day
    h.clock.now = dt.datetime(2026, 12, 19, 8, 0, tzinfo=BOG)              # Saturday's opening
    assert await h.flush() == 1
    card = h.fake.last_message(CUSTOMER)
    assert labels(card) == [str(n) for n in range(11)] and len(card["reply_markup"]["inline_keyboard"]) == 2
    (row,) = await h.outbox("survey_nps")

    await h.press(CUSTOMER, "9", on=card)
    assert h.last_text(CUSTOMER) == t("es", "survey.tg_thanks", score=9)
    nps = await h.survey(int(row.payload["survey_id"]))
    assert (nps.kind, nps.score, nps.segment) == ("nps", 9, "b2c")
    assert await h.outbox("survey_alert") == []                            # a promoter alerts nobody
