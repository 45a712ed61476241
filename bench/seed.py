"""Bulk generation of a realistic PQR history straight into a fresh database.

Per PQR: one row in `pqrs`, one inbound message and one 'filed' event, plus a 'status_changed'
event per closing (and per reopening, 'extended' per prórroga); one customer (with its identity)
per ~4 PQRs; `radicado_counters` set to each year's highest seq. SQLite is filled with
plain-tuple executemany in batches; PostgreSQL with COPY (asyncpg `copy_records_to_table`).

The distribution, as of the bench's fixed `now`: 85% closed (received over the last two years),
15% open — 1% of all PQRs breached (due in the 60 days before `now`), 0.2% due today, 0.5% due in
the next `warn_before_days` business days, the rest due within the following 30 days.

What the indicators read (plausible, not worked out on the business calendar): a cause for ~90%
(weighted over the default causes), an area once assigned, a client with its contract ("Cliente
01".."Cliente 20", "ANS-01"..; a few large, many small) for ~30% with its first-response and ANS
resolution deadlines; a first response for every closed PQR and for open ones past `asignada`;
business hours to first response and to closing, and business days to closing, as the business
share of the wall time (~50 business hours a week); closings mostly within days (exponential,
mean 5 days) and 6% around the legal due date, so some miss the ANS and ~3% the legal term;
~3% extended, ~2% reopened."""

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
CAUSES = [("facturacion", 25), ("servicio_tecnico", 18), ("entrega", 14), ("garantia", 8), ("atencion", 10),
          ("producto", 8), ("datos_personales", 2), ("otro", 5), (None, 10)]
CLIENTS = [(f"Cliente {i:02d}", round(100 / i)) for i in range(1, 21)]   # Zipf-like: 01 is the largest
SHARE_CLIENT, SHARE_EXTENDED, SHARE_REOPENED, SHARE_LATE = 0.30, 0.03, 0.02, 0.06
FR_TARGET_HOURS = (4, 8, 8, 16)       # a client contract's first-response target, business hours
RES_TARGET_DAYS = (3, 5, 5, 10)       # and its resolution target, business days
BUSINESS_SHARE = 50 / 168             # business hours per wall hour, roughly (10 h × 5 days a week)
WALL_PER_BUSINESS_DAY = 7 / 5
ANSWERED = (Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.REABIERTA)
WORDS = ("factura cobro servicio cuenta pago contrato retraso entrega producto reclamo devolucion "
         "garantia atencion demora corte conexion tarifa plan cliente solicitud datos").split()


@dataclass(frozen=True)
class SeedResult:
    rows: int
    customers: int
    breached: int
    open: int
    seconds: float
    rollup_seconds: float = 0.0     # counting the daily indicator roll-ups, after `seconds`


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
    return dt.datetime.fromtimestamp(int(ts), UTC)         # whole seconds


class _Words:
    """Random text at a fraction of `rng.choices`'s cost (the seed's hottest call): runs of a long
    random word sequence drawn once, at random offsets."""

    SIZE = 1 << 16

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool = rng.choices(WORDS, k=self.SIZE + 64)

    def __call__(self, lo: int, hi: int) -> str:
        """lo..hi words."""
        r = self.rng.random
        start = int(r() * self.SIZE)
        return " ".join(self.pool[start:start + lo + int(r() * (hi - lo + 1))])


def _generate(n: int, n_customers: int, now: dt.datetime, w: SlaWindows,
              rng: random.Random) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                    list[dict[str, Any]]]]:
    """Batches of (pqrs, messages, events) rows, ids 1..n in received order."""
    skeleton = _skeleton(n, now, w, rng)
    t_now = now.timestamp()
    seqs: dict[int, int] = {}
    event_id = 0
    words, r = _Words(rng), rng.random
    radicada, respondida, cerrada = Status.RADICADA.value, Status.RESPONDIDA.value, Status.CERRADA.value
    values: dict[Any, str] = {e: e.value for e in (*PqrType, *Status)}
    rules = {t: f"ley:{t.value}:{TERM_DAYS.get(t, 15)}d" for t in PqrType}
    hours, days = BUSINESS_SHARE / 3600, 1 / DAY / WALL_PER_BUSINESS_DAY     # per wall second
    for start in range(0, n, BATCH):
        part = skeleton[start:start + BATCH]
        k = len(part)
        types, chans = _pick(rng, TYPES, k), _pick(rng, CHANNELS, k)
        statuses, causes = _pick(rng, OPEN_STATUSES, k), _pick(rng, CAUSES, k)
        clients = _pick(rng, CLIENTS, k)
        p_rows: list[dict[str, Any]] = []
        m_rows: list[dict[str, Any]] = []
        e_rows: list[dict[str, Any]] = []
        for i, (received_ts, due_ts, kind) in enumerate(part):
            pid = start + i + 1
            received, due = _dt(received_ts), _dt(due_ts)
            year = received.year
            seq = seqs[year] = seqs.get(year, 0) + 1
            ptype, channel, cust = types[i], chans[i], 1 + int(r() * n_customers)
            is_open = kind == 1
            status = statuses[i] if is_open else Status.CERRADA
            last = t_now - 60                          # nothing happens after `now`
            closed_ts = None
            if not is_open:
                closed_ts = received_ts + rng.expovariate(1 / 5) * DAY + 600
                if r() < SHARE_LATE:          # around or past the legal due date
                    closed_ts = received_ts + (due_ts - received_ts) * rng.uniform(0.8, 1.5)
                if closed_ts > last:
                    closed_ts = rng.uniform(received_ts + 60, last)
            closed = None if closed_ts is None else _dt(closed_ts)
            assigned = status not in (Status.RADICADA,)
            # First response: every closed PQR, open ones once worked on (not before `now`).
            fr_ts = None
            if closed_ts is not None or status in ANSWERED:
                fr_ts = min(received_ts + (rng.expovariate(1 / 10) + 0.2) * 3600, closed_ts or last, last)
            client = contract = fr_due = contract_due = None
            if r() < SHARE_CLIENT:
                client = clients[i]
                contract = "ANS-" + client[-2:]
                fr_due = _dt(received_ts + rng.choice(FR_TARGET_HOURS) / BUSINESS_SHARE * 3600)
                contract_due = _dt(received_ts + rng.choice(RES_TARGET_DAYS) * WALL_PER_BUSINESS_DAY * DAY)
            # Term start, prórroga, reopening: the extra events, and the rows' fields they move.
            original_due, extended = due, False
            if r() < SHARE_EXTENDED:
                extended = True
                original_due = _dt(received_ts + (due_ts - received_ts) * 0.6)
                event_id += 1
                e_rows.append({
                    "id": event_id, "pqr_id": pid, "penalty_id": None, "kind": "extended",
                    "actor": rng.choice(AGENTS), "at": _dt(received_ts + (min(due_ts, closed_ts or last, last)
                                                                          - received_ts) * 0.5),
                    "from_state": original_due.isoformat(), "to_state": due.isoformat(),
                    "reason": "Falta información del cliente", "data": {}})
            term_ts = received_ts
            reopened = status is Status.REABIERTA or (closed_ts is not None and r() < SHARE_REOPENED)
            if reopened:
                end_ts = closed_ts if closed_ts is not None else last
                first_close_ts = received_ts + (end_ts - received_ts) * 0.4
                term_ts = received_ts + (end_ts - received_ts) * 0.6
                fr_ts = min(fr_ts or first_close_ts, first_close_ts)
                contract_due = None                    # a reopened PQR is out of its contract
                for at_ts, frm, to in ((first_close_ts, Status.RESPONDIDA, Status.CERRADA),
                                       (term_ts, Status.CERRADA, Status.REABIERTA)):
                    event_id += 1
                    e_rows.append({
                        "id": event_id, "pqr_id": pid, "penalty_id": None, "kind": "status_changed",
                        "actor": rng.choice(AGENTS), "at": _dt(at_ts), "from_state": frm.value,
                        "to_state": to.value, "reason": None, "data": {}})
            if closed_ts is not None:
                event_id += 1
                e_rows.append({
                    "id": event_id, "pqr_id": pid, "penalty_id": None, "kind": "status_changed",
                    "actor": AGENTS[int(r() * len(AGENTS))], "at": closed, "from_state": respondida,
                    "to_state": cerrada, "reason": None, "data": {}})
            subject = words(3, 8).capitalize()
            rule = rules[ptype]
            actor = f"telegram:{1_000_000_000 + cust}" if channel == "telegram" else f"email:cliente{cust}@example.co"
            p_rows.append({
                "id": pid, "radicado": f"PQR-{year}-{seq:06d}", "year": year, "seq": seq,
                "type": values[ptype], "status": values[status], "is_open": is_open, "channel": channel,
                "customer_id": cust, "subject": subject, "due_at": due, "original_due_at": original_due,
                "due_rule": rule, "received_at": received, "first_response_due_at": fr_due,
                "first_response_at": None if fr_ts is None else _dt(fr_ts),
                "assignee": AGENTS[int(r() * len(AGENTS))] if assigned else None,
                "area": AREAS[int(r() * len(AREAS))] if assigned or r() < 0.3 else None,
                "contract": contract, "extended": extended, "closed_at": closed,
                "updated_at": closed or received, "legal_due_at": due, "cause": causes[i], "client": client,
                "contract_due_at": contract_due,
                "first_response_hours": None if fr_ts is None else round((fr_ts - received_ts) * hours, 2),
                "resolution_hours": None if closed_ts is None else round((closed_ts - term_ts) * hours, 2),
                "resolution_days": None if closed_ts is None else round((closed_ts - term_ts) * days)})
            m_rows.append({
                "id": pid, "pqr_id": pid, "direction": "in", "channel": channel,
                "body": subject + ". " + words(20, 60),
                "at": received, "author": actor,
                "external_id": f"<{pid}.{rng.getrandbits(40):x}@mail.example.co>" if channel == "email" else None})
            event_id += 1
            e_rows.append({
                "id": event_id, "pqr_id": pid, "penalty_id": None, "kind": "filed", "actor": actor,
                "at": received, "from_state": None, "to_state": radicada, "reason": None,
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
    writer = _CopyWriter(db) if pg else _SqliteWriter(db)
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
    # The loading connection keeps its 1 GB page cache in the pool: the benches after the seed
    # must read through connections as the bot opens them.
    await db.dispose()
    async with db.engine.connect() as conn:
        breached = (await conn.execute(select(func.count()).select_from(pqrs).where(
            pqrs.c.is_open == True, pqrs.c.due_at < now))).scalar_one()  # noqa: E712
        n_open = (await conn.execute(select(func.count()).select_from(pqrs).where(
            pqrs.c.is_open == True))).scalar_one()  # noqa: E712
    seconds = time.perf_counter() - started
    # The rows were written around the repository, so the daily indicator roll-ups it keeps are
    # counted once here, as an upgraded database counts them at its first start.
    rollup_started = time.perf_counter()
    async with db.uow() as uow:
        await uow.indicator_days.rebuild(now=now)
        await uow.commit()
    rollup_seconds = time.perf_counter() - rollup_started
    _log(f"indicator roll-ups counted in {rollup_seconds:.1f} s")
    return SeedResult(rows=n, customers=n_customers, breached=breached, open=n_open,
                      seconds=seconds, rollup_seconds=rollup_seconds)


class _SqliteWriter:
    """executemany of plain tuples, a transaction per `COMMIT_EVERY` PQRs (SQLite). The values
    are converted here as SQLAlchemy's column types would store them (`_sqlite_value`): its
    per-value type processing cost ~4× what SQLite itself spent on the rows."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self.conn: AsyncConnection | None = None

    async def __aenter__(self) -> _SqliteWriter:
        self.conn = await self.db.engine.connect()
        await self.conn.exec_driver_sql("PRAGMA cache_size=-1000000")   # ~1 GB page cache for the load
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.conn is not None
        if self.conn.in_transaction():
            await self.conn.rollback()
        await self.conn.close()

    async def put(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        assert self.conn is not None
        cols = list(rows[0])
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        await self.conn.exec_driver_sql(sql, [tuple(map(_sqlite_value, r.values())) for r in rows])

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
        records = [tuple(map(_pg_value, r.values())) for r in rows]
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


def _sqlite_value(v: Any) -> Any:
    """What SQLAlchemy binds on SQLite for a `UtcDateTime`, `Json` or `Boolean` value."""
    if isinstance(v, dt.datetime):
        if v.utcoffset():
            v = v.astimezone(UTC)
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dict):
        return json.dumps(v)
    return v


def _pg_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return (v.astimezone(UTC) if v.utcoffset() else v).replace(tzinfo=None)
    if isinstance(v, dict):
        return json.dumps(v)
    return v


async def _set_counters(conn: AsyncConnection) -> None:
    for year, last in (await conn.execute(select(pqrs.c.year, func.max(pqrs.c.seq))
                                           .group_by(pqrs.c.year))).all():
        await conn.execute(insert(radicado_counters).values(year=year, last_seq=last))
