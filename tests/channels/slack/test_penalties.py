"""Penalty decisions through Slack, end to end: `/pqr penalty new` and `evidence` → the decision
card delivered by the outbox worker to the manager's DM → Aprobar / Rechazar as Slack sends the
press (signed interactivity payloads) → the reason modal → the card updated; refusals for staff and
customers, double presses, wrong states, and the monthly report with its chart upload."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import build
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from bot.bootstrap import slack_channel
from domain.events import Event
from domain.penalty import PenaltyStatus
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.channels.slack.conftest import ANA, BOSS, NOBODY, NOW, STAFF, Harness, slack_config
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import Call, FakeSlack

CONTRACTS = {
    "areas": [{"name": "laboratorio", "slack_channel": "C0LAB", "emails": ["lab@empresa.co"]}],
    "clients": [{"name": "Acme S.A.S.", "email_domains": ["acme.co"], "notify_emails": ["contratos@acme.co"]}],
}
DM = f"D{BOSS}"          # the fake's conversations.open answers D<user>


@pytest.fixture
async def slack(sqlite_database: SqlDatabase, fake: FakeSlack, tmp_path: Path) -> AsyncIterator[Harness]:
    """The Slack channel with contracts, accounting and email notices configured."""
    contracts = tmp_path / "contracts.yaml"
    contracts.write_text(json.dumps(CONTRACTS))
    cfg = slack_config(fake)
    cfg["channels"]["email"] = {"enabled": True}
    cfg["contracts"] = {"files": [str(contracts)]}
    cfg["accounting"] = {"slack_channel": "C0CONTA", "emails": ["conta@empresa.co"]}
    app = build(parse_config(cfg), db=sqlite_database, clock=lambda: NOW)
    adapter = slack_channel(app)
    await adapter.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(app, adapter, fake, http)
    finally:
        await adapter.stop()


# -- helpers -------------------------------------------------------------------------------------

async def register(slack: Harness, *, evidence: bool = True) -> int:
    """A penalty registered and (optionally) given evidence through `/pqr`, as staff do."""
    reply = await slack.command('penalty new "Acme S.A.S." kpi_ans 1500000.50 laboratorio -- ANS <!channel> incumplido')
    assert "registrada" in reply.args["text"], reply.args["text"]
    pid = max(p.id for p in await slack.app.penalties.list() if p.id is not None)
    if evidence:
        reply = await slack.command(f"penalty evidence {pid} Informe del laboratorio & soportes", user=ANA)
        assert "en evaluación" in reply.args["text"], reply.args["text"]
    return pid


async def deliver(slack: Harness) -> int:
    """One pass of the real outbox worker through the real adapter."""
    return await OutboxWorker(slack.app.db, {"slack": slack.adapter}, lambda: NOW).run_once()


async def card_in_dm(slack: Harness) -> Call:
    """Deliver the queued notices and return the decision card posted to the manager's DM."""
    await deliver(slack)
    return (await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == DM))[0]


async def press(slack: Harness, action: str, pid: int, *, user: str = BOSS, ts: str = "1700000000.000002",
                channel: str = DM) -> None:
    status, _ = await slack.press(f"pqr.penalty_{action}", str(pid), user=user, channel=channel, message_ts=ts)
    assert status == 200


async def modal(slack: Harness, n: int = 1) -> dict[str, Any]:
    """The n-th reason modal opened."""
    opened = await slack.fake.wait_for("views.open", lambda c: c.args["view"]["callback_id"] == "pqr.penalty_reason",
                                       count=n)
    return dict(opened[n - 1].args["view"])


async def submit(slack: Harness, view: dict[str, Any], reason: str, *, user: str = BOSS) -> tuple[int, str]:
    return await slack.post(rq.payload_body(rq.view_submission(view, {"reason": reason}, user=user)))


async def refusals(slack: Harness, actor: str) -> list[Event]:
    async with slack.app.db.uow(readonly=True) as uow:
        return [e for e in await uow.audit.list(kind="refused", limit=500) if e.actor == actor]


async def outbox(slack: Harness, kind: str) -> list[OutboxItem]:
    async with slack.app.db.uow(readonly=True) as uow:
        return [r for r in await uow.outbox.list(limit=500) if r.payload.get("kind") == kind]


def action_ids(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]


# -- the card ------------------------------------------------------------------------------------

async def test_the_manager_gets_the_card_in_a_direct_message(slack: Harness) -> None:
    pid = await register(slack)
    post = await card_in_dm(slack)
    opened = await slack.fake.wait_for("conversations.open", lambda c: c.args["users"] == BOSS)
    assert opened
    body = json.dumps(post.args["blocks"], ensure_ascii=False)
    for shown in ("Acme S.A.S.", "KPI / ANS", "COP 1.500.000,50", "laboratorio", "Informe del laboratorio &amp; soportes"):
        assert shown in body, shown
    assert "<!channel>" not in json.dumps(post.args) and "&lt;!channel&gt;" in body     # customer text stays text
    assert action_ids(post.args["blocks"]) == [("pqr.penalty_approve", str(pid)), ("pqr.penalty_reject", str(pid))]
    assert f"#{pid}" in post.args["text"] and "Acme" in post.args["text"]              # the text fallback
    # The other penalty notice (the area's evidence request) went as plain text.
    lab = (await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "C0LAB"))[0]
    assert "blocks" not in lab.args and f"penalty evidence {pid}" in lab.args["text"]
    assert await deliver(slack) == 0                                                    # each sent once


# -- approval and rejection -----------------------------------------------------------------------

async def test_approve_asks_the_reason_in_a_modal_then_updates_the_card(slack: Harness) -> None:
    pid = await register(slack)
    await card_in_dm(slack)
    ts = "1700000000.000777"
    await press(slack, "approve", pid, ts=ts)
    view = await modal(slack)
    assert json.loads(view["private_metadata"])["penalty"] == pid and "aprueba" in json.dumps(view, ensure_ascii=False)
    status, text = await submit(slack, view, "")                       # no reason: the modal says so
    assert status == 200 and json.loads(text)["response_action"] == "errors"
    assert (await slack.app.penalties.show(pid)).status is PenaltyStatus.EN_EVALUACION
    status, _ = await submit(slack, view, "Incumplimos el ANS <de> marzo")
    assert status == 200
    update = (await slack.fake.wait_for("chat.update"))[0]
    assert (update.args["channel"], update.args["ts"]) == (DM, ts)
    assert action_ids(update.args["blocks"]) == []                      # no buttons any more
    shown = json.dumps(update.args["blocks"], ensure_ascii=False)
    assert "Aprobada" in shown and f"<@{BOSS}>" in shown and "Incumplimos el ANS &lt;de&gt; marzo" in shown
    p = await slack.app.penalties.show(pid)
    assert (p.decision, p.decided_by, p.decision_reason) == (PenaltyStatus.APROBADA, f"slack:{BOSS}",
                                                             "Incumplimos el ANS <de> marzo")
    assert p.status is PenaltyStatus.PAGO_AUTORIZADO                   # client told, accounting authorized
    assert [(r.channel, r.destination) for r in await outbox(slack, "penalty_client_notice")] == [
        ("email", "contratos@acme.co")]
    await deliver(slack)
    pay = (await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "C0CONTA"))[0]
    assert f"penalty paid {pid}" in pay.args["text"]
    decided = [e for e in p.events if e.kind == "penalty_decided"]
    assert [(e.actor, e.reason) for e in decided] == [(f"slack:{BOSS}", "Incumplimos el ANS <de> marzo")]


async def test_reject_with_its_reason(slack: Harness) -> None:
    pid = await register(slack)
    await card_in_dm(slack)
    await press(slack, "reject", pid)
    view = await modal(slack)
    await submit(slack, view, "La evidencia muestra que cumplimos")
    update = (await slack.fake.wait_for("chat.update"))[0]
    assert "Rechazada" in json.dumps(update.args["blocks"], ensure_ascii=False)
    p = await slack.app.penalties.show(pid)
    assert p.decision is PenaltyStatus.RECHAZADA and p.status is PenaltyStatus.CLIENTE_NOTIFICADA
    assert await outbox(slack, "penalty_payment_authorization") == []


async def test_a_card_shown_ephemerally_is_redrawn_through_its_response_url(slack: Harness) -> None:
    pid = await register(slack)
    shown = await slack.command(f"penalty show {pid}", user=BOSS)
    assert action_ids(shown.args["blocks"]) == [("pqr.penalty_approve", str(pid)), ("pqr.penalty_reject", str(pid))]
    url = slack.fake.response_url()
    payload = rq.block_actions("pqr.penalty_approve", str(pid), user=BOSS, response_url=url, channel="C0QUEUE",
                               ephemeral=True)
    assert (await slack.post(rq.payload_body(payload)))[0] == 200
    await submit(slack, await modal(slack), "Aceptamos")
    redrawn = await slack.answer(url)
    assert redrawn.args["replace_original"] is True and action_ids(redrawn.args["blocks"]) == []
    assert slack.fake.of("chat.update") == []


# -- refusals --------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", [STAFF, NOBODY])
async def test_staff_and_customers_are_refused_ephemerally_and_it_is_recorded(slack: Harness, who: str) -> None:
    pid = await register(slack)
    await press(slack, "approve", pid, user=who)
    await press(slack, "reject", pid, user=who)
    answers = await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == who, count=2)
    assert all("Solo un gerente" in a.args["text"] for a in answers)
    assert slack.fake.of("views.open") == [] and slack.fake.of("chat.update") == []
    assert (await slack.app.penalties.show(pid)).status is PenaltyStatus.EN_EVALUACION
    refused = await refusals(slack, f"slack:{who}")
    assert sorted((e.data["action"], e.reason) for e in refused) == [("penalty_approve", "not_manager"),
                                                                     ("penalty_reject", "not_manager")]


async def test_a_forged_submission_by_a_non_manager_decides_nothing(slack: Harness) -> None:
    pid = await register(slack)
    await press(slack, "approve", pid)
    view = await modal(slack)
    await submit(slack, view, "Yo también apruebo", user=STAFF)
    answer = (await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == STAFF))[0]
    assert "Solo un gerente" in answer.args["text"]
    assert (await slack.app.penalties.show(pid)).status is PenaltyStatus.EN_EVALUACION
    assert [e.reason for e in await refusals(slack, f"slack:{STAFF}")] == ["not_manager"]


async def test_a_second_press_or_decision_changes_nothing(slack: Harness) -> None:
    pid = await register(slack)
    await press(slack, "approve", pid)
    first = await modal(slack)
    await press(slack, "reject", pid)                      # a second modal, opened before any decision
    second = await modal(slack, 2)
    await submit(slack, first, "Aceptamos la penalidad")
    await slack.fake.wait_for("chat.update")
    await submit(slack, second, "Mejor la rechazamos")
    late = (await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == BOSS))[0]
    assert "ya fue decidida" in late.args["text"]
    await press(slack, "reject", pid)                      # and a press on the old buttons
    again = await slack.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == BOSS, count=2)
    assert "ya fue decidida" in again[1].args["text"]
    assert len(slack.fake.of("views.open")) == 2 and len(slack.fake.of("chat.update")) == 1
    p = await slack.app.penalties.show(pid)
    assert p.decision is PenaltyStatus.APROBADA and p.decision_reason == "Aceptamos la penalidad"
    assert sorted(e.reason or "" for e in await refusals(slack, f"slack:{BOSS}")) == [
        "already_decided:aprobada", "already_decided:aprobada"]


async def test_a_case_not_in_evaluation_is_refused_before_the_modal(slack: Harness) -> None:
    pid = await register(slack, evidence=False)
    await press(slack, "approve", pid)
    answer = (await slack.fake.wait_for("chat.postEphemeral"))[0]
    assert "está notificada" in answer.args["text"]
    await press(slack, "approve", 999)
    missing = (await slack.fake.wait_for("chat.postEphemeral", count=2))[1]
    assert "No encontré" in missing.args["text"]
    assert slack.fake.of("views.open") == []
    assert [e.reason for e in await refusals(slack, f"slack:{BOSS}")] == [
        "invalid_transition:notificada->aprobada"]


# -- the report ------------------------------------------------------------------------------------

async def test_report_posts_the_text_and_uploads_the_chart(slack: Harness) -> None:
    await register(slack)
    await slack.command('penalty new "Acme S.A.S." postventa 250000 laboratorio')
    reply = await slack.command("penalty report 2026-12")
    assert reply.args["response_type"] == "in_channel" and "COP 1.750.000,50" in reply.args["text"]
    done = (await slack.fake.wait_for("files.completeUploadExternal", timeout=60))[0]
    asked = slack.fake.of("files.getUploadURLExternal")[0]
    assert asked.args["filename"] == "penalidades-2026-12.png"
    upload = slack.fake.of("upload")[0]
    data = slack.fake.uploads[upload.args["file_id"]]
    assert data.startswith(b"\x89PNG") and int(asked.args["length"]) == len(data)
    assert done.args["channel_id"] == "C0QUEUE" and done.args["files"][0]["id"] == upload.args["file_id"]
    assert "2026-12" in done.args["files"][0]["title"]


async def test_report_refused_to_customers_uploads_nothing(slack: Harness) -> None:
    reply = await slack.command("penalty report 2026-12", user=NOBODY)
    assert reply.args["response_type"] == "ephemeral"
    assert slack.fake.of("files.getUploadURLExternal") == []
