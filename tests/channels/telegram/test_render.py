"""Conversation texts rendered as Telegram HTML: the catalogue's markup stays, values are escaped."""

from __future__ import annotations

from bot.conversation.model import Text
from channels.telegram.render import html_of


def test_values_are_escaped_and_the_catalogue_markup_kept() -> None:
    html = html_of(Text.of("es", "tg.followup_added", radicado="<b>x</b> & y"))
    assert html == "Agregamos su mensaje a la PQR <b>&lt;b&gt;x&lt;/b&gt; &amp; y</b>."


def test_nested_lines_are_rendered_once_not_escaped_twice() -> None:
    lines = tuple(Text.of("en", "tg.my_pqrs.line", radicado=f"PQR-{n}", status="<open>", due="soon") for n in (1, 2))
    html = html_of(Text.of("en", "tg.my_pqrs", lines=lines))
    assert "• <b>PQR-1</b> — &lt;open&gt; — soon\n• <b>PQR-2</b>" in html


def test_several_texts_are_one_per_line() -> None:
    assert html_of((Text.verbatim("es", "a<b"), Text.verbatim("es", "c"))) == "a&lt;b\nc"
