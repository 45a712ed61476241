"""`pqrbot pqr show --json` lists each message's attachments and `pqrbot pqr attachment RAD ID --out
FILE` writes one, in a subprocess, for files that came by mail through the real SMTP server; the
`attachments:` limits also hold for penalty evidence given with `--file`."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from bot.bootstrap import build, inbox_for
from bot.config import parse_config
from bot.intake.worker import IntakeWorker
from channels.email.adapter import EmailChannel
from storage.db import SqlDatabase
from tests.channels.email.conftest import filing, wait_until
from tests.e2e.conftest import Run, as_json

pytestmark = pytest.mark.slow

INVOICE = b"%PDF-1.4\n" + bytes(range(256)) * 8         # binary, with every byte value
PHOTO = b"\xff\xd8\xff\xe0 foto del medidor " * 40
NOW = dt.datetime(2026, 12, 18, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def mail_with_files(subject: str, message_id: str, files: list[tuple[str, str, bytes]]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana Pérez <ana@cliente.co>"
    msg["To"] = "pqr@pqr.example.co"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content("Adjunto la factura y la foto.")
    for name, ctype, data in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


async def _mail_in(workdir: Path, mails: list[bytes]) -> None:
    """The SMTP intake on the CLI's database: each mail over a real SMTP session."""
    cfg_data = json.loads((workdir / "config.yaml").read_text())
    cfg = parse_config({**cfg_data, "channels": {"console": {"enabled": False},
                                                 "email": {"listen": {"host": "127.0.0.1", "port": 0}}}})
    db = SqlDatabase(cfg.database.url)
    await db.upgrade()
    app = build(cfg, db=db, clock=lambda: NOW)
    channel = EmailChannel(cfg.channels.email, inbox_for(app), app.clock)
    await channel.start()
    try:
        assert channel.address is not None
        async with filing(app) as filer:
            for raw in mails:
                async with aiosmtplib.SMTP(hostname="127.0.0.1", port=channel.address[1], timeout=30) as smtp:
                    errors, _ = await smtp.sendmail("ana@cliente.co", ["pqr@pqr.example.co"], raw)
                    assert not errors
            await wait_until(lambda: _filed(filer, len(mails)))
    finally:
        await channel.stop()
        await db.dispose()


async def _filed(filer: IntakeWorker, n: int) -> bool:
    return filer.items >= n


def test_show_lists_attachments_and_attachment_writes_the_same_bytes(pqrbot: Run, workdir: Path) -> None:
    asyncio.run(_mail_in(workdir, [
        mail_with_files("Reclamo por la factura", "<c1@cliente.co>",
                        [("factura.pdf", "application/pdf", INVOICE), ("medidor.jpg", "image/jpeg", PHOTO)]),
        mail_with_files("Otra queja", "<c2@cliente.co>", [("ajeno.pdf", "application/pdf", b"%PDF otra")]),
    ]))
    shown = as_json(pqrbot("pqr", "show", "PQR-2026-000001", "--json"))
    first = shown["messages"][0]
    assert set(first) >= {"id", "direction", "channel", "body", "at", "attachments"}
    files = first["attachments"]
    assert [set(f) for f in files] == [{"id", "filename", "content_type", "size", "sha256"}] * 2
    assert [(f["filename"], f["content_type"], f["size"], f["sha256"]) for f in files] == [
        ("factura.pdf", "application/pdf", len(INVOICE), hashlib.sha256(INVOICE).hexdigest()),
        ("medidor.jpg", "image/jpeg", len(PHOTO), hashlib.sha256(PHOTO).hexdigest())]
    assert all(m["attachments"] == [] for m in shown["messages"][1:])

    out = workdir / "copia.pdf"
    wrote = pqrbot("pqr", "attachment", "pqr-2026-000001", str(files[0]["id"]), "--out", str(out))
    assert wrote.returncode == 0, wrote.stderr
    assert out.read_bytes() == INVOICE and "copia.pdf" in wrote.stdout
    piped = subprocess.run([sys.executable, "-m", "bot", "--config", str(workdir / "config.yaml"), "pqr",
                            "attachment", "PQR-2026-000001", str(files[1]["id"]), "--out", "-"],
                           capture_output=True, cwd=workdir, timeout=120)
    assert piped.returncode == 0 and piped.stdout == PHOTO          # `--out -`: the bytes on stdout
    text = pqrbot("pqr", "show", "PQR-2026-000001")
    assert f"#{files[0]['id']} factura.pdf (application/pdf, 2 kB)" in text.stdout

    other = as_json(pqrbot("pqr", "show", "PQR-2026-000002", "--json"))["messages"][0]["attachments"][0]["id"]
    for ident in (str(other), "999999"):              # another PQR's file is not this PQR's
        missing = pqrbot("pqr", "attachment", "PQR-2026-000001", ident, "--out", str(workdir / "nada"))
        assert missing.returncode == 1 and len(missing.stderr.splitlines()) == 1
        assert missing.stderr.strip() == f"pqrbot: PQR PQR-2026-000001 has no attachment {ident}."
    unknown = pqrbot("pqr", "attachment", "PQR-1999-000001", "1", "--out", str(workdir / "nada"))
    assert unknown.returncode == 1 and unknown.stderr.strip() == "pqrbot: PQR PQR-1999-000001 not found."
    assert not (workdir / "nada").exists()
    usage = pqrbot("pqr", "attachment", "PQR-2026-000001", "uno", "--out", "x")     # not an id at all
    assert usage.returncode == 2 and "uno" in usage.stderr
    unwritable = pqrbot("pqr", "attachment", "PQR-2026-000001", str(files[0]["id"]), "--out",
                        str(workdir / "no-such-dir" / "f.pdf"))
    assert unwritable.returncode == 1 and "cannot write" in unwritable.stderr


def test_penalty_evidence_files_keep_the_attachment_limits(pqrbot: Run, workdir: Path) -> None:
    cfg = json.loads((workdir / "config.yaml").read_text())
    cfg["attachments"] = {"max_file_bytes": 1024}
    (workdir / "config.yaml").write_text(json.dumps(cfg))
    pid = str(as_json(pqrbot("penalty", "new", "--client", "Acme", "--category", "kpi_ans", "--amount", "10",
                             "--area", "laboratorio", "--json"))["id"])
    big = workdir / "acta.pdf"
    big.write_bytes(b"x" * 2048)
    refused = pqrbot("penalty", "evidence", pid, "--text", "Informe", "--file", str(big), "--as", "slack:U0STAFF")
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert refused.stderr.strip() == "pqrbot: penalty: acta.pdf (2 kB): over the limit of 1 kB per file"
    assert as_json(pqrbot("penalty", "show", pid, "--json"))["evidence"] == []
