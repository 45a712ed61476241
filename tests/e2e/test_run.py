"""`pqrbot run` as a process: migrates, serves the console, survives the end of console input,
stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


class Lines:
    """Collects a stream's lines in a thread so the test can wait on a condition."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} not seen; got:\n{''.join(self.lines)}")
                self.cond.wait(left)


def test_run_serves_console_and_stops_on_sigterm(workdir: Path) -> None:
    cfg = workdir / "config.yaml"
    cfg.write_text(cfg.read_text().replace('"console": {"enabled": false}', '"console": {"enabled": true}'))
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), "run"], cwd=workdir,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ})
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        err.wait_for("pqrbot running")
        assert proc.stdin is not None
        proc.stdin.write("/pqr list\n/pqr help\n")
        proc.stdin.close()
        out.wait_for("No hay PQR")
        out.wait_for("Comandos de /pqr")
        err.wait_for("console: end of input")
        assert proc.poll() is None, "the end of console input must not stop the service"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        err.wait_for("pqrbot stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (workdir / "pqr.db").exists()
    assert "Traceback" not in "".join(err.lines)


def test_run_refuses_to_start_with_a_clear_reason(workdir: Path) -> None:
    """A busy SMTP port or a missing token is one line on stderr and exit 1, not a traceback."""
    import json
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = workdir / "busy.yaml"
        cfg.write_text(json.dumps({"database": {"url": f"sqlite+aiosqlite:///{workdir}/pqr.db"},
                                   "web": {"port": 0}, "channels": {"console": {"enabled": False},
                                                "email": {"listen": {"host": "127.0.0.1", "port": port}}}}))
        out = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "run"], cwd=workdir,
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 1
    assert "the email channel could not start" in out.stderr and "Traceback" not in out.stderr

    cfg.write_text(json.dumps({"database": {"url": f"sqlite+aiosqlite:///{workdir}/pqr.db"},
                               "web": {"port": 0}, "channels": {"console": {"enabled": False}, "email": {"enabled": False},
                                            "slack": {"enabled": True, "bot_token_env": "PQRBOT_TEST_NO_SUCH_VAR"}}}))
    env = {k: v for k, v in os.environ.items() if k != "PQRBOT_TEST_NO_SUCH_VAR"}
    out = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "run"], cwd=workdir,
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert out.returncode == 1
    assert "PQRBOT_TEST_NO_SUCH_VAR" in out.stderr and "Traceback" not in out.stderr
