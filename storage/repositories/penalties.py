"""`PenaltyRepository` (the penalty aggregate with its evidence and events) and `ContractStore`
(snapshots of the validated contract files)."""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, insert, select, update

from domain.penalty import Evidence, Penalty, PenaltyCategory, PenaltyStatus
from domain.files import FileData
from storage.repositories.common import event_from_row, event_values, insert_returning_ids, utcnow
from storage.sqlite_inline import SqlConnection
from storage.tables import contract_snapshots, events, penalties, penalty_evidence, penalty_evidence_files


def _values(p: Penalty) -> dict[str, Any]:
    return {"client": p.client, "category": p.category.value, "amount": str(p.amount), "currency": p.currency,
            "status": p.status.value, "decision": p.decision.value if p.decision else None, "area": p.area,
            "pqr": p.pqr, "contract": p.contract, "description": p.description,
            "registered_at": p.registered_at, "decided_by": p.decided_by, "decided_at": p.decided_at,
            "decision_reason": p.decision_reason, "updated_at": utcnow()}


def _from_row(r: Row[Any]) -> Penalty:
    return Penalty(id=r.id, client=r.client, category=PenaltyCategory(r.category), amount=Decimal(r.amount),
                   currency=r.currency, area=r.area, registered_at=r.registered_at,
                   status=PenaltyStatus(r.status), pqr=r.pqr, description=r.description, contract=r.contract,
                   decision=PenaltyStatus(r.decision) if r.decision else None, decided_by=r.decided_by,
                   decided_at=r.decided_at, decision_reason=r.decision_reason)


class SqlPenaltyRepository:
    """`PenaltyRepository` on SQLAlchemy Core. On PostgreSQL a read-write `get` locks the row, so
    two managers pressing at once decide one after the other (the second sees the decision)."""

    def __init__(self, conn: SqlConnection, *, readonly: bool = False) -> None:
        self._conn = conn
        self._readonly = readonly

    async def add(self, penalty: Penalty) -> None:
        """Insert a new penalty with its evidence and events; sets `penalty.id`."""
        if penalty.id is not None:
            raise ValueError(f"penalty already stored (id {penalty.id})")
        penalty.id = (await self._conn.execute(
            insert(penalties).values(**_values(penalty)).returning(penalties.c.id))).scalar_one()
        await self._insert_children(penalty)

    async def save(self, penalty: Penalty) -> None:
        """Write the columns; insert evidence without id and events not stored yet."""
        if penalty.id is None:
            raise ValueError("penalty has no id: add it first")
        await self._conn.execute(update(penalties).where(penalties.c.id == penalty.id).values(**_values(penalty)))
        await self._insert_children(penalty)

    async def _insert_children(self, p: Penalty) -> None:
        """Evidence and events without an id; their new ids are set, so a later `save` inserts
        only what is newer."""
        for ev in p.evidence:
            if ev.id is not None:
                continue
            ev.id = (await self._conn.execute(insert(penalty_evidence).values(
                penalty_id=p.id, text=ev.text, author=ev.author, at=ev.at)
                .returning(penalty_evidence.c.id))).scalar_one()
            if ev.files:
                await self._conn.execute(insert(penalty_evidence_files), [
                    {"evidence_id": ev.id, "filename": f.filename, "content_type": f.content_type,
                     "size": f.size, "sha256": f.sha256, "data": f.data} for f in ev.files])
        new = [i for i, e in enumerate(p.events) if e.id is None]
        if new:
            ids = await insert_returning_ids(self._conn, events, [
                event_values(p.events[i], pqr_id=None, penalty_id=p.id) for i in new])
            for i, event_id in zip(new, ids, strict=True):
                p.events[i] = replace(p.events[i], id=event_id)

    async def get(self, penalty_id: int) -> Penalty | None:
        """The whole penalty (evidence with files, events), or None."""
        stmt = select(penalties).where(penalties.c.id == penalty_id)
        if not self._readonly and self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        p = _from_row(row)
        await self._load_details([p])
        return p

    async def list(self, *, status: PenaltyStatus | None = None, registered_from: dt.datetime | None = None,
                   registered_before: dt.datetime | None = None, details: bool = True,
                   limit: int | None = None) -> builtins.list[Penalty]:
        """Penalties in registration order, optionally of one status and registered in a window."""
        stmt = select(penalties).order_by(penalties.c.registered_at, penalties.c.id)
        if status is not None:
            stmt = stmt.where(penalties.c.status == status.value)
        if registered_from is not None:
            stmt = stmt.where(penalties.c.registered_at >= registered_from)
        if registered_before is not None:
            stmt = stmt.where(penalties.c.registered_at < registered_before)
        if limit is not None:
            stmt = stmt.limit(limit)
        found = [_from_row(r) for r in (await self._conn.execute(stmt)).all()]
        if details and found:
            await self._load_details(found)
        return found

    async def _load_details(self, items: builtins.list[Penalty]) -> None:
        by_id = {p.id: p for p in items}
        ids = list(by_id)
        ev_rows = (await self._conn.execute(select(penalty_evidence).where(penalty_evidence.c.penalty_id.in_(ids))
                                            .order_by(penalty_evidence.c.id))).all()
        evidence = {r.id: Evidence(text=r.text, author=r.author, at=r.at, id=r.id) for r in ev_rows}
        if evidence:
            files = (await self._conn.execute(select(penalty_evidence_files)
                                              .where(penalty_evidence_files.c.evidence_id.in_(list(evidence)))
                                              .order_by(penalty_evidence_files.c.id))).all()
            for f in files:
                evidence[f.evidence_id].files.append(FileData(f.filename, f.content_type, bytes(f.data)))
        for r in ev_rows:
            by_id[r.penalty_id].evidence.append(evidence[r.id])
        rows = (await self._conn.execute(select(events).where(events.c.penalty_id.in_(ids))
                                         .order_by(events.c.at, events.c.id))).all()
        for r in rows:
            by_id[r.penalty_id].events.append(event_from_row(r))


class SqlContractStore:
    """`ContractStore` on the `contract_snapshots` table: the newest row is the one in force."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def put(self, data: Any, *, source: str, now: dt.datetime) -> int:
        """Store a snapshot; returns its id (the registry's version)."""
        return int((await self._conn.execute(insert(contract_snapshots).values(
            loaded_at=now, source=source, data=data).returning(contract_snapshots.c.id))).scalar_one())

    async def latest_id(self) -> int | None:
        """The version in force, or None when contracts were never reloaded."""
        value = (await self._conn.execute(select(func.max(contract_snapshots.c.id)))).scalar()
        return int(value) if value is not None else None

    async def get(self, snapshot_id: int) -> Any:
        """A snapshot's data, or None."""
        return (await self._conn.execute(select(contract_snapshots.c.data)
                                         .where(contract_snapshots.c.id == snapshot_id))).scalar()
