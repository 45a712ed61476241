"""The outbox worker with the real Slack and Telegram adapters against the fake platform APIs, on a
controlled clock (no sleeping): rate limits and server errors are retried at the time the platform
asked for, each message is delivered exactly once, and a message that runs out of attempts goes
dead and staff hear of it in the Slack triage channel (runner.dead_letter_alert)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.sla.alerts import SlaAlerter
from bot.bootstrap import App, build
from bot.config import parse_config
from bot.sla.digest import MAX_ITEMS_PER_SECTION, queue_digest
from bot.outbox.worker import OutboxWorker, RetryPolicy
from bot.runner import dead_letter_alert
from bot.pqrs.service import FilingRequest
from bot.bootstrap import slack_channel, telegram_channel
from channels.slack import SlackChannel
from channels.slack.blocks import DIGEST_ITEMS
from channels.telegram import TelegramChannel
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.telegram_api import FakeTelegram

BOG = dt.timezone(dt.timedelta(hours=-5))
LATE = dt.datetime(2027, 1, 14, 9, 0, tzinfo=BOG)   # PQRs received mid-December are breached by now
AGENT, STAFF, TG_STAFF = "U0AGENT", "U0STAFF", 77
POLICY = RetryPolicy(max_attempts=5, base=dt.timedelta(seconds=1), cap=dt.timedelta(seconds=60))


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Rig:
    """One app with Slack (HTTP mode) and Telegram (polling) started against the fakes."""

    app: App
    clock: Clock
    slack: SlackChannel
    telegram: TelegramChannel
    fake_slack: FakeSlack
    fake_tg: FakeTelegram

    def worker(self, policy: RetryPolicy = POLICY) -> OutboxWorker:
        return OutboxWorker(self.app.db, {"slack": self.slack, "telegram": self.telegram}, self.clock,
                            policy=policy, on_dead=dead_letter_alert(self.app))

    async def file(self, received: dt.datetime, assignee: str, n: int) -> str:
        pqr = await self.app.service.file(FilingRequest(
            pqr_type=PqrType.QUEJA, channel="phone", name=f"Cliente {n}", subject=f"Asunto {n}", body="…",
            received_at=received, actor="cli:test", phone="300"))
        assert pqr is not None and pqr.radicado
        await self.app.service.assign(pqr.radicado, assignee, actor=f"slack:{STAFF}", now=received)
        return pqr.radicado

    async def alert_rows(self) -> list[OutboxItem]:
        async with self.app.db.uow(readonly=True) as uow:
            return [r for r in await uow.outbox.list(limit=1000) if r.payload.get("kind") == "alert"]

    async def rows(self, kind: str) -> list[OutboxItem]:
        async with self.app.db.uow(readonly=True) as uow:
            return [r for r in await uow.outbox.list(limit=1000) if r.payload.get("kind") == kind]

    def slack_posts(self, channel: str, radicado: str) -> int:
        """chat.postMessage calls (failed ones included) of an alert about `radicado` to `channel`."""
        return sum(1 for c in self.fake_slack.of("chat.postMessage")
                   if c.args.get("channel") == channel and radicado in str(c.args.get("text"))
                   and not c.args.get("blocks"))

    def tg_sends(self, chat: int, radicado: str) -> int:
        return sum(1 for p in self.fake_tg.calls_to("sendMessage")
                   if str(p.get("chat_id")) == str(chat) and radicado in str(p.get("text")))


@pytest.fixture
async def rig(database: SqlDatabase, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "outbox-test-secret")
    async with FakeSlack() as fake_slack, FakeTelegram() as fake_tg:
        cfg = parse_config({
            "language": "es",
            "roles": {"staff": [f"slack:{STAFF}", f"slack:{AGENT}", f"telegram:{TG_STAFF}"], "managers": []},
            "channels": {"console": {"enabled": False}, "email": {"enabled": False},
                         "slack": {"enabled": True, "mode": "http", "http": {"host": "127.0.0.1", "port": 0},
                                   "api_base_url": fake_slack.api_base_url, "triage_channel": "C0TRIAGE"},
                         "telegram": {"enabled": True, "base_url": fake_tg.base_url}},
            "digest": {"time": "08:00", "slack_channel": "C0MANAGERS", "telegram_chat": -100555},
        })
        clock = Clock(LATE)
        app = build(cfg, db=database, clock=clock)
        slack = slack_channel(app)
        telegram = telegram_channel(app, token=fake_tg.token, poll_timeout=5, sweep_every=3600)
        await slack.start()
        await telegram.start()
        try:
            yield Rig(app, clock, slack, telegram, fake_slack, fake_tg)
        finally:
            await telegram.stop()
            await slack.stop()


async def drain(worker: OutboxWorker) -> None:
    """Deliver whatever is due now (the new-PQR triage cards)."""
    for _ in range(20):
        if not await worker.run_once():
            return
    raise AssertionError("the outbox did not drain")


async def test_rate_limits_and_server_errors_are_retried_then_delivered_once(rig: Rig) -> None:
    a = await rig.file(dt.datetime(2026, 12, 17, 10, tzinfo=BOG), f"slack:{AGENT}", 1)    # due first
    b = await rig.file(dt.datetime(2026, 12, 18, 10, tzinfo=BOG), f"telegram:{TG_STAFF}", 2)
    worker = rig.worker()
    await drain(worker)
    rig.fake_slack.fail("chat.postMessage", "ratelimited", retry_after=30)          # HTTP 429 + Retry-After
    rig.fake_tg.fail("sendMessage", 429, "Too Many Requests: retry after 20", retry_after=20)
    assert await SlaAlerter(rig.app.db, rig.app.config, rig.app.service.calendar).run(LATE) == 2

    # Four alerts: A's DM (rate limited), A's and B's triage posts (delivered), B's Telegram (429).
    assert await worker.run_once() == 2
    pending = {(r.channel, r.destination): r for r in await rig.alert_rows() if r.status == "pending"}
    assert set(pending) == {("slack", AGENT), ("telegram", str(TG_STAFF))}
    dm, tg = pending[("slack", AGENT)], pending[("telegram", str(TG_STAFF))]
    assert dm.attempts == 1 and "ratelimited" in (dm.last_error or "")
    assert tg.attempts == 1 and "rate limited" in (tg.last_error or "")
    # The retry waits exactly what the platform asked (the backoff alone would be about 1 s).
    assert dm.next_attempt_at == LATE + dt.timedelta(seconds=30)
    assert tg.next_attempt_at == LATE + dt.timedelta(seconds=20)

    rig.clock.now = LATE + dt.timedelta(seconds=19)
    assert await worker.run_once() == 0                   # nothing due yet: nothing sent
    assert rig.slack_posts(f"D{AGENT}", a) == 1 and rig.tg_sends(TG_STAFF, b) == 1

    rig.fake_slack.fail("chat.postMessage", "internal_error", status=500)              # Slack has a bad moment
    rig.clock.now = LATE + dt.timedelta(seconds=30)
    assert await worker.run_once() == 1                   # Telegram gets through, Slack answers 500
    (dm,) = [r for r in await rig.alert_rows() if r.status == "pending"]
    assert dm.attempts == 2 and "internal_error" in (dm.last_error or "")
    assert dm.next_attempt_at is not None and dm.next_attempt_at > rig.clock.now
    rig.clock.now = dm.next_attempt_at
    assert await worker.run_once() == 1
    rig.clock.now += dt.timedelta(hours=2)
    assert await worker.run_once() == 0

    rows = await rig.alert_rows()
    assert all(r.status == "sent" for r in rows) and len(rows) == 4
    # Every call the fakes saw was either an injected failure or the one delivery.
    assert rig.slack_posts(f"D{AGENT}", a) == 3           # 429, 500, delivered
    assert rig.slack_posts("C0TRIAGE", a) == 1 and rig.slack_posts("C0TRIAGE", b) == 1
    assert rig.tg_sends(TG_STAFF, b) == 2                 # 429, delivered
    assert rig.slack_posts(f"D{AGENT}", b) == 0 and rig.tg_sends(TG_STAFF, a) == 0


async def test_exhausted_attempts_go_dead_and_staff_are_told(rig: Rig) -> None:
    b = await rig.file(dt.datetime(2026, 12, 18, 10, tzinfo=BOG), f"telegram:{TG_STAFF}", 1)
    policy = RetryPolicy(max_attempts=3, base=dt.timedelta(seconds=1), cap=dt.timedelta(seconds=10))
    worker = rig.worker(policy)
    await drain(worker)
    rig.fake_tg.fail("sendMessage", 500, "Internal Server Error", times=3)
    assert await SlaAlerter(rig.app.db, rig.app.config, rig.app.service.calendar).run(LATE) == 1
    for _ in range(3):
        await worker.run_once()
        rig.clock.now += dt.timedelta(seconds=10)        # past the capped backoff
    (row,) = [r for r in await rig.alert_rows() if r.channel == "telegram"]
    assert row.status == "dead" and row.attempts == 3 and row.next_attempt_at is None
    assert rig.tg_sends(TG_STAFF, b) == 3

    # The dead-letter hook queued a notice for the triage channel; the next pass delivers it.
    (notice,) = await rig.rows("outbox_dead")
    assert (notice.channel, notice.destination, notice.pqr_id) == ("slack", "C0TRIAGE", row.pqr_id)
    assert await worker.run_once() == 1
    (post,) = [c for c in rig.fake_slack.of("chat.postMessage") if "No se pudo entregar" in str(c.args.get("text"))]
    assert post.args["channel"] == "C0TRIAGE"
    assert f"telegram:{TG_STAFF}" in post.args["text"] and "3 intentos" in post.args["text"] and b in post.args["text"]
    # Dead stays dead (until an operator runs `pqrbot outbox retry`), and the notice goes once.
    rig.clock.now += dt.timedelta(hours=1)
    assert await worker.run_once() == 0
    assert rig.tg_sends(TG_STAFF, b) == 3 and len(await rig.rows("outbox_dead")) == 1


async def test_the_digest_goes_to_slack_as_block_kit_and_to_telegram_as_text(rig: Rig) -> None:
    rads = [await rig.file(dt.datetime(2026, 11, 2, 9, tzinfo=BOG) + dt.timedelta(hours=n), f"slack:{AGENT}", n)
            for n in range(45)]
    worker = rig.worker()
    await drain(worker)
    digest = await rig.app.service.digest(LATE, limit=MAX_ITEMS_PER_SECTION)
    assert await queue_digest(rig.app.db, rig.app.config, rig.app.service.calendar, digest) == 2
    assert await queue_digest(rig.app.db, rig.app.config, rig.app.service.calendar, digest) == 0   # once a day
    assert await worker.run_once() == 2
    (post,) = [c for c in rig.fake_slack.of("chat.postMessage") if c.args["channel"] == "C0MANAGERS"]
    blocks = post.args["blocks"]
    assert len(blocks) <= 50 and blocks[0]["type"] == "header"
    head = blocks[1]["text"]["text"]
    assert "Vencidas: 45" in head and f"<@{AGENT}>: 45" in head
    buttons = [b["accessory"] for b in blocks if "accessory" in b]
    assert [(x["action_id"], x["value"]) for x in buttons] == [("pqr.show", r) for r in rads[:DIGEST_ITEMS]]
    assert any(b["type"] == "context" and f"+{45 - DIGEST_ITEMS}" in b["elements"][0]["text"] for b in blocks)
    assert "Vencidas: 45" in post.args["text"]                      # the plain-text fallback
    sent = "\n".join(p["text"] for p in rig.fake_tg.calls_to("sendMessage") if str(p["chat_id"]) == "-100555")
    assert "Vencidas: 45" in sent and all(r in sent for r in rads)
