"""`/pqr templates` and `reply|close RAD @template` through signed requests and the fake Slack, with
the shipped templates folder: listed as Block Kit (the console's text as fallback), filled in the
customer's language, refused with the accepted list."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import build, slack_channel
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from tests.channels.slack.conftest import BOG, NOW, STAFF, Harness, slack_config
from tests.fakes.slack_api import FakeSlack

SHIPPED = Path(__file__).resolve().parents[3] / "templates"


@pytest.fixture
async def folder(tmp_path: Path) -> Path:
    """The shipped templates plus one whose file names an unknown placeholder."""
    for f in SHIPPED.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "malo.yaml").write_text("title: Malo\nes: Hola {cliente}\nen: Hi {cliente}\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
async def slack_tpl(sqlite_database: SqlDatabase, fake: FakeSlack, folder: Path) -> AsyncIterator[Harness]:
    cfg = slack_config(fake) | {"templates": {"dir": str(folder), "agents": {f"slack:{STAFF}": "Laura Ríos"}}}
    app = build(parse_config(cfg), db=sqlite_database, clock=lambda: NOW)
    adapter = slack_channel(app)
    await adapter.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(app, adapter, fake, http)
    finally:
        await adapter.stop()


async def file(h: Harness, *, name: str, email: str, language: str, pqr_type: PqrType = PqrType.RECLAMO) -> str:
    pqr = await h.app.service.file(FilingRequest(
        pqr_type=pqr_type, channel="email", name=name, subject="Cobro doble", body="Me cobraron dos veces",
        received_at=dt.datetime(2026, 12, 18, 10, tzinfo=BOG), actor=f"email:{email}", email=email,
        language=language))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def last_text(h: Harness, kind: str) -> str:
    async with h.app.db.uow(readonly=True) as uow:
        rows = [i for i in await uow.outbox.list(limit=1000) if i.payload.get("kind") == kind]
    return str(rows[-1].payload["text"])


async def test_templates_are_listed_as_block_kit_and_filtered_by_the_pqrs_type(slack_tpl: Harness) -> None:
    answer = await slack_tpl.command("plantillas")
    console = await slack_tpl.app.commands.handle(f"slack:{STAFF}", "templates", NOW)
    assert answer.args["text"] == console.text
    assert answer.args["blocks"][0]["type"] == "header"
    fields = " ".join(f["text"] for b in answer.args["blocks"] if "fields" in b for f in b["fields"])
    assert "@respuesta_final" in fields and "@habeas_data" in fields and "@malo" in fields
    rad = await file(slack_tpl, name="Ana", email="ana@example.co", language="es")
    for_rad = (await slack_tpl.command(f"templates {rad}")).args["text"]
    assert "@acuse_reclamo" in for_rad and "@habeas_data" not in for_rad


async def test_reply_with_a_template_in_spanish_and_in_english(slack_tpl: Harness) -> None:
    es = await file(slack_tpl, name="Ana {radicado} <b>", email="ana@example.co", language="es")
    en = await file(slack_tpl, name="John Smith", email="john@example.com", language="en")
    answer = await slack_tpl.command(f"responder {es} @solicitud_documentos el extracto de noviembre")
    assert answer.args["response_type"] == "in_channel"
    text = await last_text(slack_tpl, "reply")
    assert text.startswith("Estimado(a) Ana {radicado} <b>:")      # the name stays literal
    assert f"su reclamo con radicado {es}" in text and "el extracto de noviembre" in text
    assert text.rstrip().endswith("Laura Ríos")
    await slack_tpl.command(f"close {en} @respuesta_final We refunded the second charge.")
    text = await last_text(slack_tpl, "closing")
    assert text.startswith("Dear John Smith,") and "We refunded the second charge." in text
    assert "2026-12-18" in text and "Law 1437 of 2011" in text
    assert text.index("We refunded") < text.index("reconsideration")
    assert (await slack_tpl.app.service.show(en)).status.value == "cerrada"


async def test_an_unknown_template_or_placeholder_is_refused_with_the_list(slack_tpl: Harness) -> None:
    rad = await file(slack_tpl, name="Ana", email="ana@example.co", language="es")
    answer = await slack_tpl.command(f"reply {rad} @inexistente hola")
    assert answer.args["response_type"] == "ephemeral"
    assert "«@inexistente»" in answer.args["text"] and "@acuse_reclamo" in answer.args["text"]
    answer = await slack_tpl.command(f"reply {rad} @habeas_data hola")      # does not fit a reclamo
    assert "@solicitud_documentos" in answer.args["text"] and "@habeas_data," not in answer.args["text"]
    answer = await slack_tpl.command(f"reply {rad} @malo")
    assert "{cliente}" in answer.args["text"] and "{nombre}, {radicado}" in answer.args["text"]
    pqr = await slack_tpl.app.service.show(rad)
    assert not [m for m in pqr.messages if m.direction.value == "out"]       # nothing was sent
