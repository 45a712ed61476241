"""Builds the object graph from the config: every constructor that wires the application is
called here (`build` for the services, `*_channel` for the adapters, which get only the few
services they call). Nothing connects here: the database engine is created lazily and channels
start only in `bot.runner`. Environment secrets are read here and nowhere else in bot/."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.reports.indicators import IndicatorService
from bot.reports.service import ReportService
from bot.reports.verbs import ReportVerbs
from bot.burst import MailBurst
from bot.clock import Clock, system_clock
from bot.commands.handler import CommandHandler
from bot.config import Config, ConfigError, ImapAccount
from bot.contracts.service import ContractService
from bot.pqrs.notices import Notifier
from bot.ports.checks import Finding
from bot.penalties.service import PenaltyService
from bot.penalties.verbs import PenaltyCommands
from bot.penalties.notices import PenaltyNotices
from bot.roles import Roles
from bot.pqrs.service import PqrService
from bot.surveys.notices import SurveyNotices
from bot.surveys.results import SurveyResults
from bot.surveys.service import SurveyService
from bot.surveys.verbs import SurveyVerbs
from bot.review.notices import ReviewNotices
from bot.review.service import ReviewRules, ReviewService
from bot.review.verbs import ReviewCommands
from bot.templates.answers import TemplateAnswers
from bot.templates.store import TemplateStore, folder_path
from bot.templates.verbs import TemplateVerbs
from domain.calendar import BusinessCalendar
from storage.db import make_database
from storage.ports import Database

if TYPE_CHECKING:       # the channel packages are imported only when a channel is built
    from bot.intake.inbox import Inbox
    from bot.intake.service import IntakeService
    from bot.intake.worker import IntakeWorker
    from bot.ports.mail import RawMailReader
    from bot.ports import ChannelAdapter
    from bot.reports.files import StoredReportFiles
    from bot.sla.scheduler import Scheduler
    from bot.surveys.campaigns import NpsCampaigns
    from channels.console.adapter import ConsoleChannel
    from channels.email.adapter import EmailChannel
    from channels.imap import Credentials, ImapChannel
    from channels.slack import SlackChannel
    from channels.telegram import TelegramChannel
    from channels.web.server import WebChannel
    from bot.access.service import AccessService
    from domain.pqr_types import PqrType


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
    reports: ReportService
    # Set when new outbox rows were committed, so the worker sends them without waiting to poll.
    outbox_wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when raw mail was committed to the inbox, so the intake worker files it without polling.
    inbox_wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Inbound mail arriving in a burst: filing and the outbox give way to it (config `inbox`).
    burst: MailBurst = field(default_factory=MailBurst)
    templates: TemplateStore | None = None      # config `templates.dir`
    review: ReviewService | None = None         # config `approval`: managers' decisions on answers
    surveys: SurveyService | None = None        # config `surveys`: CSAT, answers, follow-ups


def build(config: Config, *, db: Database | None = None, clock: Clock = system_clock) -> App:
    """The application for `config`; tests pass their own database or clock."""
    database: Database = db if db is not None else make_database(config.database.url)
    policy = config.term_policy()
    database.tz = policy.calendar.tz
    database.contact_hours = config.contact_hours()
    slack = config.channels.slack
    templates = TemplateStore(folder_path(config.templates.dir), policy.calendar, agents=config.templates.agents)
    notifier = Notifier(calendar=policy.calendar, email_address=config.channels.email.address,
                        slack_triage_channel=slack.triage_channel if slack.enabled else None, texts=templates)
    contracts = ContractService(database, config.contracts.files)
    roles = Roles.of(config.roles.staff, config.roles.managers)
    notices = review_notices(config, policy.calendar)
    service = PqrService(database, policy=policy, notifier=notifier, radicado_format=config.radicado_format,
                         warn_before_days=config.sla.warn_before_days, contracts=contracts,
                         attachment_limits=config.attachment_limits(), language=config.language,
                         causes=tuple(config.causes), close_requires_cause=config.close_requires_cause,
                         review=ReviewRules(config.approval.policy(), roles, notices))
    review = ReviewService(service, roles=roles, notices=notices)
    penalties = PenaltyService(database, roles=roles, contracts=contracts,
                               notices=penalty_notices(config, policy.calendar))
    penalty_verbs = PenaltyCommands(penalties, contracts, language=config.language).verbs()
    indicators = IndicatorService(database, policy.calendar, clock)
    report_verbs = ReportVerbs(indicators, language=config.language).verbs()
    from bot.access.service import AccessService     # `/pqr web`: the same AccessService as access_service(app)
    from bot.access.verbs import AccessVerbs
    access = AccessService(database, roles, session_hours=config.web.session_hours)
    access_verbs = AccessVerbs(access, config.web.public_url, language=config.language).verbs()
    template_verbs = TemplateVerbs(templates, service, language=config.language).verbs()
    results = SurveyResults(database, policy.calendar)
    surveys = SurveyService(database, config, survey_notices(config), service, contracts, roles)
    commands = CommandHandler(service, roles, language=config.language,
                              extra_verbs=penalty_verbs | report_verbs | access_verbs | template_verbs
                              | ReviewCommands(review, language=config.language).verbs()
                              | SurveyVerbs(results, language=config.language).verbs(),
                              causes=config.causes, answers=TemplateAnswers(templates, service))
    reports = ReportService(indicators, contracts, penalties, policy.calendar, surveys=results)
    return App(config=config, db=database, service=service, commands=commands, roles=roles, notifier=notifier,
               clock=clock, penalties=penalties, contracts=contracts, reports=reports, templates=templates,
               review=review, surveys=surveys, burst=MailBurst(max_defer=config.inbox.max_defer_seconds))


def survey_notices(config: Config) -> SurveyNotices:
    """Survey links on the web's public URL; alerts to the managers, assignees and areas on the
    channels that are enabled."""
    from bot.sla.alerts import staff_destinations
    ch = config.channels
    enabled = {name for name, on in (("slack", ch.slack.enabled), ("telegram", ch.telegram.enabled),
                                     ("email", ch.email.enabled)) if on}
    return SurveyNotices(public_url=config.web.public_url, language=config.language,
                         managers=tuple(config.roles.managers), staff=lambda who: staff_destinations(config, who),
                         enabled=frozenset(enabled))


def nps_campaigns(app: App) -> NpsCampaigns:
    """`pqrbot survey nps send`."""
    from bot.surveys.campaigns import NpsCampaigns
    return NpsCampaigns(app.db, app.config, survey_notices(app.config), app.contracts)


def review_notices(config: Config, calendar: BusinessCalendar) -> ReviewNotices:
    """Approval requests and alerts to the managers, the returned draft to its drafter: only on
    channels that are enabled."""
    from bot.sla.alerts import staff_destinations
    ch = config.channels
    enabled = {name for name, on in (("slack", ch.slack.enabled), ("telegram", ch.telegram.enabled),
                                     ("email", ch.email.enabled)) if on}
    return ReviewNotices(calendar=calendar, language=config.language, managers=tuple(config.roles.managers),
                         enabled=frozenset(enabled), staff=lambda who: staff_destinations(config, who))


def penalty_notices(config: Config, calendar: BusinessCalendar) -> PenaltyNotices:
    """Penalty notices go only to channels that are enabled (a row for a disabled channel would
    never leave the outbox)."""
    ch = config.channels
    enabled = {name for name, on in (("slack", ch.slack.enabled), ("telegram", ch.telegram.enabled),
                                     ("email", ch.email.enabled)) if on}
    return PenaltyNotices(calendar=calendar, language=config.language, managers=tuple(config.roles.managers),
                          accounting_slack=config.accounting.slack_channel,
                          accounting_emails=tuple(config.accounting.emails), enabled=frozenset(enabled))


# -- scheduler --------------------------------------------------------------------------------
def scheduler(app: App, *, holder: str | None = None, wall_clock: Clock = system_clock) -> Scheduler:
    """The scheduler with its jobs: SLA alerts and the digest, and the scheduled reports
    (`reports.schedule`), which wake the outbox worker when they queue rows."""
    from bot.reports.schedule import ScheduledReports
    from bot.sla.scheduler import Job, Scheduler
    reports = ScheduledReports(app.db, app.config, app.reports, app.service.calendar, on_commit=app.outbox_wake.set)
    jobs: list[Job] = [reports] + ([app.surveys] if app.surveys is not None else [])   # + the CSAT after closing
    return Scheduler(app.db, app.config, app.service, app.clock, holder=holder, wall_clock=wall_clock,
                     jobs=jobs, review=review_notices(app.config, app.service.calendar))


def report_files(app: App) -> StoredReportFiles:
    """What the email and Slack adapters call for the bytes of a scheduled report's files."""
    from bot.reports.files import StoredReportFiles
    return StoredReportFiles(app.db)


# -- channel adapters -------------------------------------------------------------------------
def channels(app: App) -> list[ChannelAdapter]:
    """The adapters the config enables, in start order."""
    cfg = app.config.channels
    adapters: list[ChannelAdapter] = []
    if cfg.console.enabled:
        adapters.append(console_channel(app))
    if cfg.email.enabled:
        adapters.append(email_channel(app))
    if cfg.slack.enabled:
        adapters.append(slack_channel(app))
    if cfg.telegram.enabled:
        adapters.append(telegram_channel(app))
    if cfg.imap.enabled:
        adapters.append(imap_channel(app))
    if app.config.web.enabled:
        adapters.append(web_channel(app))
    return adapters


def access_service(app: App) -> AccessService:
    """Tokens, sign-in links, sessions and rate counts (the web, the API, `pqrbot token`)."""
    from bot.access.service import AccessService
    return AccessService(app.db, app.roles, session_hours=app.config.web.session_hours)


def web_channel(app: App) -> WebChannel:
    """The web (public form and tracking, staff pages, API, /healthz, /metrics) on `web.host:port`."""
    from channels.web.server import WebChannel
    from channels.web.services import WebServices

    async def healthy() -> bool:
        try:
            async with app.db.uow(readonly=True) as uow:
                await uow.leases.holder("scheduler", now=app.clock())
            return True
        except Exception:
            return False

    services = WebServices(pqrs=app.service, commands=app.commands, reports=app.reports, penalties=app.penalties,
                           access=access_service(app), roles=app.roles, clock=app.clock,
                           language=app.config.language, config=app.config.web, healthy=healthy,
                           causes=dict(app.config.causes), form_secret=os.environ.get("PQRBOT_WEB_SECRET"),
                           templates=app.templates, surveys=app.surveys)
    return WebChannel(services)


def console_channel(app: App, identity: str | None = None) -> ConsoleChannel:
    """The local chat, acting as `identity` (else the first staff identity of the config)."""
    from channels.console.adapter import ConsoleChannel
    who = identity or (app.config.roles.staff[0] if app.config.roles.staff else "console:operator")
    return ConsoleChannel(app.commands, who, app.clock)


def email_channel(app: App) -> EmailChannel:
    """The SMTP server in (to the inbox, which the intake worker files); the relay out, or with no
    relay `data/mail/outgoing/` beside the database; scheduled reports go out with their files
    attached (`report_files`)."""
    from channels.email.reports import ReportingEmailChannel
    auth = app.config.channels.email.auth
    if auth.username_env and auth.password_env:    # SMTP AUTH asked for: both secrets must be set
        _secret("channels.email.auth.username_env", auth.username_env, "SMTP AUTH user name")
        _secret("channels.email.auth.password_env", auth.password_env, "SMTP AUTH password")
    return ReportingEmailChannel(app.config.channels.email, inbox_for(app), app.clock,
                                 report_files=report_files(app), outgoing=outgoing_mail_dir(app.config))


def outgoing_mail_dir(config: Config) -> Path:
    """Where outgoing mail is written when `channels.email.relay` is null."""
    return config.database.data_dir() / "mail" / "outgoing"


def intake_for(app: App, *, default_type: PqrType | None = None,
               reopen_closed: bool | None = None) -> IntakeService:
    """The intake service of a built application (email settings by default)."""
    from bot.intake.service import AckLimit, IntakeService
    from bot.sla.alerts import staff_destinations
    email = app.config.channels.email
    limit = AckLimit(email.rate_limit.max_messages, dt.timedelta(minutes=email.rate_limit.window_minutes))
    return IntakeService(app.db, app.service, language=app.config.language,
                         default_type=default_type or email.default_type,
                         reopen_closed=email.reopen_closed if reopen_closed is None else reopen_closed,
                         on_commit=app.outbox_wake.set, ack_limit=limit,
                         staff=lambda who: staff_destinations(app.config, who))


def inbox_for(app: App) -> Inbox:
    """Where SMTP and IMAP append raw mail (committed before the sender is let go); each commit
    wakes the intake worker and counts in the burst the background work gives way to."""
    from bot.intake.inbox import Inbox
    return Inbox(app.db, app.clock, wake=app.inbox_wake, on_commit=app.burst.arrived)


def mail_reader(app: App) -> RawMailReader:
    """How the intake worker reads a raw inbound mail: the email channel's parser, loop filter
    and trust checks, as `channels.email` configures them."""
    from channels.email.reader import EmailReader
    return EmailReader.of(app.config.channels.email)


def intake_worker(app: App, *, reader: RawMailReader | None = None) -> IntakeWorker:
    """The worker that files the inbox (`inbox` settings); it wakes the outbox worker when it
    queues acknowledgments, and tells the Slack triage channel (when Slack is on) of an item
    that failed for good."""
    from bot.intake.worker import InboxRetry, IntakeWorker
    settings, slack = app.config.inbox, app.config.channels.slack
    retry = InboxRetry(settings.max_attempts, dt.timedelta(seconds=settings.base_delay_seconds))
    return IntakeWorker(app.db, intake_for(app), reader or mail_reader(app), app.clock, wake=app.inbox_wake,
                        batch=settings.batch, lease=dt.timedelta(seconds=settings.lease_seconds),
                        poll=settings.poll_seconds, retry=retry,
                        triage_channel=slack.triage_channel if slack.enabled else None,
                        language=app.config.language, on_commit=app.outbox_wake.set,
                        busy_share=settings.busy_share, burst=app.burst)


def slack_channel(app: App) -> SlackChannel:
    """The Slack adapter; a ConfigError names every token or secret missing from the environment."""
    from channels.slack import SlackChannel, SlackServices, SlackSettings
    services = SlackServices(commands=app.commands, pqrs=app.service, penalties=app.penalties, roles=app.roles,
                             clock=app.clock, language=app.config.language, report_files=report_files(app),
                             review=app.review, surveys=app.surveys)
    return SlackChannel(services, SlackSettings.load(app.config.channels.slack))


def telegram_channel(app: App, *, token: str | None = None, webhook_secret: str | None = None,
                     poll_timeout: float = 10.0, sweep_every: float = 60.0,
                     concurrency: int | None = None) -> TelegramChannel:
    """The Telegram adapter with the conversation use cases it drives. The token and (webhook
    mode) the secret come from the environment unless given; a missing one stops startup clearly."""
    from bot.conversation.answer_decisions import TelegramAnswerDecisions
    from bot.conversation.filing import TelegramFlow
    from bot.conversation.manager_actions import ManagerActions
    from bot.conversation.model import FetchFile
    from bot.conversation.penalty_decisions import TelegramPenaltyDecisions
    from bot.conversation.support import TelegramSupport
    from bot.sla.alerts import staff_destinations
    from channels.telegram import TelegramChannel, TelegramServices
    from channels.telegram.adapter import CONCURRENT_UPDATES

    cfg, lang = app.config.channels.telegram, app.config.language
    token = token or _secret("channels.telegram.token_env", cfg.token_env, "bot token")
    if webhook_secret is None and cfg.mode == "webhook":
        webhook_secret = _secret("channels.telegram.webhook.secret_token_env", cfg.webhook.secret_token_env,
                                 "webhook secret token")
    support = TelegramSupport(app.service, app.clock, language=lang,
                              staff=lambda who: staff_destinations(app.config, who))
    actions = ManagerActions(app.service, app.roles)
    decisions = TelegramPenaltyDecisions(app.penalties, app.db, app.roles, language=lang)
    decisions.register(actions)
    answers = TelegramAnswerDecisions(app.review, app.db, app.roles, language=lang) if app.review else None
    if answers is not None:
        answers.register(actions)
    timeout = dt.timedelta(minutes=cfg.conversation_timeout_minutes)

    def make_flow(fetch: FetchFile) -> TelegramFlow:
        return TelegramFlow(app.service, support, app.clock, fetch=fetch, timeout=timeout, language=lang)

    services = TelegramServices(support=support, make_flow=make_flow, actions=actions, decisions=decisions,
                                clock=app.clock, language=lang, answers=answers, surveys=app.surveys)
    return TelegramChannel(services, cfg, token=token, webhook_secret=webhook_secret, poll_timeout=poll_timeout,
                           sweep_every=sweep_every, concurrency=concurrency or CONCURRENT_UPDATES)


def imap_channel(app: App) -> ImapChannel:
    """A reader per `channels.imap.accounts` entry, appending to the inbox through `Mailboxes`;
    each account's password or client secret comes from the environment (missing: ConfigError)."""
    from bot.intake.mailboxes import Mailboxes
    from channels.imap import ImapChannel, MailboxReader
    cfg = app.config.channels.imap
    mailboxes = Mailboxes(app.db, inbox_for(app), app.clock)
    readers = [MailboxReader(account, imap_credentials(account, i), mailboxes, app.clock, idle=cfg.idle,
                             poll_seconds=cfg.poll_seconds) for i, account in enumerate(cfg.accounts)]
    return ImapChannel(readers, mailboxes)


def imap_credentials(account: ImapAccount, index: int, *, env: Mapping[str, str] | None = None) -> Credentials:
    """LOGIN with the password `password_env` names, or XOAUTH2 with Microsoft 365 tokens for
    the app `oauth2` names (its client secret from `client_secret_env`); ConfigError names a
    variable that is not set."""
    from channels.imap import Credentials
    from channels.imap.oauth import TokenSource, microsoft_fetch
    env = os.environ if env is None else env
    key = f"channels.imap.accounts.{index}"

    def secret(setting: str, name: str, what: str) -> str:
        value = env.get(name, "").strip()
        if not value:
            raise ConfigError(f"{key}.{setting}: the environment variable {name} is not set (it must hold the "
                              f"{what} of the mailbox {account.name})")
        return value

    if account.oauth2 is not None:
        oauth = account.oauth2
        client_secret = secret("oauth2.client_secret_env", oauth.client_secret_env, "Microsoft 365 app's client secret")
        fetch = microsoft_fetch(oauth.tenant_id, oauth.client_id, client_secret)
        return Credentials(account.username, tokens=TokenSource(fetch))
    return Credentials(account.username, password=secret("password_env", account.password_env or "", "password"))


def _secret(key: str, name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{key}: the environment variable {name} is not set (it must hold the {what})")
    return value


# -- pqrbot doctor ------------------------------------------------------------------------------
DoctorCheck = Callable[[], Awaitable[list[Finding]]]


def doctor_checks(config: Config, *, env: Mapping[str, str] | None = None,
                  timeout: float = 5.0) -> list[DoctorCheck]:
    """`pqrbot doctor`'s look at each enabled channel, in report order: the environment secrets
    its `*_env` keys name, then the platform's own answer: the relay's EHLO (STARTTLS and AUTH as
    configured) or, with no relay, the outgoing-mail folder; Slack's auth.test; Telegram's getMe.
    A platform is not called without the token it needs."""
    from bot.doctor.probes import folder_finding, secrets_finding
    env = os.environ if env is None else env
    ch = config.channels
    checks: list[DoctorCheck] = []

    def named(prefix: str, **keys: str | None) -> dict[str, str]:
        return {f"{prefix}{k}": v for k, v in keys.items() if v}

    if ch.email.enabled:
        relay = ch.email.relay
        wanted = named("auth.", username_env=ch.email.auth.username_env, password_env=ch.email.auth.password_env)
        if relay is not None:
            wanted |= named("relay.", username_env=relay.username_env, password_env=relay.password_env)

        async def email() -> list[Finding]:
            found = [f for f in [secrets_finding("email", wanted, env)] if f is not None]
            if relay is None:
                return [*found, folder_finding(outgoing_mail_dir(config))]
            from channels.email.check import check_relay
            user = env.get(relay.username_env or "", "").strip() or None
            password = env.get(relay.password_env or "", "").strip() or None
            return [*found, await check_relay(relay, username=user, password=password, timeout=timeout)]

        checks.append(email)
    if ch.slack.enabled:
        slack = ch.slack
        second = ("signing_secret_env", slack.signing_secret_env) if slack.mode == "http" else (
            "app_token_env", slack.app_token_env)
        slack_wanted = {"bot_token_env": slack.bot_token_env, second[0]: second[1]}

        async def slack_checks() -> list[Finding]:
            found = [f for f in [secrets_finding("slack", slack_wanted, env)] if f is not None]
            token = env.get(slack.bot_token_env, "").strip()
            if not token:
                return found
            from channels.slack.check import check
            app_token = env.get(slack.app_token_env, "").strip() if slack.mode == "socket" else ""
            return found + await check(api_base_url=slack.api_base_url, bot_token=token,
                                       bot_token_env=slack.bot_token_env, app_token=app_token or None,
                                       app_token_env=slack.app_token_env, timeout=timeout)

        checks.append(slack_checks)
    if ch.telegram.enabled:
        tg = ch.telegram
        tg_wanted = {"token_env": tg.token_env}
        if tg.mode == "webhook":
            tg_wanted["webhook.secret_token_env"] = tg.webhook.secret_token_env

        async def telegram_checks() -> list[Finding]:
            found = [f for f in [secrets_finding("telegram", tg_wanted, env)] if f is not None]
            token = env.get(tg.token_env, "").strip()
            if not token:
                return found
            from channels.telegram.check import check
            return [*found, await check(base_url=tg.base_url, token=token, token_env=tg.token_env, timeout=timeout)]

        checks.append(telegram_checks)
    if ch.imap.enabled:
        checks.extend(_imap_check(index, account, env, timeout) for index, account in enumerate(ch.imap.accounts))
    return checks


def _imap_check(index: int, account: ImapAccount, env: Mapping[str, str], timeout: float) -> DoctorCheck:
    """One line for the mailbox: its secret missing, or what connect + login + select said."""
    from bot.doctor.probes import secrets_finding
    setting = "oauth2.client_secret_env" if account.oauth2 else "password_env"
    variable = account.oauth2.client_secret_env if account.oauth2 else account.password_env or ""

    async def imap() -> list[Finding]:
        missing = secrets_finding("imap", {f"accounts.{index}.{setting}": variable}, env)
        if missing is not None and not missing.ok:
            return [missing]
        from channels.imap.check import check_account
        return [await check_account(account, imap_credentials(account, index, env=env), timeout=timeout)]

    return imap
