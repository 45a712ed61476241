"""The storage root: an async engine built lazily from a URL, units of work, migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.sql import READONLY_OPTION, SqlUnitOfWork, WriteGate
from storage.sqlite_inline import BUSY_SLICE_MS

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed number: serializes `upgrade()` across instances sharing one PostgreSQL.
_PG_MIGRATION_LOCK = 7_391_002
_SQLITE_BUSY_TIMEOUT_S = 30
CHECKPOINT_EVERY_S = 0.5


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class SqlDatabase:
    """`Database` on SQLAlchemy async: SQLite (aiosqlite) or PostgreSQL (asyncpg).

    Nothing connects until the first unit of work, `upgrade()` or `engine` access."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self._engine_kwargs = engine_kwargs
        self._engine: AsyncEngine | None = None
        self._inline: Engine | None = None
        # SQLite: writers of this process take turns in asyncio (see WriteGate), as long as
        # SQLite's own busy timeout.
        self._gate = WriteGate(_SQLITE_BUSY_TIMEOUT_S) if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return make_url(self.url).get_backend_name()

    @property
    def engine(self) -> AsyncEngine:
        """The async engine, created on first use."""
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> AsyncEngine:
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite":
            return create_async_engine(url, pool_pre_ping=True, **self._engine_kwargs)
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs = dict(self._engine_kwargs)
        # No ROLLBACK on every return to the pool (a thread round trip per unit of work): a unit
        # of work rolls back what it did not commit before closing, and SQLAlchemy rolls back a
        # connection closed inside a transaction it began, so nothing is ever left open.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, **kwargs)
        _install_sqlite_hooks(engine.sync_engine, busy_timeout_ms=_SQLITE_BUSY_TIMEOUT_S * 1000)
        if url.database and url.database != ":memory:":   # a second engine must see the same file
            self._inline = create_engine(url.set(drivername="sqlite+pysqlite"),
                                         connect_args={"check_same_thread": False}, **kwargs)
            _install_sqlite_hooks(self._inline, busy_timeout_ms=BUSY_SLICE_MS)
        return engine

    @property
    def sync_engines(self) -> list[Engine]:
        """Every engine statements run on (for instrumentation: SQLAlchemy events): the async
        engine's, plus, on SQLite, the one of the writing units of work."""
        engine = self.engine.sync_engine
        return [engine] if self._inline is None else [engine, self._inline]

    def uow(self, *, readonly: bool = False) -> SqlUnitOfWork:
        """A unit of work; it rolls back on exit unless committed."""
        engine = self.engine
        return SqlUnitOfWork(engine, readonly=readonly, gate=self._gate, inline=self._inline)

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head, in one transaction."""
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            await conn.run_sync(_upgrade_on, self.url)

    async def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file, on aiosqlite's thread. PASSIVE:
        it neither waits for nor blocks readers and writers. Run often (the runner does, every
        `CHECKPOINT_EVERY_S`), it keeps the log below the size at which a writer would checkpoint
        by itself — inline on the loop, ending with an fsync (storage.sqlite_inline). Nothing to
        do on PostgreSQL."""
        if self.dialect != "sqlite":
            return
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection      # aiosqlite.Connection, in autocommit mode
            async with driver.execute("PRAGMA wal_checkpoint(PASSIVE)"):
                pass

    async def dispose(self) -> None:
        """Close every pooled connection; the engine is rebuilt if used again."""
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        if self._inline is not None:
            self._inline.dispose()
            self._inline = None


def _upgrade_on(connection: Connection, url: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _install_sqlite_hooks(engine: Engine, *, busy_timeout_ms: int) -> None:
    # SQLAlchemy's aiosqlite recipe: the driver must not issue its own BEGIN, so that we can issue
    # BEGIN IMMEDIATE. A deferred BEGIN that later writes fails with "database is locked" under
    # concurrent writers (busy_timeout does not help once a read lock is held).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # cache_size: 32 MiB of page cache per connection (the default is 2 MiB), so indexes
        # stay in memory under write load; temp_store: sorts and temp b-trees in memory.
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={busy_timeout_ms}",
                       "foreign_keys=ON", "cache_size=-32768", "temp_store=MEMORY"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get(READONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_database(url: str) -> SqlDatabase:
    """The database for a `sqlite+aiosqlite://…` or `postgresql+asyncpg://…` URL."""
    return SqlDatabase(url)
