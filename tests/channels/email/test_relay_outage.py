"""A configured relay that is down (a closed port): the outbox keeps retrying with backoff, the
outage is logged once when it starts and once when it ends (not once per retry), and
`pqrbot outbox list` shows the waiting rows with their last error."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
from pathlib import Path

import pytest

from storage.db import SqlDatabase
from tests.channels.email.conftest import Sink, make_world, mail


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _outbox_list(db: SqlDatabase, tmp_path: Path) -> str:
    config = tmp_path / "cli.json"
    config.write_text(json.dumps({"database": {"url": db.url},
                                  "channels": {"console": {"enabled": False}, "email": {"enabled": False}}}))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(config), "outbox", "list",
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                cwd=tmp_path, env={**os.environ, "PQRBOT_LANG": "en"})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def _worker_lines(caplog: pytest.LogCaptureFixture, text: str, level: int = logging.WARNING) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "bot.outbox.worker" and r.levelno == level and text in r.getMessage()]


async def test_a_relay_outage_is_logged_once_retried_and_shown_by_outbox_list(
        sqlite_database: SqlDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.outbox.worker")
    port = _closed_port()
    async for world in make_world(sqlite_database, relay={"host": "127.0.0.1", "port": port}):
        for n in range(3):
            code, _ = await world.send(mail(f"Queja {n}", sender=f"c{n}@cliente.co", message_id=f"<q{n}@cliente.co>"),
                                       mail_from=f"c{n}@cliente.co")
            assert code == 250
        for _ in range(4):   # four backoff steps: one connection attempt each, for all three rows
            assert await world.worker.run_once() == 0
            world.tick(hours=2)
        assert len(_worker_lines(caplog, "channel email is down")) == 1
        assert len(_worker_lines(caplog, "channel email still down", logging.INFO)) == 3
        assert _worker_lines(caplog, " to email:") == []   # the rows caught in it add no warnings
        assert len(_worker_lines(caplog, " to email:", logging.INFO)) == 4

        shown = [line.split("\t") for line in (await _outbox_list(sqlite_database, tmp_path)).splitlines()]
        assert len(shown) == 3 and all(row[1] == "pending" for row in shown)
        assert sum(row[4] != "attempts=0" for row in shown) >= 1
        assert any("relay unreachable" in row[-1] for row in shown)

        relay = Sink()
        await relay.start(port)   # the relay is back
        try:
            assert await world.worker.run_once() == 3
            assert len(relay.messages) == 3
        finally:
            await relay.stop()
        assert len(_worker_lines(caplog, "channel email is back after 4 failed attempt(s)")) == 1
        assert len(_worker_lines(caplog, "channel email is down")) == 1
