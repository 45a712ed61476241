"""Channel-neutral replies: what the bot answers, before a channel renders it (Block Kit, Telegram
HTML, plain console text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from domain.attachments import Attachment
from domain.files import FileData
from domain.pqr import Direction, Pqr, SlaState


class Visibility(StrEnum):
    PRIVATE = "private"   # only the person who asked (Slack ephemeral)
    PUBLIC = "public"     # a change others should see (posted in the channel)


@dataclass(frozen=True)
class Button:
    """An action a chat can offer as a button: `action` names it, `value` carries the radicado."""

    label: str
    action: str
    value: str
    style: str | None = None


@dataclass(frozen=True)
class PqrCard:
    """What a PQR card shows, with its texts already in the reader's language."""

    radicado: str
    type: str
    customer: str
    channel: str
    status: str
    due_at: dt.datetime
    sla: SlaState
    assignee: str | None
    subject: str
    last_message: str | None
    extended: bool = False
    area: str | None = None
    attachments: tuple[Attachment, ...] = ()      # every stored file of the PQR's messages, oldest first
    cause: str | None = None                      # the cause's label (config `causes`)

    @classmethod
    def of(cls, pqr: Pqr, *, sla: SlaState, type_label: str, status_label: str,
           cause_label: str | None = None) -> PqrCard:
        last = next((m.body for m in reversed(pqr.messages) if m.direction is not Direction.NOTE), None)
        return cls(radicado=pqr.radicado or "", type=type_label, customer=pqr.customer.name,
                   channel=pqr.channel, status=status_label, due_at=pqr.due_at, sla=sla,
                   assignee=pqr.assignee, subject=pqr.subject, last_message=last,
                   extended=pqr.extended, area=pqr.area,
                   attachments=tuple(a for m in pqr.messages for a in m.attachments),
                   cause=cause_label or pqr.cause)


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one command. `text` is always complete on its own (the fallback)."""

    text: str
    cards: tuple[PqrCard, ...] = ()
    buttons: tuple[Button, ...] = ()
    visibility: Visibility = Visibility.PRIVATE
    ok: bool = True
    language: str = "es"
    extra: dict[str, str] = field(default_factory=dict)
    # A title and (label, value) figures a chat may show as a table (Slack: section fields); the
    # text says the same. `files`: to post with the answer (a chart), where the chat can.
    title: str | None = None
    facts: tuple[tuple[str, str], ...] = ()
    files: tuple[FileData, ...] = ()

    @classmethod
    def refusal(cls, text: str, *, language: str) -> Reply:
        return cls(text=text, ok=False, language=language)
