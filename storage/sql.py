"""The SQLAlchemy unit of work: one connection, one transaction, the repositories on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.repositories.audit import SqlAuditLog, SqlInboundKeys
from storage.repositories.customers import SqlCustomerRepository
from storage.repositories.mail import SqlMailStore
from storage.repositories.outbox import SqlOutbox
from storage.repositories.penalties import SqlContractStore, SqlPenaltyRepository
from storage.repositories.pqrs import DEFAULT_RADICADO_FORMAT, SqlPqrRepository
from storage.repositories.scheduling import SqlLeases, SqlSlaAlerts
from storage.repositories.telegram import SqlTelegramStore

__all__ = ["DEFAULT_RADICADO_FORMAT", "READONLY_OPTION", "SqlAuditLog", "SqlCustomerRepository",
           "SqlInboundKeys", "SqlMailStore", "SqlOutbox", "SqlPqrRepository", "SqlUnitOfWork"]

# Execution option read by the SQLite "begin" listener: read-only work starts a deferred BEGIN
# instead of taking the write lock with BEGIN IMMEDIATE.
READONLY_OPTION = "pqrbot_readonly"


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

    def __init__(self, engine: AsyncEngine, *, readonly: bool = False) -> None:
        self._engine = engine
        self.readonly = readonly
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._conn is not None:
            raise RuntimeError("unit of work already entered")
        conn = await self._engine.connect()
        if self.readonly:
            await conn.execution_options(**{READONLY_OPTION: True})
        self._conn = conn
        self.customers = SqlCustomerRepository(conn)
        self.pqrs = SqlPqrRepository(conn, self.customers, readonly=self.readonly)
        self.audit = SqlAuditLog(conn)
        self.outbox = SqlOutbox(conn)
        self.inbound = SqlInboundKeys(conn)
        self.telegram = SqlTelegramStore(conn)
        self.leases = SqlLeases(conn)
        self.alerts = SqlSlaAlerts(conn)
        self.mail = SqlMailStore(conn)
        self.penalties = SqlPenaltyRepository(conn, readonly=self.readonly)
        self.contracts = SqlContractStore(conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    @property
    def connection(self) -> AsyncConnection:
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
