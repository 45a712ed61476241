"""Survey alerts on Slack: a low CSAT or an NPS detractor, the customer's comment escaped, with
the button that reopens the PQR (`pqr.survey_reopen`) or files a PQR from the answer
(`pqr.survey_followup`, once however often it is pressed)."""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.refusals import refusal_text
from bot.i18n import t
from bot.ports.payloads import SurveyAlert
from domain.errors import DomainError

from channels.slack.blocks import ACTION_PREFIX, TEXT_LIMIT, mrkdwn_text, plain_text
from channels.slack.mrkdwn import clip, escape

log = logging.getLogger(__name__)
PRESS = re.compile(r"^pqr\.survey_(reopen|followup)$")


class SurveyActions(Protocol):
    """What the buttons call (bot.surveys.service.SurveyService)."""

    async def follow_up(self, survey_id: int, *, actor: str, now: Any) -> tuple[str, bool]: ...

    async def reopen(self, radicado: str, *, actor: str, now: Any) -> str: ...


def alert_message(payload: SurveyAlert) -> dict[str, Any]:
    """`{"text", "blocks"}`: the alert's text (escaped: it carries the customer's comment) and its button."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain_text(payload.subject)},
        {"type": "section", "text": mrkdwn_text(escape(payload.text))}]
    if payload.action is not None:
        blocks.append({"type": "actions", "block_id": f"survey.{payload.survey_id}", "elements": [
            {"type": "button", "action_id": ACTION_PREFIX + payload.action.action, "value": payload.action.value,
             "text": plain_text(payload.action.label, 75),
             "style": "danger" if payload.alert == "low_csat" else "primary"}]})
    return {"text": clip(escape(f"{payload.subject}\n{payload.text}"), TEXT_LIMIT), "blocks": blocks}


class SlackSurveys:
    def __init__(self, actions: SurveyActions | None, client: AsyncWebClient, *, lang: str, clock: Any) -> None:
        self.actions = actions
        self.client = client
        self.lang = lang
        self.clock = clock

    def register(self, bolt: AsyncApp) -> None:
        if self.actions is not None:
            bolt.action(PRESS)(self.on_press)

    async def on_press(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        assert self.actions is not None
        user = body["user"]["id"]
        actor = f"slack:{user}"
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        value = str(action.get("value") or "")
        try:
            if action["action_id"].endswith("followup"):
                if not value.isdigit():
                    raise ValueError(value)
                radicado, new = await self.actions.follow_up(int(value), actor=actor, now=self.clock())
                text = t(self.lang, "survey.followup_done" if new else "survey.followup_again", radicado=radicado)
            else:
                radicado = await self.actions.reopen(value, actor=actor, now=self.clock())
                text = t(self.lang, "survey.reopened", radicado=radicado)
        except DomainError as exc:
            text = refusal_text(exc, self.lang)
        except ValueError:
            text = t(self.lang, "tg.stale_button")
        if channel:
            try:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=escape(text))
            except SlackApiError as exc:
                log.warning("slack: survey answer to %s failed: %s", user, exc.response.get("error"))
