"""Answers from templates: `reply RAD @name [extra text]` and `close RAD @name [extra text]` send
the template `name` filled for the PQR in its customer's language, the extra text after it. The
command layer calls `expand` (`bot.commands.handler.AnswerTemplates`) before the reply or close
goes through the PQR service as any typed answer does."""

from __future__ import annotations

import re

from bot.commands.refusals import Refusal
from bot.i18n import t
from bot.pqrs.service import PqrService
from bot.templates.store import TemplateStore
from domain.pqr import Pqr
from domain.templates import TemplateProblem

MARK = "@"
_NAMED = re.compile(r"@(\S+)\s*(.*)", re.DOTALL)     # `@name`, then the extra text (any lines)


class TemplateAnswers:
    """Fills answer templates for PQRs; refusals are `Refusal`s in the staff member's language."""

    def __init__(self, store: TemplateStore, pqrs: PqrService) -> None:
        self.store = store
        self.pqrs = pqrs

    async def expand(self, radicado: str, text: str, *, actor: str, lang: str) -> str:
        """`text` as typed, or, when it starts with `@name`, the template filled for the PQR
        (NotFound for an unknown PQR, as the reply itself would answer)."""
        m = _NAMED.match(text)
        if m is None:
            return text
        pqr = await self.pqrs.show(radicado)
        return self.fill(pqr, m.group(1).lower(), m.group(2).strip(), actor=actor, lang=lang)

    def fill(self, pqr: Pqr, name: str, extra: str = "", *, actor: str, lang: str) -> str:
        """The template `name` for `pqr` in the customer's language, then `extra`. Refuses (in
        `lang`) a template that does not exist or fit the PQR's type, and one whose file names an
        unknown placeholder or lacks the customer's language."""
        template = self.store.get(name)
        if template is None or template.reserved or not template.fits(pqr.type.value):
            names = ", ".join(MARK + tpl.name for tpl in self.store.answers(pqr.type.value))
            raise Refusal("templates.unknown", name=name, radicado=pqr.radicado,
                          names=names or t(lang, "templates.none"))
        customer_lang = pqr.customer.language
        try:
            return template.answer(customer_lang, self.store.values(pqr, customer_lang, actor=actor), extra)
        except TemplateProblem as exc:
            accepted = ", ".join("{" + p + "}" for p in template.accepted())
            raise Refusal(f"templates.{exc.code}", name=name, detail=exc.detail, accepted=accepted,
                          language=customer_lang) from None
