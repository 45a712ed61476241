"""`PqrRepository`: the PQR aggregate with its customer, messages and events."""

from __future__ import annotations

import builtins
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any, Unpack

from sqlalchemy import ColumnElement, Integer, Row, Select, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.attachments import Attachment
from domain.customer import Customer
from domain.events import Event
from domain.pqr import Direction, Message, Pqr
from domain.pqr_types import PqrType, Status
from domain.terms import Unit
from storage.ports import PqrFilter, Stats
from storage.repositories.common import chunks, event_from_row, event_values, utcnow
from storage.repositories.common import insert_returning_ids
from storage.repositories.customers import SqlCustomerRepository
from storage.repositories.indicator_days import SqlIndicatorDays, fields_of, marks
from storage.sqlite_inline import SqlConnection
from storage.tables import attachments, customers, events, messages, pqrs, radicado_counters

DEFAULT_RADICADO_FORMAT = "PQR-{year}-{seq:06d}"


_CUSTOMER_COLS = [c.label(f"cust__{c.name}") for c in customers.c]

# Statements built once: executing a prebuilt statement with a parameter dict skips rebuilding
# the construct and its cache key on every filing (the compiled form is cached either way).
_BUMP_COUNTER = (update(radicado_counters).where(radicado_counters.c.year == bindparam("y"))
                 .values(last_seq=radicado_counters.c.last_seq + bindparam("n"))
                 .returning(radicado_counters.c.last_seq))


# The messages of a page of PQRs, each with its attachments' metadata (never their bytes), and
# their events (listings with details load them for every page). Attachments are rare: a left
# join costs less than a third statement.
_MESSAGES_OF_PQRS: Select[Unpack[tuple[Any, ...]]] = (
    select(messages.c.id, messages.c.pqr_id, messages.c.direction, messages.c.channel, messages.c.body,
           messages.c.at, messages.c.author, messages.c.external_id, attachments.c.id, attachments.c.filename,
           attachments.c.content_type, attachments.c.size, attachments.c.sha256)
    .select_from(messages.outerjoin(attachments, attachments.c.message_id == messages.c.id))
    .where(messages.c.pqr_id.in_(bindparam("ids", expanding=True)))
    .order_by(messages.c.at, messages.c.id, attachments.c.id))
_EVENTS_OF_PQRS: Select[Unpack[tuple[Any, ...]]] = (select(events.c.id, events.c.pqr_id, events.c.kind, events.c.actor, events.c.at,
                          events.c.from_state, events.c.to_state, events.c.reason, events.c.data)
                   .where(events.c.pqr_id.in_(bindparam("ids", expanding=True)))
                   .order_by(events.c.at, events.c.id))


@cache
def _insert_counter(dialect: str) -> Any:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_(radicado_counters).on_conflict_do_nothing(index_elements=["year"])


class SqlPqrRepository:
    """`PqrRepository` on SQLAlchemy Core. On PostgreSQL a read-write `get` locks the row
    (`FOR UPDATE`) so that two concurrent changes to one PQR do not overwrite each other."""

    def __init__(self, conn: SqlConnection, customers_repo: SqlCustomerRepository, *,
                 readonly: bool = False, days: SqlIndicatorDays | None = None) -> None:
        self._conn = conn
        self._customers = customers_repo
        self._readonly = readonly
        self._days = days           # the daily indicator roll-ups, kept in step with every write

    # -- writing ------------------------------------------------------------------------------
    async def add(self, pqr: Pqr, *, radicado_format: str = DEFAULT_RADICADO_FORMAT,
                  year: int, customers_checked: bool = False) -> None:
        """Insert a new PQR, its customer if new, messages and events; allocate its radicado
        (gapless per year: a rolled-back filing gives its number back). `customers_checked`:
        a customer without id was looked up in this transaction and is new (see `resolve`)."""
        await self.add_many([pqr], radicado_format=radicado_format, year=year,
                            customers_checked=customers_checked)

    async def add_many(self, new: Sequence[Pqr], *, radicado_format: str = DEFAULT_RADICADO_FORMAT,
                       year: int, customers_checked: bool = False) -> None:
        """`add` for several new PQRs of one `year`, with one statement per table: the same rows
        and the same radicados, in list order, as adding them one by one. Customers without an
        id are resolved together (`SqlCustomerRepository.resolve_many`); the counter moves once
        by `len(new)` (its row lock, as in `add`, keeps the numbers gapless under concurrency).
        `customers_checked` as in `add`."""
        if not new:
            return
        for pqr in new:
            if pqr.id is not None:
                raise ValueError(f"PQR already stored (id {pqr.id})")
        await self._customers.resolve_many([p.customer for p in new], checked=customers_checked)
        last = await self._next_seq(year, len(new))
        rows = []
        for seq, pqr in enumerate(new, start=last - len(new) + 1):
            pqr.radicado = radicado_format.format(year=year, seq=seq).upper()
            rows.append(self._new_values(pqr, radicado=pqr.radicado, year=year, seq=seq))
        ids = await insert_returning_ids(self._conn, pqrs, rows)
        for pqr, pqr_id in zip(new, ids, strict=True):
            pqr.id = pqr_id
        await self._insert_children(new)
        if self._days is not None:
            await self._days.change([], [fields_of(r, pqr.events) for r, pqr in zip(rows, new, strict=True)])

    async def save(self, pqr: Pqr) -> None:
        """Write the PQR's columns and insert its messages without id and its new events."""
        if pqr.id is None:
            raise ValueError("PQR has no id: add it first")
        values = self._values(pqr)
        before = await self._days.stored_fields([pqr.id]) if self._days is not None else {}
        stored = [e for e in pqr.events if e.id is not None]     # before this save: what they counted
        await self._conn.execute(update(pqrs).where(pqrs.c.id == pqr.id).values(**values))
        await self._insert_children([pqr])
        if self._days is not None:
            await self._days.change([{**row, "events": marks(stored)} for row in before.values()],
                                    [fields_of(values, pqr.events)])

    async def _next_seq(self, year: int, n: int = 1) -> int:
        """Take `n` numbers of `year`; returns the last one. The UPDATE takes the counter row's
        write lock until commit, which is what makes the sequence gapless under concurrency
        (PostgreSQL row lock; SQLite BEGIN IMMEDIATE). The row is created only when missing."""
        params = {"y": year, "n": n}
        last = (await self._conn.execute(_BUMP_COUNTER, params)).scalar()
        if last is None:
            await self._conn.execute(_insert_counter(self._conn.dialect.name), {"year": year, "last_seq": 0})
            last = (await self._conn.execute(_BUMP_COUNTER, params)).scalar_one()
        return int(last)

    async def _insert_children(self, found: Sequence[Pqr]) -> None:
        """The messages and events without an id of these PQRs: one statement each for all; the
        new rows' ids are set on them, so a later `save` inserts only what is newer."""
        new_msgs = [(p, m) for p in found for m in p.messages if m.id is None]
        if new_msgs:
            ids = await insert_returning_ids(self._conn, messages,
                                             [self._message_values(p.id, m) for p, m in new_msgs])
            for (_, msg), msg_id in zip(new_msgs, ids, strict=True):
                msg.id = msg_id
        new_events = [(p, i) for p in found for i, e in enumerate(p.events) if e.id is None]
        if new_events:
            ids = await insert_returning_ids(self._conn, events,
                                             [event_values(p.events[i], pqr_id=p.id) for p, i in new_events])
            for (p, i), event_id in zip(new_events, ids, strict=True):
                p.events[i] = replace(p.events[i], id=event_id)

    @classmethod
    def _new_values(cls, p: Pqr, *, radicado: str, year: int, seq: int) -> dict[str, Any]:
        values = cls._values(p)
        values.update(radicado=radicado, year=year, seq=seq, customer_id=p.customer.id)
        return values

    @staticmethod
    def _values(p: Pqr) -> dict[str, Any]:
        return {"type": p.type.value, "status": p.status.value, "is_open": p.is_open,
                "channel": p.channel, "subject": p.subject, "due_at": p.due_at,
                "original_due_at": p.original_due_at, "due_rule": p.due_rule,
                "received_at": p.received_at, "first_response_due_at": p.first_response_due_at,
                "first_response_at": p.first_response_at, "assignee": p.assignee, "area": p.area,
                "contract": p.contract, "extended": p.extended, "closed_at": p.closed_at,
                "legal_due_at": p.legal_due_at,
                "pause_unit": p.pause_unit.value if p.pause_unit is not None else None,
                "pause_remaining": p.pause_remaining, "cause": p.cause, "client": p.client,
                "contract_due_at": p.contract_due_at, "first_response_hours": p.first_response_hours,
                "resolution_hours": p.resolution_hours, "resolution_days": p.resolution_days,
                "updated_at": utcnow()}

    @staticmethod
    def _message_values(pqr_id: int | None, m: Message) -> dict[str, Any]:
        return {"pqr_id": pqr_id, "direction": m.direction.value, "channel": m.channel,
                "body": m.body, "at": m.at, "author": m.author, "external_id": m.external_id}

    # -- reading ------------------------------------------------------------------------------
    async def get(self, radicado: str) -> Pqr | None:
        """The whole PQR (customer, messages, events), or None. Case-insensitive radicado."""
        stmt = _select().where(pqrs.c.radicado == radicado.strip().upper())
        if not self._readonly and self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=pqrs)
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        pqr = _pqr_from_row(row)
        await self._load_details([pqr])
        return pqr

    async def attachment(self, radicado: str, attachment_id: int) -> tuple[Attachment, bytes] | None:
        """One file of the PQR's messages, with its bytes; None when that PQR has no such file."""
        a = attachments.c
        row = (await self._conn.execute(
            select(a.id, a.filename, a.content_type, a.size, a.sha256, a.data)
            .join(messages, messages.c.id == a.message_id).join(pqrs, pqrs.c.id == messages.c.pqr_id)
            .where(a.id == attachment_id, pqrs.c.radicado == radicado.strip().upper()))).first()
        if row is None:
            return None
        return (Attachment(id=row.id, filename=row.filename, content_type=row.content_type, size=row.size,
                           sha256=row.sha256), bytes(row.data))

    async def list(self, flt: PqrFilter, *, details: bool = True) -> list[Pqr]:
        """PQRs matching `flt`, by due date then id; details loaded in batched IN queries."""
        stmt, params = _filtered("list", flt)
        found = [_pqr_from_row(r) for r in (await self._conn.execute(stmt, params)).all()]
        if details:
            await self._load_details(found)
        return found

    async def count(self, flt: PqrFilter) -> int:
        """How many PQRs match `flt` (limit and offset ignored)."""
        stmt, params = _filtered("count", flt)
        return int((await self._conn.execute(stmt, params)).scalar_one())

    async def group_counts(self, flt: PqrFilter) -> builtins.list[tuple[str | None, str | None, int]]:
        """(area, assignee, count) of the PQRs matching `flt`, sorted."""
        stmt, params = _filtered("groups", flt)
        rows = [(r[0], r[1], int(r[2])) for r in await self._conn.execute(stmt, params)]
        return sorted(rows, key=lambda g: (g[0] or "", g[1] or ""))

    async def stats(self, now: dt.datetime) -> Stats:
        """Counts of all PQRs by status and by type; open ones; open ones past due at `now`."""
        by_status = {r[0]: r[1] for r in await self._conn.execute(
            select(pqrs.c.status, func.count()).group_by(pqrs.c.status))}
        by_type = {r[0]: r[1] for r in await self._conn.execute(
            select(pqrs.c.type, func.count()).group_by(pqrs.c.type))}
        open_total = await self.count(PqrFilter())
        breached = await self.count(PqrFilter(due_before=now))
        return Stats(by_status=by_status, by_type=by_type, open_total=open_total, breached=breached)

    async def _load_details(self, found: Sequence[Pqr]) -> None:
        by_id = {p.id: p for p in found}
        ids = list(by_id)
        msgs: dict[int, builtins.list[Message]] = defaultdict(list)
        evts: dict[int, builtins.list[Event]] = defaultdict(list)
        # Rows by position (see _P): a page of PQRs with details maps a few hundred of them.
        directions = _DIRECTIONS
        for part in chunks(ids):
            last: Message | None = None
            for (m_id, pqr_id, direction, channel, body, at, author, external_id,
                 a_id, filename, content_type, size, sha256) in await self._conn.execute(
                    _MESSAGES_OF_PQRS, {"ids": list(part)}):
                if last is None or last.id != m_id:
                    last = Message(direction=directions[direction], channel=channel, body=body, at=at,
                                   author=author, external_id=external_id, id=m_id)
                    msgs[pqr_id].append(last)
                if a_id is not None:
                    last.attachments += (Attachment(id=a_id, filename=filename, content_type=content_type,
                                                    size=size, sha256=sha256),)
            for e_id, pqr_id, kind, actor, at, from_, to, reason, data in (
                    await self._conn.execute(_EVENTS_OF_PQRS, {"ids": list(part)})):
                evts[pqr_id].append(Event(kind=kind, actor=actor, at=at, from_=from_, to=to, reason=reason,
                                          data=dict(data or {}), id=e_id))
        for pqr_id, pqr in by_id.items():
            assert pqr_id is not None
            pqr.messages = msgs[pqr_id]
            pqr.events = evts[pqr_id]


def _select() -> Select[Any]:
    """The PQRs with their customers' columns (`_pqr_from_row` reads them by position)."""
    return select(pqrs, *_CUSTOMER_COLS).join(customers, customers.c.id == pqrs.c.customer_id)


# The values of a `PqrFilter` a statement takes as bound parameters, by the name they are bound.
_EQUAL = {"assignee": pqrs.c.assignee, "area": pqrs.c.area, "type": pqrs.c.type, "customer_id": pqrs.c.customer_id}


def _filtered(kind: str, flt: PqrFilter) -> tuple[Select[Unpack[tuple[Any, ...]]], dict[str, Any]]:
    """The statement of `kind` (list, count, groups) for `flt`'s shape, built once per shape, and
    `flt`'s values as its parameters. Building a statement costs several times executing it
    (~65 µs against ~15 µs for a count of no rows): the web's list pages run two per request."""
    params: dict[str, Any] = {name: getattr(flt, name) for name in ("due_before", "due_from", *_EQUAL)
                              if getattr(flt, name) is not None}
    if flt.client is not None:
        params["client"] = flt.client.strip().lower()
    if kind == "list" and flt.limit is not None:
        params["limit"] = flt.limit
    if kind == "list" and flt.offset:
        params["offset"] = flt.offset
    statuses = None if flt.statuses is None else tuple(s.value for s in flt.statuses)
    return _statement(kind, statuses, frozenset(params)), params


@cache
def _statement(kind: str, statuses: tuple[str, ...] | None,
               bound: frozenset[str]) -> Select[Unpack[tuple[Any, ...]]]:
    conds: list[ColumnElement[bool]] = []
    if statuses is None:
        conds.append(pqrs.c.is_open == True)  # noqa: E712 - must match the partial indexes' WHERE
    elif statuses:
        conds.append(pqrs.c.status.in_(statuses))
    if "due_before" in bound:
        conds.append(pqrs.c.due_at < bindparam("due_before", type_=pqrs.c.due_at.type))
    if "due_from" in bound:
        conds.append(pqrs.c.due_at >= bindparam("due_from", type_=pqrs.c.due_at.type))
    for name, column in _EQUAL.items():
        if name in bound:
            conds.append(column == bindparam(name, type_=column.type))
    if "client" in bound:                       # as the indicators compare it
        conds.append(func.lower(pqrs.c.client) == bindparam("client", type_=pqrs.c.client.type))
    if kind == "count":
        return select(func.count()).select_from(pqrs).where(*conds)
    if kind == "groups":
        return select(pqrs.c.area, pqrs.c.assignee, func.count()).where(*conds).group_by(pqrs.c.area, pqrs.c.assignee)
    stmt = _select().where(*conds).order_by(pqrs.c.due_at, pqrs.c.id)
    if "limit" in bound:
        stmt = stmt.limit(bindparam("limit", type_=Integer()))
    if "offset" in bound:
        stmt = stmt.offset(bindparam("offset", type_=Integer()))
    return stmt


# Row positions of `_select()`'s columns, computed once: listings map thousands of rows, and
# positional access is several times cheaper than string keys.
_P = {c.name: i for i, c in enumerate(pqrs.c)}
_C = {c.name: len(pqrs.c) + i for i, c in enumerate(customers.c)}
_TYPES = {t.value: t for t in PqrType}
_DIRECTIONS = {d.value: d for d in Direction}
_STATUSES = {s.value: s for s in Status}
_UNITS = {u.value: u for u in Unit}


def _pqr_from_row(r: Row[Any]) -> Pqr:
    P, C = _P, _C
    customer = Customer(name=r[C["name"]], email=r[C["email"]], telegram_chat_id=r[C["telegram_chat_id"]],
                        phone=r[C["phone"]], language=r[C["language"]], id=r[C["id"]],
                        unreachable=bool(r[C["unreachable"]]))
    unit = _UNITS.get(r[P["pause_unit"]]) if r[P["pause_unit"]] is not None else None
    remaining = r[P["pause_remaining"]]
    if remaining is not None and unit is Unit.DAYS:
        remaining = int(remaining)
    return Pqr(type=_TYPES[r[P["type"]]], channel=r[P["channel"]], customer=customer,
               subject=r[P["subject"]], received_at=r[P["received_at"]], due_at=r[P["due_at"]],
               due_rule=r[P["due_rule"]], original_due_at=r[P["original_due_at"]],
               # Rows from before migration 0005 have no legal_due_at: their due_at was it.
               legal_due_at=r[P["legal_due_at"]] or r[P["due_at"]],
               pause_unit=unit, pause_remaining=remaining,
               status=_STATUSES[r[P["status"]]], radicado=r[P["radicado"]],
               first_response_due_at=r[P["first_response_due_at"]],
               first_response_at=r[P["first_response_at"]], assignee=r[P["assignee"]],
               area=r[P["area"]], contract=r[P["contract"]], extended=bool(r[P["extended"]]),
               closed_at=r[P["closed_at"]], id=r[P["id"]], cause=r[P["cause"]], client=r[P["client"]],
               contract_due_at=r[P["contract_due_at"]], first_response_hours=r[P["first_response_hours"]],
               resolution_hours=r[P["resolution_hours"]], resolution_days=r[P["resolution_days"]])
