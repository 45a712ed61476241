"""Telegram `Update` → `ChatEvent` (customer) or `ManagerButton`, by a dispatch table on the
update's content, with an explicit branch for everything else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from telegram import CallbackQuery, Message, Update, User

from bot.conversation.model import ChatEvent, FileRef, Kind
from domain.limits import NAME_MAX, fit

COMMANDS: dict[str, Kind] = {
    "start": Kind.START, "cancelar": Kind.CANCEL, "cancel": Kind.CANCEL,
    "estado": Kind.STATUS, "status": Kind.STATUS,
}


@dataclass(frozen=True)
class ManagerButton:
    """A press on a manager-action button (callback data `m:<action>:<arg>`)."""

    query_id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    action: str
    arg: str
    language_code: str | None


@dataclass(frozen=True)
class Skip:
    """An update the bot does not act on (edited messages, payments, group chatter, …)."""

    reason: str


Inbound = ChatEvent | ManagerButton | Skip


def _name(user: User) -> str:
    """The profile name, cut to what a customer's name may hold: the customer cannot be asked
    to change their profile, and refusing it would leave them unable to file."""
    return fit(" ".join(p for p in (user.first_name, user.last_name) if p).strip(), NAME_MAX)


def _base(update: Update, message: Message, user: User, now: dt.datetime, kind: Kind, **kw: object) -> ChatEvent:
    reply = message.reply_to_message
    return ChatEvent(kind=kind, chat_id=message.chat.id, user_id=user.id, update_id=update.update_id, at=now,
                     name=_name(user), language_code=user.language_code, message_id=message.message_id,
                     reply_to=reply.message_id if reply is not None else None, **kw)  # type: ignore[arg-type]


def _text(update: Update, message: Message, user: User, now: dt.datetime) -> ChatEvent:
    text = message.text or ""
    if text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        command = head.split("@", 1)[0].lower()
        kind = COMMANDS.get(command)
        if kind is not None:
            return _base(update, message, user, now, kind, text=rest.strip())
        return _base(update, message, user, now, Kind.TEXT, text="")
    return _base(update, message, user, now, Kind.TEXT, text=text)


def _photo(update: Update, message: Message, user: User, now: dt.datetime) -> ChatEvent:
    best = message.photo[-1]          # Telegram lists the sizes smallest first
    ref = FileRef(best.file_id, f"photo_{message.message_id}.jpg", "image/jpeg", best.file_size)
    return _base(update, message, user, now, Kind.FILES, text=message.caption or "", files=(ref,))


def _document(update: Update, message: Message, user: User, now: dt.datetime) -> ChatEvent:
    doc = message.document
    assert doc is not None
    ref = FileRef(doc.file_id, doc.file_name or f"document_{message.message_id}",
                  doc.mime_type or "application/octet-stream", doc.file_size)
    return _base(update, message, user, now, Kind.FILES, text=message.caption or "", files=(ref,))


# Message content → event builder, first match wins; anything else is UNSUPPORTED.
MESSAGE_KINDS: tuple[tuple[str, Callable[[Update, Message, User, dt.datetime], ChatEvent]], ...] = (
    ("text", _text), ("photo", _photo), ("document", _document),
)


def _callback(update: Update, query: CallbackQuery, now: dt.datetime) -> Inbound:
    data = query.data or ""
    msg = query.message
    chat_id = msg.chat.id if msg is not None else None
    message_id = msg.message_id if msg is not None else None
    if data.startswith("m:"):
        _, action, arg = (data.split(":", 2) + ["", ""])[:3]
        return ManagerButton(query.id, query.from_user.id, chat_id, message_id, action, arg,
                             query.from_user.language_code)
    if chat_id is None or not data.startswith("c:"):
        return Skip("callback without chat or unknown data")
    return ChatEvent(kind=Kind.BUTTON, chat_id=chat_id, user_id=query.from_user.id, update_id=update.update_id,
                     at=now, name=_name(query.from_user), language_code=query.from_user.language_code,
                     message_id=message_id, text=data)


def classify(update: Update, now: dt.datetime) -> Inbound:
    """What an update means to the bot."""
    if update.callback_query is not None:
        return _callback(update, update.callback_query, now)
    message = update.message
    if message is None:
        return Skip(f"update kind {_kind_of(update)}")
    user = message.from_user
    if user is None or user.is_bot:
        return Skip("no sender or sent by a bot")
    if message.chat.type != "private":
        return Skip("not a private chat")
    for attribute, build in MESSAGE_KINDS:
        if getattr(message, attribute):
            return build(update, message, user, now)
    return _base(update, message, user, now, Kind.UNSUPPORTED)


def _kind_of(update: Update) -> str:
    for name in ("edited_message", "channel_post", "edited_channel_post", "inline_query", "shipping_query",
                 "pre_checkout_query", "poll", "my_chat_member", "chat_member"):
        if getattr(update, name, None) is not None:
            return name
    return "unknown"
