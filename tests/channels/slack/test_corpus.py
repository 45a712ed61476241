"""Real Slack request bodies from the shared corpus (skipped when it is absent; never copied
into the repo): signed and posted as they are, they must never break the endpoint."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.channels.slack.conftest import Harness
from tests.corpora import CORPORA

CORPUS = CORPORA / "slack"
RAW_BODIES = ["botbuilder-dotnet/SlashCommandBody.txt", "botbuilder-dotnet/BlockActionsBody.txt",
              "botbuilder-dotnet/BlockActionsBodyButton.txt", "botbuilder-dotnet/BlockActionsWithStringState.txt",
              "botbuilder-dotnet/InteractiveMessageBody.txt"]


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {path} is not available")
    return path


@pytest.mark.parametrize("name", RAW_BODIES)
async def test_real_bodies_are_answered_without_errors(slack: Harness, name: str) -> None:
    body = corpus_file(name).read_text(encoding="utf-8").strip()
    status, _ = await slack.post(body)
    assert status in (200, 404)           # 404: Bolt's answer for an action that is not ours
    assert slack.fake.calls == []


async def test_a_real_slash_command_from_someone_unknown_is_refused(slack: Harness) -> None:
    fields = dict(parse_qsl(corpus_file("botbuilder-dotnet/SlashCommandBody.txt").read_text().strip(),
                            keep_blank_values=True))
    url = slack.fake.response_url()
    fields.update(command="/pqr", response_url=url)   # the rest exactly as recorded
    status, _ = await slack.post(urlencode(fields))
    assert status == 200
    answer = await slack.answer(url)
    assert answer.args["response_type"] == "ephemeral" and "Solo el personal" in answer.args["text"]


async def test_a_payload_with_every_field_empty(slack: Harness) -> None:
    import json
    fields = json.loads(corpus_file("java-slack-sdk/SlashCommandPayload.json").read_text())
    url = slack.fake.response_url()
    fields.update(command="/pqr", response_url=url)
    status, _ = await slack.post(urlencode(fields))
    assert status == 200
    assert "Solo el personal" in (await slack.answer(url)).args["text"]
