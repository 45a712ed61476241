"""Messages to customers, built as outbox rows in the customer's language and channel.

The payload is channel-neutral (subject, text, thread ids); each channel adapter renders it.
Email threading ids are chosen here, at queue time, so the outgoing Message-ID is stored with the
PQR's messages and a customer's answer to it joins the right PQR."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Protocol

from bot.i18n import t
from bot.i18n.formats import format_local_datetime
from bot.ports.payloads import CUSTOMER_MESSAGES, CustomerKind, Triage
from domain.calendar import BusinessCalendar
from domain.pqr import Direction, Message, Pqr
from storage.ports import OutboxItem

CUSTOMER_CHANNELS = ("email", "telegram")
# The reserved template names that replace the automatic texts (domain.templates.Reserved).
ACK_TEXT, EXTENSION_TEXT, CLOSING_TEXT = "_acuse", "_prorroga", "_cierre"


class AutoTexts(Protocol):
    """A deployment's own wording of an automatic text (`bot.templates.store.TemplateStore`)."""

    def text(self, name: str, pqr: Pqr, lang: str, **extra: str) -> str | None:
        """The text `name` filled for `pqr` in `lang`, or None to keep the catalogue's."""
        ...


@dataclass(frozen=True)
class Notifier:
    """Builds customer notifications. `email_address` is the From address (and Message-ID domain).
    `texts` may replace the acknowledgment, the extension notice and the closing wrapper."""

    calendar: BusinessCalendar
    email_address: str = "pqr@pqr.example.co"
    slack_triage_channel: str | None = None   # set when the Slack channel is enabled
    texts: AutoTexts | None = None

    def custom_text(self, name: str, pqr: Pqr, lang: str, **extra: str) -> str | None:
        """The deployment's text `name` for `pqr` (None: use the catalogue's)."""
        return self.texts.text(name, pqr, lang, **extra) if self.texts is not None else None

    def format_instant(self, instant: dt.datetime, lang: str) -> str:
        local = self.calendar.local(instant)
        return t(lang, "time.local", time=format_local_datetime(local, lang))

    def route(self, pqr: Pqr) -> tuple[str, str] | None:
        """(channel, destination) to reach the customer: the channel they used when it can carry an
        answer, else email, else Telegram; None when nothing can reach them."""
        c = pqr.customer
        options = {"email": c.email, "telegram": str(c.telegram_chat_id) if c.telegram_chat_id is not None else None}
        order = [pqr.channel] if pqr.channel in CUSTOMER_CHANNELS else []
        order += [ch for ch in CUSTOMER_CHANNELS if ch not in order]
        for channel in order:
            if options[channel] and not (channel == "telegram" and c.unreachable):
                return channel, options[channel]  # type: ignore[return-value]
        return None

    def new_message_id(self, radicado: str | None = None) -> str:
        """A fresh Message-ID on our domain. It starts with the radicado, so a customer's answer
        whose In-Reply-To/References name it finds the PQR even when the mail itself (an
        acknowledgment) is not stored as a PQR message."""
        domain = self.email_address.rpartition("@")[2] or "pqrbot.local"
        prefix = f"{radicado}." if radicado else ""
        return f"<{prefix}{uuid.uuid4().hex}@{domain}>"

    def to_customer(self, pqr: Pqr, *, kind: CustomerKind, subject_key: str, text: str,
                    message: Message | None = None, dedupe_key: str | None = None) -> OutboxItem | None:
        """An outbox row carrying `text` to the customer, threaded after the PQR's earlier mail."""
        route = self.route(pqr)
        if route is None:
            return None
        channel, destination = route
        lang = pqr.customer.language
        thread = [m.external_id for m in pqr.messages
                  if m.external_id and m.direction is not Direction.NOTE and m.channel == "email"]
        model = CUSTOMER_MESSAGES[kind]
        subject = t(lang, subject_key, radicado=pqr.radicado, type=t(lang, f"type.{pqr.type.value}"))
        if kind == "closing":        # every final answer, however it is sent, gets the closing wrapper
            text = self.custom_text(CLOSING_TEXT, pqr, lang, respuesta=text) or text
        if channel == "email":
            message_id = self.new_message_id(pqr.radicado)
            payload = model(radicado=pqr.radicado, language=lang, subject=subject, text=text,
                            message_id=message_id, in_reply_to=thread[-1] if thread else None,
                            references=thread[-10:], auto_submitted=kind != "reply")
            if message is not None:
                message.external_id = message_id
        else:
            payload = model(radicado=pqr.radicado, language=lang, subject=subject, text=text)
        return OutboxItem(channel=channel, destination=destination, payload=payload.stored(),
                          dedupe_key=dedupe_key, pqr_id=pqr.id)

    def acknowledgment(self, pqr: Pqr, *, files_notice: str | None = None) -> OutboxItem | None:
        """Radicado and due date; `files_notice` (the files that were not taken) follows them."""
        lang = pqr.customer.language
        type_label = t(lang, f"type.{pqr.type.value}")
        text = self.custom_text(ACK_TEXT, pqr, lang) or t(
            lang, "customer.ack", type=type_label.lower(), radicado=pqr.radicado,
            received=self.format_instant(pqr.received_at, lang), due=self.format_instant(pqr.due_at, lang))
        if files_notice:
            text += "\n\n" + files_notice
        return self.to_customer(pqr, kind="ack", subject_key="customer.ack_subject", text=text,
                                dedupe_key=f"ack:{pqr.radicado}")

    def extension(self, pqr: Pqr, reason: str) -> OutboxItem | None:
        lang = pqr.customer.language
        text = self.custom_text(EXTENSION_TEXT, pqr, lang, motivo=reason) or t(
            lang, "customer.extension", type=t(lang, f"type.{pqr.type.value}").lower(),
            radicado=pqr.radicado, due=self.format_instant(pqr.due_at, lang), reason=reason)
        return self.to_customer(pqr, kind="extension", subject_key="customer.extension_subject", text=text)

    def slack_triage(self, pqr: Pqr) -> OutboxItem | None:
        """The new-PQR announcement (card + buttons) for Slack's triage channel; None when Slack
        is off. The adapter renders the card from the PQR's state at send time."""
        if not self.slack_triage_channel or not pqr.radicado:
            return None
        return OutboxItem(channel="slack", destination=self.slack_triage_channel,
                          payload=Triage(radicado=pqr.radicado).stored(),
                          dedupe_key=f"slack-triage:{pqr.radicado}", pqr_id=pqr.id)
