"""HTTP mode: Slack's signature rules (401 for forged or stale requests), /healthz, retries that
never act twice, and a clear startup error when a secret is missing."""

from __future__ import annotations

import time

import pytest

from bot.config import ConfigError, parse_config
from channels.slack import SlackSettings
from tests.channels.slack.conftest import STAFF, Harness
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import FakeSlack


async def test_healthz(slack: Harness) -> None:
    async with slack.http.get(f"http://127.0.0.1:{slack.adapter.port}/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True


@pytest.mark.parametrize("headers", [
    {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": str(int(time.time()))},
    {},
], ids=["forged", "unsigned", "no-headers"])
async def test_forged_requests_get_401_and_do_nothing(slack: Harness, headers: dict[str, str]) -> None:
    rad = await slack.file()
    body = rq.form_body(rq.slash_command(f"take {rad}", user=STAFF, response_url=slack.fake.response_url()))
    status, _ = await slack.post(body, headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert status == 401
    assert (await slack.app.service.show(rad)).assignee is None


async def test_other_secret_and_stale_timestamp_get_401(slack: Harness) -> None:
    body = rq.form_body(rq.slash_command("list", user=STAFF, response_url=slack.fake.response_url()))
    assert (await slack.post(body, headers=rq.sign(body, secret="not-the-secret")))[0] == 401
    stale = rq.sign(body, timestamp=int(time.time()) - 301)
    assert (await slack.post(body, headers=stale))[0] == 401
    tampered = rq.sign(body)
    assert (await slack.post(body + "x", headers=tampered))[0] == 401
    assert slack.fake.of("response_url") == []


async def test_a_retry_never_acts_twice(slack: Harness) -> None:
    rad = await slack.file()
    url = slack.fake.response_url()
    body = rq.form_body(rq.slash_command(f"note {rad} una sola vez", user=STAFF, response_url=url))
    assert (await slack.post(body))[0] == 200
    await slack.answer(url)
    for n in (1, 2):
        retry = {**rq.sign(body), "X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"}
        assert (await slack.post(body, headers=retry))[0] == 200
    # a later, different request is answered: the retries were dropped, not queued
    await slack.command("help")
    assert len([c for c in slack.fake.of("response_url") if c.args["_url"] == url]) == 1
    notes = [m for m in (await slack.app.service.show(rad)).messages if m.direction.value == "note"]
    assert len(notes) == 1


def test_missing_secrets_are_a_clear_startup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    cfg = parse_config({"channels": {"slack": {"enabled": True, "mode": "http"}}}).channels.slack
    with pytest.raises(ConfigError) as err:
        SlackSettings.load(cfg)
    assert "SLACK_BOT_TOKEN" in str(err.value) and "SLACK_SIGNING_SECRET" in str(err.value)
    monkeypatch.delenv("SLACK_APP_TOKEN")
    socket = parse_config({"channels": {"slack": {"enabled": True}}}).channels.slack
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackSettings.load(socket, {"SLACK_BOT_TOKEN": "xoxb-1"})


async def test_url_verification_is_answered(slack: Harness, fake: FakeSlack) -> None:
    body = '{"token": "t", "challenge": "abc123", "type": "url_verification"}'
    headers = {**rq.sign(body), "Content-Type": "application/json"}
    status, text = await slack.post(body, headers=headers)
    assert status == 200 and "abc123" in text
