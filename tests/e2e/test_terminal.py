"""`pqrbot run` on a terminal, as a newcomer's `make run` in a terminal window: its stdin, stdout
and stderr are a pseudo-terminal. The banner shows what listens where and where the log is; no
INFO line reaches the terminal, they go to data/pqrbot.log; an acknowledgment is written as an
.eml file and its outbox row is sent; closing the terminal stops the service and frees its port;
a second instance on the busy port says which process holds it."""

from __future__ import annotations

import email
import fcntl
import json
import os
import select
import signal
import smtplib
import socket
import subprocess
import sys
import termios
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import t

pytestmark = pytest.mark.slow

ENV = {k: v for k, v in os.environ.items() if k not in ("PQRBOT_LOG", "PQRBOT_LOG_FORMAT", "PQRBOT_CONFIG")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as asyncio's server binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Terminal:
    """`pqrbot run` on a pseudo-terminal. `controlling`: the terminal is the process's controlling
    terminal (it gets SIGHUP when the terminal closes, as under a terminal window); otherwise it
    only sees its streams fail. What the process writes is collected by a thread."""

    def __init__(self, workdir: Path, config: Path, *, controlling: bool) -> None:
        master, slave = os.openpty()

        def own_the_terminal() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=workdir,
                                     stdin=slave, stdout=slave, stderr=slave, env=ENV,
                                     preexec_fn=own_the_terminal if controlling else None,
                                     start_new_session=not controlling)
        os.close(slave)
        self.master: int | None = master
        self._out = bytearray()
        self._ended = False       # the process closed its side: everything it wrote has been read
        self._cond = threading.Condition()
        self._closing, self._closed = threading.Event(), threading.Event()
        threading.Thread(target=self._read, args=(master,), daemon=True).start()

    def _read(self, fd: int) -> None:
        """Owns the master side: reads until the process closes its side, or closes it for
        `close` (a close from another thread would wait for a blocked read to end)."""
        try:
            while not self._closing.is_set():
                if not select.select([fd], [], [], 0.05)[0]:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:   # EIO: the process closed its side
                    chunk = b""
                with self._cond:
                    if chunk:
                        self._out += chunk
                    else:
                        self._ended = True
                    self._cond.notify_all()
                if not chunk:
                    return
        finally:
            os.close(fd)
            self._closed.set()

    @property
    def text(self) -> str:
        with self._cond:
            return self._out.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Until `text` is on the terminal (fails when the process ended without writing it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while text not in self._out.decode("utf-8", "replace").replace("\r\n", "\n"):
                left = deadline - time.monotonic()
                if left <= 0 or self._ended:
                    raise AssertionError(f"{text!r} not on the terminal; it shows:\n{self.text}")
                self._cond.wait(left)

    def wait_ended(self, timeout: float = 60) -> str:
        """Everything the process wrote, once it closed the terminal."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._ended, timeout):
                raise AssertionError(f"the process never closed the terminal; it shows:\n{self.text}")
        return self.text

    def type(self, keys: str) -> None:
        """Type `keys` (a line ends with "\n"; "\x04" is Ctrl-D)."""
        assert self.master is not None
        os.write(self.master, keys.encode())

    def close(self) -> None:
        """Close the terminal (the window goes away)."""
        if self.master is not None:
            self._closing.set()
            assert self._closed.wait(10)
            self.master = None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close()


@pytest.fixture
def newcomer(tmp_path: Path) -> tuple[Path, int]:
    """The embedded default (console on, no relay, Slack and Telegram off) with its database under
    tmp/data and the SMTP intake on a free port."""
    port = _free_port()
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"database": {"url": f"sqlite+aiosqlite:///{tmp_path}/data/pqrbot.db"},
                                  "web": {"port": 0}, "channels": {"email": {"listen": {"host": "127.0.0.1", "port": port}}}}))
    return config, port


def _outbox(config: Path) -> list[dict[str, Any]]:
    out = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "outbox", "list", "--json"],
                         capture_output=True, text=True, cwd=config.parent, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def _send_complaint(port: int) -> None:
    m = EmailMessage()
    m["From"] = "Ana <ana@example.co>"
    m["To"] = "pqr@pqr.example.co"
    m["Subject"] = "Queja por cobro doble"
    m.set_content("Me cobraron dos veces la factura de noviembre.")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(m)


def test_make_run_on_a_terminal(tmp_path: Path, newcomer: tuple[Path, int]) -> None:
    config, port = newcomer
    term = Terminal(tmp_path, config, controlling=True)
    try:
        term.wait_for("pqr> ")
        shown = term.text
        for line in (t("es", "run.banner.database", where=f"{tmp_path}/data/pqrbot.db"),
                     t("es", "run.banner.smtp", address=f"127.0.0.1:{port}", domains="pqr.example.co"),
                     t("es", "run.banner.maildrop", folder=f"{tmp_path}/data/mail/outgoing/"),
                     t("es", "run.banner.off", channel="Slack", setting="channels.slack.enabled"),
                     t("es", "run.banner.off", channel="Telegram", setting="channels.telegram.enabled"),
                     t("es", "run.banner.log", file=f"{tmp_path}/data/pqrbot.log")):
            assert line in shown
        # the banner comes before the console's prompt
        assert shown.index(t("es", "run.banner.stop")) < shown.index("pqr> ")

        _send_complaint(port)
        deadline = time.monotonic() + 60
        rows = _outbox(config)
        while not any(r["status"] == "sent" for r in rows):   # each look takes a process start
            assert time.monotonic() < deadline, f"the acknowledgment was never sent: {rows}"
            rows = _outbox(config)
        ack = next(r for r in rows if r["status"] == "sent")
        assert ack["channel"] == "email" and ack["destination"] == "ana@example.co" and ack["kind"] == "ack"
        files = sorted((tmp_path / "data/mail/outgoing").iterdir())
        assert [f.suffix for f in files] == [".eml"], files   # no temp file left behind
        written = email.message_from_bytes(files[0].read_bytes())
        assert written["To"] == "ana@example.co" and f"[{ack['radicado']}]" in written["Subject"]

        term.type("/pqr list\n")
        term.wait_for(ack["radicado"])
        log = (tmp_path / "data/pqrbot.log").read_text()
        assert "INFO alembic.runtime.migration: Running upgrade" in log
        assert f"email: SMTP listening on 127.0.0.1:{port}" in log
        assert "scheduler: became leader" in log and f"wrote {files[0]}" in log
        assert " INFO " not in term.text and "alembic" not in term.text
        assert term.text.count(f"127.0.0.1:{port}") == 1   # "SMTP listening" is shown once

        term.type("\x04")   # Ctrl-D: the console ends, the service goes on
        term.wait_for(t("es", "run.console_closed"))
        assert term.proc.poll() is None

        term.close()   # the window goes away: SIGHUP
        assert term.proc.wait(timeout=10) == 0
        assert _port_is_free(port)
        assert "SIGHUP received; stopping" in (tmp_path / "data/pqrbot.log").read_text()
    finally:
        term.kill()

    # The same port again, on a terminal that is not the controlling one: no SIGHUP comes when it
    # closes, only the end of its input; the service must not linger on the port.
    again = Terminal(tmp_path, config, controlling=False)
    try:
        again.wait_for("pqr> ")
        again.close()
        assert again.proc.wait(timeout=10) == 0
        assert _port_is_free(port)
        assert "console: the terminal went away; stopping" in (tmp_path / "data/pqrbot.log").read_text()
    finally:
        again.kill()


def test_a_busy_port_names_the_process_that_holds_it(tmp_path: Path, newcomer: tuple[Path, int]) -> None:
    config, port = newcomer
    first = Terminal(tmp_path, config, controlling=True)
    try:
        first.wait_for("pqr> ")
        second = Terminal(tmp_path, config, controlling=False)
        try:
            assert second.proc.wait(timeout=60) == 1
            lines = [line for line in second.wait_ended().splitlines() if line.strip()]
            assert lines == [f"pqrbot: the email channel could not start: 127.0.0.1:{port} is in use by "
                             f"pid {first.proc.pid} (pqrbot run)"]
        finally:
            second.kill()
        assert first.proc.poll() is None
        first.proc.send_signal(signal.SIGHUP)
        assert first.proc.wait(timeout=10) == 0
        assert _port_is_free(port)
    finally:
        first.kill()
