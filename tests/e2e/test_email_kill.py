"""`pqrbot run` killed with SIGKILL in the middle of an SMTP burst loses no message that got 250."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
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
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    listening = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "SMTP listening on" in line:
                listening.set()

    threading.Thread(target=drain, daemon=True).start()
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

        threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        for t in threads:
            t.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert len(acknowledged) >= 150
    shown = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "pqr", "list", "--status", "all",
                            "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                           env=dict(os.environ))
    assert shown.returncode == 0, shown.stderr
    subjects = {p["subject"] for p in json.loads(shown.stdout)}
    missing = [mid for mid in acknowledged
               if f"Queja {mid[1:].split('@')[0].replace('.', '-')}" not in subjects]
    assert not missing, f"{len(missing)} acknowledged message(s) lost, e.g. {missing[:3]}"
