"""Templates through the real SMTP server and relay sink: a deployment's `_acuse.yaml` is the
acknowledgment intake sends (and the catalogue's when it is absent or broken), `_cierre.yaml`
wraps the final answer, and `reply RAD @template` reaches a Spanish and an English customer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import SqlDatabase
from tests.channels.email.conftest import MailWorld, make_world, mail

ACK = """title: Acuse propio
es: |
  Señor(a) {nombre}: su {tipo} quedó con el radicado {radicado} ({fecha_radicacion}); vence el {fecha_vencimiento}.
en: |
  Dear {nombre}: your {tipo} is filed as {radicado} ({fecha_radicacion}); due {fecha_vencimiento}.
"""
CLOSING = """title: Cierre
es: "Respuesta a {radicado}:\\n\\n{respuesta}\\n\\nEmpresa S.A."
en: "Answer to {radicado}:\\n\\n{respuesta}\\n\\nCompany Inc."
"""
ANSWER = """title: Revisión
types: [queja, reclamo]
es: "Hola {nombre}, revisamos su {tipo} {radicado}."
en: "Hello {nombre}, we reviewed your {tipo} {radicado}."
"""


@pytest.fixture
async def folder(tmp_path: Path) -> Path:
    (tmp_path / "_acuse.yaml").write_text(ACK, encoding="utf-8")
    (tmp_path / "_cierre.yaml").write_text(CLOSING, encoding="utf-8")
    (tmp_path / "revision.yaml").write_text(ANSWER, encoding="utf-8")
    return tmp_path


@pytest.fixture
async def tpl_world(sqlite_database: SqlDatabase, folder: Path) -> AsyncIterator[MailWorld]:
    async for w in make_world(sqlite_database, config={"templates": {"dir": str(folder)}}):
        yield w


async def test_the_acknowledgment_override_is_what_intake_sends(tpl_world: MailWorld, folder: Path) -> None:
    await tpl_world.send(mail(sender="Ana {radicado} <ana@cliente.co>"))
    [ack] = await tpl_world.delivered()
    body = ack.get_content()
    assert body.startswith("Señor(a) Ana {radicado}: su queja quedó con el radicado PQR-2026-000001 (2026-03-02)")
    assert "[PQR-2026-000001]" in ack["Subject"]
    await tpl_world.send(mail("Complaint about a double charge",
                              "Hello, I was charged twice for my November invoice. Please refund it.",
                              sender="John Smith <john@client.com>", message_id="<en1@client.com>"),
                         mail_from="john@client.com")
    [ack] = await tpl_world.delivered()
    assert ack.get_content().startswith("Dear John Smith: your ")
    # A broken override is not used: the catalogue's acknowledgment goes out instead.
    (folder / "_acuse.yaml").write_text(ACK.replace("{nombre}", "{cliente}"), encoding="utf-8")
    await tpl_world.send(mail(message_id="<m9@cliente.co>", sender="Eva <eva@cliente.co>"),
                         mail_from="eva@cliente.co")
    [ack] = await tpl_world.delivered()
    assert "Hemos recibido su queja" in ack.get_content()


async def test_reply_and_close_with_templates_reach_each_customer_in_their_language(tpl_world: MailWorld) -> None:
    await tpl_world.send(mail())
    await tpl_world.send(mail("Complaint about a double charge",
                              "Hello, I was charged twice for my November invoice. Please refund it.",
                              sender="John Smith <john@client.com>", message_id="<en1@client.com>"),
                         mail_from="john@client.com")
    await tpl_world.delivered()
    es, en = "PQR-2026-000001", "PQR-2026-000002"
    handle = tpl_world.app.commands.handle
    reply = await handle("slack:U0STAFF", f"reply {es} @revision Le escribimos pronto.", tpl_world.now[0])
    assert reply.ok, reply.text
    reply = await handle("slack:U0STAFF", f"close {en} @revision We refunded it.", tpl_world.now[0])
    assert reply.ok, reply.text
    sent = {m["To"]: m.get_content().replace("\r\n", "\n") for m in await tpl_world.delivered()}
    assert sent["ana@cliente.co"].startswith(f"Hola Ana Pérez, revisamos su queja {es}.\n\nLe escribimos pronto.")
    john = sent["john@client.com"]
    assert john.startswith(f"Answer to {en}:\n\nHello John Smith, we reviewed your")   # the closing wrapper
    assert "We refunded it." in john and john.rstrip().endswith("Company Inc.")
