"""IMAP intake throughput: messages waiting in a private Dovecot's INBOX (Debian's dovecot-imapd,
started here on a free loopback port), each ~5 KB from a distinct sender with a distinct
Message-ID, taken by pqrbot's reader as bootstrap builds it (SQLite in a temp dir).

    python -m bench.imap [--messages 1000] [--runs 3]

Before each case the messages are delivered into INBOX's maildir. Each case runs `--runs` times
on the same server, interleaved; one JSON line per case with the median (and the slowest and
fastest rate):
- `bare`: the reader's IMAP work alone, no storage: connect, search, sizes, fetch in batches,
  UID MOVE to another folder — the ceiling for this server and client here;
- `taken`: pqrbot's reader from start until every message is committed to the inbox and moved,
  the intake worker not running (`ratio_to_bare`: against `bare`);
- `filing_alone`: then the intake worker alone, until those messages are filed (a PQR and its
  acknowledgment queued each);
- `filed`: reader and intake worker together on one event loop, as `pqrbot run` has them, from
  the start until every message is filed (`taken_s`: when the reader was done in that run)."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.bootstrap import build, imap_channel, intake_worker
from bot.config import parse_config
from channels.imap.client import Credentials, ImapSession
from channels.imap.reader import batches
from storage.db import SqlDatabase
from storage.ports import PqrFilter
from tests.channels.imap.dovecot import PASSWORD, Dovecot, DovecotMissing, mail

BODY = ("Estimados señores: les escribo para presentar una queja por el servicio prestado. "
        "Lorem ipsum dolor sit amet.\r\n") * 48          # ~5 KB with the headers
PASSWORD_ENV = "PQRBOT_BENCH_IMAP_PASSWORD"


def log(msg: str) -> None:
    print(f"[bench.imap] {msg}", file=sys.stderr, flush=True)


async def fill(server: Dovecot, count: int, run: str) -> None:
    """`count` messages delivered into INBOX's maildir (as a delivery agent would: APPEND, an fsync
    each, would make the setup the slowest part of the bench)."""
    await server.deliver("INBOX", [mail(n, sender=f"cliente{n}-{run}@bench.example.co",
                                        message_id=f"<{run}.{n}@bench.example.co>", body=BODY)
                                   for n in range(count)])


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench did not finish in time")
        await asyncio.sleep(0.02)


async def bare(server: Dovecot, count: int) -> float:
    """The reader's IMAP round without storage; seconds for `count` messages."""
    session = ImapSession("127.0.0.1", server.port, "none")
    start = time.perf_counter()
    await session.connect()
    await session.authenticate(Credentials(server.user, password=PASSWORD))
    await session.ensure_folder("Bare")
    await session.select("INBOX")
    uids = await session.search_after(0)
    taken = 0
    for batch in batches(uids, await session.sizes(uids)):
        got = await session.fetch(batch)
        taken += len(got)
        await session.move([m.uid for m in got], "Bare")
    seconds = time.perf_counter() - start
    await session.logout()
    assert taken == count, (taken, count)
    return seconds


async def pqrbot(server: Dovecot, count: int, tmp: Path, *, together: bool) -> dict[str, Any]:
    """pqrbot's IMAP channel and intake worker on a fresh database: the worker started with the
    reader (`together`, as `pqrbot run` has it), or once the reader has taken everything (which
    times each alone)."""
    name = "together" if together else "apart"
    url = f"sqlite+aiosqlite:///{tmp / name}.db"
    db = SqlDatabase(url)
    await db.upgrade()
    config = parse_config({"database": {"url": url}, "web": {"enabled": False}, "channels": {
        "console": {"enabled": False}, "email": {"enabled": True, "relay": None},
        "imap": {"enabled": True, "accounts": [{
            "name": "bench", "host": "127.0.0.1", "port": server.port, "security": "none",
            "username": server.user, "password_env": PASSWORD_ENV, "processed_folder": f"Taken-{name}"}]}}})
    app = build(config, db=db)
    channel = imap_channel(app)
    reader = channel.readers[0]
    stop = asyncio.Event()
    worker = intake_worker(app)
    tasks: list[asyncio.Task[None]] = []
    result: dict[str, Any] = {}

    async def taken() -> bool:
        return reader.taken >= count and reader.state == "idle"

    async def filed() -> bool:
        async with db.uow(readonly=True) as uow:
            depth = await uow.inbox.depth()
        return depth.get("pending", 0) == 0 and sum(depth.values()) >= count

    try:
        start = time.perf_counter()
        if together:
            tasks.append(asyncio.create_task(worker.run(stop)))
        await channel.start()
        await until(taken)
        result["taken_s"] = time.perf_counter() - start
        if not together:
            start = time.perf_counter()
            tasks.append(asyncio.create_task(worker.run(stop)))
        await until(filed)
        result["filed_s"] = time.perf_counter() - start
        async with db.uow(readonly=True) as uow:
            result["pqrs"] = await uow.pqrs.count(PqrFilter(statuses=()))
            result["depth"] = await uow.inbox.depth()
        result["worker_batches"] = worker.batches
        result["worker_batch_max"] = max(worker.batch_sizes, default=0)
    finally:
        await channel.stop()
        stop.set()
        await asyncio.gather(*tasks)
        await worker.intake.stop()
        await db.dispose()
    result["taken"] = reader.taken
    return result


async def run(count: int, runs: int) -> list[dict[str, Any]]:
    import os
    os.environ[PASSWORD_ENV] = PASSWORD
    root = Path(tempfile.mkdtemp(prefix="pqr-bench-imap-", dir="/tmp"))
    root.chmod(0o755)
    (root / "dovecot").mkdir()
    (root / "dovecot").chmod(0o755)
    server = Dovecot(root / "dovecot")
    server.start()
    samples: dict[str, list[dict[str, Any]]] = {"bare": [], "apart": [], "together": []}
    try:
        for attempt in range(runs):
            for case in ("bare", "apart", "together"):
                await fill(server, count, f"{case}{attempt}")
                assert await server.count("INBOX") == count
                log(f"run {attempt + 1}/{runs}: {case} …")
                if case == "bare":
                    samples[case].append({"seconds": await bare(server, count)})
                else:
                    got = await pqrbot(server, count, root / f"{case}{attempt}.d", together=case == "together")
                    assert got["taken"] == count and got["pqrs"] == count, got
                    samples[case].append(got)
                assert await server.count("INBOX") == 0
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return report(count, runs, samples)


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def report(count: int, runs: int, samples: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One line per case: the median of the runs (and the spread of the rate)."""
    base = {"bench": "imap", "backend": "sqlite", "messages": count, "runs": runs}

    def rate(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
        rates = sorted(count / r[key] for r in rows)
        return {"messages_per_s": round(count / _median(rows, key), 1), "min_per_s": round(rates[0], 1),
                "max_per_s": round(rates[-1], 1)}

    bare_rate = count / _median(samples["bare"], "seconds")
    apart, together = samples["apart"], samples["together"]
    taken_rate = count / _median(apart, "taken_s")
    return [
        {**base, "case": "bare", "seconds": round(_median(samples["bare"], "seconds"), 3),
         **rate(samples["bare"], "seconds")},
        {**base, "case": "taken", "seconds": round(_median(apart, "taken_s"), 3), **rate(apart, "taken_s"),
         "ratio_to_bare": round(taken_rate / bare_rate, 3)},
        {**base, "case": "filing_alone", "seconds": round(_median(apart, "filed_s"), 3),
         **rate(apart, "filed_s"), "worker_batch_max": max(r["worker_batch_max"] for r in apart)},
        {**base, "case": "filed", "seconds": round(_median(together, "filed_s"), 3), **rate(together, "filed_s"),
         "taken_s": round(_median(together, "taken_s"), 3), "pqrs": together[-1]["pqrs"],
         "inbox": together[-1]["depth"], "worker_batches": together[-1]["worker_batches"],
         "worker_batch_max": max(r["worker_batch_max"] for r in together)},
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.imap")
    p.add_argument("--messages", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3, help="each case this many times; the median is printed")
    args = p.parse_args(argv)
    try:
        for line in asyncio.run(run(args.messages, args.runs)):
            print(json.dumps(line), flush=True)
    except DovecotMissing as exc:
        log(f"skipped: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
