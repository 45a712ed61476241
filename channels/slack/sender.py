"""Outbox payloads posted with chat.postMessage, and Slack's failures sorted into Retryable and
Permanent for the outbox worker."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import App
from bot.penalties.cards import PenaltyCard
from bot.ports import ChannelError, Permanent, Retryable
from domain.errors import NotFound

from channels.slack.blocks import TEXT_LIMIT, digest_message, triage_message
from channels.slack.mrkdwn import clip, escape
from channels.slack.penalties import card_message

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
    """`send(destination, payload)` for the payload kinds the outbox carries to Slack:
    "triage" (a new PQR's card with buttons), "digest" and any `{"text", ["blocks"]}` message.
    `destination` is a channel id, or a user (`U…` / `slack:U…`) reached by direct message.
    Payload text is plain text (escaped); payload blocks are trusted as built by pqrbot."""

    def __init__(self, app: App, client: AsyncWebClient) -> None:
        self.app = app
        self.client = client

    async def send(self, destination: str, payload: dict[str, Any]) -> str | None:
        try:
            message = await self._message(payload)
            channel = await self._conversation(destination)
            resp = await self.client.chat_postMessage(channel=channel, **message)
        except SlackApiError as exc:
            raise classify(exc) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, SlackClientError) as exc:
            raise Retryable(f"slack: {type(exc).__name__}: {exc}") from exc
        ts = resp.get("ts")
        return str(ts) if ts else None

    async def _message(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("kind") == "triage":
            try:
                pqr = await self.app.service.show(str(payload.get("radicado", "")))
            except NotFound as exc:
                raise Permanent(f"slack: triage for unknown PQR {exc}") from exc
            return triage_message(pqr, self.app.commands, self.app.clock())
        if payload.get("kind") == "penalty_decision" and payload.get("penalty_id") is not None:
            return card_message(PenaltyCard.of_payload(payload))   # the card with Aprobar / Rechazar
        if payload.get("kind") == "digest" and payload.get("sections") and not payload.get("blocks"):
            return digest_message(payload)      # Block Kit: counts, groups, a button per PQR
        text = str(payload.get("text") or payload.get("subject") or "")
        if not text and not payload.get("blocks"):
            raise Permanent("slack: payload has neither text nor blocks")
        message: dict[str, Any] = {"text": clip(escape(text), TEXT_LIMIT)}
        if payload.get("blocks"):
            message["blocks"] = payload["blocks"]
        return message

    async def _conversation(self, destination: str) -> str:
        user = destination.removeprefix("slack:")
        if user[:1] in ("U", "W") and user.isalnum():
            resp = await self.client.conversations_open(users=user)
            return str(resp["channel"]["id"])
        return destination
