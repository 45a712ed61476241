"""config.yaml loaded into a typed model. Unknown keys and bad values are refused at start, with the
key's path; every key has a default, so a partial file is completed."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.attachments import AttachmentLimits
from domain.calendar import BusinessCalendar
from domain.contact_hours import ContactHours, Window
from domain.limits import FIRST_INSTANT, LAST_INSTANT, RADICADO_MAX
from domain.pqr_types import PqrType
from domain.review import ApprovalPolicy
from domain.terms import LEGAL_TERMS, TermPolicy


class ConfigError(Exception):
    """The configuration file cannot be used; the message names the file and the key. With a
    `key`, the CLI answers with that catalogue text filled with `values` instead."""

    def __init__(self, message: str, *, key: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Database(_Model):
    url: str = "sqlite+aiosqlite:///data/pqrbot.db"

    def data_dir(self) -> Path:
        """The folder beside the SQLite database file, where `pqrbot run` keeps its log and the
        outgoing mail it writes out; `./data` (the embedded default's) for PostgreSQL or memory."""
        if self.url.startswith("sqlite+aiosqlite:///"):
            path = self.url.removeprefix("sqlite+aiosqlite:///").partition("?")[0]
            if path and path != ":memory:":
                return Path(path).parent
        return Path("data")

    @field_validator("url")
    @classmethod
    def _supported(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return v


class BusinessHours(_Model):
    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(18, 0)


class Calendar(_Model):
    country: str = "CO"
    workdays: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = ("mon", "tue", "wed", "thu", "fri")
    extra_holidays: tuple[dt.date, ...] = ()
    business_hours: BusinessHours = BusinessHours()


class Sla(_Model):
    terms: dict[PqrType, int] = Field(default_factory=lambda: {t: d for t, d in LEGAL_TERMS.items()
                                                               if not t.startswith("habeas")})
    warn_before_days: int = Field(2, ge=0, le=30)

    @field_validator("terms")
    @classmethod
    def _positive(cls, v: dict[PqrType, int]) -> dict[PqrType, int]:
        bad = [k.value for k, d in v.items() if not 1 <= d <= 90]
        if bad:
            raise ValueError(f"terms must be 1..90 business days: {', '.join(bad)}")
        return v


class Roles(_Model):
    staff: tuple[str, ...] = ("slack:U0STAFF",)
    managers: tuple[str, ...] = ("slack:U0BOSS", "telegram:1001")


class Listen(_Model):
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)


class Relay(_Model):
    """The SMTP relay outgoing mail is handed to (`channels.email.relay`; null: none, the mail is
    written out as .eml files instead)."""

    host: str = "127.0.0.1"
    port: int = Field(25, ge=0, le=65535)
    starttls: bool = False
    username_env: str | None = None
    password_env: str | None = None


class ConsoleChannel(_Model):
    enabled: bool = True


class RateLimit(_Model):
    """Per author address (`From`), mail past `max_messages` in the window is kept aside (a
    loop); per connecting client, envelope sender and author, acknowledgments past it are not
    sent (backscatter) — counted in the database, across instances. `exempt_clients`: addresses
    or networks of the company's own mail servers, whose connections carry everyone's mail and
    are not counted as one client (the envelope sender and the author still are)."""

    max_messages: int = Field(20, ge=1)
    window_minutes: int = Field(60, ge=1)
    exempt_clients: tuple[str, ...] = ()

    @field_validator("exempt_clients")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return value


class SmtpTls(_Model):
    cert_file: str | None = None
    key_file: str | None = None
    require_starttls: bool = False


class SmtpAuth(_Model):
    username_env: str | None = None
    password_env: str | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> SmtpAuth:
        # One without the other would leave the server open while the file seems to ask for AUTH.
        if bool(self.username_env) != bool(self.password_env):
            raise ValueError("give both username_env and password_env (the environment variables "
                             "holding the SMTP AUTH user and password), or neither")
        return self


class EmailChannel(_Model):
    enabled: bool = True
    listen: Listen = Listen()
    domains: tuple[str, ...] = ("pqr.example.co",)
    address: str = "pqr@pqr.example.co"
    max_message_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    relay: Relay | None = None
    default_type: PqrType = PqrType.PETICION
    reopen_closed: bool = True
    rate_limit: RateLimit = RateLimit()
    # The authserv-id of the company mail server in front of pqrbot: its Authentication-Results
    # are trusted (only its), and mail whose DMARC failed is not acknowledged. null: none trusted.
    trusted_authserv_id: str | None = None
    tls: SmtpTls = SmtpTls()
    auth: SmtpAuth = SmtpAuth()


class SlackHttp(_Model):
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=0, le=65535)


class SlackChannel(_Model):
    enabled: bool = False
    mode: Literal["socket", "http"] = "socket"
    bot_token_env: str = "SLACK_BOT_TOKEN"
    signing_secret_env: str = "SLACK_SIGNING_SECRET"
    app_token_env: str = "SLACK_APP_TOKEN"
    http: SlackHttp = SlackHttp()
    api_base_url: str = "https://slack.com/api/"
    triage_channel: str = "C0TRIAGE"


class TelegramWebhook(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8443, ge=0, le=65535)
    path: str = "/telegram"
    secret_token_env: str = "TELEGRAM_WEBHOOK_SECRET"
    # The public HTTPS URL Telegram posts to (what setWebhook registers); null: register it yourself.
    public_url: str | None = None


class TelegramChannel(_Model):
    enabled: bool = False
    mode: Literal["polling", "webhook"] = "polling"
    token_env: str = "TELEGRAM_BOT_TOKEN"
    base_url: str = "https://api.telegram.org/bot"
    webhook: TelegramWebhook = TelegramWebhook()
    # A filing conversation untouched this long is dropped (nothing is filed).
    conversation_timeout_minutes: int = Field(30, ge=1, le=1440)


class ImapOAuth2(_Model):
    """XOAUTH2 with Microsoft 365's client-credentials flow: an app registered in `tenant_id`
    with IMAP.AccessAsApp, its secret in the environment variable `client_secret_env`."""

    tenant_id: str
    client_id: str
    client_secret_env: str


class ImapAccount(_Model):
    """A company mailbox pqrbot reads (`channels.imap.accounts`): new mail in `folder` goes to
    the inbox, then is moved to `processed_folder` (created when missing). `port` defaults to 993
    with security tls and to 143 with starttls or none."""

    name: str = Field(min_length=1, max_length=60)
    host: str
    port: int = Field(993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str
    password_env: str | None = None
    oauth2: ImapOAuth2 | None = None
    folder: str = Field("INBOX", min_length=1)
    processed_folder: str = Field("PQR-Radicados", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _plain_port(cls, data: Any) -> Any:
        if isinstance(data, dict) and "port" not in data and data.get("security") in ("starttls", "none"):
            return {**data, "port": 143}
        return data

    @model_validator(mode="after")
    def _one_way_in(self) -> ImapAccount:
        if bool(self.password_env) == (self.oauth2 is not None):
            raise ValueError("give password_env (the environment variable holding the mailbox password) "
                             "or oauth2 (Microsoft 365: tenant_id, client_id, client_secret_env), one of them")
        if self.folder == self.processed_folder:
            raise ValueError("processed_folder must differ from folder (a moved message would be read again)")
        return self


class ImapChannel(_Model):
    """The IMAP reader: IDLE where the server offers it (`idle`), else a poll every `poll_seconds`."""

    enabled: bool = False
    idle: bool = True
    poll_seconds: float = Field(60, ge=1, le=3600)
    accounts: tuple[ImapAccount, ...] = ()

    @model_validator(mode="after")
    def _accounts(self) -> ImapChannel:
        names = [a.name for a in self.accounts]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"account names must be unique: {', '.join(twice)}")
        if self.enabled and not self.accounts:
            raise ValueError("list at least one account in accounts, or set enabled: false")
        return self


class Channels(_Model):
    console: ConsoleChannel = ConsoleChannel()
    email: EmailChannel = EmailChannel()
    slack: SlackChannel = SlackChannel()
    telegram: TelegramChannel = TelegramChannel()
    imap: ImapChannel = ImapChannel()


class FormRateLimit(_Model):
    per_ip_per_hour: int = Field(20, ge=1)


class WebForm(_Model):
    enabled: bool = True
    max_files: int = Field(5, ge=0, le=20)
    max_file_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    rate_limit: FormRateLimit = FormRateLimit()


class Web(_Model):
    """The web (channels/web): the public form and tracking, the staff pages, the API, /healthz
    and /metrics, on one port. `public_url` is how people reach it (sign-in links use it)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    session_hours: int = Field(12, ge=1, le=24 * 30)
    privacy_policy_url: str | None = None
    form: WebForm = WebForm()
    # Proxies in front of the web whose X-Forwarded-For is believed (the client IP for rate limits).
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("public_url starts with http:// or https://")
        return value.rstrip("/")


class Digest(_Model):
    time: dt.time = dt.time(8, 0)
    slack_channel: str | None = "C0MANAGERS"
    telegram_chat: int | None = None
    emails: tuple[str, ...] = ()


class Scheduler(_Model):
    # The leader queues due alerts and the digest every tick_seconds. Leadership is a lease of
    # lease_seconds, renewed every renew_seconds; the other instances try to take it every
    # standby_seconds (both at most a third of lease_seconds), so a killed leader is replaced
    # within lease_seconds + standby_seconds, and one stopped cleanly at once.
    tick_seconds: float = Field(60, gt=0, le=3600)
    lease_seconds: float = Field(30, gt=0, le=3600)
    renew_seconds: float = Field(10, gt=0, le=3600)
    standby_seconds: float = Field(5, gt=0, le=3600)


class OutboxSettings(_Model):
    max_attempts: int = Field(8, ge=1, le=100)
    base_delay_seconds: float = Field(5, gt=0)
    max_delay_seconds: float = Field(3600, gt=0)
    poll_seconds: float = Field(1, gt=0, le=60)


class InboxSettings(_Model):
    """The intake worker that files the durable inbox (raw inbound mail)."""
    batch: int = Field(256, ge=1, le=5000)              # items claimed and filed per transaction
    lease_seconds: float = Field(60, gt=0, le=3600)     # a claimed batch is another worker's after this
    poll_seconds: float = Field(1, gt=0, le=60)         # besides being woken by each SMTP commit
    max_attempts: int = Field(5, ge=1, le=100)          # then `failed`, and the triage channel is told
    base_delay_seconds: float = Field(30, gt=0)         # doubling after each failed attempt
    busy_share: float = Field(0.05, gt=0, le=1)         # of the loop while mail keeps arriving (1: no yielding)
    max_defer_seconds: float = Field(5, ge=0, le=300)   # then filing and the outbox stop giving way to a burst


class Contracts(_Model):
    # YAML files with clients, contracts (ANS) and areas; relative paths from the working directory.
    files: tuple[str, ...] = ()


class Templates(_Model):
    # Answer templates, one YAML file per template (templates/README.md); relative to the working
    # directory. `agents`: how `{agente}` names a staff identity ("slack:U0STAFF": "Ana Gómez").
    dir: str = "templates"
    agents: dict[str, str] = Field(default_factory=dict)


class Accounting(_Model):
    # Where accepted penalties are sent for payment.
    slack_channel: str | None = None
    emails: tuple[str, ...] = ()


class Attachments(_Model):
    # What one inbound message may bring, on every channel (email, Telegram, penalty evidence):
    # a file past a limit is not stored and the sender is told; the rest of the message is kept.
    max_files: int = Field(10, ge=0, le=1000)
    max_file_bytes: int = Field(10 * 1024 * 1024, ge=1)
    max_message_bytes: int = Field(25 * 1024 * 1024, ge=1)


# Sequence numbers that a float or rounded presentation ({seq:g}, {seq:.2e}) would write alike.
_SEQ_SAMPLE = (1, 2, 9, 10, 11, 999_999, 1_000_000, 1_000_001, 10**8, 10**8 + 1, 2**31 - 2, 2**31 - 1)
_YEARS = range(FIRST_INSTANT.year - 1, LAST_INSTANT.year + 2)     # local years of the instants taken


DEFAULT_CAUSES = {"facturacion": "Facturación", "servicio_tecnico": "Servicio técnico", "entrega": "Entrega",
                  "garantia": "Garantía", "atencion": "Atención", "producto": "Producto",
                  "datos_personales": "Datos personales", "otro": "Otro"}
_CAUSE_KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")


class ReportSchedule(_Model):
    """One scheduled report: `report` monthly (top management) or client (`client` a name, or
    "*" for one report per client), for each `every` period once it has ended, sent on day `day`
    of the next month (a day that is not a business day moves to the next one), to `to`
    (`email:ADDRESS`, `slack:CHANNEL`)."""

    report: Literal["monthly", "client"] = "monthly"
    client: str | None = None
    every: Literal["month", "quarter", "semester", "year"] = "month"
    day: int = Field(5, ge=1, le=28)
    to: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _client_named(self) -> ReportSchedule:
        if self.report == "client" and not self.client:
            raise ValueError("a client report needs client: NAME")
        bad = [d for d in self.to if not d.startswith(("email:", "slack:"))]
        if bad:
            raise ValueError(f"destinations are email:ADDRESS or slack:CHANNEL: {', '.join(bad)}")
        return self


class Reports(_Model):
    schedule: tuple[ReportSchedule, ...] = ()


class ContactHoursSettings(_Model):
    """`surveys.contact_hours` (Ley 2300 de 2023, art. 3): the local windows, as HH:MM-HH:MM with
    the end excluded, in which surveys and other messages a customer did not ask for may go;
    `saturday: null` for none. Never on Sundays or holidays, whatever is written here."""

    weekdays: str = "07:00-19:00"
    saturday: str | None = "08:00-15:00"

    @field_validator("weekdays", "saturday")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None:
            Window.parse(v)
        return v


class CsatSurvey(_Model):
    """The 1–5 rating asked once per PQR, `delay_hours` after it closes (bot.surveys)."""

    enabled: bool = True
    delay_hours: float = Field(2, ge=0, le=24 * 30)
    valid_days: int = Field(14, ge=1, le=365)          # how long the survey link may be answered


class NpsSurvey(_Model):
    """NPS campaigns (`pqrbot survey nps send`): a contact is asked at most once per
    `min_days_between` days."""

    min_days_between: int = Field(90, ge=0, le=3650)
    valid_days: int = Field(30, ge=1, le=365)


class Surveys(_Model):
    contact_hours: ContactHoursSettings = ContactHoursSettings()
    csat: CsatSurvey = CsatSurvey()
    nps: NpsSurvey = NpsSurvey()


class Approval(_Model):
    # Final answers a manager approves before they go out (the PQR waits in en_revision): PQR
    # type keys and/or contract client names; ["*"] in types covers every PQR, in clients every
    # PQR under a client's contract. Empty: answers go out at once. A manager's own close never waits.
    types: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {t.value for t in PqrType} | {"*"}
        bad = [v for v in value if v.strip().lower() not in known]
        if bad:
            raise ValueError(f"unknown PQR type {', '.join(bad)} (use {', '.join(sorted(known))})")
        return value

    def policy(self) -> ApprovalPolicy:
        return ApprovalPolicy.of(self.types, self.clients)


class Config(_Model):
    timezone: str = "America/Bogota"
    language: Literal["es", "en"] = "es"
    radicado_format: str = "PQR-{year}-{seq:06d}"
    database: Database = Database()
    calendar: Calendar = Calendar()
    sla: Sla = Sla()
    roles: Roles = Roles()
    channels: Channels = Channels()
    digest: Digest = Digest()
    scheduler: Scheduler = Scheduler()
    outbox: OutboxSettings = OutboxSettings()
    contracts: Contracts = Contracts()
    templates: Templates = Templates()
    accounting: Accounting = Accounting()
    attachments: Attachments = Attachments()
    # Causes (tipologías): key -> label shown to people. Keys are what `/pqr cause` takes.
    causes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CAUSES))
    close_requires_cause: bool = False
    approval: Approval = Approval()
    reports: Reports = Reports()
    surveys: Surveys = Surveys()
    web: Web = Web()
    inbox: InboxSettings = InboxSettings()

    @field_validator("causes")
    @classmethod
    def _cause_keys(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("list at least one cause (key: label)")
        bad = [k for k in value if not _CAUSE_KEY.fullmatch(k)]
        if bad:
            raise ValueError(f"cause keys are lowercase words joined by _ (e.g. servicio_tecnico): {', '.join(bad)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {v!r}") from exc
        return v

    @field_validator("radicado_format")
    @classmethod
    def _format_has_seq(cls, v: str) -> str:
        # The sequence restarts every year, so a radicado is unique only with both fields in it:
        # without {year}, the first PQR of a new year would collide with last year's first.
        example = "use only the fields {year} and {seq}, both of them, e.g. PQR-{year}-{seq:06d}"
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(v) if name is not None}
        except ValueError as exc:
            raise ValueError(f"{example} ({exc})") from exc
        unknown = sorted(fields - {"year", "seq"})
        if unknown:
            raise ValueError(f"unknown field {{{unknown[0]}}}: {example}")
        if fields != {"year", "seq"}:
            missing = "{year}" if "year" not in fields else "{seq}"
            raise ValueError(f"the format must contain {{year}} and {{seq}} ({missing} is missing), "
                             f"e.g. PQR-{{year}}-{{seq:06d}}: the sequence restarts every year")
        try:
            longest = v.format(year=_YEARS[-1], seq=2**31 - 1)
            seqs = {v.format(year=2026, seq=n).upper() for n in _SEQ_SAMPLE}    # stored upper case
            years = {v.format(year=y, seq=1).upper() for y in _YEARS}
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"{example} ({exc})") from exc
        if len(seqs) < len(_SEQ_SAMPLE) or len(years) < len(_YEARS):
            raise ValueError(f"the format must write every year and every {{seq}} differently "
                             f"(use d, e.g. {{seq:06d}}): {example}")
        if len(longest) > RADICADO_MAX:
            raise ValueError(f"a radicado may have at most {RADICADO_MAX} characters")
        return v

    # -- derived domain objects -----------------------------------------------------------------
    def business_calendar(self) -> BusinessCalendar:
        cal = self.calendar
        return BusinessCalendar(timezone=self.timezone, country=cal.country, workdays=tuple(cal.workdays),
                                extra_holidays=frozenset(cal.extra_holidays),
                                business_start=cal.business_hours.start, business_end=cal.business_hours.end)

    def contact_hours(self) -> ContactHours:
        hours = self.surveys.contact_hours
        return ContactHours(calendar=self.business_calendar(), weekdays=Window.parse(hours.weekdays),
                            saturday=Window.parse(hours.saturday) if hours.saturday is not None else None)

    def attachment_limits(self) -> AttachmentLimits:
        a = self.attachments
        return AttachmentLimits(max_files=a.max_files, max_file_bytes=a.max_file_bytes,
                                max_message_bytes=a.max_message_bytes)

    def term_policy(self) -> TermPolicy:
        return TermPolicy(calendar=self.business_calendar(), terms={**LEGAL_TERMS, **self.sla.terms})


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{source}: {path}: {msg}")
    return "\n".join(lines)


def parse_config(data: Any, *, source: str = "config") -> Config:
    """A Config from already-loaded YAML/JSON data (None or {} gives the defaults)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(source, exc)) from None


def config_path(explicit: str | None) -> Path:
    """--config, else $PQRBOT_CONFIG, else ./config.yaml."""
    return Path(explicit or os.environ.get("PQRBOT_CONFIG") or "config.yaml")


def load_config(path: Path) -> Config:
    """Read and validate a config file. A missing ./config.yaml gives the defaults only when no
    path was asked for explicitly — callers decide; here a missing file is an error."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")          # a byte-order mark (Windows editors) is fine
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{path}: not UTF-8 text (line {line}, column {column}); save it as UTF-8",
                          key="config.not_utf8", path=str(path), line=line, column=column) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_config(data, source=str(path))


