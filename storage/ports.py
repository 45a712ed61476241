"""The storage ports the bot services use. `storage.sql` implements them on SQLAlchemy (SQLite and
PostgreSQL); nothing outside `storage/` sees SQLAlchemy."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.attachments import Attachment
from domain.contact_hours import ContactHours
from domain.customer import Customer
from domain.events import Event
from domain.pqr import Pqr
from domain.pqr_types import Status
from domain.penalty import Penalty, PenaltyStatus
from domain.files import FileData


@dataclass(frozen=True)
class PqrFilter:
    """Which PQRs a listing wants. `statuses=None` means every open state; an empty tuple, all."""

    statuses: tuple[Status, ...] | None = None
    due_before: dt.datetime | None = None      # due_at < due_before
    due_from: dt.datetime | None = None        # due_at >= due_from
    assignee: str | None = None
    area: str | None = None
    type: str | None = None
    customer_id: int | None = None
    client: str | None = None                  # the contract's client, compared case-insensitively
    limit: int | None = None
    offset: int = 0


@dataclass
class OutboxItem:
    """A message waiting to be (or already) sent by a channel adapter."""

    channel: str
    destination: str
    payload: dict[str, Any]
    id: int | None = None
    status: str = "pending"               # pending | sent | dead
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    last_error: str | None = None
    dedupe_key: str | None = None
    pqr_id: int | None = None


@dataclass(frozen=True)
class Stats:
    by_status: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    open_total: int = 0
    breached: int = 0


class PqrRepository(Protocol):
    async def add(self, pqr: Pqr, *, radicado_format: str, year: int,
                  customers_checked: bool = False) -> None:
        """Insert a new PQR (and its customer if new, messages, events); allocate its radicado
        (gapless per `year`, in this transaction) and set `pqr.id` and `pqr.radicado`. A
        customer with an id is taken as stored; with `customers_checked`, one without an id was
        looked up in this transaction and found new (no second lookup; a concurrent
        registration of its identity is still detected and resolved)."""

    async def add_many(self, pqrs: Sequence[Pqr], *, radicado_format: str, year: int,
                       customers_checked: bool = False) -> None:
        """`add` for several new PQRs of one `year` with one statement per table: the same rows
        and radicados (consecutive, in list order) as adding them one by one."""

    async def get(self, radicado: str) -> Pqr | None:
        """The whole PQR (customer, messages with their attachments listed, events), or None.
        Case-insensitive radicado."""

    async def attachment(self, radicado: str, attachment_id: int) -> tuple[Attachment, bytes] | None:
        """One stored file of the PQR's messages with its bytes; None when the PQR has no such
        attachment (an id of another PQR's file included)."""

    async def save(self, pqr: Pqr) -> None:
        """Write the PQR's columns and insert its messages and events that have no id yet."""

    async def list(self, flt: PqrFilter, *, details: bool = True) -> list[Pqr]:
        """PQRs matching `flt`, oldest due date first. Without `details`, messages and events
        are left empty (for counts and cards); with them, messages list their attachments."""

    async def count(self, flt: PqrFilter) -> int: ...

    async def group_counts(self, flt: PqrFilter) -> builtins.list[tuple[str | None, str | None, int]]:
        """(area, assignee, count) of the PQRs matching `flt`."""

    async def stats(self, now: dt.datetime) -> Stats: ...


class CustomerRepository(Protocol):
    async def by_identity(self, identity: str) -> Customer | None:
        """The customer known by `email:…` or `telegram:…`, or None."""

    async def by_identities(self, identities: Collection[str]) -> dict[str, Customer]:
        """The stored customers known by any of `identities`, by (canonical) identity; one
        object per customer."""

    async def add(self, customer: Customer) -> None:
        """Insert and register every identity the customer has; sets `customer.id`."""

    async def save(self, customer: Customer) -> None: ...


class AuditLog(Protocol):
    async def record(self, event: Event, *, pqr_id: int | None = None) -> None:
        """An audit entry not tied to a loaded aggregate (e.g. a refused command)."""

    async def list(self, *, kind: str | None = None, limit: int = 100) -> list[Event]: ...


class Outbox(Protocol):
    async def put(self, item: OutboxItem, *, now: dt.datetime) -> None:
        """Queue a message in the current transaction. A repeated `dedupe_key` queues nothing.
        A kind of `domain.contact_hours.UNSOLICITED_KINDS` is dated into the contact hours, on
        a day its contact (channel + destination) has no other."""

    async def put_many(self, items: Sequence[tuple[OutboxItem, dt.datetime]]) -> None:
        """`put` for several (item, now) pairs, in few statements."""

    async def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta,
                    channels: Collection[str] | None = None,
                    lease_now: dt.datetime | None = None) -> list[OutboxItem]:
        """Take rows due by `now` (of `channels`, when given) so that no other worker gets them
        until `lease_now + lease` (claims run on the wall clock `lease_now`, `now` if not given).
        An unsolicited row outside the contact hours, or whose contact already had one that
        local day, is re-dated to when it may go instead (no attempt counted)."""

    async def extend(self, item_ids: Collection[int], *, now: dt.datetime, until: dt.datetime) -> int:
        """Hold the still-pending rows whose claim has not ended by `now` until `until`."""

    async def mark_sent(self, item_id: int, *, now: dt.datetime) -> None: ...

    async def release(self, item_ids: Collection[int]) -> None:
        """End the claim on rows that were not attempted (no attempt counted)."""

    async def mark_failed(self, item_id: int, *, error: str, retry_at: dt.datetime | None) -> None:
        """Count a failed attempt; `retry_at=None` moves the row to dead."""

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[OutboxItem]: ...

    async def depth_by_status(self, statuses: Collection[str]) -> dict[str, int]:
        """How many rows each of `statuses` holds, counted exactly (0 for none)."""

    async def retry(self, item_id: int, *, now: dt.datetime) -> bool:
        """Put a dead (or pending) row back to pending, due now."""

    async def cancel_unsolicited(self, channel: str, destination: str, *, reason: str) -> int:
        """Mark the contact's pending rows of `UNSOLICITED_KINDS` (the surveys) `cancelled`, so
        no worker sends them (nor `retry` puts them back); the destination compared
        case-insensitively. Returns how many rows were cancelled."""


class InboundKeys(Protocol):
    async def remember(self, channel: str, key: str, *, now: dt.datetime, pqr_id: int | None = None) -> bool:
        """Record an inbound message key; False when it was already recorded (a duplicate)."""

    async def remember_many(self, keys: Sequence[tuple[str, str, dt.datetime]]) -> list[bool]:
        """`remember` for several (channel, key, now) in one statement; False for each key
        recorded before or earlier in `keys`."""

    async def filed_for(self, channel: str, key: str) -> tuple[dt.datetime, str | None] | None:
        """(when recorded, the radicado linked or None) of a recorded key; None for a new one."""

    async def renew(self, channel: str, key: str, *, now: dt.datetime) -> None:
        """Record the key again as of `now`, linked to no PQR."""

    async def link_pqr(self, channel: str, key: str, pqr_id: int) -> None:
        """Link a recorded key to the PQR it filed."""

    async def acks_since(self, keys: Collection[str], since: dt.datetime) -> dict[str, int]:
        """How many acknowledgments each key (`client:IP`, `envelope:ADDRESS`, …) counted from
        `since` on, across instances."""

    async def count_acks(self, rows: Sequence[tuple[str, dt.datetime]], *, forget_before: dt.datetime) -> None:
        """Count one acknowledgment per (key, at); counts older than `forget_before` may be
        forgotten."""


@dataclass(frozen=True)
class AlertCandidate:
    """An open PQR that has entered an SLA window and has not been alerted for it yet."""

    pqr_id: int
    radicado: str
    type: str
    subject: str
    assignee: str | None
    area: str | None
    due_at: dt.datetime


class Leases(Protocol):
    async def acquire(self, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Take or renew the named lease; True when `holder` now holds it."""

    async def release(self, name: str, holder: str) -> None: ...

    async def holder(self, name: str, *, now: dt.datetime) -> str | None: ...


class SlaAlerts(Protocol):
    async def candidates(self, kind: str, *, due_from: dt.datetime | None, due_before: dt.datetime,
                         limit: int = 500) -> list[AlertCandidate]:
        """Open PQRs due in [due_from, due_before) not yet alerted of `kind` for that due date."""

    async def mark(self, pqr_id: int, kind: str, *, due_at: dt.datetime, now: dt.datetime) -> bool:
        """Record an alert; False when it was recorded already."""


@dataclass(frozen=True)
class IndicatorSlice:
    """Which PQRs an indicator counts: None is "all" for each dimension (names compared
    case-insensitively, `type` exactly)."""

    client: str | None = None
    area: str | None = None
    type: str | None = None
    channel: str | None = None
    cause: str | None = None
    assignee: str | None = None


class IndicatorStore(Protocol):
    """The queries behind the indicators (`storage.repositories.indicators`). A period is given
    as its local days [start_day, end_day) and as the instants [start, end) of their midnights;
    `Sums` map a dimension and a key ("" for none) to the counts of
    `domain.indicator_days.COUNTS`."""

    async def sums(self, start_day: dt.date, end_day: dt.date, start: dt.datetime, end: dt.datetime,
                   flt: IndicatorSlice) -> dict[str, dict[str, list[int]]]: ...

    async def ans_done(self, start_day: dt.date, end_day: dt.date, start: dt.datetime, end: dt.datetime,
                       flt: IndicatorSlice) -> dict[tuple[str, str], list[int]]: ...

    async def ans_missed(self, start: dt.datetime, as_of: dt.datetime,
                         flt: IndicatorSlice) -> dict[tuple[str, str], list[int]]: ...

    async def resolution_days(self, start_day: dt.date, end_day: dt.date, start: dt.datetime, end: dt.datetime,
                              flt: IndicatorSlice, answered: int,
                              ) -> tuple[list[tuple[int, int]], list[tuple[dt.datetime, dt.datetime]]]: ...

    async def first_response_hours(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice,
                                   ) -> tuple[list[float], list[tuple[dt.datetime, dt.datetime]]]: ...

    async def first_response_spread(self, start: dt.datetime, end: dt.datetime,
                                    flt: IndicatorSlice) -> dict[str, float | None] | None: ...

    async def late_open(self, end: dt.datetime, flt: IndicatorSlice) -> dict[str, dict[str, list[int]]]: ...

    async def backlog(self, end: dt.datetime, thresholds: Sequence[dt.datetime],
                      flt: IndicatorSlice) -> tuple[list[int], int]: ...

    async def breaches(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice,
                       limit: int = 1000) -> list[dict[str, Any]]: ...

    async def incidences(self, start: dt.datetime, end: dt.datetime,
                         flt: IndicatorSlice) -> list[tuple[str | None, str | None, int]]: ...

    async def detail(self, start: dt.datetime, end: dt.datetime, flt: IndicatorSlice, *,
                     after_id: int = 0, limit: int = 5000) -> list[tuple[Any, ...]]: ...


class IndicatorRollups(Protocol):
    """The daily roll-ups' upkeep (`storage.repositories.indicator_days`)."""

    async def built_for(self) -> str | None:
        """The time zone they were counted in; None when never built."""

    async def rebuild(self, *, now: dt.datetime) -> int:
        """Count every PQR again, in this (writing) unit of work; how many were counted."""


class ReportFileStore(Protocol):
    """The files of scheduled reports (bot.reports.schedule), named by id in the outbox rows that
    deliver them."""

    async def add(self, file: FileData, *, now: dt.datetime) -> int:
        """Store `file`; its id."""

    async def get(self, file_id: int) -> FileData | None: ...

    async def queued(self, keys: Collection[str]) -> set[str]:
        """The outbox dedupe keys among `keys` that a row already carries (sent or not)."""


@dataclass(frozen=True)
class ApiToken:
    """A REST API token as listed (its secret is never stored, only its hash)."""

    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


@dataclass(frozen=True)
class WebSession:
    """A live staff session: who, the CSRF token its forms carry, until when."""

    identity: str
    csrf: str
    expires_at: dt.datetime


class AccessStore(Protocol):
    """The web's shared state (`storage.repositories.access`)."""

    async def add_token(self, name: str, role: str, token_hash: str, *, now: dt.datetime) -> bool: ...

    async def token_by_hash(self, token_hash: str, *, now: dt.datetime) -> ApiToken | None: ...

    async def find_token(self, token_hash: str) -> ApiToken | None: ...

    async def touch_token(self, token_hash: str, *, now: dt.datetime) -> None: ...

    async def tokens(self) -> list[ApiToken]: ...

    async def revoke_token(self, name: str, *, now: dt.datetime) -> bool: ...

    async def add_login(self, token_hash: str, identity: str, *, now: dt.datetime, expires_at: dt.datetime) -> None: ...

    async def use_login(self, token_hash: str, *, now: dt.datetime) -> str | None: ...

    async def add_session(self, token_hash: str, identity: str, csrf: str, *, now: dt.datetime,
                          expires_at: dt.datetime) -> None: ...

    async def session(self, token_hash: str, *, now: dt.datetime) -> WebSession | None: ...

    async def end_session(self, token_hash: str, *, now: dt.datetime) -> None: ...

    async def end_sessions_of(self, identity: str, *, now: dt.datetime) -> int: ...

    async def hit(self, key: str, *, now: dt.datetime, window: dt.timedelta) -> int: ...


@dataclass(frozen=True)
class InboxItem:
    """One inbound mail in the durable inbox: the raw bytes with their envelope, where it came
    from (`source` smtp | imap, the IMAP `account`), and what became of it."""

    source: str
    received_at: dt.datetime
    data: bytes
    mail_from: str | None = None
    rcpt_tos: tuple[str, ...] = ()
    client: str | None = None
    account: str | None = None
    message_id: str | None = None
    subject: str | None = None
    id: int | None = None
    status: str = "pending"
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    radicado: str | None = None


class InboxStore(Protocol):
    """The durable queue of inbound mail (`storage.repositories.inbox`)."""

    async def append_many(self, items: Sequence[InboxItem], *, now: dt.datetime) -> list[int]: ...

    async def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[InboxItem]: ...

    async def mark(self, item_id: int, status: str, *, now: dt.datetime, reason: str | None = None,
                   radicado: str | None = None) -> None: ...

    async def failed(self, item_id: int, *, reason: str, now: dt.datetime, retry_at: dt.datetime | None) -> None: ...

    async def list(self, *, status: str | None = None, limit: int = 100) -> builtins.list[InboxItem]: ...

    async def get(self, item_id: int) -> InboxItem | None: ...

    async def retry(self, item_id: int, *, now: dt.datetime) -> bool: ...

    async def depth(self) -> dict[str, int]: ...

    async def depth_by_status(self, statuses: Sequence[str]) -> dict[str, int]: ...

    async def imap_position(self, account: str, folder: str) -> tuple[int, int] | None: ...

    async def set_imap_position(self, account: str, folder: str, *, uidvalidity: int, last_uid: int,
                                now: dt.datetime) -> None: ...


@dataclass
class SurveyRecord:
    """One survey sent (storage `surveys`): a CSAT after a PQR closed, or an NPS of a campaign,
    with its answer once given. `radicado`, `pqr_type` and `area` are read with it (the PQR's)."""

    kind: str                              # csat | nps
    contact: str                           # email:… | telegram:…
    channel: str
    destination: str
    language: str
    sent_at: dt.datetime
    expires_at: dt.datetime
    campaign: str | None = None
    segment: str | None = None             # b2b | b2c
    client: str | None = None
    pqr_id: int | None = None
    token_hash: str | None = None
    id: int | None = None
    answered_at: dt.datetime | None = None
    score: int | None = None
    comment: str | None = None
    comment_until: dt.datetime | None = None
    followup_pqr_id: int | None = None
    radicado: str | None = None
    pqr_type: str | None = None
    area: str | None = None
    assignee: str | None = None
    followup_radicado: str | None = None


@dataclass(frozen=True)
class SurveyContact:
    """A person who could be asked: `contact` the identity, where to reach them."""

    contact: str
    name: str
    channel: str
    destination: str
    language: str
    consent: str | None                     # where consent came from, or None


class SurveyStore(Protocol):
    """Surveys, their answers, and consent / opt-outs by contact (storage `surveys`,
    `survey_contacts`)."""

    async def add(self, survey: SurveyRecord) -> int:
        """Store a new survey; its id (a second CSAT of one PQR violates a unique constraint)."""

    async def get(self, survey_id: int) -> SurveyRecord | None: ...

    async def by_token(self, token_hash: str) -> SurveyRecord | None: ...

    async def csat_due(self, *, closed_from: dt.datetime, closed_before: dt.datetime,
                       limit: int) -> builtins.list[str]:
        """The radicados of PQRs closed in [closed_from, closed_before], still closed, and never
        asked for a CSAT (a reopened and re-closed PQR that was asked is not asked again)."""

    async def answer(self, survey_id: int, score: int, comment: str | None, *, now: dt.datetime,
                     comment_until: dt.datetime | None = None) -> bool:
        """Record the answer once: False when it was answered already or has expired."""

    async def add_comment(self, survey_id: int, comment: str) -> bool:
        """The comment after a score (Telegram); False when none was awaited."""

    async def awaiting_comment(self, contact: str, *, now: dt.datetime) -> SurveyRecord | None:
        """The survey of `contact` whose comment is awaited at `now`, if any."""

    async def set_followup(self, survey_id: int, pqr_id: int) -> bool:
        """Link the PQR filed from a detractor's answer; False when one is linked already."""

    async def last_asked(self, contacts: Collection[str], kind: str) -> dict[str, dt.datetime]:
        """The latest time each of `contacts` was sent a survey of `kind`."""

    async def contact_flags(self, contacts: Collection[str]) -> dict[str, tuple[str | None, bool]]:
        """Per stored contact: (consent source, opted out)."""

    async def consent(self, contact: str, source: str, *, now: dt.datetime) -> None:
        """Record consent (kept when already given); an opt-out stays in force."""

    async def opt_out(self, contact: str, *, now: dt.datetime) -> bool:
        """Record an opt-out; False when it was recorded already."""

    async def b2c_contacts(self) -> builtins.list[SurveyContact]:
        """Customers who had a PQR, with their consent as their PQRs show it (the web form's
        habeas-data consent, the Telegram /start notice)."""

    async def sent(self, kind: str, start: dt.datetime, end: dt.datetime) -> builtins.list[SurveyRecord]:
        """The surveys of `kind` sent in [start, end), with their answers."""


class UnitOfWork(Protocol):
    """`async with db.uow() as uow:` — everything rolls back unless `await uow.commit()`."""

    @property
    def pqrs(self) -> PqrRepository: ...

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def inbound(self) -> InboundKeys: ...

    @property
    def telegram(self) -> TelegramStore: ...

    @property
    def leases(self) -> Leases: ...

    @property
    def alerts(self) -> SlaAlerts: ...

    @property
    def penalties(self) -> PenaltyRepository: ...

    @property
    def contracts(self) -> ContractStore: ...

    @property
    def mail(self) -> MailStore: ...

    @property
    def indicators(self) -> IndicatorStore: ...

    @property
    def indicator_days(self) -> IndicatorRollups: ...

    @property
    def access(self) -> AccessStore: ...

    @property
    def inbox(self) -> InboxStore: ...

    @property
    def report_files(self) -> ReportFileStore: ...

    @property
    def surveys(self) -> SurveyStore: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """`async with uow.savepoint():` — a nested transaction: an exception inside rolls back
        only what was done inside (and propagates); the outer transaction stays usable."""


class Database(Protocol):
    """The storage root: built from a URL, nothing connects until used. `tz`: the local time
    zone whose days the indicator roll-ups count by (set before the first unit of work).
    `contact_hours`: when the outbox may send the kinds of `UNSOLICITED_KINDS` (likewise).

    `uow(readonly=True, short=True)`: a read bounded by an index and a page size (one page of a
    list, one PQR, a session) that a request waits for; on SQLite it runs on the event loop's own
    thread (storage.sqlite_inline) instead of aiosqlite's, whose hand-offs cost more than such a
    read. Long reads (reports, exports, digests) leave `short` off, so they never stall the loop."""

    tz: ZoneInfo
    contact_hours: ContactHours

    def uow(self, *, readonly: bool = False, short: bool = False) -> UnitOfWork: ...

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head."""

    async def checkpoint(self) -> None:
        """Housekeeping the running service does often, off the event loop (SQLite: fold the
        write-ahead log into the database file); may do nothing."""

    async def dispose(self) -> None: ...


@dataclass(frozen=True)
class RawMessage:
    """An inbound message as received (bytes untouched), with what intake did with it.
    `disposition` is filed | joined | duplicate | kept_aside; `reason` says why it was kept aside."""

    channel: str
    external_id: str | None
    received_at: dt.datetime
    data: bytes
    disposition: str
    reason: str | None = None
    pqr_id: int | None = None
    id: int | None = None


class MailStore(Protocol):
    """Raw inbound messages and attachments (email and any channel that has raw payloads)."""

    async def keep_raw(self, raw: RawMessage) -> int:
        """Store the raw message with its disposition; returns its id."""

    async def keep_raw_many(self, raws: Sequence[RawMessage]) -> list[int]:
        """Store several raw messages in one statement; returns their ids, in order."""

    async def add_attachments(self, message_id: int, files: Collection[FileData]) -> None:
        """Store files for a stored PQR message (size and sha256 computed here)."""

    async def radicado_for_external_ids(self, external_ids: Collection[str]) -> str | None:
        """The radicado of the PQR holding a message with any of these external ids (the most
        recently stored match wins), or None."""

    async def raw_counts(self, *, channel: str | None = None) -> dict[str, int]:
        """How many raw messages were kept, by disposition."""

    async def list_raw(self, *, disposition: str | None = None, limit: int = 100) -> list[RawMessage]:
        """Raw messages, newest first, optionally of one disposition."""

    async def attachments_of(self, message_id: int) -> list[tuple[FileData, int, str]]:
        """A stored message's files with their size and sha256."""


@dataclass
class TelegramConversation:
    """A Telegram filing conversation in progress: its `step` and the draft (`data`, JSON-able).
    `last_update_id` is the newest update applied, so a redelivered update is not applied twice."""

    chat_id: int
    user_id: int
    language: str
    step: str
    data: dict[str, Any]
    last_update_id: int
    updated_at: dt.datetime


class TelegramStore(Protocol):
    """Telegram conversation state and the map from bot messages to the PQR they speak about."""

    async def conversation(self, chat_id: int) -> TelegramConversation | None:
        """The chat's conversation (locked for this transaction on PostgreSQL), or None."""

    async def save_conversation(self, conv: TelegramConversation) -> None:
        """Insert or replace the chat's conversation."""

    async def drop_conversation(self, chat_id: int) -> bool:
        """Delete the chat's conversation; False when there was none."""

    async def idle_conversations(self, updated_before: dt.datetime, *, limit: int = 100) -> list[TelegramConversation]:
        """Conversations not touched since `updated_before`, oldest first."""

    async def remember_message(self, chat_id: int, message_id: int, pqr_id: int, *, kind: str,
                               at: dt.datetime) -> None:
        """Record that bot message `message_id` in `chat_id` speaks about PQR `pqr_id`."""

    async def radicado_for_message(self, chat_id: int, message_id: int) -> str | None:
        """The radicado a bot message in this chat speaks about, or None."""

    async def has_message(self, radicado: str, *, kind: str) -> bool:
        """Whether a bot message of `kind` about this PQR was recorded."""

    async def add_attachments(self, message_id: int, files: Collection[FileData]) -> None:
        """Store files for a stored PQR message (size and sha256 computed here)."""


class PenaltyRepository(Protocol):
    """Penalties with their evidence (files included) and their events."""

    async def add(self, penalty: Penalty) -> None:
        """Insert a new penalty with its evidence and events; sets `penalty.id`."""

    async def get(self, penalty_id: int) -> Penalty | None:
        """The whole penalty, or None (locked for this transaction on PostgreSQL)."""

    async def save(self, penalty: Penalty) -> None:
        """Write the columns; insert evidence without id and events not stored yet."""

    async def list(self, *, status: PenaltyStatus | None = None, registered_from: dt.datetime | None = None,
                   registered_before: dt.datetime | None = None, details: bool = True,
                   limit: int | None = None) -> list[Penalty]:
        """Penalties in registration order, filtered by status and registration window."""


class ContractStore(Protocol):
    """Snapshots of the validated contract files; the newest is in force for every instance."""

    async def put(self, data: Any, *, source: str, now: dt.datetime) -> int:
        """Store a snapshot (JSON-able data); returns its id, the registry version."""

    async def latest_id(self) -> int | None:
        """The version in force, or None when contracts were never reloaded."""

    async def get(self, snapshot_id: int) -> Any:
        """A snapshot's data, or None."""
