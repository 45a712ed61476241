"""Surveys on Telegram: the question with its score buttons (1–5 or 0–10, callback data
`c:sv:<survey>:<score>`), the press recorded through the survey service (only the chat the
survey was sent to may answer it), and the next message taken as the comment."""

from __future__ import annotations

import html
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.conversation.model import ChatEvent, Kind
from bot.i18n import t
from bot.ports.payloads import SurveyCsat, SurveyNps
from channels.telegram import outbound

PREFIX = "c:sv:"
_OUTCOMES = {"thanks": "survey.tg_thanks", "used": "survey.tg_used", "expired": "survey.tg_expired",
             "not_found": "survey.tg_not_found", "bad_score": "survey.tg_not_found"}


class SurveyAnswers(Protocol):
    """What the adapter calls (bot.surveys.service.SurveyService)."""

    async def press(self, chat_id: int, survey_id: int, score: int, now: Any) -> tuple[str, str]: ...

    async def comment(self, chat_id: int, text: str, now: Any) -> str | None: ...


def keyboard(payload: SurveyCsat | SurveyNps) -> InlineKeyboardMarkup:
    """One row for 1–5; 0–10 in two rows (0–5, 6–10) so the buttons stay readable on a phone."""
    scores = list(range(payload.low, payload.high + 1))
    rows = [scores] if len(scores) <= 6 else [scores[:6], scores[6:]]
    return InlineKeyboardMarkup([[InlineKeyboardButton(str(n), callback_data=f"{PREFIX}{payload.survey_id}:{n}")
                                  for n in row] for row in rows])


def parse(data: str) -> tuple[int, int] | None:
    """(survey id, score) of a score button's data, or None."""
    if not data.startswith(PREFIX):
        return None
    survey, _, score = data[len(PREFIX):].partition(":")
    if not (survey.isdigit() and score.isdigit() and len(survey) < 19 and len(score) < 3):
        return None
    return int(survey), int(score)


class TelegramSurveys:
    def __init__(self, answers: SurveyAnswers, bot: Any) -> None:
        self.answers = answers
        self.bot = bot

    async def send(self, chat_id: int, payload: SurveyCsat | SurveyNps) -> str:
        texts, mode = outbound.render(payload)
        try:
            sent = await self.bot.send_message(chat_id, texts[-1], parse_mode=mode, reply_markup=keyboard(payload))
        except TelegramError as exc:
            raise outbound.classify_error(exc) from exc
        return str(sent.message_id)

    async def consume(self, event: ChatEvent) -> bool:
        """True when the event was a survey's: a score button, or the comment after one."""
        if event.kind is Kind.BUTTON:
            pressed = parse(event.text)
            if pressed is None:
                return False
            outcome, lang = await self.answers.press(event.chat_id, pressed[0], pressed[1], event.at)
            await self._say(event.chat_id, t(lang, _OUTCOMES.get(outcome, "survey.tg_not_found"),
                                             score=pressed[1]))
            return True
        if event.kind is Kind.TEXT and event.text.strip():
            thanked = await self.answers.comment(event.chat_id, event.text, event.at)
            if thanked is None:
                return False
            await self._say(event.chat_id, t(thanked, "survey.tg_comment_thanks"))
            return True
        return False

    async def _say(self, chat_id: int, text: str) -> None:
        try:
            await self.bot.send_message(chat_id, html.escape(text), parse_mode=ParseMode.HTML)
        except TelegramError:
            pass        # the answer is recorded; a lost thank-you is not worth a retry
