"""Where a database's schema stands against this code's migrations, read without changing
anything (`pqrbot doctor`): no migration is applied and a missing SQLite file is not created."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DBAPIError

from storage.db import DatabaseUnavailable, SqlDatabase, alembic_config
from storage.sql import READONLY_OPTION

CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SchemaState:
    """`current`: the revisions stored in the database (none: never migrated); `heads`: where
    this code's migrations lead; `unknown`: stored revisions this code has no migration for (a
    newer pqrbot migrated it); `exists`: False for a SQLite file not created yet."""

    current: tuple[str, ...]
    heads: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    exists: bool = True

    @property
    def latest(self) -> bool:
        return set(self.current) == set(self.heads)


def doctor_database(url: str) -> SqlDatabase:
    """A database for looking only: PostgreSQL gives up connecting after `CONNECT_TIMEOUT_S`."""
    if url.startswith("postgresql"):
        return SqlDatabase(url, connect_args={"timeout": CONNECT_TIMEOUT_S})
    return SqlDatabase(url)


async def schema_state(db: SqlDatabase) -> SchemaState:
    """The schema of `db` against the migrations; `DatabaseUnavailable` when it cannot be read
    (server down, not a SQLite file, another application's database)."""
    script = ScriptDirectory.from_config(alembic_config())
    heads = tuple(sorted(script.get_heads()))
    if db.file is not None and not db.file.exists():
        return SchemaState(current=(), heads=heads, exists=False)
    try:
        async with db.engine.connect() as conn:
            await conn.execution_options(**{READONLY_OPTION: True})
            current, tables = await conn.run_sync(_revisions)
    except DatabaseUnavailable:
        raise
    except (DBAPIError, OSError, TimeoutError) as exc:
        raise db.unavailable(exc) from exc
    if not current and tables and "alembic_version" not in tables:
        raise DatabaseUnavailable("foreign", db.where, ", ".join(sorted(tables)[:5]))
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState(current=current, heads=heads, unknown=tuple(r for r in current if r not in known))


def _revisions(conn: Connection) -> tuple[tuple[str, ...], set[str]]:
    current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    return current, set(inspect(conn).get_table_names())
