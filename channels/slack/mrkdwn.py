"""Slack's text rules: what must be escaped so that text from customers stays text."""

from __future__ import annotations

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Escape `&`, `<` and `>` as Slack asks: `<!channel>`, `<@U…>` and `<http://…|label>` in
    customer text then show literally instead of pinging or linking."""
    return text.translate(_ESCAPES)


def identity(who: str | None) -> str:
    """A staff identity as Slack shows it: `slack:U123` becomes a user mention, others stay text."""
    if who and who.startswith("slack:") and who[6:].isalnum():
        return f"<@{who[6:]}>"
    return escape(who or "")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters (Block Kit refuses longer texts)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
