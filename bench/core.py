"""The measurements: filing through `PqrService.file`, and the listing / digest queries.

Every result is a dict that `bench.__main__` prints as one JSON line."""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event

from bot.bootstrap import build
from bot.config import parse_config
from bot.sla.digest import MAX_ITEMS_PER_SECTION
from bot.pqrs.service import FilingRequest, PqrService
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import PqrFilter
from storage.repositories.pqrs import _filtered

# The bench's fixed "now": a Tuesday, 10:00 in Bogotá (not a Colombian holiday).
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.timezone.utc)
GOAL_MS = 200
RUNS, WARMUP = 7, 1


def make_service(db: SqlDatabase) -> PqrService:
    """The service exactly as the bot builds it (default config, this database)."""
    return build(parse_config({"database": {"url": db.url}}), db=db).service


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile (with 7 runs this is the slowest run)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# -- filing ------------------------------------------------------------------------------------
def filing_requests(count: int, known_customers: int, *, seed_value: int = 7) -> list[FilingRequest]:
    """A realistic mix: 80% email, 20% Telegram; half from customers already in the database."""
    rng = random.Random(seed_value)
    types = [PqrType.PETICION, PqrType.QUEJA, PqrType.RECLAMO, PqrType.CONSULTA]
    reqs = []
    for i in range(count):
        known = known_customers > 0 and rng.random() < 0.5
        cid = rng.randint(1, known_customers) if known else 10_000_000 + i
        received = NOW + dt.timedelta(seconds=i)
        common: dict[str, Any] = {
            "pqr_type": rng.choice(types), "name": f"Cliente {cid}", "received_at": received,
            "subject": f"Cobro duplicado en la factura {i}",
            "body": "Buenos días, me cobraron dos veces el servicio este mes. " * 3}
        if cid % 10 == 0 or rng.random() < 0.2:
            chat = 1_000_000_000 + cid
            reqs.append(FilingRequest(channel="telegram", actor=f"telegram:{chat}",
                                      telegram_chat_id=chat, **common))
        else:
            email = f"cliente{cid}@example.co"
            reqs.append(FilingRequest(channel="email", actor=f"email:{email}", email=email,
                                      external_id=f"<bench{i}.{rng.getrandbits(32):x}@mail.example.co>",
                                      **common))
    return reqs


async def bench_filing(service: PqrService, reqs: list[FilingRequest]) -> dict[str, Any]:
    """File every request sequentially, one transaction each; PQRs/s and latency."""
    latencies = []
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    engines = service.db.sync_engines  # type: ignore[attr-defined]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        for req in reqs:
            t0 = time.perf_counter()
            pqr = await service.file(req)
            latencies.append(time.perf_counter() - t0)
            assert pqr is not None and pqr.radicado
    finally:
        total = time.perf_counter() - started
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    return {"filings": len(reqs), "per_s": round(len(reqs) / total, 1), "total_s": round(total, 2),
            "median_ms": _ms(statistics.median(latencies)), "p95_ms": _ms(_p95(latencies)),
            "statements_per_filing": round(statements[0] / len(reqs), 1)}


# -- queries -----------------------------------------------------------------------------------
Query = Callable[[], Awaitable[int]]


def queries(service: PqrService) -> dict[str, tuple[Query, PqrFilter | None]]:
    """name -> (coroutine returning how many rows it produced, the filter for EXPLAIN)."""
    w = service.windows(NOW)
    breached = PqrFilter(due_before=w.now)
    page = PqrFilter(limit=20)
    breached_page = PqrFilter(due_before=w.now, limit=20)     # `/pqr list breached` in a chat
    soon = PqrFilter(due_from=w.now, due_before=w.end_of_soon)

    async def digest() -> int:
        # As the scheduler sends it: counts and area/assignee groups from SQL, 50 PQRs a section.
        d = await service.digest(NOW, limit=MAX_ITEMS_PER_SECTION)
        return sum(d.counts.values())

    async def digest_full_export() -> int:
        # As `pqrbot digest --json` exports it: every PQR of every section, built as objects.
        d = await service.digest(NOW)
        return len(d.breached) + len(d.due_today) + len(d.due_soon)

    async def count_open() -> int:
        return await service.count(PqrFilter())

    async def count_breached() -> int:
        return await service.count(breached)

    return {
        "list_breached_first_page": (lambda: _len(service.list(breached_page, details=True)), breached_page),
        "count_breached": (count_breached, breached),
        "list_breached": (lambda: _len(service.list(breached, details=False)), breached),
        "list_breached_details": (lambda: _len(service.list(breached, details=True)), breached),
        "list_open_first_page": (lambda: _len(service.list(page)), page),
        "count_open": (count_open, None),
        "digest": (digest, None),
        "digest_full_export": (digest_full_export, None),
        "list_due_soon": (lambda: _len(service.list(soon)), soon),
    }


async def _len(aw: Awaitable[list[Any]]) -> int:
    return len(await aw)


async def bench_query(query: Query, *, runs: int = RUNS, warmup: int = WARMUP) -> dict[str, Any]:
    """Median and p95 wall time of `runs` calls after `warmup` calls."""
    for _ in range(warmup):
        await query()
    samples, produced = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        produced = await query()
        samples.append(time.perf_counter() - t0)
    median, p95 = _ms(statistics.median(samples)), _ms(_p95(samples))
    return {"median_ms": median, "p95_ms": p95, "min_ms": _ms(min(samples)), "runs": runs,
            "result_rows": produced, "goal_ms": GOAL_MS, "ok": p95 < GOAL_MS}


async def explain(db: SqlDatabase, name: str, flt: PqrFilter | None) -> None:
    """Print the query plan of the main statement behind `name` to stderr (with --explain)."""
    stmt, params = _filtered("count", PqrFilter()) if flt is None else _filtered("list", flt)
    stmt = stmt.params(**params)
    pg = db.dialect == "postgresql"
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
    async with db.engine.connect() as conn:
        rows = (await conn.exec_driver_sql(prefix + str(compiled))).all()
    plan = "\n".join(str(r[0]) if pg else f"  {'  ' * int(r[1] > 0)}{r[-1]}" for r in rows)
    print(f"--- {db.dialect} {name}\n{compiled}\n{plan}", file=sys.stderr, flush=True)
