"""What the chat conversations work with, free of python-telegram-bot: the normalized customer
update (`ChatEvent`) and the answers (`Say`, made of catalogue `Text`s) that the adapter renders
in its own markup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
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
class Text:
    """A catalogue text (`key` in `lang`) with its raw values. The channel fills it in, escaping
    every plain value for its markup; a value that is itself a `Text`, or a tuple of them (one per
    line), is rendered first and not escaped again. Markup lives only in the catalogue and the
    channel, never in the use cases."""

    lang: str
    key: str
    values: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, lang: str, key: str, **values: object) -> Text:
        return cls(lang, key, values)

    @classmethod
    def verbatim(cls, lang: str, value: str) -> Text:
        """A value shown as it is (escaped), such as a customer's own words."""
        return cls(lang, "chat.verbatim", {"text": value})


Body = Text | tuple[Text, ...]


@dataclass(frozen=True)
class Say:
    """A message for the chat: one text, or several shown one per line. `edit` replaces the bot
    message the event came from; `about` (radicado, pqr id) asks the adapter to remember the sent
    message as being about that PQR, so a reply to it joins the PQR."""

    text: Body
    keyboard: tuple[tuple[Choice, ...], ...] = ()
    edit: bool = False
    reply_to: int | None = None
    about: tuple[str, int] | None = None


FetchFile = Callable[[FileRef], Awaitable[bytes]]
