"""Status privacy, follow-ups, outbox delivery (429, 403), manager buttons, webhook secret, digest."""

from __future__ import annotations

import json

import pytest

from bot.config import ConfigError
from bot.sla.digest import queue_digest
from bot.ports.payloads import Alert
from bot.outbox.worker import OutboxWorker
from bot.bootstrap import telegram_channel
from storage.ports import PqrFilter
from tests.channels.telegram.conftest import MANAGER, Harness
from tests.channels.telegram.helpers import PHOTO, file_pqr
from tests.fakes import telegram_updates as tu
from tests.corpora import CORPORA

CORPUS = CORPORA / "telegram" / "telegram_types"


def worker(h: Harness) -> OutboxWorker:
    return OutboxWorker(h.db, {"telegram": h.channel}, h.clock)


async def outbox(h: Harness) -> list:  # type: ignore[type-arg]
    async with h.db.uow(readonly=True) as uow:
        return await uow.outbox.list()


async def test_status_only_for_the_filing_chat(bot: Harness) -> None:
    radicado = await file_pqr(bot, 42, files=False)
    await bot.say(42, f"/estado {radicado.lower()}")
    assert radicado in bot.last_text(42) and "Estado: radicada" in bot.last_text(42)
    await bot.say(43, f"/estado {radicado}")
    other = bot.last_text(43)
    await bot.say(43, "/estado PQR-2026-999999")
    assert other.replace(radicado, "X") == bot.last_text(43).replace("PQR-2026-999999", "X")
    await bot.say(42, "/start")
    await bot.press(42, "Consultar estado")
    assert radicado in bot.last_text(42)
    await bot.say(43, "/start")
    await bot.press(43, "Consultar estado")
    assert radicado not in bot.last_text(43)


async def test_reply_to_a_bot_message_joins_the_pqr(bot: Harness) -> None:
    radicado = await file_pqr(bot, 42, files=False)
    answer = bot.fake.last_message(42)
    bot.fake.add_file("PH2", PHOTO, "photos/second.jpg")
    update = tu.photo(42, "PH2", len(PHOTO), caption="otra foto")
    update["message"]["reply_to_message"] = answer
    await bot.deliver(update)
    assert bot.last_text(42) == f"Agregamos su mensaje a la PQR <b>{radicado}</b>."
    await bot.say(42, "y además llegó tarde", reply_to=bot.fake.last_message(42))
    pqr = await bot.app.service.show(radicado)
    incoming = [m.body for m in pqr.messages if m.direction.value == "in"]
    assert incoming[1:] == ["otra foto", "y además llegó tarde"]
    # a reply from another chat to that message id finds nothing
    await bot.say(43, "intruso", reply_to={**answer, "chat": tu.chat(43)})
    assert len((await bot.app.service.show(radicado)).messages) == 3


async def test_staff_reply_arrives_through_the_outbox(polling_bot: Harness) -> None:
    h = polling_bot
    radicado = await file_pqr(h, 42, files=False)
    sent_before = len(h.fake.calls_to("sendMessage"))
    assert await worker(h).run_once() == 1                  # the ack: already answered in the chat
    assert len(h.fake.calls_to("sendMessage")) == sent_before
    await h.app.service.reply(radicado, "Le devolvemos el dinero <hoy>", actor="slack:U0STAFF", now=h.clock())
    assert await worker(h).run_once() == 1
    sent = h.fake.calls_to("sendMessage")[-1]
    assert sent["chat_id"] == "42" and sent["parse_mode"] == "HTML"
    assert sent["text"] == f"<b>Respuesta a su PQR {radicado}</b>\n\nLe devolvemos el dinero &lt;hoy&gt;"
    await h.say(42, "gracias", reply_to=h.fake.last_message(42))    # a reply to the staff answer joins too
    assert (await h.app.service.show(radicado)).messages[-1].body == "gracias"


async def test_429_is_retried_after_retry_after(polling_bot: Harness) -> None:
    h = polling_bot
    radicado = await file_pqr(h, 42, files=False)
    await worker(h).run_once()
    await h.app.service.reply(radicado, "respuesta", actor="slack:U0STAFF", now=h.clock())
    h.fake.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    assert await worker(h).run_once() == 0
    row = [r for r in await outbox(h) if r.payload["kind"] == "reply"][0]
    assert row.status == "pending" and "rate limited" in row.last_error
    assert (row.next_attempt_at - h.clock()).total_seconds() >= 7
    h.clock.advance(minutes=5)
    assert await worker(h).run_once() == 1


async def test_403_marks_the_customer_unreachable_and_tells_staff(polling_bot: Harness) -> None:
    h = polling_bot
    radicado = await file_pqr(h, 42, files=False)
    await worker(h).run_once()
    await h.app.service.reply(radicado, "respuesta", actor="slack:U0STAFF", now=h.clock())
    h.fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    assert await worker(h).run_once() == 0
    row = [r for r in await outbox(h) if r.payload["kind"] == "reply"][0]
    assert row.status == "dead"
    pqr = await h.app.service.show(radicado)
    assert pqr.customer.unreachable
    assert "bloqueó el bot" in pqr.messages[-1].body and pqr.messages[-1].direction.value == "note"
    async with h.db.uow(readonly=True) as uow:
        assert [e.data["chat_id"] for e in await uow.audit.list(kind="customer_unreachable")] == [42]
    assert h.app.notifier.route(pqr) == ("email", "ana@example.co")      # no longer Telegram


async def test_network_error_is_retryable(polling_bot: Harness) -> None:
    h = polling_bot
    h.fake.fail("sendMessage", 502, "Bad Gateway")
    with pytest.raises(Exception) as caught:
        await h.channel.send("42", Alert(text="x"))
    assert type(caught.value).__name__ == "Retryable"


async def test_webhook_secret_is_checked(sqlite_database, fake, clock) -> None:  # type: ignore[no-untyped-def]
    h = await Harness(sqlite_database, fake, clock, "webhook").start()
    try:
        update = fake.push(tu.text(42, "/start"))
        assert await h.post(update, secret=None) == 403
        assert await h.post(update, secret="wrong") == 403
        assert not fake.calls_to("sendMessage")
        assert await h.post(update) == 200
        assert fake.calls_to("sendMessage")
    finally:
        await h.stop()


async def test_manager_buttons_check_the_role_on_every_press(polling_bot: Harness) -> None:
    h = polling_bot
    radicado = await file_pqr(h, 42, files=False)
    card = h.fake._message(MANAGER, "card", {"inline_keyboard": [[
        {"text": "Ver", "callback_data": h.channel.actions.data("show", radicado)}]]})
    await h.deliver(tu.callback(42, f"m:show:{radicado}", {**card, "chat": tu.chat(42)}))
    refusal = h.fake.calls_to("answerCallbackQuery")[-1]
    assert refusal["show_alert"] in ("true", "True", True) and "solo para gerentes" in refusal["text"]
    async with h.db.uow(readonly=True) as uow:
        refused = await uow.audit.list(kind="refused")
    assert refused[0].actor == "telegram:42" and refused[0].data["action"] == "manager:show"
    await h.deliver(tu.callback(MANAGER, f"m:show:{radicado}", card))
    assert radicado in h.last_text(MANAGER) and "El producto" in h.last_text(MANAGER)


async def test_digest_goes_to_the_configured_chat(polling_bot: Harness) -> None:
    h = polling_bot
    await file_pqr(h, 42, files=False)
    digest = await h.app.service.digest(h.clock())
    await queue_digest(h.app.db, h.app.config, h.app.service.calendar, digest)
    await worker(h).run_once()
    sent = [c for c in h.fake.calls_to("sendMessage") if c["chat_id"] == "-100555"]
    assert len(sent) == 1 and "parse_mode" not in sent[0]


def test_missing_token_is_a_clear_startup_error(sqlite_database, fake, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    h_app = Harness(sqlite_database, fake, clock).app
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        telegram_channel(h_app)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    assert telegram_channel(h_app).name == "telegram"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="telegram corpus not available")
async def test_recorded_updates_never_file_and_never_crash(sqlite_database, fake, clock) -> None:  # type: ignore[no-untyped-def]
    h = await Harness(sqlite_database, fake, clock, "webhook").start()
    try:
        for path in sorted(CORPUS.glob("*.json")):
            data = json.loads(path.read_text())
            status = await h.post(data)
            if "update_id" in data:
                assert status == 200, path.name
            else:                                   # message_with_invoice.json: a bare Message
                assert status == 400, path.name
        texts = [c["text"] for c in fake.calls_to("sendMessage")]
        assert any("Solo puedo recibir texto" in t for t in texts)     # sticker, voice, location…
        assert await h.app.service.count(PqrFilter(statuses=())) == 0
    finally:
        await h.stop()
