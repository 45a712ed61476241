"""Telegram side of penalty decisions: the decision request sent with its inline keyboard, and the
manager's follow-up messages (the reason) answered and the keyboard message redrawn.

The use case is `bot.conversation.penalty_decisions.TelegramPenaltyDecisions`; this module only talks to the
Bot API."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.bootstrap import App
from bot.conversation.manager_actions import ManagerActions
from bot.penalties.cards import PenaltyCard
from bot.conversation.model import ChatEvent, Choice
from bot.conversation.penalty_decisions import TelegramPenaltyDecisions, card_html, keyboard
from bot.ports import Permanent
from channels.telegram import outbound

log = logging.getLogger(__name__)


def markup(rows: tuple[tuple[Choice, ...], ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard for `rows` (None when there are no buttons)."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.data) for c in row] for row in rows])


class TelegramPenalties:
    """Sends decision requests and takes the reasons; registers the buttons on `actions`."""

    def __init__(self, app: App, application: Any, actions: ManagerActions) -> None:
        self.application = application
        self.decisions = TelegramPenaltyDecisions(app.penalties, app.db, app.roles, language=app.config.language)
        self.decisions.register(actions)

    @property
    def bot(self) -> Any:
        return self.application.bot

    async def send(self, chat_id: int, payload: dict[str, Any]) -> str:
        """An outbox "penalty_decision": the card with Aprobar / Rechazar. Raises Retryable or
        Permanent like any Telegram send."""
        try:
            card = PenaltyCard.of_payload(payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise Permanent(f"telegram: bad penalty_decision payload: {exc}") from exc
        try:
            sent = await self.bot.send_message(chat_id, card_html(card), parse_mode=ParseMode.HTML,
                                               reply_markup=markup(keyboard(card)))
        except TelegramError as exc:
            raise outbound.classify_error(exc) from exc
        return str(sent.message_id)

    async def consume(self, ev: ChatEvent) -> bool:
        """Handle `ev` when its chat is waiting for a decision's reason; False otherwise."""
        answer = await self.decisions.take(ev)
        if answer is None:
            return False
        if answer.edit_message_id is not None and answer.edit_text:
            try:
                await self.bot.edit_message_text(answer.edit_text, chat_id=ev.chat_id,
                                                 message_id=answer.edit_message_id, parse_mode=ParseMode.HTML,
                                                 reply_markup=None)
            except BadRequest as exc:      # gone or unchanged: the decision stands all the same
                log.info("telegram: could not redraw penalty message %s: %s", answer.edit_message_id, exc.message)
        for say in answer.says:
            await self.bot.send_message(ev.chat_id, say.text, parse_mode=ParseMode.HTML,
                                        reply_markup=markup(say.keyboard))
        return True
