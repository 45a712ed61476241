"""What the Slack listeners and sender call, and nothing more: built by `bot.bootstrap`, so the
channel never holds the application object or the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.commands.handler import CommandHandler
from bot.penalties.service import PenaltyService
from bot.ports.files import ReportFiles
from bot.pqrs.service import PqrService
from bot.review.service import ReviewService
from bot.roles import Roles

if TYPE_CHECKING:
    from channels.slack.surveys import SurveyActions


@dataclass(frozen=True)
class SlackServices:
    commands: CommandHandler
    pqrs: PqrService
    penalties: PenaltyService
    roles: Roles
    clock: Clock
    language: str
    report_files: ReportFiles | None = None     # the bytes of scheduled reports' files (sender)
    review: ReviewService | None = None         # managers' Aprobar / Devolver on answers
    surveys: SurveyActions | None = None        # survey alerts' reopen / file-a-PQR buttons
