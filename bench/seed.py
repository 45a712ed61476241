"""Bulk generation of a realistic PQR history straight into a fresh database.

Per PQR: one row in `pqrs`, one inbound message and one 'filed' event; one customer (with its
identity) per ~4 PQRs; `radicado_counters` set to each year's highest seq. SQLite is filled with
SQLAlchemy Core executemany in batches; PostgreSQL with COPY (asyncpg `copy_records_to_table`).

The distribution, as of the bench's fixed `now`: 85% closed (received over the last two years),
15% open — 1% of all PQRs breached (due in the 60 days before `now`), 0.2% due today, 0.5% due in
the next `warn_before_days` business days, the rest due within the following 30 days."""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.pqr import SlaWindows
from domain.pqr_types import PqrType, Status
from storage.db import SqlDatabase
from storage.tables import customer_identities, customers, events, messages, pqrs, radicado_counters

UTC = dt.timezone.utc
BATCH = 10_000                  # rows per executemany / COPY call
COMMIT_EVERY = 100_000          # PQRs per transaction (SQLite)
DAY = 86_400.0

SHARE_BREACHED, SHARE_TODAY, SHARE_SOON, SHARE_OPEN = 0.01, 0.002, 0.005, 0.15

TYPES = [(PqrType.PETICION, 40), (PqrType.QUEJA, 20), (PqrType.RECLAMO, 20), (PqrType.CONSULTA, 8),
         (PqrType.PETICION_INFORMACION, 5), (PqrType.SUGERENCIA, 3), (PqrType.FELICITACION, 2),
         (PqrType.HABEAS_CONSULTA, 1), (PqrType.HABEAS_RECLAMO, 1)]
CHANNELS = [("email", 60), ("telegram", 25), ("phone", 6), ("in_person", 5), ("slack", 2), ("console", 2)]
OPEN_STATUSES = [(Status.RADICADA, 15), (Status.ASIGNADA, 30), (Status.EN_TRAMITE, 30),
                 (Status.ESPERANDO_CLIENTE, 10), (Status.RESPONDIDA, 10), (Status.REABIERTA, 5)]
TERM_DAYS = {PqrType.CONSULTA: 30, PqrType.PETICION_INFORMACION: 10, PqrType.HABEAS_CONSULTA: 10}
AGENTS = [f"slack:U0AGENT{i:02d}" for i in range(40)]
AREAS = ["facturacion", "soporte", "comercial", "legal", "logistica", "calidad", "cartera", "tecnologia"]
WORDS = ("factura cobro servicio cuenta pago contrato retraso entrega producto reclamo devolucion "
         "garantia atencion demora corte conexion tarifa plan cliente solicitud datos").split()


@dataclass(frozen=True)
class SeedResult:
    rows: int
    customers: int
    breached: int
    open: int
    seconds: float


def _pick(rng: random.Random, weighted: list[tuple[Any, int]], k: int) -> list[Any]:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted], k=k)


def _skeleton(n: int, now: dt.datetime, w: SlaWindows, rng: random.Random) -> list[tuple[float, float, int]]:
    """(received_at, due_at, kind) per PQR as epoch seconds, sorted by received_at.
    kind: 0 closed, 1 open (any due date)."""
    t_now, t_today, t_soon = now.timestamp(), w.end_of_today.timestamp(), w.end_of_soon.timestamp()
    n_breached, n_today, n_soon = round(n * SHARE_BREACHED), round(n * SHARE_TODAY), round(n * SHARE_SOON)
    n_open = max(round(n * SHARE_OPEN), n_breached + n_today + n_soon)
    rows: list[tuple[float, float, int]] = []

    def add_open(count: int, lo: float, hi: float) -> None:
        for _ in range(count):
            due = rng.uniform(lo, hi)
            # received 10..45 days before it is due (business-day terms), never after `now`
            rows.append((min(due - rng.uniform(10, 45) * DAY, t_now - 60), due, 1))

    add_open(n_breached, t_now - 60 * DAY, t_now - 1)
    add_open(n_today, t_now, t_today - 1)
    add_open(n_soon, t_today, t_soon - 1)
    add_open(n_open - n_breached - n_today - n_soon, t_soon, t_soon + 30 * DAY)
    for _ in range(n - n_open):
        received = rng.uniform(t_now - 730 * DAY, t_now - DAY)
        rows.append((received, received + rng.uniform(14, 45) * DAY, 0))
    rows.sort()
    return rows


def _dt(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, UTC).replace(microsecond=0)


def _generate(n: int, n_customers: int, now: dt.datetime, w: SlaWindows,
              rng: random.Random) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                    list[dict[str, Any]]]]:
    """Batches of (pqrs, messages, events) rows, ids 1..n in received order."""
    skeleton = _skeleton(n, now, w, rng)
    t_now = now.timestamp()
    seqs: dict[int, int] = {}
    for start in range(0, n, BATCH):
        part = skeleton[start:start + BATCH]
        k = len(part)
        types, chans = _pick(rng, TYPES, k), _pick(rng, CHANNELS, k)
        statuses = _pick(rng, OPEN_STATUSES, k)
        p_rows, m_rows, e_rows = [], [], []
        for i, (received_ts, due_ts, kind) in enumerate(part):
            pid = start + i + 1
            received, due = _dt(received_ts), _dt(due_ts)
            year = received.year
            seq = seqs[year] = seqs.get(year, 0) + 1
            ptype, channel, cust = types[i], chans[i], rng.randint(1, n_customers)
            is_open = kind == 1
            status = statuses[i] if is_open else Status.CERRADA
            closed = None if is_open else _dt(min(received_ts + rng.uniform(0.5, 20) * DAY, t_now - 60))
            assigned = status not in (Status.RADICADA,)
            subject = " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize()
            rule = f"ley:{ptype.value}:{TERM_DAYS.get(ptype, 15)}d"
            actor = f"telegram:{1_000_000_000 + cust}" if channel == "telegram" else f"email:cliente{cust}@example.co"
            p_rows.append({
                "id": pid, "radicado": f"PQR-{year}-{seq:06d}", "year": year, "seq": seq,
                "type": ptype.value, "status": status.value, "is_open": is_open, "channel": channel,
                "customer_id": cust, "subject": subject, "due_at": due, "original_due_at": due,
                "due_rule": rule, "received_at": received, "first_response_due_at": None,
                "first_response_at": None, "assignee": rng.choice(AGENTS) if assigned else None,
                "area": rng.choice(AREAS) if assigned or rng.random() < 0.3 else None,
                "contract": None, "extended": False, "closed_at": closed,
                "updated_at": closed or received})
            m_rows.append({
                "id": pid, "pqr_id": pid, "direction": "in", "channel": channel,
                "body": subject + ". " + " ".join(rng.choices(WORDS, k=rng.randint(20, 60))),
                "at": received, "author": actor,
                "external_id": f"<{pid}.{rng.getrandbits(40):x}@mail.example.co>" if channel == "email" else None})
            e_rows.append({
                "id": pid, "pqr_id": pid, "penalty_id": None, "kind": "filed", "actor": actor,
                "at": received, "from_state": None, "to_state": Status.RADICADA.value, "reason": None,
                "data": {"due_at": due.isoformat(), "rule": rule}})
        yield p_rows, m_rows, e_rows


def _customer_rows(start: int, stop: int, now: dt.datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    c_rows, i_rows = [], []
    for cid in range(start, stop):
        telegram_only = cid % 10 == 0
        email = None if telegram_only else f"cliente{cid}@example.co"
        chat = 1_000_000_000 + cid if telegram_only or cid % 4 == 0 else None
        c_rows.append({"id": cid, "name": f"Cliente {cid}", "email": email, "telegram_chat_id": chat,
                       "phone": None, "language": "es", "unreachable": False,
                       "created_at": now - dt.timedelta(days=800)})
        if email:
            i_rows.append({"identity": f"email:{email}", "customer_id": cid})
        if chat is not None:
            i_rows.append({"identity": f"telegram:{chat}", "customer_id": cid})
    return c_rows, i_rows


def _log(msg: str) -> None:
    print(f"[seed] {msg}", file=sys.stderr, flush=True)


async def seed(db: SqlDatabase, n: int, now: dt.datetime, w: SlaWindows, *, seed_value: int = 42) -> SeedResult:
    """Fill the (freshly migrated, empty) database with `n` PQRs; returns counts and duration."""
    rng = random.Random(seed_value)
    n_customers = max(1, n // 4)
    started = time.perf_counter()
    pg = db.dialect == "postgresql"
    writer = _CopyWriter(db) if pg else _CoreWriter(db)
    async with writer:
        for start in range(1, n_customers + 1, BATCH):
            c_rows, i_rows = _customer_rows(start, min(start + BATCH, n_customers + 1), now)
            await writer.put(customers, c_rows)
            await writer.put(customer_identities, i_rows)
        done = 0
        for p_rows, m_rows, e_rows in _generate(n, n_customers, now, w, rng):
            await writer.put(pqrs, p_rows)
            await writer.put(messages, m_rows)
            await writer.put(events, e_rows)
            done += len(p_rows)
            if done % COMMIT_EVERY < BATCH or done == n:
                await writer.checkpoint()
                _log(f"{done:,}/{n:,} PQRs ({time.perf_counter() - started:.1f} s)")
        await writer.finish()
    async with db.engine.connect() as conn:
        breached = (await conn.execute(select(func.count()).select_from(pqrs).where(
            pqrs.c.is_open == True, pqrs.c.due_at < now))).scalar_one()  # noqa: E712
        n_open = (await conn.execute(select(func.count()).select_from(pqrs).where(
            pqrs.c.is_open == True))).scalar_one()  # noqa: E712
    return SeedResult(rows=n, customers=n_customers, breached=breached, open=n_open,
                      seconds=time.perf_counter() - started)


class _CoreWriter:
    """SQLAlchemy Core executemany, a transaction per `COMMIT_EVERY` PQRs (SQLite)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.conn: AsyncConnection | None = None

    async def __aenter__(self) -> _CoreWriter:
        self.conn = await self.db.engine.connect()
        await self.conn.exec_driver_sql("PRAGMA cache_size=-1000000")   # ~1 GB page cache for the load
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.conn is not None
        if self.conn.in_transaction():
            await self.conn.rollback()
        await self.conn.close()

    async def put(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            assert self.conn is not None
            await self.conn.execute(insert(table), rows)

    async def checkpoint(self) -> None:
        assert self.conn is not None
        await self.conn.commit()

    async def finish(self) -> None:
        assert self.conn is not None
        await _set_counters(self.conn)
        await self.conn.commit()


class _CopyWriter:
    """COPY through asyncpg (each COPY commits on its own), then sequences and ANALYZE."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.conn: AsyncConnection | None = None
        self.raw: Any = None

    async def __aenter__(self) -> _CopyWriter:
        self.conn = await self.db.engine.connect()
        self.raw = (await self.conn.get_raw_connection()).driver_connection
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.conn is not None
        await self.conn.close()

    async def put(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        records = [tuple(_pg_value(r[c]) for c in cols) for r in rows]
        await self.raw.copy_records_to_table(table.name, records=records, columns=cols)

    async def checkpoint(self) -> None:
        pass

    async def finish(self) -> None:
        assert self.conn is not None
        for table in ("customers", "customer_identities", "pqrs", "messages", "events"):
            await self.conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))")
        await _set_counters(self.conn)
        await self.conn.commit()
        # What autovacuum would have done shortly after a bulk load (statistics, visibility map).
        await self.raw.execute("VACUUM ANALYZE")


def _pg_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC).replace(tzinfo=None)
    if isinstance(v, dict):
        return json.dumps(v)
    return v


async def _set_counters(conn: AsyncConnection) -> None:
    for year, last in (await conn.execute(select(pqrs.c.year, func.max(pqrs.c.seq))
                                           .group_by(pqrs.c.year))).all():
        await conn.execute(insert(radicado_counters).values(year=year, last_seq=last))
