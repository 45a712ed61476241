"""Helpers shared by the repositories: dialect-aware upserts, row <-> domain mapping of events."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterator, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Row, Table, insert
from sqlalchemy.dialects import postgresql, sqlite

from domain.events import Event
from domain.files import FileData
from storage.sqlite_inline import SqlConnection
from storage.tables import attachments

T = TypeVar("T")

# Stays well below SQLite's bound-variable limit (32766 since 3.32, 999 before).
IN_CHUNK = 500


def insert_ignore(conn: SqlConnection, table: Table, index_elements: Sequence[str]) -> Any:
    """`INSERT … ON CONFLICT (index_elements) DO NOTHING` for the connection's dialect, so a
    duplicate leaves the surrounding transaction usable (no IntegrityError, no savepoint)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def event_values(event: Event, *, pqr_id: int | None, penalty_id: int | None = None) -> dict[str, Any]:
    """The `events` row for a domain event."""
    return {"pqr_id": pqr_id, "penalty_id": penalty_id, "kind": event.kind, "actor": event.actor,
            "at": event.at, "from_state": event.from_, "to_state": event.to, "reason": event.reason,
            "data": dict(event.data or {})}


def event_from_row(row: Row[Any]) -> Event:
    """A plain `Event` with the stored fields (the subclass is not kept; `kind` says it)."""
    return Event(kind=row.kind, actor=row.actor, at=row.at, from_=row.from_state, to=row.to_state,
                 reason=row.reason, data=dict(row.data or {}), id=row.id)


async def insert_attachments(conn: SqlConnection, message_id: int, files: Collection[FileData]) -> None:
    """Store the files of PQR message `message_id` with their size and sha256 (any channel)."""
    rows = [{"message_id": message_id, "filename": f.filename[:400] or "attachment",
             "content_type": f.content_type[:200] or "application/octet-stream",
             "size": len(f.data), "sha256": hashlib.sha256(f.data).hexdigest(), "data": f.data}
            for f in files]
    if rows:
        await conn.execute(insert(attachments), rows)


async def insert_returning_ids(conn: SqlConnection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` in one multi-row INSERT (per 1,000 rows or so); their new integer ids, in
    row order. PostgreSQL: SQLAlchemy's `sort_by_parameter_order` (INSERT … SELECT ordered by a
    sentinel). SQLite would fall back to one statement per row for that, so the ids are sorted
    instead: under the write lock a rowid table gives each inserted row the largest id + 1, so
    they ascend in row order."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        stmt = _returning_ids(table, ordered=True)
        return [int(i) for i in (await conn.execute(stmt, list(rows))).scalars().all()]
    ids = (await conn.execute(_returning_ids(table, ordered=False), list(rows))).scalars().all()
    return sorted(int(i) for i in ids)


@cache
def _returning_ids(table: Table, *, ordered: bool) -> Any:
    return insert(table).returning(table.c.id, sort_by_parameter_order=ordered)
