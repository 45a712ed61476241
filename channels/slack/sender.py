"""Outbox payloads posted with chat.postMessage, and Slack's failures sorted into Retryable and
Permanent for the outbox worker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack.services import SlackServices
from bot.ports.payloads import (Alert, AnswerReview, BasePayload, Digest, Followup, OutboxDead, OutboxPayload, PenaltyClientNotice,
                                 PenaltyDecision, PenaltyEvidenceRequest, PenaltyPaymentAuthorization, ReportDelivery,
                                 SurveyAlert, Triage)
from bot.ports.files import ReportFileMissing, load_report_files
from bot.penalties.cards import PenaltyCard
from bot.review.cards import ReviewCard
from bot.ports import ChannelError, Permanent, Retryable
from domain.errors import NotFound

from channels.slack.blocks import TEXT_LIMIT, digest_message, triage_message
from channels.slack.mrkdwn import clip, escape
from channels.slack.penalties import card_message
from channels.slack.review import card_message as review_card_message
from channels.slack.surveys import alert_message

# Errors that a later attempt can get past; every other `ok: false` is permanent.
RETRYABLE_ERRORS = frozenset({"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout", "team_added_to_org"})


def classify(exc: SlackApiError) -> ChannelError:
    """Retryable (rate limit with its Retry-After, Slack-side trouble) or Permanent (bad token,
    unknown channel, bad arguments)."""
    error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
    if error in RETRYABLE_ERRORS or exc.response.status_code == 429 or exc.response.status_code >= 500:
        headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
        raw = headers.get("retry-after")
        retry_after = float(raw[0] if isinstance(raw, list) else raw) if raw else None
        return Retryable(f"slack: {error}", retry_after=retry_after)
    return Permanent(f"slack: {error}")


class SlackSender:
    """`send(destination, payload)` for the payload kinds the outbox carries to Slack, each drawn
    by its function in `RENDERERS` (a kind without one is Permanent): "triage" (a new PQR's card
    with buttons), "digest", the "penalty_decision" card, plain-text notices, and "report" (its
    files uploaded with files_upload_v2, the `Upload` a renderer returns).
    `destination` is a channel id, or a user (`U…` / `slack:U…`) reached by direct message.
    Payload text is plain text (escaped); payload blocks are trusted as built by pqrbot."""

    def __init__(self, services: SlackServices, client: AsyncWebClient) -> None:
        self.services = services
        self.client = client

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        try:
            message = await RENDERERS.get(type(payload), _unknown)(self, payload)
            channel = await self._conversation(destination)
            if isinstance(message, Upload):
                return await self._upload(channel, message)
            resp = await self.client.chat_postMessage(channel=channel, **message)
        except SlackApiError as exc:
            raise classify(exc) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, SlackClientError) as exc:
            raise Retryable(f"slack: {type(exc).__name__}: {exc}") from exc
        ts = resp.get("ts")
        return str(ts) if ts else None

    async def _upload(self, channel: str, upload: Upload) -> str | None:
        """Every file of `upload` to `channel` in one files_upload_v2 (one message, the comment
        on top); the uploaded files' ids."""
        resp = await self.client.files_upload_v2(channel=channel, file_uploads=upload.files,
                                                 initial_comment=upload.comment)
        ids = [str(f.get("id")) for f in resp.get("files") or [] if isinstance(f, dict) and f.get("id")]
        return ",".join(ids) or None

    async def _conversation(self, destination: str) -> str:
        user = destination.removeprefix("slack:")
        if user[:1] in ("U", "W") and user.isalnum():
            resp = await self.client.conversations_open(users=user)
            return str(resp["channel"]["id"])
        return destination


# -- rendering: one function per payload kind, chat.postMessage arguments ---------------------------

@dataclass(frozen=True)
class Upload:
    """What a kind that carries files renders to instead of chat.postMessage arguments: the
    files_upload_v2 `file_uploads` ({file, filename, title}) and the message that goes with them."""

    files: list[dict[str, Any]]
    comment: str


def _text_message(text: str, subject: str | None = None, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A plain message: the text (else the subject) escaped, and ready-made blocks when given."""
    text = text or subject or ""
    if not text and not blocks:
        raise Permanent("slack: payload has neither text nor blocks")
    message: dict[str, Any] = {"text": clip(escape(text), TEXT_LIMIT)}
    if blocks:
        message["blocks"] = blocks
    return message


async def _triage(sender: SlackSender, payload: Triage) -> dict[str, Any]:
    """A new PQR's card with buttons, drawn from the PQR as it is now."""
    try:
        pqr = await sender.services.pqrs.show(payload.radicado)
    except NotFound as exc:
        raise Permanent(f"slack: triage for unknown PQR {exc}") from exc
    return triage_message(pqr, sender.services.commands, sender.services.clock())


async def _penalty_decision(sender: SlackSender, payload: PenaltyDecision) -> dict[str, Any]:
    """The card with Aprobar / Rechazar (plain text when the row names no penalty)."""
    if payload.penalty_id is None:
        return _text_message(payload.text, payload.subject)
    return card_message(PenaltyCard.of_payload(payload.stored()))


async def _answer_review(sender: SlackSender, payload: AnswerReview) -> dict[str, Any]:
    """A manager's approval card: the PQR, due date and time left, the draft, Aprobar / Devolver."""
    return review_card_message(ReviewCard.of_payload(payload.stored()))


async def _digest(sender: SlackSender, payload: Digest) -> dict[str, Any]:
    """Block Kit from the sections (counts, groups, a button per PQR); rows of earlier versions
    (no sections) and ready-made blocks go as they are."""
    if payload.sections and not payload.blocks:
        return digest_message(payload.stored())
    return _text_message(payload.text, payload.subject, payload.blocks)


async def _notice(sender: SlackSender,
                  payload: Followup | PenaltyEvidenceRequest | PenaltyClientNotice | PenaltyPaymentAuthorization
                  ) -> dict[str, Any]:
    return _text_message(payload.text, payload.subject)


async def _plain(sender: SlackSender, payload: Alert | OutboxDead) -> dict[str, Any]:
    return _text_message(payload.text)


async def _report(sender: SlackSender, payload: ReportDelivery) -> Upload:
    """A scheduled report: its XLSX and PDF uploaded with a short message, the bytes loaded
    through the services' `report_files`; Permanent when a file is not stored."""
    try:
        files = await load_report_files(sender.services.report_files, payload)
    except ReportFileMissing as exc:
        raise Permanent(f"slack: {exc}") from exc
    return Upload(files=[{"file": f.data, "filename": f.filename, "title": f.filename} for f in files],
                  comment=clip(escape(payload.text), TEXT_LIMIT))


async def _survey_alert(sender: SlackSender, payload: SurveyAlert) -> dict[str, Any]:
    """A low CSAT or an NPS detractor, with its reopen / file-a-PQR button."""
    return alert_message(payload)


async def _unknown(sender: SlackSender, payload: Any) -> dict[str, Any]:
    """Customer messages never go to Slack; any kind without a renderer fails loudly."""
    raise Permanent(f"slack: no renderer for outbox kind {payload.kind!r}")


RENDERERS: dict[type[BasePayload], Callable[[SlackSender, Any], Awaitable[dict[str, Any] | Upload]]] = {
    Triage: _triage, Followup: _notice, Alert: _plain, Digest: _digest, OutboxDead: _plain,
    PenaltyEvidenceRequest: _notice, PenaltyDecision: _penalty_decision, PenaltyClientNotice: _notice,
    PenaltyPaymentAuthorization: _notice, ReportDelivery: _report, AnswerReview: _answer_review,
    SurveyAlert: _survey_alert,
}
