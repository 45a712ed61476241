"""`python -m bench.slack`: latency of signed `/pqr list` and `/pqr assign` requests through the
Slack HTTP endpoint (real aiohttp server, Bolt, SQLite) with 100,000 PQRs in the database.

Two figures per command, each as p50 / p99 over sequential requests:
- ack: until the HTTP answer (what Slack's 3-second limit is about);
- done: until the answer reached the response_url (the whole command, database included).
Slack's side is the fake from tests/fakes on loopback. One JSON line per command on stdout;
progress on stderr. The SQLite file goes under bench/out/ and is removed unless --keep."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.core import NOW
from bench.seed import AGENTS, seed
from bot.bootstrap import build
from bot.config import parse_config
from bot.bootstrap import slack_channel
from storage.db import SqlDatabase
from storage.ports import PqrFilter
from tests.fakes import slack_requests as rq
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack

OUT_DIR = Path(__file__).resolve().parent / "out"
GOAL_P99_MS = 100.0


def log(msg: str) -> None:
    print(f"[bench.slack] {msg}", file=sys.stderr, flush=True)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000, 2)


async def timed(http: aiohttp.ClientSession, fake: FakeSlack, url: str, text: str, user: str) -> tuple[float, float]:
    """(ack seconds, done seconds) for one signed `/pqr text`."""
    response_url = fake.response_url()
    body = rq.form_body(rq.slash_command(text, user=user.removeprefix("slack:"), response_url=response_url))
    headers = rq.sign(body)
    start = time.perf_counter()
    async with http.post(url, data=body.encode(), headers=headers) as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    acked = time.perf_counter()
    await fake.wait_for("response_url", lambda c: c.args["_url"] == response_url, timeout=10)
    return acked - start, time.perf_counter() - start


async def main(rows: int, requests: int, keep: bool) -> None:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"slack-{secrets.token_hex(4)}.db"
    db = SqlDatabase(f"sqlite+aiosqlite:///{path}")
    os.environ.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=rq.SIGNING_SECRET)
    try:
        await db.upgrade()
        async with FakeSlack() as fake:
            cfg = parse_config({"database": {"url": db.url}, "roles": {"staff": AGENTS, "managers": []},
                                "channels": {"console": {"enabled": False}, "email": {"enabled": False},
                                             "slack": {"enabled": True, "mode": "http", "http": {"port": 0},
                                                       "api_base_url": fake.api_base_url}}})
            app = build(cfg, db=db, clock=lambda: NOW)
            log(f"seeding {rows:,} PQRs …")
            seeded = await seed(db, rows, NOW, app.service.windows(NOW))
            log(f"seeded in {seeded.seconds:.1f} s ({seeded.open:,} open)")
            adapter = slack_channel(app)
            await adapter.start()
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            targets = [p.radicado for p in await app.service.list(PqrFilter(limit=requests + 20)) if p.radicado]
            try:
                async with aiohttp.ClientSession() as http:
                    plans: dict[str, list[str]] = {
                        "list": ["list"] * (requests + 20),
                        "assign": [f"assign {rad} <@{AGENTS[i % len(AGENTS)].removeprefix('slack:')}>"
                                   for i, rad in enumerate(targets)],
                    }
                    for name, texts in plans.items():
                        for text in texts[:20]:                                   # warm-up
                            await timed(http, fake, url, text, AGENTS[0])
                        samples = [await timed(http, fake, url, text, AGENTS[0]) for text in texts[20:20 + requests]]
                        acks, dones = [s[0] for s in samples], [s[1] for s in samples]
                        line: dict[str, Any] = {
                            "bench": f"slack_{name}", "backend": "sqlite", "rows": rows, "requests": len(samples),
                            "ack_p50_ms": pct(acks, 50), "ack_p99_ms": pct(acks, 99),
                            "done_p50_ms": pct(dones, 50), "done_p99_ms": pct(dones, 99),
                            "goal_p99_ms": GOAL_P99_MS, "ok": pct(dones, 99) < GOAL_P99_MS}
                        print(json.dumps(line), flush=True)
            finally:
                await adapter.stop()
    finally:
        await db.dispose()
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.slack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file under bench/out/")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.requests, args.keep))
