"""The storage root: an async engine built lazily from a URL, units of work, migrations."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.contact_hours import ContactHours
from storage.sql import DEFAULT_TZ, READONLY_OPTION, SqlUnitOfWork, WriteGate
from storage.sqlite_inline import BUSY_SLICE_MS

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

if TYPE_CHECKING:
    from alembic.config import Config


def head_revision() -> str:
    """This code's newest migration: its revision id is its file's number (`0012_….py` is
    revision "0012", down from "0011"; tests/unit/test_migration_names.py holds every file to
    that), so it is known without loading Alembic."""
    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(name[:4] for name in names)
# Any fixed number: serializes `upgrade()` across instances sharing one PostgreSQL.
_PG_MIGRATION_LOCK = 7_391_002
_SQLITE_BUSY_TIMEOUT_S = 30
CHECKPOINT_EVERY_S = 0.5

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be used, said plainly: `reason` names why for the catalogues
    (`storage.<reason>`: not_a_directory, not_writable, not_sqlite, foreign, unreachable,
    newer_schema, gone, failed), `where` is the file or the server (never a password), `detail`
    the driver's own words. The CLI and `pqrbot run` print it in one line; the driver's
    exception, with its traceback, is the `__cause__` (for the log)."""

    def __init__(self, reason: str, where: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {where}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.where = where
        self.detail = detail


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    from alembic.config import Config
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
        # SQLite: the database file, and its identity (st_dev, st_ino) once known, so that a file
        # deleted or replaced under a running process is noticed before a write is acknowledged.
        self.file = _sqlite_file(url)
        self._identity: tuple[int, int] | None = None
        self._gone: DatabaseUnavailable | None = None
        # The local time zone whose days the indicator roll-ups count by (bootstrap sets the
        # configured one before the first unit of work).
        self.tz: ZoneInfo = DEFAULT_TZ
        # When the outbox sends surveys and other messages a customer did not ask for (bootstrap
        # sets the configured `surveys.contact_hours`; the law's defaults until then).
        self.contact_hours: ContactHours = ContactHours()

    @property
    def where(self) -> str:
        """The database file, or the server and database name (no password), for messages."""
        if self.file is not None:
            return str(self.file)
        return make_url(self.url).render_as_string(hide_password=True)

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
        if self.file is not None:
            _usable_folder(self.file, self.unavailable)
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

    def uow(self, *, readonly: bool = False, short: bool = False) -> SqlUnitOfWork:
        """A unit of work; it rolls back on exit unless committed. A writing one first checks
        that the SQLite file is still the one opened (`check_file`). `short` (with `readonly`):
        a bounded read that, on SQLite, runs on the loop's thread as writes do (`Database`)."""
        if short and not readonly:
            raise ValueError("short is for read-only units of work")
        if not readonly:
            self.check_file()
        engine = self.engine
        return SqlUnitOfWork(engine, readonly=readonly, gate=self._gate, inline=self._inline, tz=self.tz,
                             contact_hours=self.contact_hours, short=short)

    def check_file(self) -> None:
        """SQLite: raise `DatabaseUnavailable("gone")` when the database file was deleted or
        replaced since it was opened (an operator's mistake: the open connections would go on
        writing into the unlinked file, and everything would be lost at the next start). One
        `stat` (~2 µs) per writing unit of work. Logged once, at ERROR; from then on every write
        is refused until the process restarts — a file put back (restored from a backup) is a
        new file, which only a new process opens."""
        if self._gone is not None:
            raise DatabaseUnavailable(self._gone.reason, self._gone.where, self._gone.detail)
        if self.file is None:
            return
        try:
            st = os.stat(self.file)
            identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            identity = None
        except OSError:
            return                        # cannot tell: let the write itself succeed or fail
        if self._identity is None:
            self._identity = identity     # first write of a database never upgraded here
            return
        if identity == self._identity:
            return
        detail = "deleted" if identity is None else "replaced by another file"
        self._gone = DatabaseUnavailable("gone", str(self.file), detail)
        log.error("the database file %s was %s while pqrbot was running: every write is refused "
                  "(SMTP answers 451) until pqrbot is restarted", self.file, detail)
        raise DatabaseUnavailable("gone", str(self.file), detail)

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head, in one transaction. A database that cannot be
        opened, created or migrated raises `DatabaseUnavailable` (the driver's error as cause).
        A database already at this code's head is only read (one SELECT): every `pqrbot`
        command upgrades first, and loading Alembic cost more than most commands."""
        if await self._at_head():
            self._remember_identity()
            return
        from alembic.util.exc import CommandError
        try:
            async with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
                await conn.run_sync(_upgrade_on, self.url)
        except DatabaseUnavailable:
            raise
        except (DBAPIError, OSError, CommandError) as exc:
            raise self.unavailable(exc) from exc
        self._remember_identity()

    async def _at_head(self) -> bool:
        """True when the stored revision is exactly this code's head; False when it is not, or
        cannot be read (no file yet, no version table, not a database: the full upgrade then
        creates it or says plainly what is wrong)."""
        if self.file is not None and not self.file.exists():
            return False
        try:
            async with self.engine.connect() as conn:
                await conn.execution_options(**{READONLY_OPTION: True})     # no write lock to read it
                rows = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
        except Exception:  # noqa: BLE001  (any failure: the full upgrade reports it properly)
            return False
        return [r[0] for r in rows] == [head_revision()]

    def _remember_identity(self) -> None:
        if self.file is not None and self._identity is None:
            try:
                st = os.stat(self.file)
                self._identity = (st.st_dev, st.st_ino)
            except OSError:
                pass

    def unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        """`exc` (a driver, OS or migration error met while opening the database) said plainly."""
        if isinstance(exc, DatabaseUnavailable):
            return exc
        from alembic.util.exc import CommandError
        if isinstance(exc, CommandError):
            return DatabaseUnavailable("newer_schema", self.where, str(exc))
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        detail = str(orig).strip() or type(orig).__name__
        if self.file is None:
            return DatabaseUnavailable("unreachable", self.where, detail)
        if isinstance(orig, sqlite3.DatabaseError):
            code = getattr(orig, "sqlite_errorcode", None)
            if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
                return DatabaseUnavailable("not_sqlite", self.where, detail)
            if code == sqlite3.SQLITE_READONLY:
                return DatabaseUnavailable("not_writable", self.where, detail)
            if code == sqlite3.SQLITE_CANTOPEN:
                return _diagnose(self.file, detail)
            return DatabaseUnavailable("failed", self.where, detail)
        if isinstance(orig, OSError):
            if orig.errno == errno.ENOTDIR or isinstance(orig, (NotADirectoryError, FileExistsError)):
                return _diagnose(self.file, detail)
            if orig.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return DatabaseUnavailable("not_writable", self.where, f"{orig.filename or self.file.parent}: "
                                                                       f"{orig.strerror or detail}")
        return DatabaseUnavailable("failed", self.where, detail)

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


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL and in-memory databases)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).expanduser().absolute()


def _usable_folder(file: Path, unavailable: Callable[[BaseException], DatabaseUnavailable]) -> None:
    """Raise `DatabaseUnavailable` unless SQLite can open or create `file`: its folder exists (or is
    created), `file` is not a folder, and files can be created beside it (SQLite's write-ahead log
    needs it). Checked before aiosqlite connects: a connection it cannot open leaves its worker
    thread behind, which prints a traceback when the process ends."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unavailable(exc) from exc
    if file.is_dir():
        raise DatabaseUnavailable("not_a_directory", str(file), str(file))
    try:
        with tempfile.TemporaryFile(dir=file.parent):
            pass
    except OSError as exc:
        raise DatabaseUnavailable("not_writable", str(file), f"{file.parent}: {exc.strerror or exc}") from exc


def _diagnose(file: Path, detail: str) -> DatabaseUnavailable:
    """Why SQLite could not open or create `file`: a path under a regular file, a folder where
    the file should be, or a folder pqrbot may not write in (root included: a read-only mount
    or an immutable folder)."""
    where = str(file)
    for parent in file.parents:
        if parent.exists():
            if not parent.is_dir():
                return DatabaseUnavailable("not_a_directory", where, str(parent))
            break
    if file.is_dir():
        return DatabaseUnavailable("not_a_directory", where, str(file))
    folder = next((p for p in file.parents if p.exists()), file.parent)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return DatabaseUnavailable("not_writable", where, f"{folder}: {exc.strerror or exc}")
    return DatabaseUnavailable("failed", where, detail)


def _upgrade_on(connection: Connection, url: str) -> None:
    if connection.dialect.name == "sqlite":
        tables = set(inspect(connection).get_table_names())
        if tables and "alembic_version" not in tables:
            raise DatabaseUnavailable("foreign", str(_sqlite_file(url)), ", ".join(sorted(tables)[:5]))
    from alembic import command
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
