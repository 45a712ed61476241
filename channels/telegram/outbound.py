"""Outbox payloads rendered for Telegram, and Bot API errors mapped to `Retryable`/`Permanent`."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.i18n import t
from bot.ports.payloads import (Ack, Alert, BasePayload, Closing, Digest, Extension, Followup, OutboxDead, OutboxPayload,
                                 PenaltyClientNotice, PenaltyEvidenceRequest, PenaltyPaymentAuthorization, Reply,
                                 SurveyAlert, SurveyCsat, SurveyNps)
from bot.ports import ChannelError, Permanent, Retryable

TEXT_LIMIT = 4096
# Kinds sent to staff: a reply to them is not a customer's follow-up.
STAFF_KINDS = frozenset({"followup", "alert", "digest"})
Rendered = tuple[list[str], str | None]     # the message texts and their parse mode


def render(payload: OutboxPayload) -> Rendered:
    """The message texts for a payload and their parse mode (HTML, or None for plain text), from
    the function `RENDERERS` has for its kind; Permanent for a kind it has none for. (A
    "penalty_decision" and an "answer_review" are cards with a keyboard: channels.telegram.penalties
    and channels.telegram.review send them.)"""
    return RENDERERS.get(type(payload), _unknown)(payload)


def _message(text: str, *, subject: str | None = None, language: str | None = None,
             header: str | None = None, radicado: str | None = None) -> Rendered:
    """`text` under a catalogue `header` (with the radicado) or under its subject, or alone;
    long texts go as plain text, cut on line breaks."""
    if len(text) > TEXT_LIMIT - 200:
        return _split(text or subject or ""), None
    lang = language or "es"
    if header:
        return [t(lang, header, radicado=html.escape(radicado or ""), text=html.escape(text))], "HTML"
    if subject:
        return [t(lang, "tg.notice", subject=html.escape(subject), text=html.escape(text))], "HTML"
    return [html.escape(text)], "HTML"


def _customer(payload: Ack | Extension) -> Rendered:
    return _message(payload.text, subject=payload.subject, language=payload.language)


def _reply(payload: Reply) -> Rendered:
    return _message(payload.text, language=payload.language, header="tg.reply", radicado=payload.radicado)


def _closing(payload: Closing) -> Rendered:
    return _message(payload.text, language=payload.language, header="tg.closing", radicado=payload.radicado)


def _notice(payload: Followup | PenaltyEvidenceRequest | PenaltyClientNotice | PenaltyPaymentAuthorization) -> Rendered:
    return _message(payload.text, subject=payload.subject, language=payload.language)


def _plain(payload: Alert | OutboxDead) -> Rendered:
    return _message(payload.text)


def _digest(payload: Digest) -> Rendered:
    """Preformatted: plain text, cut on line breaks."""
    return _split(payload.text or payload.subject or ""), None


def _survey(payload: SurveyCsat | SurveyNps) -> Rendered:
    """The question; its score buttons are added by channels.telegram.surveys."""
    text = f"{payload.text}\n\n{t(payload.language, 'survey.tg_hint')}"
    return _message(text, subject=payload.subject, language=payload.language)


def _survey_alert(payload: SurveyAlert) -> Rendered:
    return _message(payload.text, subject=payload.subject, language=payload.language)


def _unknown(payload: BasePayload) -> Rendered:
    raise Permanent(f"telegram: no renderer for outbox kind {payload.kind!r}")


RENDERERS: dict[type[BasePayload], Callable[[Any], Rendered]] = {
    Ack: _customer, Extension: _customer, Reply: _reply, Closing: _closing, Followup: _notice, Alert: _plain,
    Digest: _digest, OutboxDead: _plain, PenaltyEvidenceRequest: _notice, PenaltyClientNotice: _notice,
    PenaltyPaymentAuthorization: _notice, SurveyCsat: _survey, SurveyNps: _survey, SurveyAlert: _survey_alert,
}


def _split(text: str) -> list[str]:
    parts: list[str] = []
    while len(text) > TEXT_LIMIT:
        cut = text.rfind("\n", 0, TEXT_LIMIT)
        cut = cut if cut > 0 else TEXT_LIMIT
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return parts + [text] if text else parts


def seconds(value: int | float | dt.timedelta) -> float:
    """RetryAfter.retry_after as seconds (an int or a timedelta, depending on PTB settings)."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def classify_error(exc: TelegramError) -> ChannelError:
    """429 → Retryable(retry_after); 403 → Permanent; 400 → Permanent; network → Retryable."""
    if isinstance(exc, RetryAfter):
        return Retryable(f"telegram: rate limited: {exc}", retry_after=seconds(exc.retry_after))
    if isinstance(exc, Forbidden):
        return Permanent(f"telegram: forbidden: {exc.message}")
    if isinstance(exc, BadRequest):       # a subclass of NetworkError: test it first
        return Permanent(f"telegram: bad request: {exc.message}")
    if isinstance(exc, NetworkError):
        return Retryable(f"telegram: network: {exc.message}")
    return Retryable(f"telegram: {type(exc).__name__}: {exc}")


def blocked(exc: TelegramError) -> bool:
    """The chat cannot be written to any more (bot blocked, user deactivated, chat gone)."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()
