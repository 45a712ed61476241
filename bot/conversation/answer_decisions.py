"""Answer approval by managers on Telegram, free of python-telegram-bot.

The approval request arrives as a card (rendered by the channel) with an inline keyboard built
from the payload's `actions`; each button's callback data goes through the manager-actions
registry (`m:answer_approve:<RAD>:<draft>`), so every press re-checks the role there. Aprobar
decides at once. Devolver, when it may go on (`ReviewService.check`), asks for the comment and
stores an "awaiting comment" state as the chat's conversation (step `answer_comment`), as penalty
rejections do (bot.conversation.penalty_decisions); the manager's next text message is the comment."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.refusals import refusal_text
from bot.conversation.awaiting import finish, stash
from bot.conversation.manager_actions import ActionResult, ManagerActions, ManagerPress
from bot.conversation.model import ChatEvent, Choice, Kind, Say, Text
from bot.i18n import language_of, t
from bot.i18n.formats import format_local_datetime
from bot.review.cards import ReviewCard
from bot.review.notices import APPROVE, RETURN, parse_value
from bot.review.service import ReviewService
from bot.roles import Roles
from domain.errors import DomainError, InvalidInput
from domain.pqr import Pqr
from storage.ports import Database, TelegramConversation

STEP = "answer_comment"
AWAITING_STEPS = (STEP, "penalty_reason")     # states that set a filing draft aside


def keyboard(card: ReviewCard) -> tuple[tuple[Choice, ...], ...]:
    """Aprobar / Devolver on one row, while the draft waits."""
    if not card.open:
        return ()
    return (tuple(Choice(a.label, ManagerActions.data(a.action, a.value)) for a in card.actions),)


@dataclass(frozen=True)
class CommentAnswer:
    """What to do after a manager's message: `says` for the chat, and the card message
    (`edit_message_id`) to redraw as `edit_card` (no buttons, the outcome) once the draft was
    returned."""

    says: tuple[Say, ...]
    edit_message_id: int | None = None
    edit_card: ReviewCard | None = None


class TelegramAnswerDecisions:
    """The approval buttons of the manager-actions registry and the comment that follows Devolver."""

    def __init__(self, review: ReviewService, db: Database, roles: Roles, *, language: str = "es") -> None:
        self.review = review
        self.db = db
        self.roles = roles
        self.language = language

    def register(self, actions: ManagerActions) -> None:
        """Plug Aprobar / Devolver into the registry (which checks the manager role first)."""
        actions.register(APPROVE, self.approve)
        actions.register(RETURN, self.ask_comment)

    async def approve(self, press: ManagerPress) -> ActionResult:
        lang = press.language
        parsed = parse_value(press.arg)
        if parsed is None:
            return ActionResult(t(lang, "tg.stale_button"), refused=True)
        try:
            pqr = await self.review.approve(parsed[0], actor=press.actor, now=press.now, draft=parsed[1])
        except DomainError as exc:
            return ActionResult(refusal_text(exc, lang)[:200], refused=True)
        done = t(lang, "review.approved", radicado=pqr.radicado)
        return ActionResult(done[:200], text=Text.verbatim(lang, done), close_keyboard=True,
                            edit_card=self.decided_card(pqr, lang))

    def decided_card(self, pqr: Pqr, lang: str) -> ReviewCard:
        """The approval card as it reads once decided: the draft and the outcome, no buttons."""
        calendar = self.review.pqrs.calendar
        return ReviewCard.of_decided(pqr, lang, due=format_local_datetime(calendar.local(pqr.due_at), lang))

    async def ask_comment(self, press: ManagerPress) -> ActionResult:
        """Refuse (recorded by the service) or ask for the comment and wait for it."""
        lang = press.language
        parsed = parse_value(press.arg)
        if parsed is None:
            return ActionResult(t(lang, "tg.stale_button"), refused=True)
        try:
            pqr = await self.review.check(parsed[0], approve=False, actor=press.actor, now=press.now,
                                          draft=parsed[1])
        except DomainError as exc:
            return ActionResult(refusal_text(exc, lang)[:200], refused=True)
        raw_user = press.actor.removeprefix("telegram:")
        user_id = int(raw_user) if raw_user.isdigit() else 0
        chat_id = press.chat_id if press.chat_id is not None else user_id
        if not chat_id:
            return ActionResult(t(lang, "tg.stale_button"), refused=True)
        async with self.db.uow() as uow:
            previous = stash(await uow.telegram.conversation(chat_id), AWAITING_STEPS)
            await uow.telegram.save_conversation(TelegramConversation(
                chat_id=chat_id, user_id=user_id, language=lang, step=STEP,
                data={"radicado": pqr.radicado, "draft": parsed[1], "message_id": press.message_id,
                      "previous": previous},
                last_update_id=int(previous["last_update_id"]) if previous else 0, updated_at=press.now))
            await uow.commit()
        return ActionResult(t(lang, "review.comment.notice"),
                            text=Text.of(lang, "review.comment.ask", radicado=pqr.radicado or ""))

    async def take(self, ev: ChatEvent) -> CommentAnswer | None:
        """The manager's message while a comment is awaited: the comment (return), /cancelar, or a
        reminder. None when this chat is not waiting for a comment."""
        if ev.kind in (Kind.START, Kind.STATUS) or not self.roles.is_manager(f"telegram:{ev.user_id}"):
            return None
        lang = language_of(ev.language_code, self.language)
        async with self.db.uow(readonly=True) as uow:
            conv = await uow.telegram.conversation(ev.chat_id)
        if conv is None or conv.step != STEP:
            return None
        rad = str(conv.data.get("radicado") or "")
        if ev.kind is Kind.CANCEL or (ev.kind is Kind.BUTTON and ev.text == "c:cancel"):
            await self._finish(ev.chat_id, conv)
            return CommentAnswer((Say(Text.of(lang, "review.comment.cancelled", radicado=rad)),))
        comment = ev.text.strip() if ev.kind is Kind.TEXT else ""
        if not comment:
            return CommentAnswer((Say(Text.of(lang, "review.comment.text_only", radicado=rad)),))
        draft = conv.data.get("draft")
        try:
            pqr = await self.review.send_back(rad, comment, actor=f"telegram:{ev.user_id}", now=ev.at,
                                              draft=draft if isinstance(draft, int) else None)
        except InvalidInput as exc:
            return CommentAnswer((Say(Text.verbatim(lang, refusal_text(exc, lang))),))
        except DomainError as exc:
            await self._finish(ev.chat_id, conv)
            return CommentAnswer((Say(Text.verbatim(lang, refusal_text(exc, lang))),))
        await self._finish(ev.chat_id, conv)
        message_id = conv.data.get("message_id")
        return CommentAnswer((Say(Text.of(lang, "review.returned", radicado=pqr.radicado or "")),),
                             edit_message_id=message_id if isinstance(message_id, int) else None,
                             edit_card=self.decided_card(pqr, lang))

    async def _finish(self, chat_id: int, conv: TelegramConversation) -> None:
        await finish(self.db, chat_id, conv, STEP)

