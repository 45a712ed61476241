"""`/pqr kpis [month|YYYY-MM]` through slack-bolt and the fake Slack API: the month's figures as a
Block Kit table in the channel, the chart uploaded with files_upload_v2, bad months answered with
the usage, and the same text on the console's command layer."""

from __future__ import annotations

import datetime as dt

from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType
from tests.channels.slack.conftest import NOBODY, Harness

BOG = dt.timezone(dt.timedelta(hours=-5))


async def _file(slack: Harness, when: dt.datetime) -> None:
    await slack.app.service.file(FilingRequest(pqr_type=PqrType.QUEJA, channel="email", name="Ana", subject="Cobro",
                                               body="Texto", received_at=when, actor="email:ana@x.co",
                                               email="ana@x.co"))


async def test_kpis_posts_the_table_and_uploads_the_chart(slack: Harness) -> None:
    await _file(slack, dt.datetime(2026, 11, 10, 9, 0, tzinfo=BOG))
    await _file(slack, dt.datetime(2026, 11, 12, 9, 0, tzinfo=BOG))
    reply = await slack.command("kpis 2026-11")
    assert reply.args["response_type"] == "in_channel"
    blocks = reply.args["blocks"]
    assert blocks[0]["type"] == "header" and "2026-11" in blocks[0]["text"]["text"]
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert "*Radicadas*\n2" in fields and any(f.startswith("*Cumplimiento ANS*") for f in fields)
    assert "Radicadas: 2" in reply.args["text"]
    done = (await slack.fake.wait_for("files.completeUploadExternal", timeout=60))[0]
    asked = slack.fake.of("files.getUploadURLExternal")[0]
    assert asked.args["filename"] == "kpis-2026-11.png"
    data = slack.fake.uploads[slack.fake.of("upload")[0].args["file_id"]]
    assert data.startswith(b"\x89PNG") and int(asked.args["length"]) == len(data)
    assert "2026-11" in done.args["files"][0]["title"]


async def test_kpis_this_month_and_the_spanish_verb(slack: Harness) -> None:
    reply = await slack.command("indicadores")
    assert "2026-12" in reply.args["blocks"][0]["text"]["text"]       # the harness's clock: December


async def test_a_bad_month_is_answered_with_the_usage_and_nothing_is_uploaded(slack: Harness) -> None:
    reply = await slack.command("kpis noviembre")
    assert reply.args["response_type"] == "ephemeral" and "AAAA-MM" in reply.args["text"]
    refused = await slack.command("kpis 2026-11", user=NOBODY)
    assert refused.args["response_type"] == "ephemeral"
    assert slack.fake.of("files.getUploadURLExternal") == []


async def test_the_console_gets_the_same_text(slack: Harness) -> None:
    await _file(slack, dt.datetime(2026, 11, 10, 9, 0, tzinfo=BOG))
    reply = await slack.app.commands.handle("slack:U0STAFF", "kpis 2026-11", dt.datetime(2026, 12, 1, 9, tzinfo=BOG))
    assert reply.ok and reply.text.splitlines()[0] == "Indicadores de 2026-11" and "Radicadas: 1" in reply.text
