"""Outbox payload -> MIME message -> the configured relay (aiosmtplib).

The Message-ID is the one chosen when the row was queued (and stored with the PQR's message), so
a retry sends the same id and the customer's answer threads to the right PQR."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from bot.config import Relay
from channels.base import Permanent, Retryable


def build_message(payload: dict[str, Any], *, destination: str, from_address: str) -> EmailMessage:
    """The MIME message for an outbox payload (kind, radicado, language, subject, text,
    message_id, in_reply_to, references, auto_submitted)."""
    msg = EmailMessage()
    radicado = payload.get("radicado")
    subject = str(payload.get("subject") or "")
    if radicado and f"[{radicado}]" not in subject:
        subject = f"[{radicado}] {subject}".strip()
    msg["From"] = from_address
    msg["To"] = destination
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = from_address.rpartition("@")[2] or None
    msg["Message-ID"] = payload.get("message_id") or make_msgid(domain=domain)
    if payload.get("in_reply_to"):
        msg["In-Reply-To"] = payload["in_reply_to"]
    references = [r for r in payload.get("references") or [] if r]
    if references:
        msg["References"] = " ".join(references)
    if payload.get("auto_submitted"):
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # ask Exchange not to auto-answer our auto-reply
    if payload.get("language"):
        msg["Content-Language"] = str(payload["language"])
    msg.set_content(str(payload.get("text") or ""))
    return msg


def _credentials(relay: Relay) -> tuple[str | None, str | None]:
    user = os.environ.get(relay.username_env) if relay.username_env else None
    password = os.environ.get(relay.password_env) if relay.password_env else None
    return (user, password) if user and password else (None, None)


async def send_message(msg: EmailMessage, relay: Relay, *, timeout: float = 30.0) -> None:
    """Hand `msg` to the relay. Connection trouble and 4xx answers raise Retryable; 5xx answers
    (a refused recipient, a rejected message) raise Permanent."""
    user, password = _credentials(relay)
    try:
        await aiosmtplib.send(msg, hostname=relay.host, port=relay.port, start_tls=relay.starttls,
                              username=user, password=password, timeout=timeout)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= c < 600 for c in codes):
            raise Permanent(f"recipient refused: {exc.recipients[0].code} {exc.recipients[0].message}") from exc
        raise Retryable(f"recipient deferred: {exc}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        if 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            raise Permanent(f"relay refused: {exc.code} {exc.message}") from exc
        raise Retryable(f"relay answered {exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise Retryable(f"relay unreachable: {type(exc).__name__}: {exc}") from exc
