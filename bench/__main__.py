"""`python -m bench`: seed a fresh database per backend and print one JSON object per line.

    python -m bench [--rows N] [--backend sqlite|postgres|both] [--only NAME[,NAME…]]
                    [--filings N] [--explain] [--keep]

Benches: file_empty, seed, list_breached_first_page, count_breached, list_breached,
list_breached_details, list_open_first_page, count_open, digest, digest_full_export, list_due_soon,
file_full. `--only` takes names or prefixes ("list", "file").
Progress goes to stderr. Never touches data/ or an existing database: SQLite files are created
under bench/out/ and PostgreSQL databases are named pqrbot_bench_<random> and dropped at the end."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.core import NOW, bench_filing, bench_query, explain, filing_requests, make_service, queries
from bench.seed import seed
from storage.db import SqlDatabase

PG_ADMIN_URL = os.environ.get("PQRBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
OUT_DIR = Path(__file__).resolve().parent / "out"
QUERY_BENCHES = ("list_breached_first_page", "count_breached", "list_breached", "list_breached_details",
                 "list_open_first_page", "count_open", "digest", "digest_full_export", "list_due_soon")
ALL_BENCHES = ("file_empty", "seed", *QUERY_BENCHES, "file_full")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def emit(line: dict[str, Any]) -> None:
    print(json.dumps(line), flush=True)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        wanted = [w.strip() for w in (args.only or "").split(",") if w.strip()]
        self.selected = [b for b in ALL_BENCHES if not wanted or any(b.startswith(w) for w in wanted)]
        if not self.selected:
            raise SystemExit(f"--only matches nothing; benches: {', '.join(ALL_BENCHES)}")
        self.tag = secrets.token_hex(4)

    def wants(self, name: str) -> bool:
        return name in self.selected

    def database(self, backend: str, suffix: str) -> AbstractAsyncContextManager[SqlDatabase]:
        return fresh_database(backend, f"pqrbot_bench_{self.tag}_{suffix}", keep=self.args.keep)

    def base(self, name: str, backend: str, rows: int) -> dict[str, Any]:
        return {"bench": name, "backend": backend, "rows": rows}

    async def backend(self, backend: str) -> None:
        if backend == "postgres":
            reason = await pg_unreachable()
            if reason:
                for name in self.selected:
                    emit({**self.base(name, backend, self.args.rows), "skipped": reason})
                return
        if self.wants("file_empty"):
            async with self.database(backend, "empty") as db:
                log(f"{backend}: filing {self.args.filings} PQRs on an empty database")
                result = await bench_filing(make_service(db), filing_requests(self.args.filings, 0))
                emit({**self.base("file_empty", backend, 0), **result})
        if not any(self.wants(n) for n in ("seed", *QUERY_BENCHES, "file_full")):
            return
        rows = self.args.rows
        async with self.database(backend, "full") as db:
            log(f"{backend}: seeding {rows:,} PQRs")
            seeded = await seed(db, rows, NOW, make_service(db).windows(NOW))
            emit({**self.base("seed", backend, rows), "seconds": round(seeded.seconds, 1),
                  "per_s": round(rows / seeded.seconds), "customers": seeded.customers,
                  "open": seeded.open, "breached": seeded.breached})
            service = make_service(db)
            for name, (query, flt) in queries(service).items():
                if not self.wants(name):
                    continue
                if self.args.explain:
                    await explain(db, name, flt)
                log(f"{backend}: {name}")
                emit({**self.base(name, backend, rows), **await bench_query(query)})
            if self.wants("file_full"):
                log(f"{backend}: filing {self.args.filings} PQRs on {rows:,} rows")
                reqs = filing_requests(self.args.filings, seeded.customers)
                emit({**self.base("file_full", backend, rows), **await bench_filing(service, reqs)})


@asynccontextmanager
async def fresh_database(backend: str, name: str, *, keep: bool = False) -> AsyncIterator[SqlDatabase]:
    """A fresh, migrated database `name` (bench/out/<name>.db or a PostgreSQL database), removed
    afterwards unless `keep`. Shared by the benches that seed their own history."""
    if backend == "sqlite":
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUT_DIR / f"{name}.db"
        db = SqlDatabase(f"sqlite+aiosqlite:///{path}")
    else:
        await pg_admin(f'CREATE DATABASE "{name}"')
        db = SqlDatabase(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    try:
        await db.upgrade()
        yield db
    finally:
        await db.dispose()
        if keep:
            log(f"kept {db.url}")
        elif backend == "sqlite":
            for extra in ("", "-wal", "-shm"):
                Path(f"{path}{extra}").unlink(missing_ok=True)
        else:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def pg_admin(sql: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


async def pg_unreachable() -> str | None:
    try:
        await asyncio.wait_for(pg_admin("SELECT 1"), timeout=10)
    except Exception as exc:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"PostgreSQL unreachable at {make_url(PG_ADMIN_URL).render_as_string()}: {exc!r}"[:300]
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="PQRs to seed (default 1,000,000)")
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--only", help="comma-separated bench names or prefixes")
    p.add_argument("--filings", type=int, help="PQRs filed per filing bench (default: rows/50, "
                   "between 100 and 2,000)")
    p.add_argument("--explain", action="store_true", help="print query plans to stderr")
    p.add_argument("--keep", action="store_true", help="keep the databases (for inspection)")
    args = p.parse_args(argv)
    if args.rows < 100:
        p.error("--rows must be at least 100")
    if args.filings is None:
        args.filings = min(2000, max(100, args.rows // 50))
    return args


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    run = Run(args)
    started = time.perf_counter()
    for backend in (("sqlite", "postgres") if args.backend == "both" else (args.backend,)):
        await run.backend(backend)
    log(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
