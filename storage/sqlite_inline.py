"""SQLite writes on the event loop's own thread.

aiosqlite runs each call on a worker thread, and SQLAlchemy's adapter makes four such calls per
statement (cursor, execute, fetchall, close). On the machines pqrbot runs on, a round trip
between threads costs 0.2–0.4 ms while a SQLite statement costs 5–50 µs: filing one PQR (a dozen
statements) waited ~15 ms on threads for well under 1 ms of SQLite work, and that waiting set
the pace of email intake.

So on SQLite, units of work that write run on a plain pysqlite connection called directly from
the loop (`InlineConnection`). Write transactions here are short — indexed rows, no fsync at
commit with WAL and synchronous=NORMAL — so the loop stalls for microseconds instead of waiting
milliseconds. Read-only units of work, which can be long (digests, exports, lists), stay on
aiosqlite and never stall the loop.

Waiting for the write lock must not stall the loop either: writers of this process queue in
asyncio (`storage.sql.WriteGate`), and against other processes `BEGIN IMMEDIATE` runs with a
short busy timeout and is retried after `asyncio.sleep` until the lock timeout."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Executable
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

# How long one BEGIN IMMEDIATE may block the loop waiting for another process's write lock
# before it gives the loop back and tries again.
BUSY_SLICE_MS = 20


def _locked(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class InlineConnection:
    """The part of `AsyncConnection` the repositories use, over a synchronous SQLAlchemy
    connection called on the running thread. The transaction begins (BEGIN IMMEDIATE, through
    the engine's "begin" listener) on the first statement, as with autobegin."""

    def __init__(self, conn: Connection, *, lock_timeout: float) -> None:
        self._conn = conn
        self.lock_timeout = lock_timeout

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    def in_transaction(self) -> bool:
        return self._conn.in_transaction()

    async def begin(self) -> None:
        """Begin the transaction, waiting for the write lock without blocking the loop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_timeout
        pause = 0.001
        while True:
            try:
                self._conn.begin()
                return
            except OperationalError as exc:
                if not _locked(exc) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        await self._begun()
        return self._conn.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]:
        await self._begun()
        return self._conn.exec_driver_sql(statement, parameters)

    async def _begun(self) -> None:
        if not self._conn.in_transaction():
            await self.begin()

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[object]:
        """A SAVEPOINT: released on success, rolled back when the body raises."""
        with self._conn.begin_nested() as nested:
            yield nested

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()


# What a repository is given: an aiosqlite/asyncpg connection, or an inline SQLite one.
SqlConnection = AsyncConnection | InlineConnection
