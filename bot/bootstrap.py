"""Builds the object graph from the config. Nothing connects here: the database engine is created
lazily and channels start only in `bot.runner`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock, system_clock
from bot.commands import CommandHandler
from bot.config import Config
from bot.notifications import Notifier
from bot.roles import Roles
from bot.services import PqrService
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


def build(config: Config, *, db: Database | None = None, clock: Clock = system_clock) -> App:
    """The application for `config`; tests pass their own database or clock."""
    database: Database = db if db is not None else make_database(config.database.url)
    policy = config.term_policy()
    notifier = Notifier(calendar=policy.calendar, email_address=config.channels.email.address)
    service = PqrService(database, policy=policy, notifier=notifier, radicado_format=config.radicado_format,
                         warn_before_days=config.sla.warn_before_days)
    roles = Roles.of(config.roles.staff, config.roles.managers)
    commands = CommandHandler(service, roles, language=config.language)
    return App(config=config, db=database, service=service, commands=commands, roles=roles, notifier=notifier,
               clock=clock)
