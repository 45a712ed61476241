"""Survey alerts through Slack, end to end with signed requests: an NPS detractor's answer posts
the alert (the comment escaped) to the manager's DM and the client's account area with
`pqr.survey_followup`; pressing it files one queja (channel survey) even when pressed twice; a
low CSAT's alert carries `pqr.survey_reopen`, which reopens the PQR; someone who is neither staff
nor a manager is refused either button."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import build, nps_campaigns, slack_channel
from bot.commands.refusals import refusal_text
from bot.config import parse_config
from bot.i18n import t
from bot.outbox.worker import OutboxWorker
from domain.errors import NotAllowed
from domain.pqr_types import PqrType, Status
from storage.db import SqlDatabase
from storage.ports import OutboxItem, PqrFilter
from tests.channels.slack.conftest import BOSS, NOBODY, NOW, STAFF, Harness, slack_config
from tests.fakes.slack_api import Call, FakeSlack

DM = f"D{BOSS}"                 # the fake's conversations.open answers D<user>
AREA = "C0CUENTAS"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def slack(sqlite_database: SqlDatabase, fake: FakeSlack, clock: Clock,
                tmp_path: Path) -> AsyncIterator[Harness]:
    contracts = tmp_path / "contracts.json"
    contracts.write_text(json.dumps({"areas": [{"name": "cuentas", "slack_channel": AREA}], "clients": [
        {"name": "Acme S.A.S.", "email_domains": ["acme.co"], "account_area": "cuentas",
         "contacts": [{"name": "Compras", "email": "compras@acme.co"}]}]}))
    cfg = slack_config(fake)
    cfg["channels"]["email"] = {"enabled": True}
    cfg["contracts"] = {"files": [str(contracts)]}
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


def token_of(row: OutboxItem) -> str:
    return str(row.payload["url"]).rsplit("/", 1)[1]


async def press(slack: Harness, action: str, value: str, user: str, n: int) -> Call:
    """Press the alert's button as `user`; the `n`-th ephemeral answer to them."""
    status, _ = await slack.press(f"pqr.survey_{action}", value, user=user, channel=DM)
    assert status == 200
    return (await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == user, count=n))[-1]


async def test_a_detractor_alerts_and_its_button_files_one_queja_however_often_pressed(slack: Harness, clock: Clock) -> None:
    assert slack.app.surveys is not None
    sent = await nps_campaigns(slack.app).send("client:Acme S.A.S.", now=NOW)
    assert sent.queued == 1
    (question,) = await outbox(slack, "survey_nps")
    clock.now = NOW + dt.timedelta(hours=1)
    await slack.app.surveys.submit(token_of(question), 3, "Nadie <!channel> responde", clock())
    await deliver(slack)
    posts = await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] in (DM, AREA), count=2)
    assert {c.args["channel"] for c in posts} == {DM, AREA}               # the manager and the account area
    survey_id = str(question.payload["survey_id"])
    for post in posts:
        body = json.dumps(post.args["blocks"], ensure_ascii=False)
        assert "3/10" in body and "Nadie &lt;!channel&gt; responde" in body and "<!channel>" not in body
        assert action_ids(post.args["blocks"]) == [("pqr.survey_followup", survey_id)]

    refused = await press(slack, "followup", survey_id, NOBODY, 1)
    assert refused.args["text"] == refusal_text(NotAllowed("survey_followup"), "es")
    first = await press(slack, "followup", survey_id, BOSS, 1)
    again = await press(slack, "followup", survey_id, STAFF, 1)
    filed = await slack.app.service.list(PqrFilter(statuses=()))
    from_survey = [p for p in filed if p.channel == "survey"]
    assert len(from_survey) == 1
    pqr = from_survey[0]
    assert pqr.type is PqrType.QUEJA and pqr.customer.email == "compras@acme.co"
    assert first.args["text"] == t("es", "survey.followup_done", radicado=pqr.radicado)
    assert again.args["text"] == t("es", "survey.followup_again", radicado=pqr.radicado)
    async with slack.app.db.uow(readonly=True) as uow:
        stored = await uow.surveys.get(int(survey_id))
    assert stored is not None and stored.followup_radicado == pqr.radicado


async def test_a_low_csat_alert_reopens_the_pqr_for_staff_only(slack: Harness, clock: Clock) -> None:
    assert slack.app.surveys is not None
    rad = await slack.file()
    await slack.app.service.close(rad, "Resuelto", actor=f"slack:{STAFF}", now=NOW)
    clock.now = NOW + dt.timedelta(hours=3)
    assert await slack.app.surveys.run(clock()) == 1
    (question,) = await outbox(slack, "survey_csat")
    await slack.app.surveys.submit(token_of(question), 1, "Nunca me llamaron", clock())
    await deliver(slack)
    (alert,) = await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == DM)
    assert action_ids(alert.args["blocks"]) == [("pqr.survey_reopen", rad)]
    assert "Nunca me llamaron" in json.dumps(alert.args["blocks"], ensure_ascii=False)

    refused = await press(slack, "reopen", rad, NOBODY, 1)
    assert refused.args["text"] == refusal_text(NotAllowed("reopen"), "es")
    assert (await slack.app.service.show(rad)).status is Status.CERRADA
    done = await press(slack, "reopen", rad, BOSS, 1)
    assert done.args["text"] == t("es", "survey.reopened", radicado=rad)
    assert (await slack.app.service.show(rad)).status is Status.REABIERTA
