"""Socket Mode: the adapter asks apps.connections.open for the WebSocket URL with the app-level
token, acks every envelope by its envelope_id, and acts once per delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from bot.bootstrap import slack_channel
from channels.slack import SlackChannel
from storage.db import SqlDatabase
from tests.channels.slack.conftest import STAFF, make_app
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import APP_TOKEN, FakeSlack


@pytest.fixture
async def socket_app(sqlite_database: SqlDatabase, fake: FakeSlack) -> AsyncIterator[tuple[App, SlackChannel]]:
    app = make_app(sqlite_database, fake, mode="socket")
    adapter = slack_channel(app)
    await adapter.start()
    try:
        yield app, adapter
    finally:
        await adapter.stop()


async def test_commands_over_socket_mode_are_acked_and_answered_once(
        socket_app: tuple[App, SlackChannel], fake: FakeSlack) -> None:
    app, _ = socket_app
    opened = fake.of("apps.connections.open")
    assert len(opened) == 1 and opened[0].token == APP_TOKEN
    url = fake.response_url()
    command = rq.slash_command("list", user=STAFF, response_url=url)
    env = await fake.send_envelope("slash_commands", command)
    await asyncio.wait_for(env.acked.wait(), 5)
    assert env.ack is not None and env.ack["envelope_id"] == env.envelope_id
    answer = (await fake.wait_for("response_url", lambda c: c.args["_url"] == url))[0]
    assert answer.args["response_type"] == "ephemeral"
    again = await fake.send_envelope("slash_commands", command, retry_attempt=1)
    await asyncio.wait_for(again.acked.wait(), 5)
    help_url = fake.response_url()
    await fake.send_envelope("slash_commands", rq.slash_command("help", user=STAFF, response_url=help_url))
    await fake.wait_for("response_url", lambda c: c.args["_url"] == help_url)
    assert len([c for c in fake.of("response_url") if c.args["_url"] == url]) == 1


async def test_buttons_and_forms_over_socket_mode(socket_app: tuple[App, SlackChannel], fake: FakeSlack) -> None:
    env = await fake.send_envelope("slash_commands", rq.slash_command("new", user=STAFF, response_url=fake.response_url()))
    await asyncio.wait_for(env.acked.wait(), 5)
    view = (await fake.wait_for("views.open"))[0].args["view"]
    bad = await fake.send_envelope("interactive", rq.view_submission(view, {"name": "Ana", "subject": ""}, user=STAFF))
    await asyncio.wait_for(bad.acked.wait(), 5)
    assert bad.ack is not None and bad.ack["payload"]["response_action"] == "errors"
    ok = await fake.send_envelope("interactive", rq.view_submission(
        view, {"type": "queja", "name": "Ana", "email": "ana@example.co", "subject": "Demora"}, user=STAFF))
    await asyncio.wait_for(ok.acked.wait(), 5)
    await fake.wait_for("chat.postEphemeral")
    press = await fake.send_envelope("interactive", rq.block_actions("pqr.take", "PQR-2026-000001", user=STAFF,
                                                                     response_url=fake.response_url()))
    await asyncio.wait_for(press.acked.wait(), 5)
    await fake.wait_for("chat.update")
    app, _ = socket_app
    assert (await app.service.show("PQR-2026-000001")).assignee == f"slack:{STAFF}"
