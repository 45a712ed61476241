"""The real Telegram channel (python-telegram-bot `Application`) against the fake Bot API, on a
real SQLite database (the core conversation tests also on PostgreSQL: `db_bot`, `database`), with a controlled clock. `Harness.deliver` offers an update and returns once
the bot processed it (polling: the update was confirmed; webhook: the POST was answered)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import telegram_channel
from bot.bootstrap import App, build
from bot.config import parse_config
from channels.telegram import TelegramChannel
from channels.telegram.webhook import SECRET_HEADER
from storage.db import SqlDatabase
from tests.fakes import telegram_updates as tu
from tests.fakes.telegram_api import FakeTelegram

T0 = dt.datetime(2026, 12, 18, 15, 0, tzinfo=dt.timezone.utc)    # Fri 10:00 in Bogotá
SECRET = "s3cret-token_ABC"
MANAGER = 1001


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


class Harness:
    """One bot process: the app on `db`, the channel against `fake`, in polling or webhook mode."""

    def __init__(self, db: SqlDatabase, fake: FakeTelegram, clock: Clock, mode: str = "polling", *,
                 slack: bool = False) -> None:
        self.db, self.fake, self.clock, self.mode = db, fake, clock, mode
        self.app: App = build(config(fake, mode, slack=slack), db=db, clock=clock)
        self.channel = telegram_channel(self.app, token=fake.token, webhook_secret=SECRET if mode == "webhook" else None,
                                       poll_timeout=5, sweep_every=3600)

    async def start(self) -> Harness:
        await self.channel.start()
        return self

    async def stop(self) -> None:
        await self.channel.stop()

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.channel.webhook_port}/telegram"

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with aiohttp.ClientSession() as session:
            async with session.post(self.webhook_url, json=update, headers=headers) as resp:
                return resp.status

    async def deliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """Offer `update` as Telegram would and wait until it was processed."""
        if self.mode == "webhook":
            self.fake.push(update)          # fills in the ids; Telegram's queue is not used here
            self.fake.pending.remove(update)
            status = await self.post(update)
            assert status == 200, status
        else:
            self.fake.push(update)
            await self.fake.processed(update)
        return update

    # -- a customer's moves ---------------------------------------------------------------------
    async def say(self, uid: int, body: str, lang: str | None = "es", **kw: Any) -> dict[str, Any]:
        return await self.deliver(tu.text(uid, body, lang, **kw))

    async def press(self, uid: int, label: str, lang: str | None = "es",
                    on: dict[str, Any] | None = None) -> dict[str, Any]:
        """Press the button labelled `label` (or with that callback data) on the bot's last message."""
        msg = on or self.fake.last_message(uid)
        found = tu.buttons(msg)
        data = found.get(label) or (label if label in found.values() else None)
        assert data is not None, f"no button {label!r} on {msg.get('text')!r}: {found}"
        return await self.deliver(tu.callback(uid, data, msg, lang))

    def last_text(self, uid: int) -> str:
        return str(self.fake.last_message(uid)["text"])


def config(fake: FakeTelegram, mode: str = "polling", *, slack: bool = False) -> Any:
    return parse_config({
        "language": "es",
        "roles": {"staff": ["slack:U0STAFF"], "managers": ["slack:U0BOSS", f"telegram:{MANAGER}"]},
        "channels": {"console": {"enabled": False}, "email": {"enabled": False},
                     "slack": {"enabled": slack, "triage_channel": "C0TRIAGE"},
                     "telegram": {"enabled": True, "mode": mode, "base_url": fake.base_url,
                                  "webhook": {"host": "127.0.0.1", "port": 0, "path": "/telegram",
                                              "public_url": "https://pqr.example.co/telegram"}}},
        "digest": {"telegram_chat": -100555},
    })


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as tg:
        yield tg


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, sqlite_database: SqlDatabase, fake: FakeTelegram,
              clock: Clock) -> AsyncIterator[Harness]:
    """A started channel, in polling and in webhook mode."""
    h = await Harness(sqlite_database, fake, clock, request.param).start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture(params=["polling", "webhook"])
async def db_bot(request: pytest.FixtureRequest, database: SqlDatabase, fake: FakeTelegram,
                 clock: Clock) -> AsyncIterator[Harness]:
    """A started channel on SQLite and on PostgreSQL, in polling and in webhook mode."""
    h = await Harness(database, fake, clock, request.param).start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
async def polling_bot(sqlite_database: SqlDatabase, fake: FakeTelegram, clock: Clock) -> AsyncIterator[Harness]:
    h = await Harness(sqlite_database, fake, clock, "polling").start()
    try:
        yield h
    finally:
        await h.stop()
