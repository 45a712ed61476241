"""`/pqr approve RAD` and `/pqr return RAD -- comment` (`aprobar`, `devolver`): a manager's
decision on a final answer waiting in `en_revision`. The service checks the role and records
refusals; domain refusals are answered from the catalogue (bot.commands.refusals)."""

from __future__ import annotations

import datetime as dt

from bot.commands.grammar import ParsedCommand
from bot.commands.handler import Verb
from bot.commands.refusals import Refusal, refusal_text
from bot.commands.replies import Reply, Visibility
from bot.i18n import t
from bot.review.notices import parse_value
from bot.review.service import ReviewService
from domain.errors import DomainError


class ReviewCommands:
    """The `approve` and `return` verbs; `verbs()` plugs them into `CommandHandler`."""

    def __init__(self, service: ReviewService, *, language: str = "es") -> None:
        self.service = service
        self.lang = language

    def verbs(self) -> dict[str, Verb]:
        return {"approve": self.approve, "return": self.send_back}

    @staticmethod
    def _radicado(cmd: ParsedCommand, usage: str) -> tuple[str, int | None]:
        """`RAD`, or `RAD:n` for draft n (the web page's forms name the draft they show)."""
        parsed = parse_value(cmd.arg(0) or "")
        if parsed is None:
            raise Refusal(usage)
        return parsed

    async def approve(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad, draft = self._radicado(cmd, "review.usage_approve")
        try:
            pqr = await self.service.approve(rad, actor=actor, now=now, draft=draft)
        except DomainError as exc:
            return Reply.refusal(refusal_text(exc, self.lang), language=self.lang)
        return Reply(text=t(self.lang, "review.approved", radicado=pqr.radicado), visibility=Visibility.PUBLIC,
                     language=self.lang)

    async def send_back(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad, draft = self._radicado(cmd, "review.usage_return")
        comment = (cmd.reason or cmd.rest(1)).strip()
        if not comment:
            raise Refusal("review.usage_return")
        try:
            pqr = await self.service.send_back(rad, comment, actor=actor, now=now, draft=draft)
        except DomainError as exc:
            return Reply.refusal(refusal_text(exc, self.lang), language=self.lang)
        return Reply(text=t(self.lang, "review.returned", radicado=pqr.radicado), visibility=Visibility.PUBLIC,
                     language=self.lang)
