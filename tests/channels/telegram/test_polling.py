"""Polling: an unreadable update never blocks the others; chats run concurrently, each in order.
Follow-ups tell staff through the outbox."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.pqrs.followups import excerpt
from bot.outbox.worker import OutboxWorker
from storage.ports import PqrFilter
from tests.channels.telegram.conftest import MANAGER, Harness
from tests.channels.telegram.helpers import file_pqr
from tests.fakes import telegram_updates as tu
from tests.corpora import CORPORA

CORPUS = CORPORA / "telegram" / "telegram_types"


def malformed_photo(uid: int) -> dict[str, Any]:
    """A photo as in old recordings: no file_unique_id, so python-telegram-bot cannot read it."""
    return tu.message(uid, "es", photo=[{"file_id": "AgADAgADOagx", "file_size": 698, "width": 90, "height": 30}])


async def unreadable_kept(h: Harness) -> list[Any]:
    async with h.db.uow(readonly=True) as uow:
        return await uow.audit.list(kind="telegram_update_unreadable")


async def test_an_unreadable_update_is_skipped_and_kept(polling_bot: Harness) -> None:
    h = polling_bot
    first = h.fake.push(tu.text(42, "/start"))
    bad = h.fake.push(malformed_photo(43))
    last = h.fake.push(tu.text(44, "/start"))
    await h.fake.processed(last)
    assert h.fake.confirmed > bad["update_id"] > first["update_id"]
    assert "Radicar PQR" in str(h.fake.last_message(42)["reply_markup"])
    assert "Radicar PQR" in str(h.fake.last_message(44)["reply_markup"])
    (kept,) = await unreadable_kept(h)
    assert kept.data["update_id"] == bad["update_id"] and "AgADAgADOagx" in kept.data["update"]
    # the queue moves on: later updates are processed as usual
    await h.say(43, "/start")
    assert "Radicar PQR" in str(h.fake.last_message(43)["reply_markup"])


@pytest.mark.skipif(not CORPUS.is_dir(), reason="telegram corpus not available")
async def test_every_recorded_update_through_polling(polling_bot: Harness) -> None:
    h = polling_bot
    pushed = []
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text())
        data.pop("update_id", None)            # Telegram's ids grow; the recordings reuse theirs
        pushed.append(h.fake.push(data))
        pushed.append(h.fake.push(tu.text(42, "hola")))    # a good update after each one
    await h.fake.processed(pushed[-1], timeout=20)
    answers = [c for c in h.fake.calls_to("sendMessage") if c["chat_id"] == "42"]
    assert len(answers) >= len(pushed) // 2              # every good update was answered
    assert await h.app.service.count(PqrFilter(statuses=())) == 0
    kept = await unreadable_kept(h)
    assert kept and all(k.data["update_id"] in {u["update_id"] for u in pushed} for k in kept)


async def test_chats_run_concurrently_each_in_order(polling_bot: Harness) -> None:
    h = polling_bot
    for uid in (42, 43):
        await h.say(uid, "/start")
        await h.press(uid, "Radicar PQR")
        await h.press(uid, "Queja")
    last: dict[str, Any] = {}
    for word in ("uno", "dos", "tres", "cuatro"):           # one batch, two chats interleaved
        for uid in (42, 43):
            last = h.fake.push(tu.text(uid, f"{word} {uid}"))
    await h.fake.processed(last)
    for uid in (42, 43):
        await h.press(uid, "Continuar")
        await h.press(uid, "Omitir")
        await h.press(uid, "Confirmar")
    bodies = sorted(p.messages[0].body for p in await h.app.service.list(PqrFilter(statuses=()), details=True))
    assert bodies == [f"uno {u}\n\ndos {u}\n\ntres {u}\n\ncuatro {u}" for u in (42, 43)]


async def test_a_followup_tells_the_assignee(polling_bot: Harness) -> None:
    h = polling_bot
    radicado = await file_pqr(h, 42, files=False)
    await h.app.service.assign(radicado, f"telegram:{MANAGER}", actor="slack:U0BOSS", now=h.clock())
    await h.say(42, "  y además\n llegó tarde  " + "x" * 300, reply_to=h.fake.last_message(42))
    async with h.db.uow(readonly=True) as uow:
        rows = [r for r in await uow.outbox.list() if r.payload.get("kind") == "followup"]
    assert [(r.channel, r.destination) for r in rows] == [("telegram", str(MANAGER))]
    text = rows[0].payload["text"]
    assert radicado in text and "y además llegó tarde" in text and len(text) < 400
    # delivered to the manager's chat; a reply there is not taken as the customer's follow-up
    await OutboxWorker(h.db, {"telegram": h.channel}, h.clock).run_once()
    assert radicado in h.last_text(MANAGER)
    await h.say(MANAGER, "visto", reply_to=h.fake.last_message(MANAGER))
    assert all(m.body != "visto" for m in (await h.app.service.show(radicado)).messages)


async def test_a_followup_without_assignee_goes_to_slack_triage(sqlite_database, fake, clock) -> None:  # type: ignore[no-untyped-def]
    h = await Harness(sqlite_database, fake, clock, slack=True).start()
    try:
        radicado = await file_pqr(h, 42, files=False)
        await h.say(42, "sigo esperando", reply_to=h.fake.last_message(42))
        async with h.db.uow(readonly=True) as uow:
            rows = [r for r in await uow.outbox.list() if r.payload.get("kind") == "followup"]
        assert [(r.channel, r.destination) for r in rows] == [("slack", "C0TRIAGE")]
        assert radicado in rows[0].payload["text"] and "sigo esperando" in rows[0].payload["text"]
    finally:
        await h.stop()


def test_excerpt_is_short_and_on_one_line() -> None:
    assert excerpt("a\n b  c") == "a b c"
    cut = excerpt("palabra " * 100, 50)
    assert len(cut) <= 50 and cut.endswith("…") and "\n" not in cut
