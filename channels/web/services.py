"""What the web's routes may call: the few services they name, never the database or the App
(STYLE.md: an adapter gets only what it calls)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.access.service import AccessService
from bot.clock import Clock
from bot.commands.handler import CommandHandler
from bot.config import Web as WebConfig
from bot.penalties.service import PenaltyService
from bot.pqrs.service import PqrService
from bot.reports.service import ReportService
from bot.roles import Roles
from bot.surveys.service import SurveyService
from bot.templates.store import TemplateStore


@dataclass(frozen=True)
class WebServices:
    """The services behind the web's routes. `healthy` says whether the database answers."""

    pqrs: PqrService
    commands: CommandHandler
    reports: ReportService
    penalties: PenaltyService
    access: AccessService
    roles: Roles
    clock: Clock
    language: str
    config: WebConfig
    healthy: Callable[[], Awaitable[bool]]
    causes: dict[str, str] = field(default_factory=dict)
    form_secret: str | None = None      # PQRBOT_WEB_SECRET: signs the public form's tokens
    templates: TemplateStore | None = None   # the answer templates the PQR page offers
    surveys: SurveyService | None = None     # /encuesta/{token}: the survey page and the opt-out
