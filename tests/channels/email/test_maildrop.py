"""No relay (`channels.email.relay: null`, the embedded default): the email channel writes each
outgoing message as an .eml file, whole or not at all, and the outbox counts it delivered."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import build, inbox_for
from bot.config import parse_config
from bot.outbox.worker import OutboxWorker
from bot.ports import Retryable
from bot.ports.payloads import Reply
from channels.email.adapter import EmailChannel
from channels.email.maildrop import MailDrop, file_name
from channels.email.outbound import build_message
from storage.db import SqlDatabase
from tests.channels.email.conftest import PQR_ADDRESS, T0, MailWorld, filing, mail


def reply(n: int, message_id: str | None = None) -> Reply:
    return Reply(radicado="PQR-2026-000001", language="es", subject=f"Respuesta {n}", text="Hola, Ana.\nSaludos.",
                 message_id=message_id or f"<m{n}@pqr.example.co>")


@pytest.fixture
async def dropping(sqlite_database: SqlDatabase, tmp_path: Path) -> AsyncIterator[MailWorld]:
    """The email channel of the default config (no relay), writing under tmp/outgoing."""
    cfg = parse_config({"database": {"url": sqlite_database.url},
                        "channels": {"console": {"enabled": False}, "email": {"listen": {"host": "127.0.0.1", "port": 0}}}})
    assert cfg.channels.email.relay is None
    now = [T0]
    app = build(cfg, db=sqlite_database, clock=lambda: now[0])
    channel = EmailChannel(cfg.channels.email, inbox_for(app), app.clock, outgoing=tmp_path / "outgoing")
    await channel.start()
    try:
        worker = OutboxWorker(sqlite_database, {"email": channel}, app.clock)
        async with filing(app) as filer:
            yield MailWorld(app=app, channel=channel, sink=None, worker=worker, now=now, filer=filer)  # no relay, no sink
    finally:
        await channel.stop()


async def test_the_acknowledgment_is_written_as_an_eml_file_and_the_outbox_row_is_sent(
        dropping: MailWorld, tmp_path: Path) -> None:
    code, text = await dropping.send(mail())
    assert code == 250
    radicado = (await dropping.last()).radicado
    assert await dropping.worker.run_once() == 1
    files = list((tmp_path / "outgoing").iterdir())
    assert [f.suffix for f in files] == [".eml"]          # no temp file left
    written = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert written["From"] == PQR_ADDRESS and written["To"] == "ana@cliente.co"
    assert f"[{radicado}]" in written["Subject"] and written["In-Reply-To"] == "<m1@cliente.co>"
    assert radicado in written.get_content()
    assert written["Message-ID"].strip("<>") in files[0].name
    async with dropping.app.db.uow(readonly=True) as uow:
        rows = await uow.outbox.list()
    assert [(r.channel, r.status, r.attempts) for r in rows] == [("email", "sent", 0)]


async def test_each_message_gets_its_own_file(tmp_path: Path) -> None:
    times = iter([dt.datetime(2026, 12, 18, 15, 0, tzinfo=dt.timezone.utc)] * 2)
    drop = MailDrop(tmp_path / "out", clock=lambda: next(times))
    first = await drop.send(build_message(reply(1), destination="ana@cliente.co", from_address=PQR_ADDRESS))
    second = await drop.send(build_message(reply(2), destination="ana@cliente.co", from_address=PQR_ADDRESS))
    assert first != second and first.name == "20261218T150000.000000Z_m1@pqr.example.co.eml"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([first.name, second.name])


def test_a_message_id_that_is_not_a_safe_file_name_is_made_one() -> None:
    at = dt.datetime(2026, 12, 18, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    msg = build_message(reply(1, "<../../etc/passwd x$y@pqr.example.co>"), destination="a@b.co",
                        from_address=PQR_ADDRESS)
    assert file_name(msg, at) == "20261218T150000.000000Z_etc-passwd-x-y@pqr.example.co.eml"


async def test_a_folder_that_cannot_be_written_is_a_retryable_outage(sqlite_database: SqlDatabase,
                                                                     tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    cfg = parse_config({"database": {"url": sqlite_database.url},
                        "channels": {"console": {"enabled": False}, "email": {"listen": {"host": "127.0.0.1", "port": 0}}}})
    app = build(cfg, db=sqlite_database, clock=lambda: T0)
    channel = EmailChannel(cfg.channels.email, inbox_for(app), app.clock, outgoing=blocked / "outgoing")
    with pytest.raises(Retryable) as caught:
        await channel.send("ana@cliente.co", reply(1))
    assert caught.value.channel_down and "cannot write outgoing mail" in str(caught.value)
