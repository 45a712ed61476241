"""Two `pqrbot run` processes on one PostgreSQL database (created and dropped here), Slack in HTTP
mode against the fake Slack API in this process: the day's digest and each SLA alert go out exactly
once, and when the leader is killed the other instance takes over once its lease has expired.

Nothing sleeps for a fixed time: every wait is on a condition (a log line, a call the fake
recorded, the outbox table) with a deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from storage.db import SqlDatabase
from storage.tables import leases
from tests.conftest import _pg_database
from tests.fakes.slack_api import BOT_TOKEN, Call, FakeSlack

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

NOW = "2027-01-14T09:00:00-05:00"          # a Thursday, after digest.time (08:00)
TICK, LEASE = 0.2, 2.0
STAFF, AGENT = "U0STAFF", "U0AGENT"
LEADER_LINE = "scheduler: became leader"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (skipped when unreachable, failed under CI)."""
    async for url in _pg_database():
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(what: str, check: Callable[[], Awaitable[bool] | bool], timeout: float = 60.0,
                logs: Callable[[], str] = lambda: "") -> None:
    """Wait until `check()` holds, looking again every 50 ms; fail with `what` (and `logs()`)
    after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{logs()}")
        await asyncio.sleep(0.05)


class Instance:
    """One `pqrbot run` process; its stderr lines are collected with their wall-clock time."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, port: int) -> None:
        self.name, self.proc, self.port = name, proc, port
        self.lines: list[tuple[float, str]] = []
        self.killed = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append((time.time(), raw.decode(errors="replace")))

    def saw(self, needle: str, *, after: float = 0.0) -> float | None:
        """The wall time `needle` first appeared on stderr (at or after `after`), or None."""
        return next((at for at, line in self.lines if needle in line and at >= after), None)

    def log(self) -> str:
        return "".join(line for _, line in self.lines)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await self.reader


class Cluster:
    """The config, the CLI and the instances of one test."""

    def __init__(self, workdir: Path, pg_url: str, slack: FakeSlack) -> None:
        self.workdir, self.pg_url, self.slack = workdir, pg_url, slack
        self.instances: list[Instance] = []
        self.env = {**os.environ, "PQRBOT_NOW": NOW, "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": "multi-instance-secret"}
        self.env.pop("PQRBOT_CONFIG", None)

    def config(self, port: int) -> Path:
        path = self.workdir / f"config-{port}.yaml"
        path.write_text(json.dumps({
            "database": {"url": self.pg_url},
            "roles": {"staff": [f"slack:{STAFF}", f"slack:{AGENT}"], "managers": ["slack:U0BOSS"]},
            "web": {"port": 0}, "channels": {"console": {"enabled": False}, "email": {"enabled": False},
                         "telegram": {"enabled": False},
                         "slack": {"enabled": True, "mode": "http", "http": {"host": "127.0.0.1", "port": port},
                                   "api_base_url": self.slack.api_base_url, "triage_channel": "C0TRIAGE"}},
            "digest": {"time": "08:00", "slack_channel": "C0MANAGERS", "telegram_chat": None, "emails": []},
            "scheduler": {"tick_seconds": TICK, "lease_seconds": LEASE},
            "outbox": {"poll_seconds": 0.2},
        }))
        return path

    async def cli(self, *args: str, stdin: str | None = None) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.config(0)), *args, cwd=self.workdir, env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else b""), 120)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    async def file(self, received: str, n: int) -> str:
        doc = json.loads(await self.cli("pqr", "new", "--type", "queja", "--channel", "phone", "--name", f"Cliente {n}",
                                        "--subject", f"Asunto {n}", "--body", "…", "--received-at", received, "--json"))
        return str(doc["radicado"])

    async def start(self, name: str) -> Instance:
        port = free_port()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.config(port)), "run", cwd=self.workdir, env=self.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        instance = Instance(name, proc, port)
        self.instances.append(instance)
        return instance

    async def until(self, what: str, check: Callable[[], Awaitable[bool] | bool], timeout: float = 60.0) -> None:
        """`until`, failing at once (with the logs) when an instance that was not killed exits."""
        def logs() -> str:
            return "\n".join(f"--- {i.name} (exit {i.proc.returncode}):\n{i.log()[-4000:]}" for i in self.instances)

        async def live_check() -> bool:
            crashed = [i for i in self.instances if i.proc.returncode is not None and not i.killed]
            if crashed:
                raise AssertionError(f"an instance exited while waiting for {what}\n{logs()}")
            result = check()
            return bool(await result if isinstance(result, Awaitable) else result)

        await until(what, live_check, timeout, logs)

    def leaders(self) -> list[Instance]:
        return [i for i in self.instances if i.saw(LEADER_LINE) is not None]


async def healthy(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            return resp.status == 200 and (await resp.json())["mode"] == "http"
    except aiohttp.ClientError:
        return False


def alerts(slack: FakeSlack, radicado: str, channel: str) -> list[Call]:
    """Alert posts about `radicado` to `channel` (plain text; triage cards and the digest have blocks)."""
    return [c for c in slack.of("chat.postMessage")
            if c.args.get("channel") == channel and radicado in str(c.args.get("text")) and not c.args.get("blocks")]


def dm(user: str) -> str:
    """The channel the fake answers conversations.open with (SlackSender opens the DM first)."""
    return f"D{user}"


def digests(slack: FakeSlack) -> list[Call]:
    return [c for c in slack.of("chat.postMessage") if c.args.get("channel") == "C0MANAGERS"]


async def outbox_settled(db: SqlDatabase) -> bool:
    """Nothing left pending (every queued message was delivered)."""
    async with db.uow(readonly=True) as uow:
        return not await uow.outbox.list(status="pending")


async def lease(db: SqlDatabase) -> tuple[str, dt.datetime]:
    """The scheduler lease's holder and expiry, as stored."""
    async with db.engine.connect() as conn:
        row = (await conn.execute(select(leases.c.holder, leases.c.expires_at).where(leases.c.name == "scheduler"))).one()
    return str(row.holder), row.expires_at


async def test_two_instances_one_digest_one_alert_each_and_failover(tmp_path: Path, pg_url: str) -> None:
    async with FakeSlack() as slack:
        cluster = Cluster(tmp_path, pg_url, slack)
        # Three PQRs breached by NOW, assigned by staff through the console (the command layer).
        rads = [await cluster.file(f"2026-12-{day}T10:00:00-05:00", n) for n, day in enumerate((15, 16, 17))]
        owners = {rads[0]: AGENT, rads[1]: AGENT, rads[2]: STAFF}
        await cluster.cli("console", "--as", f"slack:{STAFF}",
                          stdin="".join(f"/pqr assign {r} <@{u}>\n" for r, u in owners.items()))
        listed = json.loads(await cluster.cli("pqr", "list", "--breached", "--json"))
        assert {p["radicado"]: p["assignee"] for p in listed} == {r: f"slack:{u}" for r, u in owners.items()}

        db = SqlDatabase(pg_url)
        try:
            a, b = await cluster.start("a"), await cluster.start("b")
            try:
                for inst in (a, b):
                    await cluster.until(f"{inst.name} running", lambda: inst.saw("pqrbot running") is not None)
                    await cluster.until(f"{inst.name} /healthz", lambda: healthy(inst.port))
                await cluster.until("a leader", lambda: bool(cluster.leaders()))
                await cluster.until("the digest and the alerts at the fake Slack", lambda: len(digests(slack)) >= 1 and all(
                    alerts(slack, r, dm(u)) and alerts(slack, r, "C0TRIAGE") for r, u in owners.items()))
                await cluster.until("the outbox to settle", lambda: outbox_settled(db))

                holder, _ = await lease(db)
                (leader,) = [i for i in (a, b) if f"{LEADER_LINE} ({holder})" in i.log()]
                survivor = b if leader is a else a
                assert sum(i.log().count("queued to 1 destination") for i in (a, b)) == 1, leader.log()
                (digest,) = digests(slack)
                buttons = [blk["accessory"] for blk in digest.args["blocks"] if "accessory" in blk]
                assert [(x["action_id"], x["value"]) for x in buttons] == [("pqr.show", r) for r in rads]
                breached = digest.args["blocks"][1]["text"]["text"]
                assert "Vencidas: 3" in breached and f"<@{AGENT}>: 2" in breached and f"<@{STAFF}>: 1" in breached
                for r, u in owners.items():
                    assert len(alerts(slack, r, dm(u))) == 1, f"{r} DM"
                    assert len(alerts(slack, r, "C0TRIAGE")) == 1, f"{r} triage"
                assert {c.args["users"] for c in slack.of("conversations.open")} == {AGENT, STAFF}

                # Kill the leader; its lease outlives it by up to lease_seconds.
                leader.killed = True
                leader.proc.send_signal(signal.SIGKILL)
                await leader.proc.wait()
                killed_at = time.time()
                holder, expires_at = await lease(db)
                assert f"{LEADER_LINE} ({holder})" in leader.log() and f":{leader.proc.pid}:" in holder
                late = await cluster.file("2026-12-18T10:00:00-05:00", 9)      # unassigned: triage only
                await cluster.until("the survivor to lead",
                                    lambda: survivor.saw(LEADER_LINE, after=killed_at) is not None, timeout=30)
                took_over = survivor.saw(LEADER_LINE, after=killed_at)
                assert took_over is not None and took_over >= expires_at.timestamp(), "took over a live lease"
                await cluster.until("the new PQR's alert", lambda: bool(alerts(slack, late, "C0TRIAGE")))
                # The new leader also tries today's digest: the outbox's dedupe key queues nothing.
                await cluster.until("the survivor's digest pass",
                                    lambda: survivor.saw("queued to 0 destination") is not None)
                await cluster.until("the outbox to settle again", lambda: outbox_settled(db))

                assert len(alerts(slack, late, "C0TRIAGE")) == 1
                assert len(digests(slack)) == 1
                for r, u in owners.items():
                    assert len(alerts(slack, r, dm(u))) == 1 and len(alerts(slack, r, "C0TRIAGE")) == 1
                survivor.killed = True
                survivor.proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(survivor.proc.wait(), 30) == 0
                await survivor.reader
                assert "pqrbot stopped" in survivor.log() and "Traceback" not in survivor.log()
            finally:
                for inst in cluster.instances:
                    await inst.stop()
        finally:
            await db.dispose()
