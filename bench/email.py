"""Email intake throughput: messages/s through a real `pqrbot run` (SQLite in a temp dir) next to
a bare aiosmtpd server whose handler only answers 250, same load, same run.

    python -m bench.email [--messages 600] [--clients 1 8]

Prints one JSON line per client count: both rates, their ratio, and how many of the messages that
got 250 are in the database (counted after the pqrbot process is killed with SIGKILL). Every
message is ~5 KB from a distinct sender with a distinct Message-ID, so each one files a PQR. The
relay points at a closed port: acknowledgments are queued and attempted, not delivered."""

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


def serve_bare(port: int) -> None:
    """A bare aiosmtpd server whose DATA handler only answers 250 (the baseline)."""
    from aiosmtpd.smtp import SMTP

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Handler(), hostname="bare", enable_SMTPUTF8=True),
                                          "127.0.0.1", port)
        print(f"bare: SMTP listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def bare_rate(clients: int, per_client: int) -> float:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.email", "--serve-bare", str(port)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(proc, "SMTP listening")
        seconds, accepted = load(port, clients, per_client, f"bare{clients}")
        return accepted / seconds
    finally:
        proc.kill()
        proc.wait()


def pqrbot_rate(clients: int, per_client: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pqrbot-bench-") as tmp:
        port, db = free_port(), Path(tmp) / "pqr.db"
        cfg = {"database": {"url": f"sqlite+aiosqlite:///{db}"},
               "channels": {"console": {"enabled": False},
                            "email": {"listen": {"host": "127.0.0.1", "port": port},
                                      "relay": {"host": "127.0.0.1", "port": free_port()}}}}
        (Path(tmp) / "config.json").write_text(json.dumps(cfg))
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(Path(tmp) / "config.json"), "run"],
                                cwd=tmp, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            wait_for_line(proc, "SMTP listening")
            seconds, accepted = load(port, clients, per_client, f"bot{clients}")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        with sqlite3.connect(db) as conn:
            pqrs = conn.execute("SELECT count(*) FROM pqrs").fetchone()[0]
            raw = conn.execute("SELECT count(*) FROM raw_messages WHERE disposition = 'filed'").fetchone()[0]
        return {"rate": accepted / seconds, "accepted": accepted, "durable_pqrs": pqrs, "durable_raw": raw}


def run(messages: int = 600, client_counts: tuple[int, ...] = (1, 8)) -> list[dict[str, Any]]:
    """One result per client count."""
    results = []
    for clients in client_counts:
        per_client = max(1, messages // clients)
        bot = pqrbot_rate(clients, per_client)
        bare = bare_rate(clients, per_client)
        results.append({
            "bench": "email_intake", "clients": clients, "messages": per_client * clients,
            "message_bytes": len(message(0, 0, "x")[1].encode()),
            "pqrbot_msgs_per_s": round(bot["rate"], 1), "bare_aiosmtpd_msgs_per_s": round(bare, 1),
            "ratio": round(bot["rate"] / bare, 3), "accepted_250": bot["accepted"],
            "durable_pqrs": bot["durable_pqrs"], "durable_raw": bot["durable_raw"],
            "all_250_durable": bot["durable_pqrs"] >= bot["accepted"],
        })
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.email")
    p.add_argument("--messages", type=int, default=600)
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    p.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    for result in run(args.messages, tuple(args.clients)):
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
