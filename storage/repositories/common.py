"""Helpers shared by the repositories: dialect-aware upserts, row <-> domain mapping of events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event

T = TypeVar("T")

# Stays well below SQLite's bound-variable limit (32766 since 3.32, 999 before).
IN_CHUNK = 500


def insert_ignore(conn: AsyncConnection, table: Table, index_elements: Sequence[str]) -> Any:
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
                 reason=row.reason, data=dict(row.data or {}))
