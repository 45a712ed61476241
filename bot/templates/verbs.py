"""`/pqr templates [RAD]` (`plantillas`): the answer templates, those that fit the PQR's type
when a radicado is given. A title and one fact per template for chats that show a table (Slack),
and the same lines as text (the console)."""

from __future__ import annotations

import datetime as dt

from bot.commands.grammar import ParsedCommand
from bot.commands.handler import Verb
from bot.commands.replies import Reply
from bot.i18n import t
from bot.pqrs.service import PqrService
from bot.templates.answers import MARK
from bot.templates.store import TemplateStore
from domain.pqr_types import PqrType
from domain.templates import AnswerTemplate


class TemplateVerbs:
    """The template verbs to register in `CommandHandler`."""

    def __init__(self, store: TemplateStore, pqrs: PqrService, *, language: str = "es") -> None:
        self.store = store
        self.pqrs = pqrs
        self.lang = language

    def verbs(self) -> dict[str, Verb]:
        return {"templates": self.templates}

    def types_label(self, template: AnswerTemplate) -> str:
        if template.types is None:
            return t(self.lang, "templates.all_types")
        known = {k.value for k in PqrType}
        return ", ".join(t(self.lang, f"type.{k}") if k in known else k for k in sorted(template.types))

    async def templates(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad = (cmd.arg(0) or "").strip().upper()
        if rad:
            pqr = await self.pqrs.show(rad)        # NotFound: the usual answer
            found = self.store.answers(pqr.type.value)
            title = t(self.lang, "templates.title_for", radicado=rad, type=t(self.lang, f"type.{pqr.type.value}"))
        else:
            found = self.store.answers()
            title = t(self.lang, "templates.title")
        if not found:
            return Reply(text=t(self.lang, "templates.empty", dir=str(self.store.path)), language=self.lang)
        facts = tuple((MARK + tpl.name, f"{tpl.title(self.lang)} · {self.types_label(tpl)}") for tpl in found)
        lines = [title, *(f"• {label} — {value}" for label, value in facts), t(self.lang, "templates.hint")]
        return Reply(text="\n".join(lines), language=self.lang, title=title,
                     facts=facts + ((t(self.lang, "templates.hint_label"), t(self.lang, "templates.hint")),))
