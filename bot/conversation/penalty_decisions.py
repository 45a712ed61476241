"""Penalty decisions by managers on Telegram, free of python-telegram-bot.

The decision request arrives as a card (rendered by the channel) with an inline keyboard built from the payload's
`actions`; each button's callback data goes through the manager-actions registry
(`m:penalty_approve:<id>`), so every press re-checks the role there. A press that may go on
(`PenaltyService.check_decision`) asks for the reason with a follow-up message and stores an
"awaiting reason" state as the chat's conversation (step `penalty_reason`), so it survives a
restart like the filing conversation; the manager's next text message is the reason. A filing
draft the manager had open is kept inside that state and put back afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import language_of, t
from bot.conversation.awaiting import finish, stash
from bot.conversation.manager_actions import ActionResult, ManagerActions, ManagerPress
from bot.penalties.service import PenaltyService
from bot.penalties.cards import APPROVE, REJECT, PenaltyCard, parse_penalty_id
from bot.roles import Roles
from bot.commands.refusals import AboutPenalty, refusal_text
from bot.conversation.model import ChatEvent, Choice, Kind, Say, Text
from domain.errors import DomainError, InvalidInput
from domain.penalty import Penalty
from storage.ports import Database, TelegramConversation

STEP = "penalty_reason"


def keyboard(card: PenaltyCard) -> tuple[tuple[Choice, ...], ...]:
    """Aprobar / Rechazar on one row, while the case is open."""
    if not card.open:
        return ()
    return (tuple(Choice(a.label, ManagerActions.data(a.action, a.value)) for a in card.actions),)


def _refusal(exc: DomainError, penalty_id: int, lang: str) -> str:
    return refusal_text(exc, lang, about=AboutPenalty(penalty_id))


@dataclass(frozen=True)
class ReasonAnswer:
    """What to do after a manager's message: `says` for the chat, and the keyboard message
    (`edit_message_id`) to redraw as `edit_card` (no buttons) once the case is decided."""

    says: tuple[Say, ...]
    edit_message_id: int | None = None
    edit_card: PenaltyCard | None = None


class TelegramPenaltyDecisions:
    """The penalty buttons of the manager-actions registry and the reason that follows them."""

    def __init__(self, penalties: PenaltyService, db: Database, roles: Roles, *, language: str = "es") -> None:
        self.penalties = penalties
        self.db = db
        self.roles = roles
        self.language = language

    def register(self, actions: ManagerActions) -> None:
        """Plug Aprobar / Rechazar into the registry (which checks the manager role first)."""
        async def approve(press: ManagerPress) -> ActionResult:
            return await self.press(press, approve=True)

        async def reject(press: ManagerPress) -> ActionResult:
            return await self.press(press, approve=False)

        actions.register(APPROVE, approve)
        actions.register(REJECT, reject)

    # -- the press ------------------------------------------------------------------------------
    async def press(self, press: ManagerPress, *, approve: bool) -> ActionResult:
        """Refuse (recorded by the service) or ask for the reason and wait for it."""
        lang = press.language
        penalty_id = parse_penalty_id(press.arg)
        if penalty_id is None:
            return ActionResult(t(lang, "tg.stale_button"), refused=True)
        try:
            p = await self.penalties.check_decision(penalty_id, approve, press.actor, press.now)
        except DomainError as exc:
            return ActionResult(_refusal(exc, penalty_id, lang)[:200], refused=True)
        raw_user = press.actor.removeprefix("telegram:")
        user_id = int(raw_user) if raw_user.isdigit() else 0
        chat_id = press.chat_id if press.chat_id is not None else user_id
        if not chat_id:
            return ActionResult(t(lang, "tg.stale_button"), refused=True)    # no chat to ask the reason in
        async with self.db.uow() as uow:
            current = await uow.telegram.conversation(chat_id)
            previous = stash(current, (STEP,))
            await uow.telegram.save_conversation(TelegramConversation(
                chat_id=chat_id, user_id=user_id, language=lang, step=STEP,
                data={"penalty": penalty_id, "approve": approve, "message_id": press.message_id,
                      "previous": previous},
                last_update_id=int(previous["last_update_id"]) if previous else 0, updated_at=press.now))
            await uow.commit()
        verb = "approve" if approve else "reject"
        return ActionResult(t(lang, "penalty.reason.notice"),
                            text=Text.of(lang, f"penalty.reason.ask_{verb}", id=penalty_id, client=p.client))

    # -- the reason -----------------------------------------------------------------------------
    async def take(self, ev: ChatEvent) -> ReasonAnswer | None:
        """The manager's message while a reason is awaited: the reason (decide), /cancelar, or a
        reminder. None when this chat is not waiting for a reason (the filing flow handles it)."""
        if ev.kind in (Kind.START, Kind.STATUS) or not self.roles.is_manager(f"telegram:{ev.user_id}"):
            return None
        lang = language_of(ev.language_code, self.language)
        async with self.db.uow(readonly=True) as uow:
            conv = await uow.telegram.conversation(ev.chat_id)
        if conv is None or conv.step != STEP:
            return None
        penalty_id = int(conv.data.get("penalty") or 0)
        if ev.kind is Kind.CANCEL or (ev.kind is Kind.BUTTON and ev.text == "c:cancel"):
            await self._finish(ev.chat_id, conv)
            return ReasonAnswer((Say(Text.of(lang, "penalty.reason.cancelled", id=penalty_id)),))
        reason = ev.text.strip() if ev.kind is Kind.TEXT else ""
        if not reason:
            return ReasonAnswer((Say(Text.of(lang, "penalty.reason.text_only", id=penalty_id)),))
        approve = bool(conv.data.get("approve"))
        try:
            p = await self.penalties.decide(penalty_id, approve, reason, f"telegram:{ev.user_id}", ev.at)
        except InvalidInput as exc:
            return ReasonAnswer((Say(Text.verbatim(lang, _refusal(exc, penalty_id, lang))),))
        except DomainError as exc:
            await self._finish(ev.chat_id, conv)
            return ReasonAnswer((Say(Text.verbatim(lang, _refusal(exc, penalty_id, lang))),))
        await self._finish(ev.chat_id, conv)
        return self._decided(p, conv.data.get("message_id"), lang)

    def _decided(self, p: Penalty, message_id: Any, lang: str) -> ReasonAnswer:
        key = "penalty.approved" if p.accepted else "penalty.rejected"
        done = Text.of(lang, key, id=p.id, status=t(lang, f"penalty.status.{p.status.value}"))
        return ReasonAnswer((Say(done),), edit_message_id=int(message_id) if isinstance(message_id, int) else None,
                            edit_card=PenaltyCard.of_penalty(p, lang))

    async def _finish(self, chat_id: int, conv: TelegramConversation) -> None:
        await finish(self.db, chat_id, conv, STEP)

