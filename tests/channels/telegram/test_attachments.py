"""Telegram and attachments: files past the configured limits or the Bot API's 20 MB download limit
are left out (the PQR is filed all the same, the customer is told which file and why, staff get a
note), and a manager sees a PQR's attachments listed (names escaped)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.bootstrap import build, telegram_channel
from bot.config import Attachments
from domain.pqr import Direction
from storage.db import SqlDatabase
from tests.channels.telegram.conftest import MANAGER, SECRET, Clock, Harness, config
from tests.channels.telegram.helpers import DOC, PHOTO
from tests.fakes import telegram_updates as tu
from tests.fakes.telegram_api import DOWNLOAD_LIMIT, FakeTelegram

MB = 1024 * 1024


class LimitHarness(Harness):
    """The Telegram harness with `attachments:` set in the config."""

    def __init__(self, db: SqlDatabase, fake: FakeTelegram, clock: Clock, mode: str, **limits: int) -> None:
        self.db, self.fake, self.clock, self.mode = db, fake, clock, mode
        cfg = config(fake, mode)
        cfg = cfg.model_copy(update={"attachments": Attachments(**limits)})
        self.app = build(cfg, db=db, clock=clock)
        self.channel = telegram_channel(self.app, token=fake.token, webhook_secret=SECRET if mode == "webhook" else None,
                                        poll_timeout=5, sweep_every=3600)


@pytest.fixture(params=["polling", "webhook"])
async def big_limit_bot(request: pytest.FixtureRequest, database: SqlDatabase, fake: FakeTelegram,
                        clock: Clock) -> AsyncIterator[Harness]:
    """Config limits above Telegram's: only the Bot API's 20 MB stops a file (SQLite and PostgreSQL)."""
    h = await LimitHarness(database, fake, clock, request.param, max_file_bytes=50 * MB,
                           max_message_bytes=100 * MB).start()
    try:
        yield h
    finally:
        await h.stop()


async def _describe(h: Harness, uid: int, text: str = "La factura vino mal") -> None:
    await h.say(uid, "/start")
    await h.press(uid, "Radicar PQR")
    await h.press(uid, "c:type:reclamo")
    await h.say(uid, text)


async def _confirm(h: Harness, uid: int) -> str:
    await h.press(uid, "Continuar")
    await h.press(uid, "Omitir")
    await h.press(uid, "Confirmar")
    found = re.search(r"PQR-\d{4}-\d{6}", h.last_text(uid))
    assert found, h.last_text(uid)
    return found.group(0)


def _document_without_size(uid: int, file_id: str, name: str) -> dict[str, Any]:
    update = tu.document(uid, file_id, name, "application/pdf", 1)
    del update["message"]["document"]["file_size"]         # optional in the Bot API
    return update


async def test_a_document_getfile_refuses_as_too_big_is_left_out_and_the_pqr_filed(big_limit_bot: Harness) -> None:
    h = big_limit_bot
    await _describe(h, 42)
    h.fake.add_file("DOCOK", DOC, "documents/ok.pdf")
    h.fake.add_file("HUGE", b"stand-in", "documents/huge.pdf", size=DOWNLOAD_LIMIT + 1)
    await h.deliver(tu.document(42, "DOCOK", "factura.pdf", "application/pdf", len(DOC)))
    await h.deliver(_document_without_size(42, "HUGE", "video<b>.pdf"))   # no size known: getFile decides
    radicado = await _confirm(h, 42)

    answer = h.last_text(42)
    assert "quedó radicada" in answer and "No pudimos recibir estos archivos" in answer
    assert "video&lt;b&gt;.pdf (tamaño desconocido): Telegram no deja a los bots descargar archivos de más de 20 MB" \
        in answer
    assert [c["file_id"] for c in h.fake.calls_to("getFile")] == ["DOCOK", "HUGE"]
    pqr = await h.app.service.show(radicado)
    assert [(a.filename, a.size) for a in pqr.messages[0].attachments] == [("factura.pdf", len(DOC))]
    notes = [m.body for m in pqr.messages if m.direction is Direction.NOTE]
    assert len(notes) == 1 and "video<b>.pdf" in notes[0] and "telegram" in notes[0]
    async with h.db.uow(readonly=True) as uow:
        assert await uow.telegram.conversation(42) is None          # not stuck at «Confirmar»


async def test_a_document_announced_over_20_mb_is_not_even_requested(big_limit_bot: Harness) -> None:
    h = big_limit_bot
    await _describe(h, 43)
    h.fake.add_file("BIG", b"stand-in", "documents/big.pdf", size=21 * MB)
    await h.deliver(tu.document(43, "BIG", "planos.pdf", "application/pdf", 21 * MB))
    radicado = await _confirm(h, 43)
    assert "planos.pdf (21 MB): Telegram no deja a los bots descargar archivos de más de 20 MB" in h.last_text(43)
    assert h.fake.calls_to("getFile") == []
    pqr = await h.app.service.show(radicado)
    assert pqr.messages[0].body == "La factura vino mal" and pqr.messages[0].attachments == ()


async def test_files_past_the_configured_limits_are_refused_as_they_arrive(db_bot: Harness) -> None:
    h = db_bot              # the default limits: 10 MB a file
    await _describe(h, 44)
    h.fake.add_file("PH", PHOTO, "photos/p.jpg")
    h.fake.add_file("BIG", b"stand-in", "documents/big.pdf", size=12 * MB)
    await h.deliver(tu.document(44, "BIG", "escaneo.pdf", "application/pdf", 12 * MB))
    told = [c["text"] for c in h.fake.calls_to("sendMessage") if "No pudimos recibir" in c["text"]]
    assert len(told) == 1 and "escaneo.pdf (12 MB): supera el máximo de 10 MB por archivo" in told[0]
    assert "hasta 10 MB por archivo" in told[0]
    await h.deliver(tu.photo(44, "PH", len(PHOTO)))
    await h.press(44, "Continuar")
    await h.press(44, "Omitir")
    summary = h.last_text(44)
    assert "Revise su PQR" in summary and "escaneo.pdf" not in summary and ".jpg" in summary
    await h.press(44, "Confirmar")
    radicado = re.search(r"PQR-\d{4}-\d{6}", h.last_text(44)).group(0)  # type: ignore[union-attr]
    assert "escaneo.pdf (12 MB)" in h.last_text(44)          # said again with the radicado
    assert [c["file_id"] for c in h.fake.calls_to("getFile")] == ["PH"]
    pqr = await h.app.service.show(radicado)
    assert [a.content_type for a in pqr.messages[0].attachments] == ["image/jpeg"]
    assert any("escaneo.pdf" in m.body for m in pqr.messages if m.direction is Direction.NOTE)


async def test_a_follow_up_keeps_its_text_when_its_file_is_too_big(bot: Harness) -> None:
    await _describe(bot, 45)
    radicado = await _confirm(bot, 45)
    filed = bot.fake.last_message(45)
    bot.fake.add_file("HUGE2", b"stand-in", "documents/huge2.pdf", size=DOWNLOAD_LIMIT + 5)
    update = _document_without_size(45, "HUGE2", "anexo.pdf")
    update["message"]["caption"] = "les mando el anexo"
    update["message"]["reply_to_message"] = filed
    await bot.deliver(update)
    texts = [c["text"] for c in bot.fake.calls_to("sendMessage")][-2:]
    assert texts[0] == f"Agregamos su mensaje a la PQR <b>{radicado}</b>."
    assert "anexo.pdf (tamaño desconocido): Telegram no deja" in texts[1]
    alone = _document_without_size(45, "HUGE2", "solo.pdf")       # no caption: the body names the file
    alone["message"]["reply_to_message"] = filed
    await bot.deliver(alone)
    pqr = await bot.app.service.show(radicado)
    assert [m.body for m in pqr.messages if m.direction is Direction.IN] == [
        "La factura vino mal", "les mando el anexo", "[solo.pdf]"]
    assert all(m.attachments == () for m in pqr.messages)
    assert any("anexo.pdf" in m.body for m in pqr.messages if m.direction is Direction.NOTE)


async def test_a_manager_sees_the_attachments_listed_with_names_escaped(polling_bot: Harness) -> None:
    h = polling_bot
    await _describe(h, 46)
    h.fake.add_file("D1", DOC, "documents/d1.pdf")
    await h.deliver(tu.document(46, "D1", "factura <i>nov</i>.pdf", "application/pdf", len(DOC)))
    radicado = await _confirm(h, 46)
    (attachment,) = (await h.app.service.show(radicado)).messages[0].attachments
    card = h.fake._message(MANAGER, "card", {"inline_keyboard": [[
        {"text": "Ver", "callback_data": h.channel.actions.data("show", radicado)}]]})
    await h.deliver(tu.callback(MANAGER, f"m:show:{radicado}", card))
    shown = h.last_text(MANAGER)
    assert "<b>Adjuntos</b>" in shown
    assert f"#{attachment.id} factura &lt;i&gt;nov&lt;/i&gt;.pdf (application/pdf, 1,7 kB)" in shown
