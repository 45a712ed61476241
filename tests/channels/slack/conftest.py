"""A running Slack channel in HTTP mode against the fake Slack, on a real SQLite database."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from bot.bootstrap import slack_channel
from channels.slack import SlackChannel
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, Call, FakeSlack

BOG = dt.timezone(dt.timedelta(hours=-5))
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)
STAFF, ANA, BOSS, NOBODY = "U0STAFF", "U0ANA", "U0BOSS", "UNOBODY"


def slack_config(fake: FakeSlack, *, mode: str = "http", language: str = "es") -> dict[str, Any]:
    return {"language": language,
            "roles": {"staff": [f"slack:{STAFF}", f"slack:{ANA}"], "managers": [f"slack:{BOSS}"]},
            "channels": {"console": {"enabled": False}, "email": {"enabled": False},
                         "slack": {"enabled": True, "mode": mode, "http": {"host": "127.0.0.1", "port": 0},
                                   "api_base_url": fake.api_base_url, "triage_channel": "C0TRIAGE"}}}


@pytest.fixture(autouse=True)
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", rq.SIGNING_SECRET)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)


class Harness:
    """Sends signed requests to the running adapter and waits on what the fake Slack recorded."""

    def __init__(self, app: App, adapter: SlackChannel, fake: FakeSlack, http: aiohttp.ClientSession) -> None:
        self.app, self.adapter, self.fake, self.http = app, adapter, fake, http

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"

    async def post(self, body: str, *, headers: dict[str, str] | None = None) -> tuple[int, str]:
        async with self.http.post(self.url, data=body.encode(), headers=headers or rq.sign(body)) as resp:
            return resp.status, await resp.text()

    async def command(self, text: str, *, user: str = STAFF, channel: str = "C0QUEUE") -> Call:
        """Run `/pqr text` and wait for the answer posted to its response_url."""
        url = self.fake.response_url()
        status, _ = await self.post(rq.form_body(rq.slash_command(text, user=user, response_url=url, channel=channel)))
        assert status == 200
        return await self.answer(url)

    async def answer(self, url: str) -> Call:
        """The message posted to `url` (a response_url)."""
        return (await self.fake.wait_for("response_url", lambda c: c.args["_url"] == url))[0]

    async def press(self, action_id: str, value: str, *, user: str = STAFF, channel: str = "C0TRIAGE",
                    message_ts: str = "1700000000.000001") -> tuple[int, str]:
        payload = rq.block_actions(action_id, value, user=user, response_url=self.fake.response_url(),
                                   channel=channel, message_ts=message_ts)
        return await self.post(rq.payload_body(payload))

    async def file(self, *, email: str | None = "ana@example.co", subject: str = "Cobro doble",
                   name: str = "Ana", body: str = "Me cobraron dos veces") -> str:
        pqr = await self.app.service.file(FilingRequest(
            pqr_type=PqrType.RECLAMO, channel="email", name=name, subject=subject, body=body,
            received_at=dt.datetime(2026, 12, 18, 10, tzinfo=BOG), actor=f"email:{email}", email=email))
        assert pqr is not None and pqr.radicado
        return pqr.radicado


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as f:
        yield f


def make_app(db: SqlDatabase, fake: FakeSlack, **kw: Any) -> App:
    return build(parse_config(slack_config(fake, **kw)), db=db, clock=lambda: NOW)


@pytest.fixture
async def slack(sqlite_database: SqlDatabase, fake: FakeSlack) -> AsyncIterator[Harness]:
    app = make_app(sqlite_database, fake)
    adapter = slack_channel(app)
    await adapter.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(app, adapter, fake, http)
    finally:
        await adapter.stop()
