"""The SQLAlchemy unit of work: one connection, one transaction, the repositories on it."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from types import TracebackType
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.contact_hours import ContactHours
from storage.repositories.audit import SqlAuditLog, SqlInboundKeys
from storage.repositories.access import SqlAccess
from storage.repositories.inbox import SqlInbox
from storage.repositories.indicator_days import SqlIndicatorDays
from storage.repositories.indicators import SqlIndicators
from storage.repositories.customers import SqlCustomerRepository
from storage.repositories.mail import SqlMailStore
from storage.repositories.outbox import SqlOutbox
from storage.repositories.penalties import SqlContractStore, SqlPenaltyRepository
from storage.repositories.pqrs import DEFAULT_RADICADO_FORMAT, SqlPqrRepository
from storage.repositories.report_files import SqlReportFiles
from storage.repositories.scheduling import SqlLeases, SqlSlaAlerts
from storage.repositories.surveys import SqlSurveys
from storage.repositories.telegram import SqlTelegramStore
from storage.sqlite_inline import InlineConnection, SqlConnection

__all__ = ["DEFAULT_RADICADO_FORMAT", "READONLY_OPTION", "SqlAuditLog", "SqlCustomerRepository",
           "SqlInboundKeys", "SqlMailStore", "SqlOutbox", "SqlPqrRepository", "SqlUnitOfWork"]

# Execution option read by the SQLite "begin" listener: read-only work starts a deferred BEGIN
# instead of taking the write lock with BEGIN IMMEDIATE.
READONLY_OPTION = "pqrbot_readonly"
# The time zone of the indicator roll-ups' days until the application says (config `timezone`).
DEFAULT_TZ = ZoneInfo("America/Bogota")


class WriteGate:
    """One writing unit of work at a time per event loop, queued in asyncio.

    SQLite lets one writer in at a time. Without this gate, two writers of the same process meet
    inside SQLite, and the loser's busy handler sleeps (1, 2, 5, 10 … ms) before it tries again:
    under a burst of mail that sleeping, not SQLite's work, set the pace. Other processes on the
    same file still meet the busy timeout. `timeout` bounds the wait, as busy_timeout does."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold the gate for the body; TimeoutError when it stays taken for `timeout` seconds."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            async with asyncio.timeout(self.timeout):
                await lock.acquire()
        except TimeoutError:
            raise TimeoutError(f"database is locked: no write turn within {self.timeout:g}s") from None
        try:
            yield
        finally:
            lock.release()


class SqlUnitOfWork:
    """`async with db.uow() as uow:` — one connection and one transaction, begun on the first
    statement; everything rolls back on exit unless `commit()` was called. After a commit the
    same unit of work may go on with a new transaction."""

    pqrs: SqlPqrRepository
    customers: SqlCustomerRepository
    audit: SqlAuditLog
    outbox: SqlOutbox
    inbound: SqlInboundKeys
    telegram: SqlTelegramStore
    leases: SqlLeases
    alerts: SqlSlaAlerts
    mail: SqlMailStore
    penalties: SqlPenaltyRepository
    contracts: SqlContractStore
    indicators: SqlIndicators
    indicator_days: SqlIndicatorDays
    access: SqlAccess
    inbox: SqlInbox
    report_files: SqlReportFiles
    surveys: SqlSurveys

    def __init__(self, engine: AsyncEngine, *, readonly: bool = False, gate: WriteGate | None = None,
                 inline: Engine | None = None, tz: ZoneInfo = DEFAULT_TZ,
                 contact_hours: ContactHours | None = None, short: bool = False) -> None:
        self._engine = engine
        self._tz = tz               # the local days of the indicator roll-ups
        self._contact_hours = contact_hours or ContactHours()   # when the outbox holds unsolicited kinds
        self.readonly = readonly
        self._gate = gate if gate is not None and not readonly else None
        # SQLite: writing units of work, and short reads, run on a synchronous connection
        # (storage.sqlite_inline).
        self._inline = inline if not readonly or short else None
        self._turn: AbstractAsyncContextManager[None] | None = None
        self._conn: SqlConnection | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._conn is not None or self._turn is not None:
            raise RuntimeError("unit of work already entered")
        turn = self._gate.held() if self._gate is not None else nullcontext()
        await turn.__aenter__()
        self._turn = turn
        try:
            conn = await self._connect()
        except BaseException:
            self._turn = None
            await turn.__aexit__(None, None, None)
            raise
        self._conn = conn
        self.customers = SqlCustomerRepository(conn)
        self.indicator_days = SqlIndicatorDays(conn, self._tz)
        self.pqrs = SqlPqrRepository(conn, self.customers, readonly=self.readonly, days=self.indicator_days)
        self.audit = SqlAuditLog(conn)
        self.outbox = SqlOutbox(conn, self._contact_hours)
        self.inbound = SqlInboundKeys(conn)
        self.telegram = SqlTelegramStore(conn)
        self.leases = SqlLeases(conn)
        self.alerts = SqlSlaAlerts(conn)
        self.mail = SqlMailStore(conn)
        self.penalties = SqlPenaltyRepository(conn, readonly=self.readonly)
        self.contracts = SqlContractStore(conn)
        self.indicators = SqlIndicators(conn, self.indicator_days)
        self.access = SqlAccess(conn)
        self.inbox = SqlInbox(conn)
        self.report_files = SqlReportFiles(conn)
        self.surveys = SqlSurveys(conn)
        return self

    async def _connect(self) -> SqlConnection:
        if self._inline is not None and self.readonly:
            reading = self._inline.connect().execution_options(**{READONLY_OPTION: True})   # a plain BEGIN
            return InlineConnection(reading, lock_timeout=0.0)
        if self._inline is not None:
            assert self._gate is not None, "inline SQLite writes need the write gate"
            return InlineConnection(self._inline.connect(), lock_timeout=self._gate.timeout)
        conn = await self._engine.connect()
        if self.readonly:
            await conn.execution_options(**{READONLY_OPTION: True})
        return conn

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        turn, self._turn = self._turn, None
        try:
            if conn is not None:
                try:
                    if conn.in_transaction():
                        await conn.rollback()
                finally:
                    await conn.close()
        finally:
            if turn is not None:
                await turn.__aexit__(None, None, None)

    @property
    def connection(self) -> SqlConnection:
        """The open connection (for storage-internal queries and tests)."""
        if self._conn is None:
            raise RuntimeError("unit of work not entered")
        return self._conn

    async def commit(self) -> None:
        """Commit what was done so far."""
        await self.connection.commit()

    async def rollback(self) -> None:
        """Drop what was done so far."""
        await self.connection.rollback()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        """A SAVEPOINT: an exception inside rolls back only the work done inside, then
        propagates; the outer transaction (begun here if needed) stays usable."""
        conn = self.connection
        if not conn.in_transaction():
            await conn.begin()
        async with conn.begin_nested() as nested:
            yield nested
