"""Telegram HTML from the conversation's catalogue texts: the catalogue's markup stays, every
value is escaped (customer text can never open a tag)."""

from __future__ import annotations

import html

from bot.conversation.model import Body, Text
from bot.i18n import t


def html_of(body: Body) -> str:
    """`body` as Telegram HTML; several texts are shown one per line."""
    if isinstance(body, tuple):
        return "\n".join(html_of(part) for part in body)
    return t(body.lang, body.key, **{name: _value(v) for name, v in body.values.items()})


def _value(value: object) -> str:
    if isinstance(value, Text):
        return html_of(value)
    if isinstance(value, tuple) and all(isinstance(v, Text) for v in value):
        return html_of(value)
    return html.escape(str(value))
