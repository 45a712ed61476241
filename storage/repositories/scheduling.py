"""Leader leases and SLA-alert bookkeeping for the scheduler."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, exists, select, update

from storage.ports import AlertCandidate
from storage.repositories.common import insert_ignore
from storage.sqlite_inline import SqlConnection
from storage.tables import leases, pqrs, sla_alerts

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class SqlLeases:
    """A named lease held by one instance until it expires; renewing extends it."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def acquire(self, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Take or renew the lease; True when `holder` holds it until `now + ttl`. One atomic
        UPDATE decides between racing instances on both databases."""
        await self._conn.execute(insert_ignore(self._conn, leases, ["name"])
                                 .values(name=name, holder=holder, expires_at=_EPOCH))
        result = await self._conn.execute(
            update(leases).where(leases.c.name == name,
                                 (leases.c.holder == holder) | (leases.c.expires_at <= now))
            .values(holder=holder, expires_at=now + ttl))
        return bool(result.rowcount)

    async def release(self, name: str, holder: str) -> None:
        await self._conn.execute(update(leases).where(leases.c.name == name, leases.c.holder == holder)
                                 .values(expires_at=_EPOCH))

    async def holder(self, name: str, *, now: dt.datetime) -> str | None:
        row = (await self._conn.execute(select(leases.c.holder, leases.c.expires_at)
                                        .where(leases.c.name == name))).first()
        return row.holder if row is not None and row.expires_at > now else None


class SqlSlaAlerts:
    """Which open PQRs still need an alert of a kind for their current due date."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def candidates(self, kind: str, *, due_from: dt.datetime | None, due_before: dt.datetime,
                         limit: int = 500) -> list[AlertCandidate]:
        """Open PQRs due in [due_from, due_before) with no `kind` alert for that due date yet,
        oldest due first."""
        already = exists().where(and_(sla_alerts.c.pqr_id == pqrs.c.id, sla_alerts.c.kind == kind,
                                      sla_alerts.c.due_at == pqrs.c.due_at))
        conds: list[Any] = [pqrs.c.is_open.is_(True), pqrs.c.due_at < due_before, ~already]
        if due_from is not None:
            conds.append(pqrs.c.due_at >= due_from)
        stmt = (select(pqrs.c.id, pqrs.c.radicado, pqrs.c.type, pqrs.c.subject, pqrs.c.assignee,
                       pqrs.c.area, pqrs.c.due_at)
                .where(*conds).order_by(pqrs.c.due_at, pqrs.c.id).limit(limit))
        return [AlertCandidate(pqr_id=r.id, radicado=r.radicado, type=r.type, subject=r.subject,
                               assignee=r.assignee, area=r.area, due_at=r.due_at)
                for r in (await self._conn.execute(stmt)).all()]

    async def mark(self, pqr_id: int, kind: str, *, due_at: dt.datetime, now: dt.datetime) -> bool:
        """Record the alert; False when it was already recorded (another instance was first)."""
        result = await self._conn.execute(
            insert_ignore(self._conn, sla_alerts, ["pqr_id", "kind", "due_at"])
            .values(pqr_id=pqr_id, kind=kind, due_at=due_at, created_at=now))
        return bool(result.rowcount)


