"""`python -m bench.indicators`: the indicators and the report files on a seeded PQR history.

    python -m bench.indicators [--rows N] [--backend sqlite|postgres|both] [--only NAME[,NAME…]]
                               [--runs N] [--explain] [--keep] [--url URL]

One JSON object per line on stdout, per backend (progress and --explain plans on stderr):
- `seed`: the history `bench.seed` writes (the same as `python -m bench`'s).
- `kpis_month` (2026-02), `kpis_client_quarter` (the largest client, 2025-Q4), `kpis_year` (2025)
  and `kpis_dashboard` (what /staff/dashboard asks for: this month 2026-03, last month and the
  year 2026, three `kpis` calls; its goal the sum of theirs): p50/p95 ms over --runs calls after a
  warm-up, next to `floor_p50_ms` (the same run's baseline: one indexed count scan of the period's
  rows received, closed and first answered), and `rows_scanned`, the rows each figure's period holds (received in it, closed in it,
  first answered in it, open at its end, prórroga/status events in it) — what an indexed range
  scan of the PQRs would read — next to `rows_read`, what the call reads now (roll-up rows of the
  period and before its end, PQRs closed since its end, its first responses, ANS deadlines and
  events); a time far above what those explain points at an unbounded scan (see --explain).
- `file_monthly_xlsx` / `file_monthly_pdf` (`report monthly` 2026-02, the XLSX with the detail sheet
  streamed from `IndicatorService.detail`) and `file_client_year_xlsx` / `file_client_year_pdf` (the
  largest client, 2025): each in a process of its own doing only that, its seconds and peak RSS
  (the child's VmHWM: `ru_maxrss` would report the parent's peak, which Linux carries over
  into a forked child at exec), next to its peak before it started the report (imports, app).

The bench's "now" is `bench.core.NOW` (10 March 2026). --url benches a database seeded before
(kept with --keep) instead of seeding a fresh one."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, or_, select

from bench.__main__ import OUT_DIR, emit, fresh_database, log, pg_unreachable
from bench.core import NOW, _ms, _p95
from bench.seed import CLIENTS, seed
from bot.bootstrap import App, build
from bot.config import parse_config
from domain.indicator_days import DIMENSIONS
from domain.periods import Period
from storage.db import SqlDatabase
from storage.ports import IndicatorSlice
from storage.tables import events, indicator_days, pqrs

ROOT = Path(__file__).resolve().parent.parent
RUNS, WARMUP = 7, 1
GOAL_PERIOD_MS, GOAL_YEAR_MS = 300, 2000
GOAL_RSS_MB = 400
CLIENT = CLIENTS[0][0]                         # the largest client: the worst client-quarter
MONTH, QUARTER, YEAR = "2026-02", "2025-Q4", "2025"       # whole periods before NOW
THIS_MONTH, LAST_MONTH, THIS_YEAR = "2026-03", "2026-02", "2026"      # the dashboard's, at NOW
FILE_BENCHES = ("file_monthly_xlsx", "file_monthly_pdf", "file_client_year_xlsx", "file_client_year_pdf")


def contracts_file() -> Path:
    """A contract file naming the seeded clients (JSON is YAML), so `report client` finds them."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / "indicators_contracts.yaml"
    clients = [{"name": name, "email_domains": [f"cliente{name[-2:]}.example.co"],
                "contract": {"name": f"ANS-{name[-2:]}", "pauses_when_waiting": True,
                             "targets": {"queja": {"first_response": "4h", "resolution": "16h"},
                                         "reclamo": {"first_response": "8h", "resolution": "5d"},
                                         "peticion": {"first_response": "8h", "resolution": "10d"}}}}
               for name, _ in CLIENTS]
    path.write_text(json.dumps({"clients": clients}))
    return path


def make_app(db: SqlDatabase, contracts: Path) -> App:
    cfg = parse_config({"database": {"url": db.url}, "contracts": {"files": [str(contracts)]}})
    return build(cfg, db=db, clock=lambda: NOW)


# -- kpis ----------------------------------------------------------------------------------------
Call = tuple[str, IndicatorSlice]               # a period label and a slice: one kpis call


def kpis_benches() -> dict[str, tuple[list[Call], int]]:
    """name -> (the kpis calls it makes, goal in ms)."""
    everyone = IndicatorSlice()
    return {
        "kpis_month": ([(MONTH, everyone)], GOAL_PERIOD_MS),
        "kpis_client_quarter": ([(QUARTER, IndicatorSlice(client=CLIENT))], GOAL_PERIOD_MS),
        "kpis_year": ([(YEAR, everyone)], GOAL_YEAR_MS),
        "kpis_dashboard": ([(THIS_MONTH, everyone), (LAST_MONTH, everyone), (THIS_YEAR, everyone)],
                           GOAL_PERIOD_MS * 2 + GOAL_YEAR_MS),
    }


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> dict[str, Any]:
    for _ in range(WARMUP):
        await call()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - t0)
    return {"p50_ms": _ms(statistics.median(samples)), "p95_ms": _ms(_p95(samples)),
            "min_ms": _ms(min(samples)), "runs": runs}


async def rows_scanned(app: App, db: SqlDatabase, label: str, flt: IndicatorSlice) -> dict[str, int]:
    """How many rows each figure of the period reads at the least."""
    period = Period.parse(label)
    b = app.reports.indicators.bounds(period.start, period.end)
    sliced = [func.lower(pqrs.c.client) == flt.client.lower()] if flt.client else []

    def count(*conds: Any) -> Any:
        return select(func.count()).select_from(pqrs).where(*conds, *sliced)

    stmts = {
        "received": count(pqrs.c.received_at >= b.start, pqrs.c.received_at < b.end),
        "closed": count(pqrs.c.closed_at >= b.start, pqrs.c.closed_at < b.end),
        "first_response": count(pqrs.c.first_response_at >= b.start, pqrs.c.first_response_at < b.end),
        "open_at_end": count(pqrs.c.received_at < b.end,
                             or_(pqrs.c.closed_at.is_(None), pqrs.c.closed_at >= b.end)),
        "events": select(func.count()).select_from(events.join(pqrs, pqrs.c.id == events.c.pqr_id)).where(
            events.c.at >= b.start, events.c.at < b.end, events.c.kind.in_(("extended", "status_changed")),
            *sliced),
    }
    async with db.engine.connect() as conn:
        return {k: int((await conn.execute(s)).scalar_one()) for k, s in stmts.items()}


async def rows_read(app: App, db: SqlDatabase, label: str, flt: IndicatorSlice) -> dict[str, int]:
    """What one kpis call reads now, by source: roll-up rows of the period (the sums) and before
    its end (open PQRs by receipt and due day), PQR index entries closed at or after its end
    (backlog, late; `rollup_open` counts from the earliest open PQR's receipt day, an upper
    bound of both open reads), first responses of the period (their hours, for exact medians), ANS
    deadlines of the period, and prórroga/reopening events."""
    period = Period.parse(label)
    ind = app.reports.indicators
    b = ind.bounds(period.start, period.end)
    as_of = min(b.end, NOW)
    key = ("client", flt.client.lower()) if flt.client else ("", "")
    sliced = [func.lower(pqrs.c.client) == flt.client.lower()] if flt.client else []
    d = indicator_days.c

    def count(table: Any, *conds: Any) -> Any:
        return select(func.count()).select_from(table).where(*conds)

    async with db.engine.connect() as conn:     # the open counts are read from the earliest open PQR's day
        first = (await conn.execute(select(func.min(pqrs.c.received_at)).where(pqrs.c.is_open == True))  # noqa: E712
                 ).scalar()
    since = first.astimezone(ind.calendar.tz).date() if first is not None else b.end_day

    stmts = {
        "rollup_period": count(indicator_days, d.slice == key[0], d.slice_key == key[1], d.day >= b.start_day,
                               d.day < b.end_day, d.dim.in_(DIMENSIONS)),
        "rollup_open": count(indicator_days, d.slice == key[0], d.slice_key == key[1], d.day >= since,
                             d.day < b.end_day, d.dim.in_(DIMENSIONS)),
        "closed_since_end": count(pqrs, pqrs.c.closed_at >= as_of, *sliced),
        "first_response": count(pqrs, pqrs.c.first_response_at >= b.start, pqrs.c.first_response_at < b.end,
                                *sliced),
        "ans_deadlines": count(pqrs, pqrs.c.contract_due_at >= b.start, pqrs.c.contract_due_at < as_of, *sliced),
        "events": count(events, events.c.at >= b.start, events.c.at < b.end,
                        or_(events.c.kind == "extended", events.c.to_state == "reabierta")),
    }
    async with db.engine.connect() as conn:
        return {k: int((await conn.execute(s)).scalar_one()) for k, s in stmts.items()}


async def bench_kpis(app: App, db: SqlDatabase, calls: list[Call], runs: int) -> dict[str, Any]:
    service = app.reports.indicators

    async def run() -> None:
        for label, flt in calls:
            period = Period.parse(label)
            await service.kpis(period.start, period.end, flt)

    async def floor() -> None:
        """The baseline the issue names, timed in the same run: one indexed scan of the period's
        rows per way a PQR enters a figure (received, closed, first answered in it), counting
        them and nothing more, through the same read connections."""
        for label, flt in calls:
            period = Period.parse(label)
            b = service.bounds(period.start, period.end)
            sliced = [func.lower(pqrs.c.client) == flt.client.lower()] if flt.client else []
            async with db.uow(readonly=True) as uow:
                conn = uow._conn                 # noqa: SLF001  (a bare scan, no repository)
                assert conn is not None
                for column in (pqrs.c.received_at, pqrs.c.closed_at, pqrs.c.first_response_at):
                    await conn.execute(select(func.count()).where(column >= b.start, column < b.end, *sliced))

    result = await timed(run, runs)
    base = await timed(floor, runs)
    result["floor_p50_ms"] = base["p50_ms"]
    scanned = {f"{label}{' ' + flt.client if flt.client else ''}": await rows_scanned(app, db, label, flt)
               for label, flt in calls}
    read = {f"{label}{' ' + flt.client if flt.client else ''}": await rows_read(app, db, label, flt)
            for label, flt in calls}
    return {**result, "rows_scanned": next(iter(scanned.values())) if len(scanned) == 1 else scanned,
            "rows_read": next(iter(read.values())) if len(read) == 1 else read}


async def explain_kpis(app: App, db: SqlDatabase, name: str, calls: list[Call]) -> None:
    """Each statement one kpis call runs, its time, and its plan (EXPLAIN QUERY PLAN on SQLite,
    EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL), to stderr."""
    label, flt = calls[-1] if name == "kpis_dashboard" else calls[0]
    period = Period.parse(label)
    seen: list[list[Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append([statement, parameters, time.perf_counter()])

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen[-1][2] = time.perf_counter() - seen[-1][2]

    engines = db.sync_engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
    try:
        await app.reports.indicators.kpis(period.start, period.end, flt)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
    pg = db.dialect == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
    async with db.engine.connect() as conn:
        for statement, parameters, seconds in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = [tuple(r) for r in (await conn.exec_driver_sql(prefix + statement, parameters)).all()]
            plan = "\n".join(f"  {r[0]}" if pg else f"  {'  ' * int(r[1] > 0)}{r[-1]}" for r in rows)
            print(f"--- {db.dialect} {name} {label} ({_ms(seconds)} ms)\n{' '.join(statement.split())}\n"
                  f"  params: {parameters}\n{plan}", file=sys.stderr, flush=True)


# -- the files, each in a process of its own ---------------------------------------------------------
async def child(kind: str, url: str, contracts: Path, out: Path) -> None:
    """Build one report file (`kind` one of FILE_BENCHES) and print its figures as JSON."""
    db = SqlDatabase(url)
    app = make_app(db, contracts)
    lang, tz = app.config.language, app.reports.calendar.tz
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    try:
        if kind.startswith("file_monthly"):
            period = Period.parse(MONTH)
            doc, report = await app.reports.monthly(period), "monthly"
            flt = IndicatorSlice()
        else:
            period = Period.parse(YEAR)
            doc, report = await app.reports.client(CLIENT, period), "client"
            flt = IndicatorSlice(client=CLIENT)
        t_doc = time.perf_counter() - t0
        if kind.endswith("_xlsx"):
            from bot.reports.workbook import write_workbook   # written by then, maybe not at import time

            detail = app.reports.indicators.detail(period.start, period.end, flt)
            await write_workbook(report, doc, out, lang=lang, tz=tz, detail=detail)
        else:
            from bot.reports.document import render_pdf

            out.write_bytes(render_pdf(report, doc, lang=lang, tz=tz))
    finally:
        await db.dispose()
    print(json.dumps({"doc_s": round(t_doc, 2), "file_s": round(time.perf_counter() - t0 - t_doc, 2),
                      "bytes": out.stat().st_size, "rss_before_mb": rss_before, "peak_rss_mb": peak_rss_mb()}),
          flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)      # not Linux


def bench_file(kind: str, url: str, contracts: Path) -> dict[str, Any]:
    """Run `child` in a fresh interpreter; its wall time, peak RSS and figures."""
    out = OUT_DIR / f"indicators_{kind}.{'xlsx' if kind.endswith('xlsx') else 'pdf'}"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.indicators", "--child", kind, "--url", url, "--contracts", str(contracts),
           "--out", str(out)]
    with tempfile.TemporaryFile() as errors:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, cwd=ROOT)
        assert proc.stdout is not None
        output = proc.stdout.read()
        proc.wait()
        seconds = time.perf_counter() - t0
        errors.seek(0)
        said = errors.read().decode(errors="replace").strip()
    out.unlink(missing_ok=True)
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {said.splitlines()[-1] if said else ''}"[:300]}
    figures = json.loads(output.decode().strip().splitlines()[-1])
    peak = figures["peak_rss_mb"]
    startup = round(seconds - figures["doc_s"] - figures["file_s"], 2)   # interpreter, imports, exit
    return {"seconds": round(seconds, 2), "startup_s": startup, **figures, "goal_rss_mb": GOAL_RSS_MB,
            "ok": peak < GOAL_RSS_MB}


def file_missing(kind: str) -> str | None:
    """Why `kind` cannot run yet: the module that writes it is not there."""
    module = "workbook.py" if kind.endswith("_xlsx") else "document.py"
    return None if (ROOT / "bot" / "reports" / module).exists() else f"bot/reports/{module} not there yet"


# -- per backend -------------------------------------------------------------------------------
async def bench_backend(args: argparse.Namespace, backend: str, db: SqlDatabase, seeded_rows: int) -> None:
    base = {"backend": backend, "rows": seeded_rows}
    contracts = contracts_file()
    app = make_app(db, contracts)
    for name, (calls, goal) in kpis_benches().items():
        if not wanted(args, name):
            continue
        log(f"{backend}: {name}")
        if args.explain:
            await explain_kpis(app, db, name, calls)
        result = await bench_kpis(app, db, calls, args.runs)
        emit({"bench": name, **base, **result, "goal_ms": goal, "ok": result["p95_ms"] < goal})
    for kind in FILE_BENCHES:
        if not wanted(args, kind):
            continue
        reason = file_missing(kind)
        if reason:
            emit({"bench": kind, **base, "skipped": reason})
            continue
        log(f"{backend}: {kind}")
        emit({"bench": kind, **base, **await asyncio.to_thread(bench_file, kind, db.url, contracts)})


def wanted(args: argparse.Namespace, name: str) -> bool:
    prefixes = [w.strip() for w in (args.only or "").split(",") if w.strip()]
    return not prefixes or any(name.startswith(w) for w in prefixes)


async def run_backend(args: argparse.Namespace, backend: str, tag: str) -> None:
    if backend == "postgres":
        reason = await pg_unreachable()
        if reason:
            for name in ("seed", *kpis_benches(), *FILE_BENCHES):
                emit({"bench": name, "backend": backend, "rows": args.rows, "skipped": reason})
            return
    async with fresh_database(backend, f"pqrbot_bench_{tag}_indicators", keep=args.keep) as db:
        log(f"{backend}: seeding {args.rows:,} PQRs")
        seeded = await seed(db, args.rows, NOW, make_app(db, contracts_file()).service.windows(NOW))
        emit({"bench": "seed", "backend": backend, "rows": args.rows, "seconds": round(seeded.seconds, 1),
              "per_s": round(args.rows / seeded.seconds), "open": seeded.open, "breached": seeded.breached,
              "rollup_seconds": round(seeded.rollup_seconds, 1)})
        await bench_backend(args, backend, db, args.rows)


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        await child(args.child, args.url, Path(args.contracts), Path(args.out))
        return
    started = time.perf_counter()
    if args.url:
        db = SqlDatabase(args.url)
        try:
            await db.upgrade()              # a database seeded by an older tree: its migrations,
            counted = time.perf_counter()   # then the roll-ups it never had, counted once
            await make_app(db, contracts_file()).reports.indicators.ensure_rollups()
            log(f"migrated; roll-ups ready in {time.perf_counter() - counted:.1f} s")
            async with db.engine.connect() as conn:
                rows = int((await conn.execute(select(func.count()).select_from(pqrs))).scalar_one())
            await bench_backend(args, db.dialect.replace("postgresql", "postgres"), db, rows)
        finally:
            await db.dispose()
    else:
        tag = os.urandom(4).hex()
        for backend in (("sqlite", "postgres") if args.backend == "both" else (args.backend,)):
            await run_backend(args, backend, tag)
    log(f"done in {time.perf_counter() - started:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.indicators", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="PQRs to seed (default 1,000,000)")
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--only", help="comma-separated bench names or prefixes (kpis, file_monthly, …)")
    p.add_argument("--runs", type=int, default=RUNS, help=f"timed kpis runs after a warm-up (default {RUNS})")
    p.add_argument("--explain", action="store_true", help="each kpis statement's time and plan, to stderr")
    p.add_argument("--keep", action="store_true", help="keep the seeded databases (for --url)")
    p.add_argument("--url", help="bench this already seeded database instead of seeding one")
    p.add_argument("--child", choices=FILE_BENCHES, help=argparse.SUPPRESS)
    p.add_argument("--contracts", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rows < 100:
        p.error("--rows must be at least 100")
    return args


if __name__ == "__main__":
    asyncio.run(main())
