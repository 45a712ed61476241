"""Outbox payloads rendered for Telegram, and Bot API errors mapped to `Retryable`/`Permanent`."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.i18n import t
from bot.ports import ChannelError, Permanent, Retryable

TEXT_LIMIT = 4096
# Kinds rendered with a catalogue header; anything else shows its subject and text.
HEADED = {"reply": "tg.reply", "closing": "tg.closing"}
# Kinds sent to staff: a reply to them is not a customer's follow-up.
STAFF_KINDS = frozenset({"followup", "alert", "digest"})


def render(payload: dict[str, Any]) -> tuple[list[str], str | None]:
    """The message texts for a payload and their parse mode (HTML, or None for plain text)."""
    kind = str(payload.get("kind") or "")
    text = str(payload.get("text") or "")
    if kind == "digest" or len(text) > TEXT_LIMIT - 200:
        # Long or preformatted texts go as plain text, cut on line breaks.
        return _split(text or str(payload.get("subject") or "")), None
    lang = str(payload.get("language") or "es")
    radicado = html.escape(str(payload.get("radicado") or ""))
    if kind in HEADED:
        return [t(lang, HEADED[kind], radicado=radicado, text=html.escape(text))], "HTML"
    subject = str(payload.get("subject") or "")
    if subject:
        return [t(lang, "tg.notice", subject=html.escape(subject), text=html.escape(text))], "HTML"
    return [html.escape(text)], "HTML"


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
