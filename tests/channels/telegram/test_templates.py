"""The deployment's acknowledgment (`_acuse.yaml` in the templates folder) is what a Telegram
customer reads after Confirmar, in their language, as email customers do; without the file, the
catalogue's answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import SqlDatabase
from tests.channels.telegram.conftest import Clock
from tests.channels.telegram.helpers import file_pqr
from tests.channels.telegram.test_review import ReviewHarness
from tests.fakes.telegram_api import FakeTelegram

ACK = """title: Acuse propio
es: |
  Señor(a) {nombre}: su {tipo} quedó con el radicado {radicado}; vence el {fecha_vencimiento}.
  Empresa <S.A.S.> & Cía
en: |
  Dear {nombre}: your {tipo} is filed as {radicado}; due {fecha_vencimiento}.
  Company <Inc.> & Co
"""


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_the_acknowledgment_override_is_the_answer_to_confirm(sqlite_database: SqlDatabase, fake: FakeTelegram,
                                                                    clock: Clock, tmp_path: Path, lang: str) -> None:
    (tmp_path / "_acuse.yaml").write_text(ACK, encoding="utf-8")
    h = ReviewHarness(sqlite_database, fake, clock, templates={"dir": str(tmp_path)})
    await h.start()
    try:
        rad = await file_pqr(h, 5555, lang, files=False, email=None)
        answer = h.last_text(5555)
        due = (await h.app.service.show(rad)).due_at
        if lang == "es":
            assert answer.startswith("Señor(a) ") and f"su queja quedó con el radicado {rad}; vence el " in answer
            assert "Empresa &lt;S.A.S.&gt; &amp; Cía" in answer                # escaped in Telegram HTML
        else:
            assert answer.startswith("Dear ") and f"your complaint is filed as {rad}; due " in answer
            assert "Company &lt;Inc.&gt; &amp; Co" in answer
        assert str(h.app.service.calendar.local(due).date()) in answer
        assert "Fecha máxima de respuesta" not in answer and "<b>" not in answer   # not the catalogue's
    finally:
        await h.stop()


async def test_without_the_file_the_catalogue_answers(sqlite_database: SqlDatabase, fake: FakeTelegram,
                                                      clock: Clock, tmp_path: Path) -> None:
    h = ReviewHarness(sqlite_database, fake, clock, templates={"dir": str(tmp_path)})
    await h.start()
    try:
        rad = await file_pqr(h, 5555, files=False, email=None)
        assert f"quedó radicada con el número <b>{rad}</b>" in h.last_text(5555)
    finally:
        await h.stop()
