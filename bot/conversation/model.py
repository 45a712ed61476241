"""What the Telegram conversation works with, free of python-telegram-bot: the normalized customer
update (`ChatEvent`) and the answers (`Say`) the adapter renders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    START = "start"
    CANCEL = "cancel"
    STATUS = "status"
    TEXT = "text"
    FILES = "files"
    BUTTON = "button"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class FileRef:
    """A file the customer sent, not downloaded yet (Telegram keeps it under `file_id`)."""

    file_id: str
    name: str
    content_type: str
    size: int | None = None


@dataclass(frozen=True)
class ChatEvent:
    """One customer update, normalized. `message_id` is the incoming message (or, for a button, the
    bot message that carried it); `text` is the text, caption, command argument or button data."""

    kind: Kind
    chat_id: int
    user_id: int
    update_id: int
    at: dt.datetime
    name: str = ""
    language_code: str | None = None
    message_id: int | None = None
    text: str = ""
    files: tuple[FileRef, ...] = ()
    reply_to: int | None = None


@dataclass(frozen=True)
class Choice:
    """An inline button: `data` comes back as the callback data."""

    label: str
    data: str


@dataclass(frozen=True)
class Say:
    """A message for the chat, already HTML-safe. `edit` replaces the bot message the event came
    from; `about` (radicado, pqr id) asks the adapter to remember the sent message as being about
    that PQR, so a reply to it joins the PQR."""

    text: str
    keyboard: tuple[tuple[Choice, ...], ...] = ()
    edit: bool = False
    reply_to: int | None = None
    about: tuple[str, int] | None = None


FetchFile = Callable[[FileRef], Awaitable[bytes]]
