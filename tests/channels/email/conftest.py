"""The real email channel on loopback: pqrbot's SMTP server on a free port, a recording SMTP sink
as the relay, a real database, the intake worker filing the inbox, and an outbox worker driven with
a controlled clock. `MailWorld.send` waits for the worker to file what it sent (`settle`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.bootstrap import inbox_for, intake_worker
from bot.intake.service import IntakeService
from bot.intake.worker import IntakeWorker
from bot.outbox.worker import OutboxWorker
from channels.email.adapter import EmailChannel
from storage.db import SqlDatabase

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # a Monday
PQR_ADDRESS = "pqr@pqr.example.co"


class Sink:
    """An SMTP server that records every message it accepts (the relay in tests)."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"

    async def start(self, port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="sink"), "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


@dataclass
class MailWorld:
    app: App
    channel: EmailChannel
    sink: Sink
    worker: OutboxWorker
    now: list[dt.datetime] = field(default_factory=lambda: [T0])
    filer: IntakeWorker | None = None       # the intake worker filing the inbox

    @property
    def intake(self) -> IntakeService:
        assert self.filer is not None
        return self.filer.intake

    @property
    def port(self) -> int:
        assert self.channel.address is not None
        return self.channel.address[1]

    def tick(self, **delta: float) -> None:
        self.now[0] += dt.timedelta(**delta)

    async def send(self, raw: str | bytes, *, mail_from: str = "ana@cliente.co",
                   to: tuple[str, ...] = (PQR_ADDRESS,), settle: bool = True) -> tuple[int, str]:
        """One message over a fresh SMTP connection; returns the DATA (code, text) once the
        intake worker has filed it (`settle`; False: as soon as the SMTP answer comes)."""
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port, timeout=30) as smtp:
            errors, text = await smtp.sendmail(mail_from, list(to), data)
        if settle:
            await self.settle()
        return (250 if not errors else 550), text

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the inbox holds no item due now (what is left waits for a retry)."""
        self.app.inbox_wake.set()

        async def settled() -> bool:
            async with self.app.db.uow(readonly=True) as uow:
                pending = await uow.inbox.list(status="pending", limit=100_000)
            return all(i.next_attempt_at is not None and i.next_attempt_at > self.now[0] for i in pending)

        await wait_until(settled, timeout)

    async def inbox(self, status: str | None = None) -> list[Any]:
        """The inbox's items, newest first."""
        async with self.app.db.uow(readonly=True) as uow:
            return await uow.inbox.list(status=status, limit=100_000)

    async def last(self) -> Any:
        """The newest inbox item (what the last message sent became)."""
        return (await self.inbox())[0]

    async def delivered(self) -> list[EmailMessage]:
        """Run the outbox once; the messages the relay took since the last call."""
        await self.worker.run_once()
        out = [email.message_from_bytes(e.original_content or e.content, policy=policy.default)  # type: ignore[arg-type]
               for e in self.sink.messages]
        self.sink.messages.clear()
        return [m for m in out if isinstance(m, EmailMessage)]

    async def outbox(self, channel: str | None = None) -> list[Any]:
        """Every outbox row, optionally of one channel."""
        async with self.app.db.uow(readonly=True) as uow:
            return [i for i in await uow.outbox.list(limit=10_000) if channel is None or i.channel == channel]

    async def pqr(self, radicado: str) -> Any:
        async with self.app.db.uow(readonly=True) as uow:
            return await uow.pqrs.get(radicado)

    async def counts(self) -> dict[str, int]:
        async with self.app.db.uow(readonly=True) as uow:
            return await uow.mail.raw_counts()

    async def raws(self, disposition: str | None = None) -> list[Any]:
        async with self.app.db.uow(readonly=True) as uow:
            return await uow.mail.list_raw(disposition=disposition, limit=1000)


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "") -> None:
    """Poll `check` until true or fail after `timeout` seconds, naming `what` was awaited."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or 'the condition'}")
        await asyncio.sleep(0.02)


def mail(subject: str = "Queja por cobro doble", body: str = "Me cobraron dos veces la factura.",
         *, sender: str = "Ana Pérez <ana@cliente.co>", message_id: str | None = "<m1@cliente.co>",
         headers: dict[str, str] | None = None) -> str:
    """A plain UTF-8 message."""
    lines = [f"From: {sender}", f"To: {PQR_ADDRESS}", f"Subject: {subject}",
             "Date: Mon, 02 Mar 2026 10:00:00 -0500", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return "\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"


async def make_world(db: SqlDatabase, *, config: dict[str, Any] | None = None, run_filer: bool = True,
                     **email_cfg: Any) -> AsyncIterator[MailWorld]:
    """The world on `db`; `email_cfg` completes `channels.email`, `config` the other top-level keys.
    `run_filer` False: the intake worker is built but not running (the test calls `run_once`)."""
    sink = Sink()
    await sink.start()
    others = dict(config or {})
    channels = {"console": {"enabled": False}, **others.pop("channels", {}),
                "email": {"listen": {"host": "127.0.0.1", "port": 0},
                          "relay": {"host": "127.0.0.1", "port": sink.port}, **email_cfg}}
    cfg = parse_config({"database": {"url": db.url}, **others, "channels": channels})
    now = [T0]
    app = build(cfg, db=db, clock=lambda: now[0])
    channel = EmailChannel(cfg.channels.email, inbox_for(app), app.clock)
    await channel.start()
    worker = OutboxWorker(db, {"email": channel}, app.clock)
    try:
        if run_filer:
            async with filing(app) as filer:
                yield MailWorld(app=app, channel=channel, sink=sink, worker=worker, now=now, filer=filer)
        else:
            filer = intake_worker(app)
            yield MailWorld(app=app, channel=channel, sink=sink, worker=worker, now=now, filer=filer)
            await filer.intake.stop()
    finally:
        await channel.stop()
        await sink.stop()


@asynccontextmanager
async def filing(app: App) -> AsyncIterator[IntakeWorker]:
    """The intake worker of `app`, running (woken by each inbox commit) until the block ends."""
    filer = intake_worker(app)
    stop = asyncio.Event()
    task = asyncio.create_task(filer.run(stop), name="intake-worker")
    try:
        yield filer
    finally:
        stop.set()
        await task
        await filer.intake.stop()


@pytest.fixture
async def world(sqlite_database: SqlDatabase) -> AsyncIterator[MailWorld]:
    """The email channel on SQLite."""
    async for w in make_world(sqlite_database):
        yield w


@pytest.fixture
async def any_world(database: SqlDatabase) -> AsyncIterator[MailWorld]:
    """The email channel on SQLite and on PostgreSQL."""
    async for w in make_world(database):
        yield w
