"""`python -m bench.web`: requests/s and p50/p99 latency of the staff queue (`GET /staff`), a PQR
page, the dashboard and `GET /api/v1/pqrs` with 100,000 PQRs on SQLite, next to a bare FastAPI
endpoint returning a constant, served the same way in the same run.

    python -m bench.web [--rows N] [--concurrency 8] [--warmup 2] [--duration 10] [--only queue,api]
                        [--nodelay] [--keep]

Each server is a child process (`python -m bench.web --serve app|bare URL`) running
`WebChannel.start()` — the socket and uvicorn settings of `pqrbot run` — with the runner's WAL
checkpoints, its clock fixed at the bench's `now`; the load comes from this process (its own event
loop, the other core): `--concurrency` httpx clients of one keep-alive connection each, requesting
back to back. Per endpoint: `--warmup` seconds discarded, then every answer completed within
`--duration` seconds counts, its latency measured from just before the request was sent. Besides
rps and latency each line carries the CPU share the server and the load generator used in that
window (1.0 = one core busy), which says which side bounded the rate, and the server's CPU time
per answer (`server_cpu_ms`: what the rate would be bounded by on an idle core); `alone_ms` is
the median latency of a few requests one at a time, before the load. One JSON line per endpoint
on stdout, the bare one first; progress on stderr. Goals (issue 16): the queue and the API at
≥ 0.3 of the bare rate with p99 < 100 ms; the dashboard p99 < 300 ms.

`--nodelay` sets TCP_NODELAY on both servers' listening sockets as well. It was the what-if that
found the delayed-ACK wait (~40 ms per keep-alive request); the web now names IPPROTO_TCP when it
binds, so asyncio sets TCP_NODELAY on its connections and the flag should change nothing.

What the pages cost, and what was done about it (issue 16, measured with this bench, cProfile and
pyinstrument on the server): aiosqlite's thread hand-offs (four per statement) were most of a
page's server CPU, so list pages, a PQR and sessions read on the loop's own connection
(`uow(readonly=True, short=True)`, storage.sqlite_inline); building each SQLAlchemy statement cost
several times executing it, so the list statements are built once per filter shape; uvicorn's
pure-Python h11 cost ~1 ms of the API's 3.4 ms, so the web names httptools; parsing an instant then
`datetime.replace` cost more than SQLite's part of a page. Full collections of the startup heap
(~110 ms each, every few seconds) made most of the tail until the web froze it (channels.web.server)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from bench.__main__ import emit, fresh_database
from bench.core import NOW
from bench.seed import seed
from bot.bootstrap import access_service, build, web_channel
from bot.config import Config, parse_config
from storage.db import CHECKPOINT_EVERY_S, SqlDatabase
from storage.ports import Database
from storage.tables import pqrs

STAFF = "slack:U0STAFF"
GOAL_RATIO, GOAL_P99_MS, GOAL_DASHBOARD_P99_MS = 0.3, 100.0, 300.0
PQR_PAGES = 200                 # distinct PQRs the PQR-page load cycles through
ALONE_REQUESTS, ALONE_MAX_S = 5, 10.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench.web] {msg}", file=sys.stderr, flush=True)


def config(url: str) -> Config:
    """The bot's default config on this database, one staff member, the web on a free port."""
    return parse_config({"database": {"url": url}, "roles": {"staff": [STAFF], "managers": []},
                         "web": {"host": "127.0.0.1", "port": 0},
                         "channels": {"console": {"enabled": False}, "email": {"enabled": False}}})


# -- the server child ----------------------------------------------------------------------------
async def checkpoints(db: Database, stop: asyncio.Event) -> None:
    """What `pqrbot run` does beside the web (bot.runner.checkpoints): a WAL checkpoint every
    CHECKPOINT_EVERY_S, so the API's per-request token write never checkpoints inline."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), CHECKPOINT_EVERY_S)
        await db.checkpoint()


def bare_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/bare")
    async def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def serve(kind: str, url: str, *, nodelay: bool = False) -> None:
    """Serve the web (`app`) or the bare endpoint (`bare`); print `{"port": N}` once listening,
    stop on SIGTERM."""
    db = SqlDatabase(url)
    app = build(config(url), db=db, clock=lambda: NOW)
    web = web_channel(app)
    if kind == "bare":
        web.app = bare_app()       # through the same WebChannel.start(): same socket, same uvicorn.Config
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await web.start()
    assert web.address is not None
    if nodelay:
        for listener in web._server.servers if web._server else ():     # noqa: SLF001 - the what-if
            for sock in listener.sockets:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    housekeeping = asyncio.create_task(checkpoints(app.db, stop)) if kind == "app" else None
    print(json.dumps({"port": web.address[1]}), flush=True)
    await stop.wait()
    await web.stop()
    if housekeeping is not None:
        await housekeeping
    await db.dispose()


class Server:
    """A `--serve` child process; `port` once it listens."""

    def __init__(self, kind: str, url: str, *, nodelay: bool = False) -> None:
        self.kind, self.url, self.nodelay = kind, url, nodelay
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0

    async def __aenter__(self) -> Server:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.web", "--serve", self.kind, self.url, *(["--nodelay"] if self.nodelay else []),
            stdout=asyncio.subprocess.PIPE)
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=60)
        if not line:
            raise SystemExit(f"the {self.kind} server exited with {await self.proc.wait()} before listening")
        self.port = json.loads(line)["port"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
        await self.proc.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the child so far (all its threads: aiosqlite's included)."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK


# -- the load ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    name: str
    paths: tuple[str, ...]                      # cycled through, one per request
    headers: dict[str, str] = field(default_factory=dict)
    min_ratio: float | None = None
    max_p99_ms: float | None = None
    kind: str = "app"                           # which server serves it

    @property
    def goal(self) -> str | None:
        parts = ([f"ratio >= {self.min_ratio}"] if self.min_ratio is not None else []) + \
                ([f"p99 < {self.max_p99_ms:g} ms"] if self.max_p99_ms is not None else [])
        return " and ".join(parts) or None

    def met(self, ratio: float, p99_ms: float | None) -> bool | None:
        if self.goal is None:
            return None
        return (self.min_ratio is None or ratio >= self.min_ratio) and \
            (self.max_p99_ms is None or (p99_ms is not None and p99_ms < self.max_p99_ms))


@dataclass
class Load:
    concurrency: int
    warmup: float
    duration: float


def pct(samples: list[float], p: float) -> float | None:
    """Nearest-rank percentile, in ms (None without samples)."""
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000, 2)


async def alone(base: str, ep: Endpoint) -> float | None:
    """Check that the endpoint answers 200 with a page or a document (not the sign-in page), then
    the median latency of up to `ALONE_REQUESTS` requests one after another on that connection
    (no other load; at most `ALONE_MAX_S` seconds)."""
    async with httpx.AsyncClient(base_url=base, headers=ep.headers, timeout=60) as client:
        r = await client.get(ep.paths[0])
        want = "application/json" if ep.name in ("api", "bare") else "text/html"
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith(want):
            raise SystemExit(f"{ep.name}: GET {ep.paths[0]} answered {r.status_code} "
                             f"{r.headers.get('content-type')}: {r.text[:300]}")
        samples: list[float] = []
        started = time.perf_counter()
        for i in range(ALONE_REQUESTS):
            t0 = time.perf_counter()
            await client.get(ep.paths[(i + 1) % len(ep.paths)])
            samples.append(time.perf_counter() - t0)
            if t0 - started > ALONE_MAX_S:
                break
    return pct(samples, 50)


async def measure(server: Server, ep: Endpoint, load: Load) -> dict[str, Any]:
    """rps, p50/p99 and CPU shares of `load.concurrency` closed-loop clients on `ep`."""
    base = f"http://127.0.0.1:{server.port}"
    alone_ms = await alone(base, ep)
    latencies: list[float] = []
    errors: dict[int, int] = {}
    start = time.perf_counter()
    window = (start + load.warmup, start + load.warmup + load.duration)

    async def client(i: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, headers=ep.headers, limits=limits, timeout=60) as http:
            n = i
            while (t0 := time.perf_counter()) < window[1]:
                r = await http.get(ep.paths[n % len(ep.paths)])
                t1 = time.perf_counter()
                n += load.concurrency
                if window[0] <= t1 <= window[1]:
                    latencies.append(t1 - t0)
                    if r.status_code != 200:
                        errors[r.status_code] = errors.get(r.status_code, 0) + 1

    async def cpu() -> tuple[float, float]:
        await asyncio.sleep(window[0] - time.perf_counter())
        s0, c0 = server.cpu_seconds(), time.process_time()
        await asyncio.sleep(window[1] - time.perf_counter())
        return server.cpu_seconds() - s0, time.process_time() - c0

    meter = asyncio.create_task(cpu())
    await asyncio.gather(*(client(i) for i in range(load.concurrency)))
    server_cpu, client_cpu = await meter
    if errors:
        raise SystemExit(f"{ep.name}: non-200 answers during the run: {errors}")
    n = len(latencies)
    return {"requests": n, "rps": round(n / load.duration, 1), "p50_ms": pct(latencies, 50),
            "p99_ms": pct(latencies, 99), "alone_ms": alone_ms,
            "server_cpu": round(server_cpu / load.duration, 2), "client_cpu": round(client_cpu / load.duration, 2),
            "server_cpu_ms": round(server_cpu * 1000 / n, 2) if n else None}


# -- the run -------------------------------------------------------------------------------------
async def sample_radicados(db: SqlDatabase, rows: int, count: int) -> list[str]:
    """`count` PQRs picked at random over the whole history (open and closed)."""
    ids = random.Random(16).sample(range(1, rows + 1), min(count, rows))
    async with db.engine.connect() as conn:
        found = (await conn.execute(select(pqrs.c.radicado).where(pqrs.c.id.in_(ids)))).scalars().all()
    return [r for r in found if r]


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    async with fresh_database("sqlite", f"web-{secrets.token_hex(4)}", keep=args.keep) as db:
        app = build(config(db.url), db=db, clock=lambda: NOW)
        log(f"seeding {args.rows:,} PQRs …")
        seeded = await seed(db, args.rows, NOW, app.service.windows(NOW))
        log(f"seeded in {seeded.seconds:.1f} s ({seeded.open:,} open, {seeded.breached:,} breached)")
        access = access_service(app)
        signed = await access.sign_in(await access.login_link_token(STAFF, now=NOW), now=NOW)
        assert signed is not None
        token = await access.create_token("bench", "manager", actor="bench", now=NOW)
        radicados = await sample_radicados(db, args.rows, PQR_PAGES)
        await db.dispose()                  # the servers are the only users from here on

        cookie = {"Cookie": f"pqrbot_session={signed.token}"}
        endpoints = [
            Endpoint("bare", ("/bare",), kind="bare"),
            Endpoint("queue", ("/staff",), cookie, GOAL_RATIO, GOAL_P99_MS),
            Endpoint("pqr", tuple(f"/staff/pqr/{r}" for r in radicados), cookie),
            Endpoint("dashboard", ("/staff/dashboard",), cookie, None, GOAL_DASHBOARD_P99_MS),
            Endpoint("api", ("/api/v1/pqrs",), {"Authorization": f"Bearer {token}"}, GOAL_RATIO, GOAL_P99_MS),
        ]
        load = Load(args.concurrency, args.warmup, args.duration)
        bare, pages = endpoints[0], [e for e in endpoints[1:] if not args.only or e.name in args.only]
        # Both servers listen throughout (the idle one uses no CPU), and each page is measured
        # right after a bare run of its own: this machine's speed drifts by 20-30 % within a
        # minute (other tenants, clocks), and a ratio of two windows a minute apart carried it.
        async with Server("bare", db.url, nodelay=args.nodelay) as bare_server, \
                Server("app", db.url, nodelay=args.nodelay) as app_server:
            for ep in pages:
                log(f"{ep.name}: bare, then the page; {load.concurrency} clients, {load.warmup:g} s warm-up + "
                    f"{load.duration:g} s each (load average {os.getloadavg()[0]:.2f})")
                base = await measure(bare_server, bare, load)
                emit({"bench": "web", "endpoint": "bare", "path": bare.paths[0], "before": ep.name,
                      "rows": args.rows, "concurrency": load.concurrency, **base, "bare_rps": base["rps"],
                      "ratio": 1.0, "goal": None, "met": None})
                figures = await measure(app_server, ep, load)
                ratio = round(figures["rps"] / base["rps"], 3)
                emit({"bench": "web", "endpoint": ep.name, "path": ep.paths[0] if len(ep.paths) == 1
                      else "/staff/pqr/{radicado}", "rows": args.rows, "concurrency": load.concurrency,
                      **({"nodelay": True} if args.nodelay else {}),
                      **figures, "bare_rps": base["rps"], "ratio": ratio, "goal": ep.goal,
                      "met": ep.met(ratio, figures["p99_ms"])})
    log(f"done in {time.perf_counter() - started:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000, help="PQRs to seed (default 100,000)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent connections (default 8)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds discarded per endpoint (default 2)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds measured per endpoint (default 10)")
    p.add_argument("--nodelay", action="store_true", help="what-if: TCP_NODELAY on the servers' sockets")
    p.add_argument("--keep", action="store_true", help="keep the SQLite file under bench/out/")
    p.add_argument("--only", type=lambda v: set(v.split(",")), default=None,
                   help="measure only these pages (comma-separated: queue,pqr,dashboard,api)")
    p.add_argument("--serve", nargs=2, metavar=("app|bare", "URL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rows < 1000:
        p.error("--rows must be at least 1000")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        asyncio.run(serve(*arguments.serve, nodelay=arguments.nodelay))
    else:
        asyncio.run(main(arguments))
