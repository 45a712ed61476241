"""The storage ports the bot services use. `storage.sql` implements them on SQLAlchemy (SQLite and
PostgreSQL); nothing outside `storage/` sees SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from domain.customer import Customer
from domain.events import Event
from domain.pqr import Pqr
from domain.pqr_types import Status


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
    async def add(self, pqr: Pqr, *, radicado_format: str, year: int) -> None:
        """Insert a new PQR (and its customer if new, messages, events); allocate its radicado
        (gapless per `year`, in this transaction) and set `pqr.id` and `pqr.radicado`."""

    async def get(self, radicado: str) -> Pqr | None:
        """The whole PQR (customer, messages, events), or None. Case-insensitive radicado."""

    async def save(self, pqr: Pqr) -> None:
        """Write the PQR's columns and insert its messages and events that have no id yet."""

    async def list(self, flt: PqrFilter, *, details: bool = True) -> list[Pqr]:
        """PQRs matching `flt`, oldest due date first. Without `details`, messages and events
        are left empty (for counts and cards)."""

    async def count(self, flt: PqrFilter) -> int: ...

    async def stats(self, now: dt.datetime) -> Stats: ...

    async def find_by_message_id(self, external_id: str) -> Pqr | None:
        """The PQR that holds a message with this external id (an email Message-ID, …)."""


class CustomerRepository(Protocol):
    async def by_identity(self, identity: str) -> Customer | None:
        """The customer known by `email:…` or `telegram:…`, or None."""

    async def add(self, customer: Customer) -> None:
        """Insert and register every identity the customer has; sets `customer.id`."""

    async def save(self, customer: Customer) -> None: ...


class AuditLog(Protocol):
    async def record(self, event: Event, *, pqr_id: int | None = None) -> None:
        """An audit entry not tied to a loaded aggregate (e.g. a refused command)."""

    async def list(self, *, kind: str | None = None, limit: int = 100) -> list[Event]: ...


class Outbox(Protocol):
    async def put(self, item: OutboxItem, *, now: dt.datetime) -> None:
        """Queue a message in the current transaction. A repeated `dedupe_key` queues nothing."""

    async def claim(self, *, now: dt.datetime, limit: int, lease: dt.timedelta,
                    channels: Collection[str] | None = None) -> list[OutboxItem]:
        """Take due pending rows (of `channels`, when given) so that no other worker gets them
        until `now + lease`."""

    async def mark_sent(self, item_id: int, *, now: dt.datetime) -> None: ...

    async def mark_failed(self, item_id: int, *, error: str, retry_at: dt.datetime | None) -> None:
        """Count a failed attempt; `retry_at=None` moves the row to dead."""

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[OutboxItem]: ...

    async def retry(self, item_id: int, *, now: dt.datetime) -> bool:
        """Put a dead (or pending) row back to pending, due now."""


class InboundKeys(Protocol):
    async def remember(self, channel: str, key: str, *, now: dt.datetime, pqr_id: int | None = None) -> bool:
        """Record an inbound message key; False when it was already recorded (a duplicate)."""


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

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class Database(Protocol):
    """The storage root: built from a URL, nothing connects until used."""

    def uow(self, *, readonly: bool = False) -> UnitOfWork: ...

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head."""

    async def dispose(self) -> None: ...
