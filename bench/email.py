"""Email intake throughput: messages/s through a real `pqrbot run` (SQLite in a temp dir) next to
a bare aiosmtpd server whose handler only answers 250, same load, same run.

    python -m bench.email [--messages 600] [--clients 1 8] [--relay down sink]

Prints one JSON line per client count and relay: both rates, their ratio, the ceilings below,
and how many of the messages that got 250 are in the database (counted after the pqrbot process
is killed with SIGKILL). Every message is ~5 KB from a distinct sender with a distinct
Message-ID, so each one files a PQR and queues an acknowledgment. Relay `down`: a closed port
(acknowledgments are queued and the channel is found down). Relay `sink`: a real SMTP server in
its own process that accepts everything; `acks_delivered` counts what it got by the end of the
burst, `acks_after_s` how long the rest took once the burst was over.

Two ceilings run in the same run, so the ratio can be read against what is possible here: pqrbot's
own SMTP server and handler (same parser, loop filter and session settings) with intake replaced
by a stand-in that either answers at once (`parse_only`) or first commits the raw message as one
SQLite row, one commit per message (`parse_and_raw_commit`). A server that files PQRs does all of
the first and more than the second, so it cannot beat them."""

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


class StandInIntake:
    """Intake's place in the ceiling servers. With `db_path`, the raw message is inserted as one
    row of a SQLite file (WAL, synchronous=NORMAL as pqrbot's) and committed before the answer."""

    def __init__(self, db_path: str | None) -> None:
        from bot.intake.service import FILED, IntakeResult
        self.result = IntakeResult(FILED, radicado="CEILING")
        self.conn: sqlite3.Connection | None = None
        if db_path:
            self.conn = sqlite3.connect(db_path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.execute("CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, received_at TEXT, data BLOB)")

    async def receive(self, msg: Any, *, pqr_type: Any = None, kept_aside: str | None = None) -> Any:
        if self.conn is not None:
            self.conn.execute("INSERT INTO raw (received_at, data) VALUES (?, ?)",
                              (msg.received_at.isoformat(), msg.raw))   # autocommit: one commit each
        return self.result


def serve_ceiling(port: int, work: str) -> None:
    """pqrbot's email channel (default config) on `port`, intake replaced by `StandInIntake`."""
    from bot.clock import system_clock
    from bot.config import parse_config
    from channels.email.adapter import EmailChannel

    async def main() -> None:
        cfg = parse_config({"channels": {"email": {"listen": {"host": "127.0.0.1", "port": port}}}})
        with tempfile.TemporaryDirectory(prefix="pqrbot-ceiling-") as tmp:
            intake = StandInIntake(str(Path(tmp) / "raw.db") if work == "commit" else None)
            channel = EmailChannel(cfg.channels.email, intake, system_clock)  # type: ignore[arg-type]
            await channel.start()
            assert channel.address is not None
            print(f"ceiling: SMTP listening on {channel.address[0]}:{channel.address[1]}", file=sys.stderr, flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())


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
    """Messages/s of the bare server, or of a ceiling server (`parse` or `commit`)."""
    port = free_port()
    proc = start_bare(port, ceiling=ceiling)
    try:
        seconds, accepted = load(port, clients, per_client, f"{ceiling or 'bare'}{clients}")
        return accepted / seconds
    finally:
        proc.kill()
        proc.wait()


def pqrbot_rate(clients: int, per_client: int, relay: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pqrbot-bench-") as tmp:
        port, relay_port, db = free_port(), free_port(), Path(tmp) / "pqr.db"
        count_file = Path(tmp) / "relay-count"
        sink = start_bare(relay_port, count_file) if relay == "sink" else None
        cfg = {"database": {"url": f"sqlite+aiosqlite:///{db}"},
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
        acks: dict[str, Any] = {}
        try:
            wait_for_line(proc, "SMTP listening")
            seconds, accepted = load(port, clients, per_client, f"bot{clients}")
            if sink is not None:
                acks["acks_delivered"] = taken(count_file)
                burst_over = time.monotonic()
                deadline = burst_over + 120
                while taken(count_file) < accepted and time.monotonic() < deadline:
                    time.sleep(0.05)
                acks["acks_after_s"] = round(time.monotonic() - burst_over, 2)
                acks["acks_delivered_in_the_end"] = taken(count_file)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if sink is not None:
                sink.kill()
                sink.wait()
        with sqlite3.connect(db) as conn:
            pqrs = conn.execute("SELECT count(*) FROM pqrs").fetchone()[0]
            raw = conn.execute("SELECT count(*) FROM raw_messages WHERE disposition = 'filed'").fetchone()[0]
        return {"rate": accepted / seconds, "accepted": accepted, "durable_pqrs": pqrs, "durable_raw": raw,
                **acks}


def run(messages: int = 600, client_counts: tuple[int, ...] = (1, 8),
        relays: tuple[str, ...] = ("down", "sink")) -> list[dict[str, Any]]:
    """One result per client count and relay."""
    results = []
    for clients in client_counts:
        per_client = max(1, messages // clients)
        bare = bare_rate(clients, per_client)
        ceilings = {name: bare_rate(clients, per_client, ceiling=work)
                    for name, work in (("parse_only", "parse"), ("parse_and_raw_commit", "commit"))}
        for relay in relays:
            results.append(_result(clients, per_client, relay, pqrbot_rate(clients, per_client, relay), bare,
                                   ceilings))
    return results


def _result(clients: int, per_client: int, relay: str, bot: dict[str, Any], bare: float,
            ceilings: dict[str, float]) -> dict[str, Any]:
    extra = {k: bot[k] for k in ("acks_delivered", "acks_after_s", "acks_delivered_in_the_end") if k in bot}
    return {"bench": "email_intake", "clients": clients, "relay": relay, "messages": per_client * clients,
            "message_bytes": len(message(0, 0, "x")[1].encode()),
            "pqrbot_msgs_per_s": round(bot["rate"], 1), "bare_aiosmtpd_msgs_per_s": round(bare, 1),
            "ratio": round(bot["rate"] / bare, 3), "accepted_250": bot["accepted"],
            "durable_pqrs": bot["durable_pqrs"], "durable_raw": bot["durable_raw"],
            "all_250_durable": bot["durable_pqrs"] >= bot["accepted"],
            **{f"{name}_msgs_per_s": round(rate, 1) for name, rate in ceilings.items()},
            **{f"{name}_ratio": round(rate / bare, 3) for name, rate in ceilings.items()}, **extra}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.email")
    p.add_argument("--messages", type=int, default=600)
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    p.add_argument("--relay", nargs="+", choices=["down", "sink"], default=["down", "sink"])
    p.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--count-to", help=argparse.SUPPRESS)
    p.add_argument("--ceiling", choices=["parse", "commit"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_bare and args.ceiling:
        serve_ceiling(args.serve_bare, args.ceiling)
        return 0
    if args.serve_bare:
        serve_bare(args.serve_bare, args.count_to)
        return 0
    for result in run(args.messages, tuple(args.clients), tuple(args.relay)):
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
