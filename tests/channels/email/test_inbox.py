"""The durable inbox through the real SMTP server, on SQLite and PostgreSQL: `250` means the raw
message is committed (read back right after the answer), the intake worker files it in batches and
marks each item in the filing transaction, a claim that was never filed (a crashed worker) is filed
once its lease ends, and a message the database refuses ends `failed` with its reason after its
retries while the others file — the triage channel is told and `pqrbot inbox retry` files it.

The refusal is a real database trigger on `pqrs` (the filer's own INSERT fails), not a stand-in."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage.db import SqlDatabase
from tests.channels.email.conftest import PQR_ADDRESS, MailWorld, mail, make_world

RAD1, RAD2, RAD3 = "PQR-2026-000001", "PQR-2026-000002", "PQR-2026-000003"
SLACK_ON = {"channels": {"slack": {"enabled": True, "triage_channel": "C0TRIAGE"}}}
ITEM_KEYS = {"id", "source", "account", "received_at", "mail_from", "message_id", "subject", "status", "reason",
             "radicado", "attempts"}

REFUSE_BOOM = {
    "sqlite": ["CREATE TRIGGER refuse_boom BEFORE INSERT ON pqrs WHEN NEW.subject = 'boom' "
               "BEGIN SELECT RAISE(ABORT, 'boom refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.subject = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$",
                   "CREATE TRIGGER refuse_boom BEFORE INSERT ON pqrs FOR EACH ROW EXECUTE FUNCTION refuse_boom()"],
}
ALLOW_BOOM = {"sqlite": ["DROP TRIGGER refuse_boom"],
              "postgresql": ["DROP TRIGGER refuse_boom ON pqrs", "DROP FUNCTION refuse_boom()"]}


async def _sql(world: MailWorld, statements: dict[str, list[str]]) -> None:
    async with world.app.db.uow() as uow:
        for statement in statements[uow.connection.dialect.name]:
            await uow.connection.execute(text(statement))
        await uow.commit()


async def _cli(world: MailWorld, tmp_path: Path, *args: str) -> str:
    """`pqrbot …` in a subprocess on the world's database, at the world's clock."""
    config = tmp_path / "cli.json"
    config.write_text(json.dumps({"database": {"url": world.app.db.url},  # type: ignore[attr-defined]
                                  "channels": {"console": {"enabled": False}, "email": {"enabled": False}}}))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env={**os.environ, "PQRBOT_LANG": "en", "PQRBOT_NOW": world.now[0].isoformat()})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def _queued_id(answer: str) -> int:
    found = re.fullmatch(r"2\.0\.0 OK: queued as (\d+)", answer.strip())
    assert found, answer
    return int(found.group(1))


async def test_250_means_the_raw_message_is_committed(database: SqlDatabase) -> None:
    async for world in make_world(database, run_filer=False):
        raw = (f"From: Ana <ana@cliente.co>\r\nTo: {PQR_ADDRESS}\r\n"
               "Subject: =?utf-8?q?Petici=C3=B3n_de_informaci=C3=B3n?=\r\n"
               "Message-ID:\r\n <fold@cliente.co>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               "Subject: not this one\r\nQuiero saber el estado de mi contrato.\r\n").encode()
        code, answer = await world.send(raw, settle=False)
        assert code == 250
        queued = _queued_id(answer)
        async with world.app.db.uow(readonly=True) as uow:       # another connection: only what is committed
            item = await uow.inbox.get(queued)
        assert item is not None and item.data == raw and item.status == "pending" and item.attempts == 0
        assert (item.source, item.account, item.mail_from, item.rcpt_tos, item.client) == (
            "smtp", None, "ana@cliente.co", (PQR_ADDRESS,), "127.0.0.1")
        assert item.message_id == "<fold@cliente.co>" and item.subject == "Petición de información"
        assert item.received_at == world.now[0]
        assert await world.counts() == {}                        # nothing filed inside the SMTP transaction
        assert world.filer is not None and await world.filer.run_once() == 1
        [filed] = await world.inbox()
        assert (filed.id, filed.status, filed.radicado, filed.reason) == (queued, "filed", RAD1, None)
        pqr = await world.pqr(RAD1)
        assert pqr.type.value == "peticion" and pqr.received_at == world.now[0]
        assert await world.counts() == {"filed": 1}


async def test_the_worker_files_a_batch_in_one_transaction_and_marks_each_item(database: SqlDatabase) -> None:
    async for world in make_world(database, run_filer=False):
        sent = [mail(f"Queja {i}", "texto", sender=f"c{i}@cliente.co", message_id=f"<b{i}@cliente.co>") for i in range(4)]
        sent += [sent[0], mail(f"Dato [{RAD1}]", "más", sender="c0@cliente.co", message_id="<b9@cliente.co>"),
                 mail("Respuesta automática: fuera de la oficina", sender="c1@cliente.co", message_id="<ooo@cliente.co>")]
        for n, raw in enumerate(sent):
            assert (await world.send(raw, mail_from=f"s{n}@cliente.co", settle=False))[0] == 250
        filer = world.filer
        assert filer is not None
        assert await filer.run_once() == 7 and filer.batches == 1
        items = sorted(await world.inbox(), key=lambda i: i.id)
        assert [(i.status, i.radicado) for i in items] == [
            ("filed", RAD1), ("filed", RAD2), ("filed", RAD3), ("filed", "PQR-2026-000004"),
            ("duplicate", None), ("joined", RAD1), ("kept_aside", None)]
        assert items[4].reason and items[6].reason == "auto-reply subject"
        assert await world.counts() == {"filed": 4, "duplicate": 1, "joined": 1, "kept_aside": 1}
        assert len(await world.delivered()) == 4                 # acknowledged: the new PQRs only
        assert await filer.run_once() == 0


async def test_a_claim_never_filed_is_filed_once_its_lease_ends(database: SqlDatabase) -> None:
    """A worker that claimed and died before its filing commit: the items wait out the lease."""
    async for world in make_world(database, run_filer=False):
        await world.send(mail(), settle=False)
        async with world.app.db.uow() as uow:                    # the claim the dead worker committed
            assert len(await uow.inbox.claim(now=world.now[0], limit=10, lease=dt.timedelta(seconds=60))) == 1
            await uow.commit()
        filer = world.filer
        assert filer is not None and await filer.run_once() == 0
        world.tick(seconds=59)
        assert await filer.run_once() == 0
        world.tick(seconds=1)
        assert await filer.run_once() == 1
        assert [(i.status, i.radicado) for i in await world.inbox()] == [("filed", RAD1)]
        assert await world.counts() == {"filed": 1}


async def test_a_message_that_cannot_be_filed_ends_failed_while_the_others_file(database: SqlDatabase,
                                                                                tmp_path: Path) -> None:
    async for world in make_world(database, config=SLACK_ON, run_filer=False):
        await _sql(world, REFUSE_BOOM)
        for n, subject in enumerate(["Queja a", "boom", "Queja b"]):
            code, _ = await world.send(mail(subject, "texto", sender=f"c{n}@cliente.co", message_id=f"<x{n}@cliente.co>"),
                                       mail_from=f"c{n}@cliente.co", settle=False)
            assert code == 250
        filer = world.filer
        assert filer is not None and await filer.run_once() == 3
        items = {i.subject: i for i in await world.inbox()}
        assert (items["Queja a"].status, items["Queja a"].radicado) == ("filed", RAD1)
        assert (items["Queja b"].status, items["Queja b"].radicado) == ("filed", RAD2)
        boom = items["boom"]
        assert (boom.status, boom.attempts, boom.radicado) == ("pending", 1, None)
        assert "boom refused" in (boom.reason or "")
        assert boom.next_attempt_at == world.now[0] + dt.timedelta(seconds=30)
        assert await filer.run_once() == 0                       # not due yet
        for wait in (30, 60, 120, 240):                          # doubling from 30 s, 5 attempts
            world.tick(seconds=wait)
            assert await filer.run_once() == 1
        assert await filer.run_once() == 0
        [failed] = await world.inbox("failed")
        assert (failed.id, failed.attempts) == (boom.id, 5) and "boom refused" in (failed.reason or "")
        assert await world.counts() == {"filed": 2}              # the failure left nothing behind
        alerts = [i for i in await world.outbox("slack") if i.payload.get("alert") == "inbox_failed"]
        assert [a.destination for a in alerts] == ["C0TRIAGE"]
        assert f"#{boom.id}" in alerts[0].payload["text"] and "boom refused" in alerts[0].payload["text"]
        # The operator sees it, fixes the cause and files it again.
        listed: list[dict[str, Any]] = json.loads(await _cli(world, tmp_path, "inbox", "list", "--status", "failed",
                                                             "--json"))
        assert [set(i) for i in listed] == [ITEM_KEYS]
        assert {k: listed[0][k] for k in ("id", "source", "account", "mail_from", "message_id", "subject", "status",
                                          "radicado", "attempts")} == {
            "id": boom.id, "source": "smtp", "account": None, "mail_from": "c1@cliente.co",
            "message_id": "<x1@cliente.co>", "subject": "boom", "status": "failed", "radicado": None, "attempts": 5}
        assert "boom refused" in listed[0]["reason"]
        assert dt.datetime.fromisoformat(listed[0]["received_at"]) == boom.received_at
        shown = json.loads(await _cli(world, tmp_path, "inbox", "show", str(boom.id), "--json"))
        assert ITEM_KEYS <= set(shown) and ["Subject", "boom"] in shown["headers"]
        assert shown["rcpt_tos"] == [PQR_ADDRESS] and shown["client"] == "127.0.0.1"
        await _sql(world, ALLOW_BOOM)
        assert f"Mail {boom.id} is queued again" in await _cli(world, tmp_path, "inbox", "retry", str(boom.id))
        assert await filer.run_once() == 1
        done = next(i for i in await world.inbox() if i.id == boom.id)
        assert (done.status, done.radicado) == ("filed", RAD3)
        assert (await world.pqr(RAD3)).subject == "boom"
        assert await world.counts() == {"filed": 3}
