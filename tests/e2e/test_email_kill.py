"""`pqrbot run` killed with SIGKILL in the middle of an SMTP burst loses no message that got 250:
each is in the inbox, and after a restart the intake worker files every one of them exactly once
(those filed before the kill are not filed again)."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigkill_mid_burst_loses_no_acknowledged_message(tmp_path: Path) -> None:
    port = _free_port()
    cfg = {"database": {"url": f"sqlite+aiosqlite:///{tmp_path}/pqr.db"},
           "web": {"port": 0}, "channels": {"console": {"enabled": False},
                        "email": {"listen": {"host": "127.0.0.1", "port": port},
                                  "relay": {"host": "127.0.0.1", "port": _free_port()}}}}
    config = tmp_path / "config.json"
    config.write_text(json.dumps(cfg))
    proc, listening = _run(config, tmp_path)
    acknowledged: list[str] = []
    lock = threading.Lock()
    try:
        assert listening.wait(60), "pqrbot never listened"

        def client(c: int) -> None:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                    for n in range(400):
                        sender = f"c{c}n{n}@cliente.co"
                        msg = (f"From: {sender}\r\nTo: pqr@pqr.example.co\r\nSubject: Queja {c}-{n}\r\n"
                               f"Message-ID: <{c}.{n}@cliente.co>\r\n\r\nTexto de la queja {c}-{n}.\r\n")
                        smtp.sendmail(sender, ["pqr@pqr.example.co"], msg)
                        with lock:
                            acknowledged.append(f"<{c}.{n}@cliente.co>")
            except (smtplib.SMTPException, OSError):
                return  # the server died under us: from here on nothing was acknowledged

        threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
        for t in threads:
            t.start()
        # Killed mid-burst, at a moment when the worker has some of the acknowledged mail yet to file.
        deadline = time.monotonic() + 60
        while (len(acknowledged) < 150 or not _pending(tmp_path / "pqr.db")) and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        for t in threads:
            t.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert len(acknowledged) >= 150
    db = tmp_path / "pqr.db"
    with sqlite3.connect(db) as conn:
        inboxed = {r[0] for r in conn.execute("SELECT message_id FROM inbox")}
        left = conn.execute("SELECT count(*) FROM inbox WHERE status = 'pending'").fetchone()[0]
    assert set(acknowledged) <= inboxed                   # 250: in the inbox, committed
    # Restarted, the intake worker files what the killed one left pending, and nothing twice.
    restarted, listening = _run(config, tmp_path)
    try:
        assert listening.wait(60), "pqrbot never listened after the restart"
        deadline = time.monotonic() + 120
        while _pending(db) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _pending(db), f"{_pending(db)} inbox item(s) still pending ({left} were at the kill)"
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(60)
    with sqlite3.connect(db) as conn:
        statuses = dict(conn.execute("SELECT status, count(*) FROM inbox GROUP BY status").fetchall())
    assert set(statuses) == {"filed"}, statuses
    shown = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "pqr", "list", "--status", "all",
                            "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                           env=dict(os.environ))
    assert shown.returncode == 0, shown.stderr
    filed = [p["subject"] for p in json.loads(shown.stdout)]
    subjects = set(filed)
    assert len(filed) == len(subjects) == statuses["filed"], "a message was filed twice"
    missing = [mid for mid in acknowledged
               if f"Queja {mid[1:].split('@')[0].replace('.', '-')}" not in subjects]
    assert not missing, f"{len(missing)} acknowledged message(s) lost, e.g. {missing[:3]}"


def _run(config: Path, cwd: Path) -> tuple[subprocess.Popen[str], threading.Event]:
    """`pqrbot run`, and an event set once its SMTP server listens."""
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=cwd,
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    listening = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "SMTP listening on" in line:
                listening.set()

    threading.Thread(target=drain, daemon=True).start()
    return proc, listening


def _pending(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM inbox WHERE status = 'pending'").fetchone()[0])
