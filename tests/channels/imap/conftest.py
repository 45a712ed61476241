"""The IMAP tests' fixtures: a real Dovecot per test (`tests.channels.imap.dovecot`; without the
binary the tests skip, or fail under CI) and pqrbot's IMAP channel as bootstrap builds it, with
the intake worker filing what it takes, on SQLite and a controlled clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import build, imap_channel, intake_worker
from bot.config import parse_config
from channels.imap import ImapChannel, MailboxReader
from storage.db import SqlDatabase
from storage.ports import PqrFilter
from tests.channels.email.conftest import wait_until as _wait_until
from tests.channels.imap.dovecot import PASSWORD, Dovecot, DovecotMissing


@pytest.fixture
def dovecot_root() -> Iterator[Path]:
    """A folder under /tmp the dovecot user can reach (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="pqr-dovecot-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot_factory(dovecot_root: Path) -> Iterator[Callable[..., Dovecot]]:
    """Start a Dovecot with the options given (one per test; stopped afterwards)."""
    started: list[Dovecot] = []

    def make(**options: Any) -> Dovecot:
        root = dovecot_root / f"d{len(started)}"
        root.mkdir()
        root.chmod(0o755)
        try:
            server = Dovecot(root, **options)
        except DovecotMissing as exc:
            if os.environ.get("CI"):
                pytest.fail(str(exc))
            pytest.skip(str(exc))
        started.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def dovecot(dovecot_factory: Callable[..., Dovecot]) -> Dovecot:
    """A plain Dovecot (IDLE, MOVE, UIDPLUS offered), no TLS."""
    return dovecot_factory()


@pytest.fixture
def certificate(dovecot_root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 that this process trusts (SSL_CERT_FILE)."""
    cert, key = dovecot_root / "cert.pem", dovecot_root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    cert.chmod(0o644)
    key.chmod(0o644)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))   # a Monday
PASSWORD_ENV = "PQR_TEST_IMAP_PASSWORD"
PROCESSED = "PQR-Radicados"


def imap_config(server: Dovecot, db_url: str, **account: Any) -> dict[str, Any]:
    """A config reading `server`'s INBOX as the account `empresa` (what `account` overrides),
    email on (the acknowledgments are queued for it) but not started, the rest off."""
    imap = {"enabled": True, "idle": account.pop("idle", True), "poll_seconds": account.pop("poll_seconds", 60),
            "accounts": [{"name": "empresa", "host": "127.0.0.1", "port": server.port, "security": "none",
                          "username": server.user, "password_env": PASSWORD_ENV, **account}]}
    return {"database": {"url": db_url}, "web": {"enabled": False},
            "channels": {"console": {"enabled": False}, "email": {"enabled": True, "relay": None}, "imap": imap}}


class ImapWorld:
    """pqrbot's IMAP channel as `pqrbot run` builds it (bootstrap), reading `server`, with the
    intake worker filing the inbox; a controlled clock. `start`/`stop` are a process's life."""

    def __init__(self, server: Dovecot, db: SqlDatabase, config: dict[str, Any]) -> None:
        self.server = server
        self.db = db
        self.now = [T0]
        self.app = build(parse_config(config), db=db, clock=lambda: self.now[0])
        self.channel: ImapChannel | None = None
        self._filer: tuple[asyncio.Event, asyncio.Task[None], Any] | None = None

    @property
    def reader(self) -> MailboxReader:
        assert self.channel is not None
        return self.channel.readers[0]

    async def start(self) -> None:
        self.channel = imap_channel(self.app)
        await self.channel.start()
        filer = intake_worker(self.app)
        stop = asyncio.Event()
        self._filer = (stop, asyncio.create_task(filer.run(stop), name="intake-worker"), filer)

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.stop()
            self.channel = None
        if self._filer is not None:
            stop, task, filer = self._filer
            stop.set()
            await task
            await filer.intake.stop()
            self._filer = None

    async def state(self, wanted: str, timeout: float = 20.0) -> None:
        """Wait until the reader is `wanted` (idle, polling, waiting, …)."""
        async def there() -> bool:
            return self.reader.state == wanted
        await wait_until(there, timeout, f"the reader to be {wanted} (it is {self.reader.state})")

    async def inbox(self, status: str | None = None) -> list[Any]:
        """The inbox's items, oldest first."""
        async with self.db.uow(readonly=True) as uow:
            return list(reversed(await uow.inbox.list(status=status, limit=100_000)))

    async def settled(self, count: int, timeout: float = 20.0) -> list[Any]:
        """Wait until the inbox holds `count` items and none is pending; returns them."""
        async def done() -> bool:
            items = await self.inbox()
            return len(items) >= count and all(i.status != "pending" for i in items)
        await wait_until(done, timeout, f"{count} inbox items filed")
        return await self.inbox()

    async def pqrs(self) -> list[Any]:
        async with self.db.uow(readonly=True) as uow:
            return await uow.pqrs.list(PqrFilter(statuses=()), details=False)

    async def position(self) -> tuple[int, int] | None:
        async with self.db.uow(readonly=True) as uow:
            return await uow.inbox.imap_position("empresa", self.reader.account.folder)


@pytest.fixture
async def world_factory(sqlite_database: SqlDatabase, monkeypatch: pytest.MonkeyPatch
                        ) -> AsyncIterator[Callable[..., Awaitable[ImapWorld]]]:
    """`await make(server, **account)`: a started ImapWorld on SQLite (stopped afterwards)."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    worlds: list[ImapWorld] = []

    async def make(server: Dovecot, *, start: bool = True, **account: Any) -> ImapWorld:
        world = ImapWorld(server, sqlite_database, imap_config(server, sqlite_database.url, **account))
        worlds.append(world)
        if start:
            await world.start()
        return world

    try:
        yield make
    finally:
        for world in worlds:
            await world.stop()


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "") -> None:
    """The email tests' `wait_until`, with the longer default a mailbox round trip needs."""
    await _wait_until(check, timeout, what)


__all__ = ["ImapWorld", "PROCESSED", "imap_config", "wait_until"]
