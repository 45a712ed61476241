"""Answer approval on Slack: the manager's DM card (the PQR, its due date and time left, the draft
in full, Aprobar / Devolver), the comment modal behind Devolver, and the card redrawn with the
outcome.

Aprobar decides at once (`ReviewService.approve`). Devolver checks role and state first
(`ReviewService.check`, which records refusals), so a non-manager, a second press or a stale card
gets an ephemeral answer and no modal; the modal's submission goes through
`ReviewService.send_back`, which checks everything again."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.refusals import refusal_text
from bot.i18n import t
from bot.i18n.formats import format_local_datetime
from bot.review.cards import ReviewCard
from bot.review.notices import APPROVE, parse_value
from bot.review.service import ReviewService
from domain.errors import DomainError
from domain.pqr import Pqr

from channels.slack.blocks import ACTION_PREFIX, TEXT_LIMIT, mrkdwn_text, plain_text
from channels.slack.modals import metadata, typed
from channels.slack.mrkdwn import clip, escape, identity
from channels.slack.services import SlackServices

log = logging.getLogger(__name__)
PRESS = re.compile(r"^pqr\.answer_(approve|return)$")
COMMENT = "pqr.answer_comment"
ANSWER_CHUNK = 2900          # a section holds 3000 characters: a long draft takes several
ANSWER_CHUNKS = 12

Block = dict[str, Any]


def card_message(card: ReviewCard) -> dict[str, Any]:
    """`{"text", "blocks"}` for an approval card. Everything people wrote (subject, customer,
    the draft) is escaped; the draft is shown in full, over several sections when long."""
    lang = card.language

    def field(key: str, value: str) -> dict[str, Any]:
        return mrkdwn_text(clip(f"*{t(lang, 'review.label.' + key)}*\n{value}", 1900))

    blocks: list[Block] = [
        {"type": "header", "text": plain_text(t(lang, "review.card_title", radicado=card.radicado))},
        {"type": "section", "fields": [field("type", escape(card.type)), field("customer", escape(card.customer)),
                                       field("due", escape(card.due)), field("drafter", identity(card.drafter)),
                                       field("subject", escape(card.subject))]},
        {"type": "section", "text": mrkdwn_text(f"*{t(lang, 'review.label.answer')}*")},
    ]
    answer = escape(card.answer) or "—"
    chunks = [answer[i:i + ANSWER_CHUNK] for i in range(0, len(answer), ANSWER_CHUNK)][:ANSWER_CHUNKS]
    blocks += [{"type": "section", "text": mrkdwn_text(chunk)} for chunk in chunks]
    if card.open:
        blocks.append({"type": "actions", "block_id": f"answer.{card.radicado}.{card.draft}", "elements": [
            {"type": "button", "action_id": ACTION_PREFIX + a.action, "text": plain_text(a.label, 75), "value": a.value,
             "style": "primary" if a.action == APPROVE else "danger"} for a in card.actions]})
    elif card.decided:
        blocks.append({"type": "context", "elements": [mrkdwn_text(escape(card.decided))]})
    return {"text": clip(escape(card.fallback or t(lang, "review.card_title", radicado=card.radicado)), TEXT_LIMIT),
            "blocks": blocks}


def comment_view(pqr: Pqr, lang: str, *, meta: dict[str, Any]) -> dict[str, Any]:
    """The modal asking for the comment of a return; `meta` (radicado, draft, where the card
    is) travels in private_metadata."""
    draft = pqr.draft
    drafter = draft.drafter if draft else ""
    return {
        "type": "modal", "callback_id": COMMENT,
        "title": plain_text(t(lang, "review.comment.title"), 24),
        "submit": plain_text(t(lang, "review.button.return"), 24),
        "close": plain_text(t(lang, "slack.cancel"), 24),
        "private_metadata": json.dumps(meta),
        "blocks": [
            {"type": "section", "text": mrkdwn_text(f"*{escape(pqr.radicado or '')}* · {escape(pqr.subject)}")},
            {"type": "input", "block_id": "comment", "optional": False,
             "label": plain_text(t(lang, "review.comment.label", drafter=drafter), 2000),
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000}},
        ],
    }


def read_comment(view: dict[str, Any]) -> str:
    """The comment typed in the modal ("" when empty)."""
    return typed(view, "comment")


class SlackReview:
    """The Aprobar / Devolver buttons and the comment modal, registered on a Bolt app."""

    def __init__(self, services: SlackServices, client: AsyncWebClient) -> None:
        self.services = services
        self.client = client
        self.lang = services.commands.lang

    @property
    def review(self) -> ReviewService:
        assert self.services.review is not None
        return self.services.review

    def register(self, bolt: AsyncApp) -> None:
        if self.services.review is None:
            return
        bolt.action(PRESS)(self.on_press)
        bolt.view(COMMENT)(self.on_comment)

    async def on_press(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Aprobar: decide now and redraw the card. Devolver: refuse or open the comment modal."""
        await ack()
        user = body["user"]["id"]
        actor, approve = f"slack:{user}", action["action_id"].endswith("approve")
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        parsed = parse_value(str(action.get("value") or ""))
        if parsed is None:
            await self._ephemeral(channel, user, escape(t(self.lang, "tg.stale_button")))
            return
        rad, draft = parsed
        now = self.services.clock()
        try:
            if approve:
                pqr = await self.review.approve(rad, actor=actor, now=now, draft=draft)
            else:
                pqr = await self.review.check(rad, approve=False, actor=actor, now=now, draft=draft)
        except DomainError as exc:
            await self._ephemeral(channel, user, escape(refusal_text(exc, self.lang)))
            return
        if approve:
            await self.redraw(pqr, channel, ts)
            return
        meta = {"radicado": rad, "draft": draft, "channel": channel, "ts": ts}
        try:
            await self.client.views_open(trigger_id=body["trigger_id"], view=comment_view(pqr, self.lang, meta=meta))
        except SlackApiError as exc:
            log.warning("slack: comment modal for %s failed: %s", rad, exc.response.get("error"))

    async def on_comment(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The modal's submission: return the draft with the comment, then redraw the card."""
        user = body["user"]["id"]
        meta, comment = metadata(view), read_comment(view)
        if not comment:
            await ack(response_action="errors", errors={"comment": t(self.lang, "input.comment_required")})
            return
        await ack()
        parsed = parse_value(f"{meta.get('radicado') or ''}:{meta.get('draft') or ''}".rstrip(":"))
        if parsed is None:
            return
        try:
            pqr = await self.review.send_back(parsed[0], comment, actor=f"slack:{user}", now=self.services.clock(),
                                              draft=parsed[1])
        except DomainError as exc:
            await self._ephemeral(meta.get("channel"), user, escape(refusal_text(exc, self.lang)))
            return
        await self.redraw(pqr, meta.get("channel"), meta.get("ts"))

    async def redraw(self, pqr: Pqr, channel: str | None, ts: str | None) -> None:
        """Replace the pressed card with its outcome (no buttons)."""
        if not channel or not ts:
            return
        due = format_local_datetime(self.services.pqrs.calendar.local(pqr.due_at), self.lang)
        card = ReviewCard.of_decided(pqr, self.lang, due=due)
        try:
            await self.client.chat_update(channel=channel, ts=ts, **card_message(card))
        except SlackApiError as exc:
            log.warning("slack: redrawing the approval card of %s failed: %s", pqr.radicado, exc.response.get("error"))
        except SlackClientError as exc:
            log.warning("slack: redrawing the approval card of %s failed: %s", pqr.radicado, exc)

    async def _ephemeral(self, channel: str | None, user: str, text: str) -> None:
        if not channel:
            return
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("slack: ephemeral answer to %s failed: %s", user, exc.response.get("error"))
