"""Email intake throughput, through a real `pqrbot run` (SQLite in a temp dir) next to a bare
aiosmtpd server whose handler only answers 250, same load, same run.

    python -m bench.email [--messages 2000] [--clients 1 8] [--relay down sink] [--e2e-messages 2000]
                          [--repeat 3]

SMTP acceptance (`email_smtp_acceptance`, one JSON line per client count and relay, from `--repeat`
rounds of a bare run right before a pqrbot run; the round with the median ratio gives the figures,
`ratio_samples` every round's): messages/s answered 250 by pqrbot (which commits each raw
message to the durable inbox first, group-committed across sessions, while the intake worker and
the outbox give way to the burst on the same loop: bot.burst), the bare rate, their ratio
and its goal (0.5 at 1 client, 0.7 at 8), and how many of the messages that got 250 are in the
inbox — counted after the pqrbot process is killed with SIGKILL right after the burst. Every
message is ~5 KB from a distinct sender with a distinct Message-ID, so each one files a PQR and
queues an acknowledgment. Relay `down`: a closed port (acknowledgments are queued and the channel is
found down). Relay `sink`: a real SMTP server in its own process that accepts everything;
`acks_delivered` counts what it got by the end of the burst, `acks_after_s` how long the rest took.

Two ceilings run in the same run: pqrbot's own SMTP server and handler (same session settings) with
the inbox replaced by a stand-in that answers at once (`smtp_no_storage`: what pqrbot's SMTP side
costs before any storage), and with the real inbox on SQLite but no intake worker
(`smtp_inbox_no_filing`: the SMTP side plus the group-committed appends, nothing filed). pqrbot's
acceptance cannot beat the second: the filing shares its loop.

End to end (`email_end_to_end`): from the first connection until every PQR is filed and its
acknowledgment queued, for `--e2e-messages` messages at 8 clients (goal: 1,000 PQRs/s), with when
the last `250` came, the intake worker's batch sizes (items marked in one filing transaction share
their `updated_at`) and the inbox depth sampled over time (`[seconds, pending, filed]`).

What bounds the figures (`email_intake_costs`, in this process, same messages): the loop time per
message of each step — the SMTP side's append (alone: one commit per message as with 1 client; in
groups of 8 as with 8 clients), then the worker's claim, read (parse, loop filter, trust), filing
(`IntakeService.receive_many_in`), marking and commit, for batches of 256.

`BENCH_EXTRA` (JSON) completes the `pqrbot run` config, e.g. `{"inbox": {"busy_share": 1}}`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BODY = ("Estimados señores: les escribo para presentar una queja por el servicio prestado. "
        "Lorem ipsum dolor sit amet.\r\n") * 48          # ~5 KB with the headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def message(client: int, n: int, run: str) -> tuple[str, str]:
    sender = f"cliente{client}-{n}-{run}@bench.example.co"
    text = (f"From: Cliente {client} <{sender}>\r\nTo: pqr@pqr.example.co\r\n"
            f"Subject: Queja por el servicio {n}\r\nMessage-ID: <{run}.{client}.{n}@bench.example.co>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{BODY}")
    return sender, text


def load(port: int, clients: int, per_client: int, run: str) -> tuple[float, int]:
    """Send `per_client` messages from each of `clients` threads (one connection each);
    returns (seconds, messages answered 250)."""
    accepted = [0] * clients
    start = threading.Barrier(clients + 1)

    def client(c: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            smtp.ehlo()
            start.wait()
            for n in range(per_client):
                sender, text = message(c, n, run)
                try:
                    smtp.sendmail(sender, ["pqr@pqr.example.co"], text.encode("utf-8"))
                    accepted[c] += 1
                except smtplib.SMTPException:
                    pass

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sum(accepted)


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if needle in line:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
            return
        if not line and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
    raise TimeoutError(f"no {needle!r} within {timeout}s")


def serve_bare(port: int, count_to: str | None = None) -> None:
    """A bare aiosmtpd server whose DATA handler only answers 250 (the baseline; also the relay
    sink, which then writes how many messages it took to the file `count_to`)."""
    from aiosmtpd.smtp import SMTP

    class Handler:
        taken = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            if count_to:
                Handler.taken += 1
                Path(count_to).write_text(str(Handler.taken))
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Handler(), hostname="bare", enable_SMTPUTF8=True),
                                          "127.0.0.1", port)
        print(f"bare: SMTP listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class StandInInbox:
    """The inbox's place in the ceiling server: every append answered at once, nothing stored."""

    def __init__(self) -> None:
        self.next_id = 0

    async def append(self, items: Any) -> list[int]:
        self.next_id += len(items)
        return list(range(self.next_id - len(items) + 1, self.next_id + 1))

    async def stop(self) -> None:
        return None


def serve_ceiling(port: int, work: str) -> None:
    """pqrbot's email channel (default config) on `port`, the inbox replaced by `StandInInbox`
    (`smtp`), or the real inbox on a SQLite file with no intake worker (`inbox`)."""
    from bot.bootstrap import build, inbox_for
    from bot.clock import system_clock
    from bot.config import parse_config
    from channels.email.adapter import EmailChannel

    async def main(tmp: str) -> None:
        cfg = parse_config({"database": {"url": f"sqlite+aiosqlite:///{tmp}/inbox.db"},
                            "channels": {"email": {"listen": {"host": "127.0.0.1", "port": port}}}})
        if work == "inbox":
            app = build(cfg)
            await app.db.upgrade()
            inbox: Any = inbox_for(app)
        else:
            inbox = StandInInbox()
        channel = EmailChannel(cfg.channels.email, inbox, system_clock)
        await channel.start()
        assert channel.address is not None
        print(f"ceiling: SMTP listening on {channel.address[0]}:{channel.address[1]}", file=sys.stderr, flush=True)
        await asyncio.Event().wait()

    with tempfile.TemporaryDirectory(prefix="pqrbot-ceiling-") as tmp:
        asyncio.run(main(tmp))


def start_bare(port: int, count_to: Path | None = None, *, ceiling: str | None = None) -> subprocess.Popen[str]:
    extra = ["--ceiling", ceiling] if ceiling else ["--count-to", str(count_to)] if count_to else []
    proc = subprocess.Popen([sys.executable, "-m", "bench.email", "--serve-bare", str(port), *extra], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    wait_for_line(proc, "SMTP listening")
    return proc


def taken(count_file: Path) -> int:
    try:
        return int(count_file.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def bare_rate(clients: int, per_client: int, *, ceiling: str | None = None) -> float:
    """Messages/s of the bare server, or of a ceiling server (`smtp`, `inbox`)."""
    port = free_port()
    proc = start_bare(port, ceiling=ceiling)
    try:
        seconds, accepted = load(port, clients, per_client, f"{ceiling or 'bare'}{clients}")
        return accepted / seconds
    finally:
        proc.kill()
        proc.wait()


def start_pqrbot(tmp: str, relay_port: int) -> tuple[subprocess.Popen[str], int, Path]:
    """`pqrbot run` on a fresh SQLite database in `tmp`; (process, SMTP port, database file)."""
    port, db = free_port(), Path(tmp) / "pqr.db"
    cfg = {"database": {"url": f"sqlite+aiosqlite:///{db}"}, "web": {"enabled": False}, **json.loads(os.environ.get("BENCH_EXTRA", "{}")),
           "channels": {"console": {"enabled": False},
                        "email": {"listen": {"host": "127.0.0.1", "port": port},
                                  "relay": {"host": "127.0.0.1", "port": relay_port},
                                  # the load comes from loopback as it would from the company
                                  # relay: not one client, so every message is acknowledged
                                  "rate_limit": {"exempt_clients": ["127.0.0.0/8"]}}}}
    (Path(tmp) / "config.json").write_text(json.dumps(cfg))
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(Path(tmp) / "config.json"), "run"],
                            cwd=tmp, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc, port, db


def warm_up(port: int, db: Path, timeout: float = 60, *, relay_count: Path | None = None) -> None:
    """One message, until it is filed (and its acknowledgment delivered, with a sink relay): the
    first PQR loads the holiday calendars and the code paths (most of a second on the loop); a
    steady state is what is measured. Counts exclude it."""
    sender, text = message(999, 0, "warm")
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.sendmail(sender, ["pqr@pqr.example.co"], text.encode("utf-8"))
    deadline = time.monotonic() + timeout
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        while conn.execute("SELECT count(*) FROM pqrs").fetchone()[0] < WARM_UP and time.monotonic() < deadline:
            time.sleep(0.05)
        while relay_count is not None and taken(relay_count) < WARM_UP and time.monotonic() < deadline:
            time.sleep(0.05)
    time.sleep(0.5)      # its acknowledgment's first try, too


WARM_UP = 1


def pqrbot_rate(clients: int, per_client: int, relay: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pqrbot-bench-") as tmp:
        relay_port = free_port()
        count_file = Path(tmp) / "relay-count"
        sink = start_bare(relay_port, count_file) if relay == "sink" else None
        proc, port, db = start_pqrbot(tmp, relay_port)
        acks: dict[str, Any] = {}
        try:
            wait_for_line(proc, "SMTP listening")
            warm_up(port, db, relay_count=count_file if sink is not None else None)
            seconds, accepted = load(port, clients, per_client, f"bot{clients}")
            if sink is not None:
                acks["acks_delivered"] = taken(count_file) - WARM_UP
                burst_over = time.monotonic()
                deadline = burst_over + 120
                while taken(count_file) - WARM_UP < accepted and time.monotonic() < deadline:
                    time.sleep(0.05)
                acks["acks_after_s"] = round(time.monotonic() - burst_over, 2)
                acks["acks_delivered_in_the_end"] = taken(count_file) - WARM_UP
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if sink is not None:
                sink.kill()
                sink.wait()
        with sqlite3.connect(db) as conn:
            inbox = conn.execute("SELECT count(DISTINCT message_id) FROM inbox").fetchone()[0]
            pqrs = conn.execute("SELECT count(*) FROM pqrs").fetchone()[0]
        return {"rate": accepted / seconds, "accepted": accepted, "durable_inbox": inbox - WARM_UP,
                "filed_at_kill": pqrs - WARM_UP, **acks}


def end_to_end(clients: int, per_client: int, *, sample_every: float = 0.1) -> dict[str, Any]:
    """Seconds from the first connection until every message is a PQR with its acknowledgment
    queued (relay down: queued, not sent), the inbox depth meanwhile and the worker's batch sizes."""
    total = clients * per_client + WARM_UP
    with tempfile.TemporaryDirectory(prefix="pqrbot-e2e-") as tmp:
        proc, port, db = start_pqrbot(tmp, free_port())
        try:
            wait_for_line(proc, "SMTP listening")
            warm_up(port, db)
            burst: dict[str, float] = {}

            def send() -> None:
                burst["seconds"], burst["accepted"] = load(port, clients, per_client, f"e2e{clients}")

            sender = threading.Thread(target=send)
            sender.start()
            t0 = time.perf_counter()       # the clients are connected; the barrier lets them go now
            depth: list[list[float]] = []
            done = None
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
                while time.perf_counter() - t0 < 300:
                    pending, filed = conn.execute(
                        "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status != 'pending') "
                        "FROM inbox").fetchone()
                    depth.append([round(time.perf_counter() - t0, 2), pending, filed - WARM_UP])
                    if filed >= total:
                        pqrs = conn.execute("SELECT count(*) FROM pqrs").fetchone()[0]
                        acks = conn.execute("SELECT count(*) FROM outbox WHERE channel = 'email' AND "
                                            "json_extract(payload, '$.kind') = 'ack'").fetchone()[0]
                        if pqrs >= total and acks >= total:
                            done = time.perf_counter() - t0
                            break
                    time.sleep(sample_every)
                sender.join()
                batches = [n for (n,) in conn.execute(
                    "SELECT count(*) FROM inbox WHERE status != 'pending' GROUP BY updated_at ORDER BY min(id)")]
                pqrs = conn.execute("SELECT count(*) FROM pqrs").fetchone()[0]
                acks = conn.execute("SELECT count(*) FROM outbox WHERE channel = 'email' AND "
                                    "json_extract(payload, '$.kind') = 'ack'").fetchone()[0]
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    seconds = done if done is not None else float("nan")
    return {"seconds": seconds, "burst_seconds": burst.get("seconds"), "accepted": burst.get("accepted"),
            "pqrs": pqrs - WARM_UP, "acks_queued": acks - WARM_UP, "batches": batches[1:], "depth": depth}


def stage_costs(messages: int = 1024, batch: int = 256) -> dict[str, Any]:
    """Milliseconds of loop time per message for each step of the inbox path, on a fresh SQLite."""
    import datetime as dt

    from bot.bootstrap import build, inbox_for, intake_for, mail_reader
    from bot.config import parse_config
    from storage.ports import InboxItem

    async def main(tmp: str) -> dict[str, float]:
        cfg = parse_config({"database": {"url": f"sqlite+aiosqlite:///{tmp}/costs.db"},
                            "channels": {"console": {"enabled": False},
                                         "email": {"rate_limit": {"exempt_clients": ["127.0.0.0/8"]}}}})
        app = build(cfg)
        await app.db.upgrade()
        inbox, intake, reader = inbox_for(app), intake_for(app), mail_reader(app)
        now = app.clock()
        items = [InboxItem(source="smtp", received_at=now, data=message(n % 8, n, "costs")[1].encode(),
                           mail_from=f"costs{n}@bench.example.co", client="127.0.0.1", message_id=f"<{n}@costs>",
                           subject="Queja") for n in range(messages)]
        spent = dict.fromkeys(("append_alone", "append_in_8s", "claim", "read", "file", "mark", "commit"), 0.0)
        half = messages // 2
        t = time.perf_counter()
        for item in items[:half]:
            await inbox.append([item])
        spent["append_alone"] = (time.perf_counter() - t) / half
        t = time.perf_counter()
        for start in range(half, messages, 8):
            await asyncio.gather(*(inbox.append([item]) for item in items[start:start + 8]))
        spent["append_in_8s"] = (time.perf_counter() - t) / (messages - half)
        done = 0
        while done < messages:
            t = time.perf_counter()
            async with app.db.uow() as uow:
                claimed = await uow.inbox.claim(now=app.clock(), limit=batch, lease=dt.timedelta(seconds=60))
                await uow.commit()
            spent["claim"] += time.perf_counter() - t
            t = time.perf_counter()
            read = [reader.read(i.data, mail_from=i.mail_from, client=i.client, received_at=i.received_at)
                    for i in claimed]
            spent["read"] += time.perf_counter() - t
            async with app.db.uow() as uow:
                t = time.perf_counter()
                results = await intake.receive_many_in(uow, [(r.message, r.pqr_type, r.kept_aside) for r in read])
                spent["file"] += time.perf_counter() - t
                t = time.perf_counter()
                for item, result in zip(claimed, results, strict=True):
                    assert item.id is not None and not isinstance(result, Exception)
                    await uow.inbox.mark(item.id, result.disposition, now=app.clock(), radicado=result.radicado)
                spent["mark"] += time.perf_counter() - t
                t = time.perf_counter()
                await uow.commit()
                spent["commit"] += time.perf_counter() - t
            done += len(claimed)
        for step in ("claim", "read", "file", "mark", "commit"):
            spent[step] /= messages
        await inbox.stop()
        await intake.stop()
        await app.db.dispose()
        return spent

    with tempfile.TemporaryDirectory(prefix="pqrbot-costs-") as tmp:
        spent = asyncio.run(main(tmp))
    worker = sum(spent[k] for k in ("claim", "read", "file", "mark", "commit"))
    return {"bench": "email_intake_costs", "messages": messages, "batch": batch,
            **{f"{k}_ms_per_msg": round(v * 1000, 3) for k, v in spent.items()},
            "worker_ms_per_msg": round(worker * 1000, 3),
            "worker_ceiling_pqrs_per_s": round(1 / worker, 1) if worker else None}


ACCEPTANCE_GOALS = {1: 0.5, 8: 0.7}      # of the bare rate (issue 17)
E2E_GOAL = 1000                          # PQRs/s, filed and acknowledgment queued


def run(messages: int = 2000, client_counts: tuple[int, ...] = (1, 8),
        relays: tuple[str, ...] = ("down", "sink"), e2e_messages: int = 2000,
        repeat: int = 3) -> list[dict[str, Any]]:
    """One acceptance result per client count and relay, then the end-to-end result."""
    results = []
    bare_by_clients = {}
    for clients in client_counts:
        per_client = max(1, messages // clients)
        ceilings = {"smtp_no_storage": bare_rate(clients, per_client, ceiling="smtp"),
                    "smtp_inbox_no_filing": bare_rate(clients, per_client, ceiling="inbox")}
        for relay in relays:
            # `repeat` rounds of a bare run right before a pqrbot run: this machine's speed drifts
            # by 20-30 % within a minute, and one pair of runs is a sample of that drift. The
            # figure is the round with the median ratio; every round's ratio is listed, and every
            # round's 250s must be durable.
            rounds = []
            for _ in range(repeat):
                bare = bare_rate(clients, per_client)
                rounds.append((bare, pqrbot_rate(clients, per_client, relay)))
            rounds.sort(key=lambda r: r[1]["rate"] / r[0])
            bare, bot = rounds[len(rounds) // 2]
            bare_by_clients[clients] = bare
            result = _result(clients, per_client, relay, bot, bare, ceilings)
            result["rounds"] = repeat
            result["ratio_samples"] = [round(b["rate"] / r, 3) for r, b in rounds]
            result["all_250_durable"] = all(b["durable_inbox"] >= b["accepted"] for _, b in rounds)
            results.append(result)
    if e2e_messages:
        per_client = max(1, e2e_messages // 8)
        bare = bare_by_clients.get(8) or bare_rate(8, per_client)
        results.append(_e2e_result(8, per_client, end_to_end(8, per_client), bare))
        results.append(stage_costs())
    return results


def _result(clients: int, per_client: int, relay: str, bot: dict[str, Any], bare: float,
            ceilings: dict[str, float]) -> dict[str, Any]:
    extra: dict[str, Any] = {k: bot[k] for k in ("acks_delivered", "acks_after_s", "acks_delivered_in_the_end")
                             if k in bot}
    ratio = bot["rate"] / bare
    goal = ACCEPTANCE_GOALS.get(clients)
    return {"bench": "email_smtp_acceptance", "clients": clients, "relay": relay, "messages": per_client * clients,
            "message_bytes": len(message(0, 0, "x")[1].encode()),
            "pqrbot_msgs_per_s": round(bot["rate"], 1), "bare_aiosmtpd_msgs_per_s": round(bare, 1),
            "ratio": round(ratio, 3), "goal_ratio": goal, "goal_met": goal is not None and ratio >= goal,
            "accepted_250": bot["accepted"], "durable_in_inbox": bot["durable_inbox"],
            "all_250_durable": bot["durable_inbox"] >= bot["accepted"], "filed_at_kill": bot["filed_at_kill"],
            **{f"{name}_msgs_per_s": round(rate, 1) for name, rate in ceilings.items()},
            **{f"{name}_ratio": round(rate / bare, 3) for name, rate in ceilings.items()}, **extra}


def _e2e_result(clients: int, per_client: int, e2e: dict[str, Any], bare: float) -> dict[str, Any]:
    total, seconds, batches = per_client * clients, e2e["seconds"], e2e["batches"]
    rate = total / seconds if seconds == seconds else 0.0     # NaN: not done within the time limit
    ordered = sorted(batches)
    depth = e2e["depth"]
    step = max(1, len(depth) // 40)                           # at most ~40 samples on the line
    return {"bench": "email_end_to_end", "clients": clients, "messages": total,
            "seconds": round(seconds, 3), "pqrs_per_s": round(rate, 1), "goal_pqrs_per_s": E2E_GOAL,
            "goal_met": rate >= E2E_GOAL, "last_250_after_s": round(e2e["burst_seconds"] or 0, 3),
            "smtp_msgs_per_s": round((e2e["accepted"] or 0) / (e2e["burst_seconds"] or 1), 1),
            "bare_aiosmtpd_msgs_per_s": round(bare, 1), "accepted_250": e2e["accepted"], "pqrs": e2e["pqrs"],
            "acks_queued": e2e["acks_queued"],
            "worker_batches": len(batches), "worker_batch_size": {
                "mean": round(sum(batches) / len(batches), 1) if batches else None,
                "p50": ordered[len(ordered) // 2] if ordered else None, "max": ordered[-1] if ordered else None,
                "first_20": batches[:20]},
            "inbox_depth_over_time": depth[::step] + ([depth[-1]] if depth and (len(depth) - 1) % step else [])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.email")
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    p.add_argument("--relay", nargs="+", choices=["down", "sink"], default=["down", "sink"])
    p.add_argument("--e2e-messages", type=int, default=2000, help="0: no end-to-end run")
    p.add_argument("--repeat", type=int, default=3, help="rounds (bare, then pqrbot) per acceptance figure")
    p.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--count-to", help=argparse.SUPPRESS)
    p.add_argument("--ceiling", choices=["smtp", "inbox"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_bare and args.ceiling:
        serve_ceiling(args.serve_bare, args.ceiling)
        return 0
    if args.serve_bare:
        serve_bare(args.serve_bare, args.count_to)
        return 0
    for result in run(args.messages, tuple(args.clients), tuple(args.relay), args.e2e_messages, max(1, args.repeat)):
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
