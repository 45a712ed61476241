"""Manager actions behind chat buttons (Telegram inline keyboards; usable from any chat).

A registry maps an action name to a handler. Every press goes through `run`, which checks the
role again (a forwarded or old keyboard grants nothing) and writes a refusal to the audit trail.
Penalty decisions plug in with `register("penalty_approve", …)` (bot.conversation.penalty_decisions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.i18n import t
from bot.i18n.formats import format_file_size, format_local_datetime
from bot.roles import Roles
from bot.pqrs.service import PqrService
from bot.conversation.model import Body, Choice, Text
from bot.review.cards import ReviewCard
from domain.errors import DomainError, NotFound


LISTED_FILES = 25      # attachments listed on a PQR shown to a manager


@dataclass(frozen=True)
class ManagerPress:
    """A manager-action button pressed by `actor` (`telegram:1001`, …) with its argument;
    `chat_id` / `message_id` say which bot message carried the button, when known."""

    actor: str
    action: str
    arg: str
    now: dt.datetime
    language: str
    chat_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class ActionResult:
    """What to answer: a short plain notice for the press, and optionally a message."""

    notice: str
    text: Body | None = None
    keyboard: tuple[tuple[Choice, ...], ...] = ()
    refused: bool = False
    close_keyboard: bool = False      # the pressed message's buttons are spent (a decision taken)
    edit_card: ReviewCard | None = None   # the pressed approval card, redrawn with its outcome


ActionHandler = Callable[[ManagerPress], Awaitable[ActionResult]]


class ManagerActions:
    """Action name → handler; `run` is the only way in and always checks the manager role."""

    def __init__(self, service: PqrService, roles: Roles) -> None:
        self.service = service
        self.roles = roles
        self._handlers: dict[str, ActionHandler] = {}
        self.register("show", self._show)

    def register(self, action: str, handler: ActionHandler) -> None:
        """Add (or replace) the handler of `action`; names must not contain ':'."""
        if ":" in action or not action:
            raise ValueError(f"bad action name {action!r}")
        self._handlers[action] = handler

    @staticmethod
    def data(action: str, arg: str = "") -> str:
        """The callback data of a button for `action` (Telegram allows 64 bytes)."""
        data = f"m:{action}:{arg}"
        if len(data.encode()) > 64:
            raise ValueError("callback data over 64 bytes")
        return data

    async def run(self, press: ManagerPress) -> ActionResult:
        """Check the role, then run the action; a refusal is recorded in the audit trail."""
        lang = press.language
        if not self.roles.is_manager(press.actor):
            await self.service.record_refusal(actor=press.actor, action=f"manager:{press.action}",
                                              reason="not_manager", now=press.now)
            return ActionResult(t(lang, "tg.not_manager"), refused=True)
        handler = self._handlers.get(press.action)
        if handler is None:
            return ActionResult(t(lang, "tg.stale_button"))
        try:
            return await handler(press)
        except DomainError:
            return ActionResult(t(lang, "tg.stale_button"))

    async def _show(self, press: ManagerPress) -> ActionResult:
        lang = press.language
        try:
            pqr = await self.service.show(press.arg)
        except NotFound:
            return ActionResult(t(lang, "not_found", radicado=press.arg))
        cal = self.service.calendar
        text = Text.of(lang, "tg.status", radicado=pqr.radicado or "", type=t(lang, f"type.{pqr.type.value}"),
                       status=t(lang, f"status.{pqr.status.value}"),
                       received=format_local_datetime(cal.local(pqr.received_at), lang),
                       due=format_local_datetime(cal.local(pqr.due_at), lang))
        stored = [a for m in pqr.messages for a in m.attachments]
        files = tuple(Text.of(lang, "attachment.line", id=a.id, filename=a.filename, content_type=a.content_type,
                              size=format_file_size(a.size, lang)) for a in stored[:LISTED_FILES])
        if len(stored) > LISTED_FILES:        # a Telegram message holds 4096 characters
            files += (Text.verbatim(lang, f"… +{len(stored) - LISTED_FILES}"),)
        listing = (Text.of(lang, "tg.attachments", lines=files),) if files else ()
        return ActionResult(pqr.radicado or "", text=(text, Text.verbatim(lang, pqr.subject), *listing))
