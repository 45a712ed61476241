"""What the Telegram adapter calls, and nothing more: the conversation use cases, built by
`bot.bootstrap` (the channel never holds the application object or the database)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.conversation.answer_decisions import TelegramAnswerDecisions
from bot.conversation.filing import TelegramFlow
from bot.conversation.manager_actions import ManagerActions
from bot.conversation.model import FetchFile
from bot.conversation.penalty_decisions import TelegramPenaltyDecisions
from bot.conversation.support import TelegramSupport
from channels.telegram.surveys import SurveyAnswers


@dataclass(frozen=True)
class TelegramServices:
    """`make_flow` builds the filing conversation around the adapter's own file download."""

    support: TelegramSupport
    make_flow: Callable[[FetchFile], TelegramFlow]
    actions: ManagerActions
    decisions: TelegramPenaltyDecisions
    clock: Clock
    language: str
    answers: TelegramAnswerDecisions | None = None     # answer approval: Aprobar / Devolver
    surveys: SurveyAnswers | None = None                # survey score buttons and the comment after them
