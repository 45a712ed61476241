"""Telegram side of penalty decisions: the decision request sent with its inline keyboard, and the
manager's follow-up messages (the reason) answered and the keyboard message redrawn.

The use case is `bot.conversation.penalty_decisions.TelegramPenaltyDecisions`; this module only talks to the
Bot API."""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.ports.payloads import PenaltyDecision
from bot.penalties.cards import PenaltyCard
from bot.conversation.model import ChatEvent, Choice
from bot.conversation.penalty_decisions import TelegramPenaltyDecisions, keyboard
from bot.i18n import t
from bot.ports import Permanent
from channels.telegram import outbound
from channels.telegram.render import html_of

log = logging.getLogger(__name__)
TEXT_LIMIT = 4000
_MARK = {"aprobada": "✅", "rechazada": "❌"}


def card_html(card: PenaltyCard) -> str:
    """The card as Telegram HTML: every value escaped, the decision at the end once taken."""
    lang = card.language

    def line(key: str, value: str) -> str:
        return f"{html.escape(t(lang, 'penalty.label.' + key))}: {html.escape(value)}"

    lines = [f"<b>{html.escape(t(lang, 'penalty.card_title', id=card.id, client=card.client))}</b>",
             line("category", card.category), line("amount", card.amount), line("area", card.area)]
    if card.pqr:
        lines.append(line("pqr", card.pqr))
    if card.status:
        lines.append(line("status", card.status))
    if card.description:
        lines.append(line("description", card.description[:800]))
    lines.append(f"<b>{html.escape(t(lang, 'penalty.label.evidence'))}</b>")
    if card.evidence:
        for e in card.evidence:
            files = f" [{', '.join(e.files)}]" if e.files else ""
            author = f" — {e.author}" if e.author else ""
            lines.append("• " + html.escape(e.text[:600] + files + author))
    else:
        lines.append(html.escape(card.evidence_summary or t(lang, "penalty.no_evidence")))
    if card.decision:
        decided = t(lang, "penalty.decided_line", decision=card.decision_label().capitalize(),
                    by=card.decided_by or "—", reason=card.reason or "—")
        lines.append(f"\n{_MARK.get(card.decision, '')} <b>{html.escape(decided)}</b>")
    text = "\n".join(lines)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1] + "…"


def markup(rows: tuple[tuple[Choice, ...], ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard for `rows` (None when there are no buttons)."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.data) for c in row] for row in rows])


class TelegramPenalties:
    """Sends decision requests and takes the reasons (the buttons are registered on the manager
    actions by `bot.bootstrap`)."""

    def __init__(self, decisions: TelegramPenaltyDecisions, application: Any) -> None:
        self.application = application
        self.decisions = decisions

    @property
    def bot(self) -> Any:
        return self.application.bot

    async def send(self, chat_id: int, payload: PenaltyDecision) -> str:
        """An outbox "penalty_decision": the card with Aprobar / Rechazar. Raises Retryable or
        Permanent like any Telegram send."""
        try:
            card = PenaltyCard.of_payload(payload.stored())
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
        if answer.edit_message_id is not None and answer.edit_card is not None:
            try:
                await self.bot.edit_message_text(card_html(answer.edit_card), chat_id=ev.chat_id,
                                                 message_id=answer.edit_message_id, parse_mode=ParseMode.HTML,
                                                 reply_markup=None)
            except BadRequest as exc:      # gone or unchanged: the decision stands all the same
                log.info("telegram: could not redraw penalty message %s: %s", answer.edit_message_id, exc.message)
        for say in answer.says:
            await self.bot.send_message(ev.chat_id, html_of(say.text), parse_mode=ParseMode.HTML,
                                        reply_markup=markup(say.keyboard))
        return True
