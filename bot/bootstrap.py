"""Builds the object graph from the config. Nothing connects here: the database engine is created
lazily and channels start only in `bot.runner`."""

from __future__ import annotations

import asyncio

from dataclasses import dataclass, field

from bot.clock import Clock, system_clock
from bot.commands.handler import CommandHandler
from bot.config import Config
from bot.contracts.service import ContractService
from bot.pqrs.notices import Notifier
from bot.penalties.service import PenaltyService
from bot.penalties.verbs import PenaltyCommands
from bot.penalties.notices import PenaltyNotices
from bot.roles import Roles
from bot.pqrs.service import PqrService
from domain.calendar import BusinessCalendar
from storage.db import make_database
from storage.ports import Database


@dataclass
class App:
    config: Config
    db: Database
    service: PqrService
    commands: CommandHandler
    roles: Roles
    notifier: Notifier
    clock: Clock
    penalties: PenaltyService
    contracts: ContractService
    # Set when new outbox rows were committed, so the worker sends them without waiting to poll.
    outbox_wake: asyncio.Event = field(default_factory=asyncio.Event)


def build(config: Config, *, db: Database | None = None, clock: Clock = system_clock) -> App:
    """The application for `config`; tests pass their own database or clock."""
    database: Database = db if db is not None else make_database(config.database.url)
    policy = config.term_policy()
    slack = config.channels.slack
    notifier = Notifier(calendar=policy.calendar, email_address=config.channels.email.address,
                        slack_triage_channel=slack.triage_channel if slack.enabled else None)
    contracts = ContractService(database, config.contracts.files)
    service = PqrService(database, policy=policy, notifier=notifier, radicado_format=config.radicado_format,
                         warn_before_days=config.sla.warn_before_days, contracts=contracts)
    roles = Roles.of(config.roles.staff, config.roles.managers)
    penalties = PenaltyService(database, roles=roles, contracts=contracts,
                               notices=penalty_notices(config, policy.calendar))
    penalty_verbs = PenaltyCommands(penalties, contracts, language=config.language).verbs()
    commands = CommandHandler(service, roles, language=config.language, extra_verbs=penalty_verbs)
    return App(config=config, db=database, service=service, commands=commands, roles=roles, notifier=notifier,
               clock=clock, penalties=penalties, contracts=contracts)


def penalty_notices(config: Config, calendar: BusinessCalendar) -> PenaltyNotices:
    """Penalty notices go only to channels that are enabled (a row for a disabled channel would
    never leave the outbox)."""
    ch = config.channels
    enabled = {name for name, on in (("slack", ch.slack.enabled), ("telegram", ch.telegram.enabled),
                                     ("email", ch.email.enabled)) if on}
    return PenaltyNotices(calendar=calendar, language=config.language, managers=tuple(config.roles.managers),
                          accounting_slack=config.accounting.slack_channel,
                          accounting_emails=tuple(config.accounting.emails), enabled=frozenset(enabled))
