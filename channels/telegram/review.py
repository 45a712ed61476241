"""Telegram side of answer approval: the approval request sent to a manager with its inline
keyboard (Aprobar / Devolver), the manager's comment after Devolver answered, and the card
redrawn with the decision once taken.

The use case is `bot.conversation.answer_decisions.TelegramAnswerDecisions`; this module only
talks to the Bot API."""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.conversation.answer_decisions import TelegramAnswerDecisions, keyboard
from bot.conversation.model import ChatEvent
from bot.i18n import t
from bot.ports import Permanent
from bot.ports.payloads import AnswerReview
from bot.review.cards import ReviewCard
from channels.telegram import outbound
from channels.telegram.penalties import TEXT_LIMIT, markup
from channels.telegram.render import html_of

log = logging.getLogger(__name__)


def card_html(card: ReviewCard) -> str:
    """The card as Telegram HTML, every value escaped; the draft is cut only past Telegram's
    4096-character limit."""
    lang = card.language

    def line(key: str, value: str) -> str:
        return f"{html.escape(t(lang, 'review.label.' + key))}: {html.escape(value)}"

    head = "\n".join([f"<b>{html.escape(t(lang, 'review.card_title', radicado=card.radicado))}</b>",
                      line("type", card.type), line("customer", card.customer), line("subject", card.subject),
                      line("due", card.due), line("drafter", card.drafter),
                      f"<b>{html.escape(t(lang, 'review.label.answer'))}</b>"])
    tail = f"\n\n<b>{html.escape(card.decided)}</b>" if card.decided else ""
    room = TEXT_LIMIT - len(head) - len(tail) - 1
    answer = html.escape(card.answer)
    if len(answer) > room:
        answer = answer[:max(0, room - 1)].rsplit("&", 1)[0] + "…"   # never cut an entity in two
    return f"{head}\n{answer}{tail}"


class TelegramReview:
    """Sends approval requests and takes the comments of returns."""

    def __init__(self, decisions: TelegramAnswerDecisions, application: Any) -> None:
        self.application = application
        self.decisions = decisions

    @property
    def bot(self) -> Any:
        return self.application.bot

    async def send(self, chat_id: int, payload: AnswerReview) -> str:
        """An outbox "answer_review": the card with Aprobar / Devolver. Raises Retryable or
        Permanent like any Telegram send."""
        try:
            card = ReviewCard.of_payload(payload.stored())
        except (KeyError, TypeError, ValueError) as exc:
            raise Permanent(f"telegram: bad answer_review payload: {exc}") from exc
        try:
            sent = await self.bot.send_message(chat_id, card_html(card), parse_mode=ParseMode.HTML,
                                               reply_markup=markup(keyboard(card)))
        except TelegramError as exc:
            raise outbound.classify_error(exc) from exc
        return str(sent.message_id)

    async def redraw(self, chat_id: int, message_id: int, card: ReviewCard | None) -> None:
        """Redraw a card whose draft was decided: the outcome instead of the buttons (as the
        Slack card and the Telegram penalty card are); without a card, only the buttons go."""
        try:
            if card is None:
                await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
            else:
                await self.bot.edit_message_text(card_html(card), chat_id=chat_id, message_id=message_id,
                                                 parse_mode=ParseMode.HTML, reply_markup=None)
        except BadRequest as exc:      # gone or unchanged: the decision stands all the same
            log.info("telegram: could not redraw the approval card %s: %s", message_id, exc.message)

    async def consume(self, ev: ChatEvent) -> bool:
        """Handle `ev` when its chat is waiting for a return's comment; False otherwise."""
        answer = await self.decisions.take(ev)
        if answer is None:
            return False
        if answer.edit_message_id is not None:
            await self.redraw(ev.chat_id, answer.edit_message_id, answer.edit_card)
        for say in answer.says:
            await self.bot.send_message(ev.chat_id, html_of(say.text), parse_mode=ParseMode.HTML,
                                        reply_markup=markup(say.keyboard))
        return True
