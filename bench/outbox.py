"""`python -m bench.outbox`: outbox delivery rate (messages/s) through `OutboxWorker` with the real
Slack and Telegram adapters, against the fake platform APIs from tests/fakes on loopback, on a
temporary SQLite database.

    python -m bench.outbox [--rows 2000] [--workers 1,2] [--batch 50] [--keep]

For each channel (slack, telegram, then both mixed) and each worker count: queue `--rows` rows per
channel, then time claim → send → mark sent until the queue is empty. The fakes run in the same
process and event loop as the workers, so their work is part of the figure (a conservative one).
Each run checks that every row was delivered exactly once (rows sent == calls the fake recorded).
One JSON line per run on stdout, progress on stderr. The digest computation at 1,000,000 PQRs
(10,000 breached) on SQLite and PostgreSQL is `python -m bench --only digest` (bench/core.py)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from bench.core import NOW
from bot.bootstrap import build
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from bot.ports import ChannelAdapter
from bot.bootstrap import slack_channel, telegram_channel
from channels.telegram import TelegramChannel
from storage.db import SqlDatabase
from storage.ports import OutboxItem
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.telegram_api import FakeTelegram

OUT_DIR = Path(__file__).resolve().parent / "out"
SLACK_CHANNEL = "C0BENCH"


def log(msg: str) -> None:
    print(f"[bench.outbox] {msg}", file=sys.stderr, flush=True)


def row(channel: str, i: int, tag: str) -> OutboxItem:
    """An SLA alert as the scheduler queues it (plain text; Slack to a channel, Telegram to a chat)."""
    text = f"⚠ PQR-2026-{i:06d} (Queja) VENCIDA desde 2026-12-22 23:59: Cobro doble — slack:U0AGENT"
    destination = SLACK_CHANNEL if channel == "slack" else str(100_000 + i)
    return OutboxItem(channel=channel, destination=destination, payload={"kind": "alert", "text": text},
                      dedupe_key=f"bench:{tag}:{channel}:{i}")


async def queue(db: SqlDatabase, channels: list[str], rows: int, tag: str) -> None:
    async with db.uow() as uow:
        for i in range(rows):
            for channel in channels:
                await uow.outbox.put(row(channel, i, tag), now=NOW)
        await uow.commit()


async def drain(workers: list[OutboxWorker]) -> int:
    """Run the workers side by side until none of them finds anything; returns rows delivered."""
    async def one(worker: OutboxWorker) -> int:
        total = 0
        while n := await worker.run_once():
            total += n
        return total

    return sum(await asyncio.gather(*(one(w) for w in workers)))


async def run(rows: int, worker_counts: list[int], batch: int, keep: bool) -> list[dict[str, Any]]:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"outbox-{secrets.token_hex(4)}.db"
    db = SqlDatabase(f"sqlite+aiosqlite:///{path}")
    os.environ.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="bench-secret")
    results: list[dict[str, Any]] = []
    try:
        await db.upgrade()
        async with FakeSlack() as slack_fake, FakeTelegram() as tg_fake:
            cfg = parse_config({
                "database": {"url": db.url}, "roles": {"staff": [], "managers": []},
                "channels": {"console": {"enabled": False}, "email": {"enabled": False},
                             "slack": {"enabled": True, "mode": "http", "http": {"port": 0},
                                       "api_base_url": slack_fake.api_base_url},
                             "telegram": {"enabled": True, "base_url": tg_fake.base_url}}})
            app = build(cfg, db=db, clock=lambda: NOW)
            slack = slack_channel(app)
            telegram = telegram_channel(app, token=tg_fake.token, poll_timeout=1, sweep_every=3600)
            await slack.start()
            await telegram.start()
            adapters: dict[str, ChannelAdapter] = {"slack": slack, "telegram": telegram}
            try:
                for channels in (["slack"], ["telegram"], ["slack", "telegram"]):
                    for count in worker_counts:
                        tag = f"{'+'.join(channels)}-{count}"
                        await queue(db, channels, rows, tag)
                        before = len(slack_fake.of("chat.postMessage")) + len(tg_fake.calls_to("sendMessage"))
                        workers = [OutboxWorker(db, {c: adapters[c] for c in channels}, lambda: NOW, batch=batch,
                                                lease=dt.timedelta(minutes=10)) for _ in range(count)]
                        log(f"{tag}: delivering {rows * len(channels):,} rows …")
                        start = time.perf_counter()
                        delivered = await drain(workers)
                        seconds = time.perf_counter() - start
                        calls = len(slack_fake.of("chat.postMessage")) + len(tg_fake.calls_to("sendMessage")) - before
                        line = {"bench": "outbox_delivery", "backend": "sqlite", "channels": "+".join(channels),
                                "workers": count, "batch": batch, "rows": rows * len(channels),
                                "delivered": delivered, "platform_calls": calls, "seconds": round(seconds, 3),
                                "messages_per_s": round(delivered / seconds, 1)}
                        assert delivered == calls == rows * len(channels), line   # exactly once
                        results.append(line)
                        print(json.dumps(line), flush=True)
            finally:
                await telegram.stop()
                await slack.stop()
    finally:
        await db.dispose()
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox")
    parser.add_argument("--rows", type=int, default=2000, help="rows per channel and run")
    parser.add_argument("--workers", default="1,2", help="worker counts to try, e.g. 1,2,4")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file under bench/out/")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    asyncio.run(run(args.rows, counts, args.batch, args.keep))


if __name__ == "__main__":
    main()
