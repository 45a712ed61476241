"""The adapter's send(): the triage card through the real outbox worker, digests and plain
messages, and Slack's failures sorted into Retryable / Permanent."""

from __future__ import annotations

import json

import pytest

from bot.ports.payloads import Alert, Digest, Triage
from bot.outbox.worker import OutboxWorker
from bot.ports import Permanent, Retryable
from tests.channels.slack.conftest import NOW, Harness


async def test_a_new_pqr_is_announced_in_triage_through_the_outbox(slack: Harness) -> None:
    rad = await slack.file(subject="Cobro <!channel> doble")
    worker = OutboxWorker(slack.app.db, {"slack": slack.adapter}, lambda: NOW)
    assert await worker.run_once() == 1
    post = (await slack.fake.wait_for("chat.postMessage"))[0]
    assert post.token == "xoxb-fake-bot-token" and post.args["channel"] == "C0TRIAGE"
    assert rad in post.args["text"] and "<!channel>" not in json.dumps(post.args)
    ids = [e["action_id"] for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["pqr.take", "pqr.show", "pqr.reply"]
    assert await worker.run_once() == 0                      # delivered once
    async with slack.app.db.uow(readonly=True) as uow:
        sent = [r for r in await uow.outbox.list(status="sent") if r.channel == "slack"]
    assert len(sent) == 1


async def test_ratelimited_is_retried_after_retry_after(slack: Harness) -> None:
    await slack.file()
    slack.fake.fail("chat.postMessage", "ratelimited", retry_after=30)
    worker = OutboxWorker(slack.app.db, {"slack": slack.adapter}, lambda: NOW)
    assert await worker.run_once() == 0
    async with slack.app.db.uow(readonly=True) as uow:
        row = next(r for r in await uow.outbox.list() if r.channel == "slack")
    assert row.status == "pending" and row.attempts == 1 and "ratelimited" in (row.last_error or "")
    assert row.next_attempt_at is not None and (row.next_attempt_at - NOW).total_seconds() >= 30


@pytest.mark.parametrize("error", ["channel_not_found", "invalid_auth", "not_in_channel"])
async def test_permanent_errors(slack: Harness, error: str) -> None:
    slack.fake.fail("chat.postMessage", error)
    with pytest.raises(Permanent, match=error):
        await slack.adapter.send("C0GONE", Alert(text="hola"))


async def test_unknown_channel_and_bad_token_as_slack_answers_them(slack: Harness) -> None:
    slack.fake.unknown_channels.add("C0GONE")
    with pytest.raises(Permanent, match="channel_not_found"):
        await slack.adapter.send("C0GONE", Alert(text="hola"))
    slack.adapter.client.token = "xoxb-revoked"
    with pytest.raises(Permanent, match="invalid_auth"):
        await slack.adapter.send("C0TRIAGE", Alert(text="hola"))


async def test_network_errors_are_retryable(slack: Harness) -> None:
    slack.adapter.client.base_url = "http://127.0.0.1:9/api/"      # nothing listens on the discard port
    with pytest.raises(Retryable):
        await slack.adapter.send("C0TRIAGE", Alert(text="hola"))


async def test_digest_and_direct_messages(slack: Harness) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Resumen*"}}]
    ts = await slack.adapter.send("C0MANAGERS", Digest(text="2 vencidas <!here>", blocks=blocks))
    assert ts
    post = (await slack.fake.wait_for("chat.postMessage"))[0]
    assert post.args["blocks"] == blocks and post.args["text"] == "2 vencidas &lt;!here&gt;"
    await slack.adapter.send("slack:U0BOSS", Alert(text="hola"))
    opened = (await slack.fake.wait_for("conversations.open"))[0]
    assert opened.args["users"] == "U0BOSS"
    await slack.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "DU0BOSS")


async def test_triage_for_an_unknown_pqr_is_permanent(slack: Harness) -> None:
    with pytest.raises(Permanent):
        await slack.adapter.send("C0TRIAGE", Triage(radicado="PQR-2099-000001"))
