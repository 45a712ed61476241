"""Telegram intake benchmark: whole filing conversations (/start → Radicar → type → description →
Continuar → Omitir → Confirmar) through python-telegram-bot's Application in polling mode, against
the fake Bot API on loopback, on a temporary SQLite database. Prints JSON lines.

    python -m bench.telegram [--pqrs 200] [--chats 20] [--concurrency 32] [--latency-ms 0]

`--latency-ms` makes every Bot API call but getUpdates take that long, as Telegram does over the
internet (tens of ms): then processing chats concurrently is what keeps the rate up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.bootstrap import telegram_channel
from bot.bootstrap import build
from bot.config import parse_config
from channels.telegram import TelegramChannel
from storage.db import SqlDatabase
from storage.ports import PqrFilter
from tests.fakes import telegram_updates as tu
from tests.fakes.telegram_api import FakeTelegram


async def _deliver(fake: FakeTelegram, update: dict[str, Any]) -> None:
    fake.push(update)
    await fake.processed(update, timeout=60)


async def _press(fake: FakeTelegram, uid: int, data: str) -> None:
    await _deliver(fake, tu.callback(uid, data, fake.last_message(uid)))


async def conversation(fake: FakeTelegram, uid: int) -> int:
    """One customer files one PQR; returns the updates it took."""
    await _deliver(fake, tu.text(uid, "/start"))
    for data in ("c:file", "c:type:reclamo"):
        await _press(fake, uid, data)
    await _deliver(fake, tu.text(uid, f"Cobro doble en la factura {uid}"))
    for data in ("c:continue", "c:skip", "c:confirm"):
        await _press(fake, uid, data)
    return 7


async def run(pqrs: int, chats: int, *, concurrency: int = 32, latency_ms: float = 0.0) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = SqlDatabase(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await db.upgrade()
        async with FakeTelegram(latency=latency_ms / 1000) as fake:
            config = parse_config({"channels": {"console": {"enabled": False}, "email": {"enabled": False},
                                                "telegram": {"enabled": True, "base_url": fake.base_url}}})
            app = build(config, db=db)
            channel = telegram_channel(app, token=fake.token, poll_timeout=5, sweep_every=3600,
                                      concurrency=concurrency)
            await channel.start()
            setup_calls = len(fake.calls)
            started = time.perf_counter()
            updates = 0
            for first in range(0, pqrs, chats):
                batch = range(10_000 + first, 10_000 + min(first + chats, pqrs))
                updates += sum(await asyncio.gather(*(conversation(fake, uid) for uid in batch)))
            elapsed = time.perf_counter() - started
            await channel.stop()
            filed = await app.service.count(PqrFilter(statuses=()))
            api = [c.method for c in fake.calls[setup_calls:]]
            await db.dispose()
    not_polling = [m for m in api if m != "getUpdates"]
    return [
        {"bench": "telegram.filing", "pqrs": filed, "updates": updates, "concurrent_chats": chats,
         "concurrent_updates": concurrency, "api_latency_ms": latency_ms,
         "seconds": round(elapsed, 3), "updates_per_s": round(updates / elapsed, 1),
         "pqrs_per_s": round(filed / elapsed, 1)},
        {"bench": "telegram.api_calls", "per_pqr": round(len(not_polling) / filed, 2),
         "per_pqr_with_getUpdates": round(len(api) / filed, 2),
         "by_method_per_pqr": {m: round(not_polling.count(m) / filed, 2) for m in sorted(set(not_polling))}},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram")
    parser.add_argument("--pqrs", type=int, default=200)
    parser.add_argument("--chats", type=int, default=20, help="customers talking at the same time")
    parser.add_argument("--concurrency", type=int, default=32, help="updates processed at the same time")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="time each Bot API call takes")
    args = parser.parse_args()
    for line in asyncio.run(run(args.pqrs, args.chats, concurrency=args.concurrency, latency_ms=args.latency_ms)):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
