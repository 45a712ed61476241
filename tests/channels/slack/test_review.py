"""Answer approval through Slack, end to end: a staff `/pqr close` on a PQR the policy covers →
en_revision → the outbox worker posts the card to the manager's DM → Aprobar as Slack sends the
press (signed) → the closing to the customer (email) and the card redrawn; Devolver → the comment
modal → en_tramite and the drafter's DM; refusals (staff, a second press, a stale card); the
managers' alert when a draft waits near its due date (the clock moved, never slept)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import build, scheduler, slack_channel
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from domain.pqr_types import Status
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.channels.slack.conftest import BOSS, NOW, STAFF, Harness, slack_config
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import Call, FakeSlack

DM, STAFF_DM = f"D{BOSS}", f"D{STAFF}"          # the fake's conversations.open answers D<user>


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def slack(sqlite_database: SqlDatabase, fake: FakeSlack, clock: Clock) -> AsyncIterator[Harness]:
    cfg = slack_config(fake)
    cfg["channels"]["email"] = {"enabled": True}
    cfg["approval"] = {"types": ["reclamo"]}
    app = build(parse_config(cfg), db=sqlite_database, clock=clock)
    adapter = slack_channel(app)
    await adapter.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(app, adapter, fake, http)
    finally:
        await adapter.stop()


async def deliver(slack: Harness) -> int:
    return await OutboxWorker(slack.app.db, {"slack": slack.adapter}, slack.app.clock).run_once()


async def outbox(slack: Harness, kind: str) -> list[OutboxItem]:
    async with slack.app.db.uow(readonly=True) as uow:
        return [r for r in await uow.outbox.list(limit=500) if r.payload.get("kind") == kind]


def action_ids(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def drafted(slack: Harness, text: str = "Le reintegramos <!channel> el cobro.") -> tuple[str, Call]:
    """A PQR closed by staff (so waiting for approval) and its card delivered to the manager."""
    rad = await slack.file(subject="Cobro *doble*")
    reply = await slack.command(f"close {rad} {text}")
    assert "en revisión" in reply.args["text"], reply.args["text"]
    assert (await slack.app.service.show(rad)).status is Status.EN_REVISION
    assert await outbox(slack, "closing") == []                      # the customer gets nothing yet
    await deliver(slack)
    card = (await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == DM))[0]
    return rad, card


async def press(slack: Harness, action: str, value: str, *, user: str = BOSS,
                ts: str = "1700000000.000002") -> None:
    status, _ = await slack.press(f"pqr.answer_{action}", value, user=user, channel=DM, message_ts=ts)
    assert status == 200


async def test_the_card_shows_the_draft_and_approve_sends_it_and_closes(slack: Harness) -> None:
    rad, card = await drafted(slack)
    body = json.dumps(card.args["blocks"], ensure_ascii=False)
    for shown in (rad, "Cobro *doble*", "Ana", "quedan", "<@U0STAFF>", "Le reintegramos &lt;!channel&gt; el cobro."):
        assert shown in body, shown
    assert "<!channel>" not in json.dumps(card.args)
    assert action_ids(card.args["blocks"]) == [("pqr.answer_approve", f"{rad}:1"), ("pqr.answer_return", f"{rad}:1")]

    await press(slack, "approve", f"{rad}:1", ts="1700000000.000777")
    update = (await slack.fake.wait_for("chat.update"))[0]
    assert (update.args["channel"], update.args["ts"]) == (DM, "1700000000.000777")
    assert action_ids(update.args["blocks"]) == [] and "Aprobada por" in json.dumps(update.args["blocks"],
                                                                                    ensure_ascii=False)
    pqr = await slack.app.service.show(rad)
    assert pqr.status is Status.CERRADA and pqr.closed_at == NOW
    last = pqr.events[-1]
    assert (last.actor, last.data["drafter"], last.data["approver"]) == (f"slack:{BOSS}", f"slack:{STAFF}",
                                                                         f"slack:{BOSS}")
    rows = await outbox(slack, "closing")
    assert [(r.channel, r.destination, r.payload["text"]) for r in rows] == [
        ("email", "ana@example.co", "Le reintegramos <!channel> el cobro.")]

    await press(slack, "approve", f"{rad}:1")                       # a second press: refused, nothing changes
    again = (await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == BOSS))[0]
    assert "ya fue aprobada" in again.args["text"]
    assert len(await outbox(slack, "closing")) == 1


async def test_return_asks_a_comment_in_a_modal_and_tells_the_drafter(slack: Harness) -> None:
    rad, _ = await drafted(slack)
    await press(slack, "return", f"{rad}:1", ts="1700000000.000888")
    opened = await slack.fake.wait_for("views.open", lambda c: c.args["view"]["callback_id"] == "pqr.answer_comment")
    view = dict(opened[0].args["view"])
    status, text = await slack.post(rq.payload_body(rq.view_submission(view, {"comment": ""}, user=BOSS)))
    assert status == 200 and json.loads(text)["response_action"] == "errors"
    assert (await slack.app.service.show(rad)).status is Status.EN_REVISION
    status, _ = await slack.post(rq.payload_body(rq.view_submission(view, {"comment": "Falta el <valor>"}, user=BOSS)))
    assert status == 200
    update = (await slack.fake.wait_for("chat.update"))[0]
    assert "Devuelta por" in json.dumps(update.args["blocks"], ensure_ascii=False)
    pqr = await slack.app.service.show(rad)
    assert pqr.status is Status.EN_TRAMITE and pqr.events[-1].reason == "Falta el <valor>"
    await deliver(slack)
    told = (await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == STAFF_DM))[0]
    assert "Falta el &lt;valor&gt;" in told.args["text"] and rad in told.args["text"]
    assert await outbox(slack, "closing") == []

    # Drafted again: the first card is stale now.
    await slack.command(f"close {rad} Segunda versión")
    await press(slack, "approve", f"{rad}:1")
    stale = (await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == BOSS))[0]
    assert "respuesta anterior" in stale.args["text"]
    assert (await slack.app.service.show(rad)).status is Status.EN_REVISION


async def test_staff_cannot_decide_and_it_is_recorded(slack: Harness) -> None:
    rad, _ = await drafted(slack)
    await press(slack, "approve", f"{rad}:1", user=STAFF)
    await press(slack, "return", f"{rad}:1", user=STAFF)
    answers = await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == STAFF, count=2)
    assert all("Solo un gerente" in a.args["text"] for a in answers)
    assert slack.fake.of("views.open") == []
    typed = await slack.command(f"aprobar {rad}")                      # the verb, by staff
    assert "Solo un gerente" in typed.args["text"]
    pqr = await slack.app.service.show(rad)
    assert pqr.status is Status.EN_REVISION
    refused = [(e.data["action"], e.reason) for e in pqr.events if e.kind == "refused"]
    assert refused == [("answer_approve", "not_manager"), ("answer_return", "not_manager"),
                       ("answer_approve", "not_manager")]


async def test_verbs_approve_and_return_for_managers(slack: Harness) -> None:
    rad, _ = await drafted(slack)
    back = await slack.command(f"devolver {rad} -- Cite la norma", user=BOSS)
    assert "devuelta" in back.args["text"]
    not_waiting = await slack.command(f"approve {rad}", user=BOSS)
    assert f"{rad}: esa respuesta ya fue devuelta por slack:{BOSS}" in not_waiting.args["text"]
    own = await slack.command(f"close {rad} Respuesta de gerencia", user=BOSS)     # a manager's close: at once
    assert (await slack.app.service.show(rad)).status is Status.CERRADA and "cerrada" in own.args["text"]


async def test_a_waiting_draft_near_its_due_date_alerts_the_managers_once(slack: Harness, clock: Clock) -> None:
    rad, _ = await drafted(slack)
    pqr = await slack.app.service.show(rad)
    sched = scheduler(slack.app)
    await sched.alerter.run(clock())
    assert [r for r in await outbox(slack, "alert") if r.payload.get("alert") == "review_due"] == []
    clock.now = pqr.due_at - dt.timedelta(days=1)                    # the clock moved, not slept
    await sched.alerter.run(clock())
    await sched.alerter.run(clock() + dt.timedelta(minutes=5))
    alerts = [r for r in await outbox(slack, "alert") if r.payload.get("alert") == "review_due"]
    assert [(r.channel, r.destination) for r in alerts] == [("slack", BOSS)]
    assert rad in alerts[0].payload["text"] and "esperando aprobación" in alerts[0].payload["text"]
    digest = await slack.app.service.digest(clock())
    assert [p.radicado for p in digest.awaiting_approval] == [rad]
