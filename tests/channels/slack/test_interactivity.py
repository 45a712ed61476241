"""Buttons on cards (staff and others), list paging, the intake form and the reply form."""

from __future__ import annotations

import json

from storage.ports import PqrFilter
from tests.channels.slack.conftest import ANA, NOBODY, STAFF, Harness
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import Call


async def _open_form(slack: Harness, text: str = "new") -> Call:
    url = slack.fake.response_url()
    status, _ = await slack.post(rq.form_body(rq.slash_command(text, user=STAFF, response_url=url)))
    assert status == 200
    return (await slack.fake.wait_for("views.open"))[0]


async def _submit(slack: Harness, view: dict[str, object], values: dict[str, str], user: str = STAFF) -> tuple[int, str]:
    return await slack.post(rq.payload_body(rq.view_submission(view, values, user=user)))  # type: ignore[arg-type]


async def test_take_by_staff_updates_the_same_message(slack: Harness) -> None:
    rad = await slack.file()
    status, _ = await slack.press("pqr.take", rad, user=ANA, message_ts="1700000000.000042")
    assert status == 200
    update = (await slack.fake.wait_for("chat.update"))[0]
    assert (update.args["channel"], update.args["ts"]) == ("C0TRIAGE", "1700000000.000042")
    assert "<@U0ANA>" in json.dumps(update.args["blocks"]) and update.args["text"]
    assert (await slack.app.service.show(rad)).assignee == f"slack:{ANA}"


async def test_open_shows_the_card_ephemerally(slack: Harness) -> None:
    rad = await slack.file()
    await slack.press("pqr.show", rad, user=STAFF)
    shown = (await slack.fake.wait_for("chat.postEphemeral"))[0]
    assert shown.args["user"] == STAFF and rad in shown.args["text"]
    # "show" never redraws the pressed message (it also sits on digest rows); a change does.
    await slack.press("pqr.take", rad, user=STAFF)
    await slack.fake.wait_for("chat.update")
    assert len(slack.fake.of("chat.update")) == 1


async def test_a_press_by_someone_else_is_refused_ephemerally_and_recorded(slack: Harness) -> None:
    rad = await slack.file()
    for action in ("pqr.take", "pqr.reply", "pqr.show"):
        await slack.press(action, rad, user=NOBODY)
    refusals = await slack.fake.wait_for("chat.postEphemeral", count=3)
    assert all(c.args["user"] == NOBODY and "Solo el personal" in c.args["text"] for c in refusals)
    assert slack.fake.of("chat.update") == [] and slack.fake.of("views.open") == []
    assert (await slack.app.service.show(rad)).assignee is None
    async with slack.app.db.uow(readonly=True) as uow:
        refused = [e for e in await uow.audit.list(kind="refused") if e.actor == f"slack:{NOBODY}"]
    assert sorted(e.data["action"] for e in refused) == ["slack_button:reply", "slack_button:show", "slack_button:take"]


async def test_a_refused_take_by_staff_is_explained(slack: Harness) -> None:
    rad = await slack.file()
    await slack.command(f"close {rad} listo")
    await slack.press("pqr.take", rad, user=STAFF)
    answer = (await slack.fake.wait_for("chat.postEphemeral"))[0]
    assert "cerrada" in answer.args["text"]


async def test_new_opens_the_form_and_submitting_files_the_pqr(slack: Harness) -> None:
    opened = await _open_form(slack, "nueva")
    view = opened.args["view"]
    assert view["callback_id"] == "pqr.intake" and opened.args["trigger_id"]
    status, _ = await _submit(slack, view, {"type": "queja", "received_by": "in_person", "name": "Luis <!channel>",
                                            "phone": "3001234567", "subject": "Demora", "body": "Llegó tarde"})
    assert status == 200
    confirm = (await slack.fake.wait_for("chat.postEphemeral"))[0]
    assert confirm.args["channel"] == "C0QUEUE" and "PQR-2026-000001" in confirm.args["text"]
    pqr = await slack.app.service.show("PQR-2026-000001")
    assert (pqr.type.value, pqr.channel, pqr.customer.name) == ("queja", "in_person", "Luis <!channel>")
    async with slack.app.db.uow(readonly=True) as uow:
        triage = [r for r in await uow.outbox.list() if r.payload.get("kind") == "triage"]
    assert [(r.channel, r.destination) for r in triage] == [("slack", "C0TRIAGE")]


async def test_form_validation_errors_are_shown_in_the_form(slack: Harness) -> None:
    view = (await _open_form(slack)).args["view"]
    status, text = await _submit(slack, view, {"type": "reclamo", "name": "Ana", "email": "no-es-correo", "subject": ""})
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"email", "subject"}
    _, text = await _submit(slack, view, {"type": "reclamo", "name": "Ana", "subject": "Algo"})
    assert "email" in json.loads(text)["errors"]          # no way to answer the customer
    async with slack.app.db.uow(readonly=True) as uow:
        assert await uow.pqrs.count(PqrFilter(statuses=())) == 0


async def test_reply_button_opens_a_form_whose_answer_reaches_the_customer(slack: Harness) -> None:
    rad = await slack.file()
    await slack.press("pqr.reply", rad, user=STAFF, message_ts="1700000000.000007")
    view = (await slack.fake.wait_for("views.open"))[0].args["view"]
    assert view["callback_id"] == "pqr.reply"
    await _submit(slack, view, {"answer": 'Le devolvimos el "cobro" doble'})
    update = (await slack.fake.wait_for("chat.update"))[0]
    assert update.args["ts"] == "1700000000.000007"
    async with slack.app.db.uow(readonly=True) as uow:
        replies = [r for r in await uow.outbox.list() if r.payload.get("kind") == "reply"]
    assert [(r.channel, r.destination, r.payload["text"]) for r in replies] == [
        ("email", "ana@example.co", 'Le devolvimos el "cobro" doble')]


async def test_a_form_submitted_by_someone_else_files_nothing(slack: Harness) -> None:
    view = (await _open_form(slack)).args["view"]
    _, text = await _submit(slack, view, {"type": "queja", "name": "X", "phone": "1", "subject": "S"}, user=NOBODY)
    assert json.loads(text)["response_action"] == "errors"
    async with slack.app.db.uow(readonly=True) as uow:
        refused = [e for e in await uow.audit.list(kind="refused") if e.actor == f"slack:{NOBODY}"]
    assert [e.data["action"] for e in refused] == ["slack_form:new"]
