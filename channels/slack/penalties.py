"""Penalty decisions on Slack: the decision card (Block Kit, Aprobar / Rechazar), the reason modal
behind each button, the card redrawn with the outcome, and the monthly report's bar chart.

A press checks role and state first (`PenaltyService.check_decision`, which records refusals), so
a non-manager or a case that is no longer in evaluation gets an ephemeral answer and no modal;
the modal's submission goes through `PenaltyService.decide`, which checks everything again."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.commands.refusals import AboutPenalty, refusal_text
from bot.commands.replies import Reply
from bot.i18n import t
from bot.penalties.cards import APPROVE, PenaltyCard, parse_penalty_id
from bot.penalties.report import PenaltyReport, chart_png
from domain.errors import DomainError
from domain.penalty import Penalty

from channels.slack.blocks import ACTION_PREFIX, TEXT_LIMIT, mrkdwn_text, plain_text
from channels.slack.modals import metadata, typed
from channels.slack.mrkdwn import clip, escape, identity
from channels.slack.services import SlackServices

log = logging.getLogger(__name__)
PRESS = re.compile(r"^pqr\.penalty_(approve|reject)$")
REASON = "pqr.penalty_reason"
REPORT_KEY = "penalty_report_month"
_DECIDED_MARK = {"aprobada": ":white_check_mark:", "rechazada": ":x:"}

Block = dict[str, Any]


def _evidence_text(card: PenaltyCard) -> str:
    if not card.evidence:
        return escape(card.evidence_summary) or t(card.language, "penalty.no_evidence")
    lines = []
    for e in card.evidence:
        files = f" _[{escape(', '.join(e.files))}]_" if e.files else ""
        author = f" — {identity(e.author)}" if e.author else ""
        lines.append(f"• {escape(clip(e.text, 600))}{files}{author}")
    return "\n".join(lines)


def card_message(card: PenaltyCard) -> dict[str, Any]:
    """`{"text", "blocks"}` for a decision card: client, category, amount, area and evidence, then
    the Aprobar / Rechazar buttons while the case is open, or the decision once taken. Everything
    that came from people (client, area, evidence, reason) is escaped."""
    lang = card.language

    def field(key: str, value: str) -> dict[str, Any]:
        return mrkdwn_text(clip(f"*{t(lang, 'penalty.label.' + key)}*\n{value}", 1900))

    fields = [field("client", escape(card.client)), field("category", escape(card.category)),
              field("amount", escape(card.amount)), field("area", escape(card.area))]
    if card.pqr:
        fields.append(field("pqr", escape(card.pqr)))
    if card.status:
        fields.append(field("status", escape(card.status)))
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(t(lang, "penalty.card_title", id=card.id, client=card.client))},
        {"type": "section", "fields": fields},
    ]
    if card.description:
        blocks.append({"type": "section", "text": mrkdwn_text(
            f"*{t(lang, 'penalty.label.description')}*\n{escape(clip(card.description, 2000))}")})
    blocks.append({"type": "section", "text": mrkdwn_text(
        f"*{t(lang, 'penalty.label.evidence')}*\n{_evidence_text(card)}")})
    if card.open:
        elements = []
        for a in card.actions:
            elements.append({"type": "button", "action_id": ACTION_PREFIX + a.action, "text": plain_text(a.label, 75),
                             "value": a.value, "style": "primary" if a.action == APPROVE else "danger"})
        blocks.append({"type": "actions", "block_id": f"penalty.{card.id}", "elements": elements})
    elif card.decision:
        line = t(lang, "penalty.decided_line", decision=card.decision_label().capitalize(),
                 by="\0", reason="\1")
        line = escape(line).replace("\0", identity(card.decided_by)).replace("\1", escape(card.reason or "—"))
        blocks.append({"type": "context", "elements": [mrkdwn_text(f"{_DECIDED_MARK.get(card.decision, '')} {line}")]})
    return {"text": clip(escape(card.fallback or t(lang, "penalty.card_title", id=card.id, client=card.client)),
                         TEXT_LIMIT), "blocks": blocks}


def reason_view(card: PenaltyCard, *, approve: bool, meta: dict[str, Any]) -> dict[str, Any]:
    """The modal asking for the decision's reason; `meta` (penalty, approve, where the card is)
    travels in private_metadata."""
    lang = card.language
    verb = "approve" if approve else "reject"
    return {
        "type": "modal", "callback_id": REASON,
        "title": plain_text(t(lang, "penalty.reason.title"), 24),
        "submit": plain_text(t(lang, f"penalty.button.{verb}"), 24),
        "close": plain_text(t(lang, "slack.cancel"), 24),
        "private_metadata": json.dumps({**meta, "penalty": card.id, "approve": approve}),
        "blocks": [
            {"type": "section", "text": mrkdwn_text(
                f"*{escape(t(lang, 'penalty.card_title', id=card.id, client=card.client))}*\n"
                f"{escape(card.category)} · {escape(card.amount)} · {escape(card.area)}")},
            {"type": "input", "block_id": "reason", "optional": False,
             "label": plain_text(t(lang, f"penalty.reason.label_{verb}", id=card.id, client=card.client), 2000),
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000}},
        ],
    }


def read_reason(view: dict[str, Any]) -> str:
    """The reason typed in the modal ("" when empty)."""
    return typed(view, "reason")


class SlackPenalties:
    """The penalty buttons, the reason modal and the report chart, registered on a Bolt app."""

    def __init__(self, services: SlackServices, client: AsyncWebClient) -> None:
        self.services = services
        self.client = client
        self.lang = services.commands.lang

    def register(self, bolt: AsyncApp) -> None:
        bolt.action(PRESS)(self.on_press)
        bolt.view(REASON)(self.on_reason)

    # -- the press ------------------------------------------------------------------------------
    async def on_press(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Aprobar / Rechazar: refuse (ephemerally, recorded) or open the reason modal."""
        await ack()
        user = body["user"]["id"]
        actor, approve = f"slack:{user}", action["action_id"].endswith("approve")
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        penalty_id = parse_penalty_id(str(action.get("value") or ""))
        if penalty_id is None:
            await self._ephemeral(channel, user, t(self.lang, "tg.stale_button"))
            return
        try:
            p = await self.services.penalties.check_decision(penalty_id, approve, actor, self.services.clock())
        except DomainError as exc:
            await self._ephemeral(channel, user, self.refusal(exc, penalty_id))
            return
        meta: dict[str, Any] = {"channel": channel, "ts": ts}
        if container.get("is_ephemeral") and body.get("response_url"):
            meta["response_url"] = body["response_url"]      # an ephemeral card cannot be chat.update'd
        view = reason_view(PenaltyCard.of_penalty(p, self.lang), approve=approve, meta=meta)
        try:
            await self.client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("slack: reason modal for penalty %s failed: %s", penalty_id, exc.response.get("error"))

    def refusal(self, exc: DomainError, penalty_id: int) -> str:
        """The answer to a refused press or submission, escaped for Slack."""
        return escape(refusal_text(exc, self.lang, about=AboutPenalty(penalty_id)))

    # -- the reason modal -----------------------------------------------------------------------
    async def on_reason(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The modal's submission: decide with the reason, then redraw the card that was pressed."""
        user = body["user"]["id"]
        actor, meta, reason = f"slack:{user}", metadata(view), read_reason(view)
        if not reason:
            await ack(response_action="errors", errors={"reason": t(self.lang, "input.reason_required")})
            return
        await ack()
        penalty_id = parse_penalty_id(str(meta.get("penalty", "")))
        if penalty_id is None:
            return
        try:
            p = await self.services.penalties.decide(penalty_id, bool(meta.get("approve")), reason, actor, self.services.clock())
        except DomainError as exc:
            await self._ephemeral(meta.get("channel"), user, self.refusal(exc, penalty_id))
            return
        await self.redraw(p, meta)

    async def redraw(self, p: Penalty, meta: dict[str, Any]) -> None:
        """Replace the pressed card with the penalty as it is now (decision shown, no buttons)."""
        message = card_message(PenaltyCard.of_penalty(p, self.lang))
        try:
            if meta.get("response_url"):
                hook = AsyncWebhookClient(str(meta["response_url"]), session=self.client.session)
                await hook.send(replace_original=True, **message)
            elif meta.get("channel") and meta.get("ts"):
                await self.client.chat_update(channel=meta["channel"], ts=meta["ts"], **message)
        except SlackApiError as exc:
            log.warning("slack: redrawing penalty %s failed: %s", p.id, exc.response.get("error"))
        except SlackClientError as exc:
            log.warning("slack: redrawing penalty %s failed: %s", p.id, exc)

    # -- the report -----------------------------------------------------------------------------
    @staticmethod
    def is_report(reply: Reply) -> bool:
        """A `penalty report YYYY-MM` answer, which goes to the channel with its chart."""
        return reply.ok and REPORT_KEY in reply.extra

    async def post_chart(self, channel: str | None, reply: Reply) -> None:
        """Upload the month's bar chart (files_upload_v2) to the channel the command ran in."""
        month = reply.extra.get(REPORT_KEY)
        if not channel or not month:
            return
        report = PenaltyReport.of(month, await self.services.penalties.month(month))
        png = await asyncio.to_thread(chart_png, report)       # matplotlib is CPU work: off the loop
        title = t(self.lang, "penalty.report_chart", month=month)
        try:
            await self.client.files_upload_v2(channel=channel, file=png, filename=f"penalidades-{month}.png",
                                              title=title, initial_comment=escape(title))
        except SlackApiError as exc:
            log.warning("slack: report chart for %s not posted: %s", month, exc.response.get("error"))
        except SlackClientError as exc:
            log.warning("slack: report chart for %s not posted: %s", month, exc)

    # -- helpers --------------------------------------------------------------------------------
    async def _ephemeral(self, channel: str | None, user: str, text: str) -> None:
        if not channel:
            return
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("slack: ephemeral answer to %s failed: %s", user, exc.response.get("error"))
