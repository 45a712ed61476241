"""The customer's filing conversation in Telegram, in polling and webhook mode."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from domain.pqr_types import PqrType
from storage.tables import attachments, telegram_conversations
from tests.channels.telegram.conftest import Harness
from tests.channels.telegram.helpers import DOC, PHOTO, file_pqr
from tests.fakes import telegram_updates as tu


async def pqr_count(h: Harness) -> int:
    return await h.app.service.count(_all())


def _all():  # type: ignore[no-untyped-def]
    from storage.ports import PqrFilter
    return PqrFilter(statuses=())


async def test_start_registers_commands_and_mode(bot: Harness) -> None:
    commands = bot.fake.calls_to("setMyCommands")
    assert {c.get("language_code") for c in commands} == {None, "en"}
    es = next(c for c in commands if c.get("language_code") is None)
    assert [c["command"] for c in es["commands"]] == ["start", "estado", "cancelar"]
    if bot.mode == "webhook":
        (hook,) = bot.fake.calls_to("setWebhook")
        assert hook["url"] == "https://pqr.example.co/telegram" and hook["secret_token"] == "s3cret-token_ABC"
        assert not bot.fake.calls_to("getUpdates")
    else:
        assert bot.fake.calls_to("deleteWebhook") and not bot.fake.calls_to("setWebhook")


async def test_whole_conversation_in_spanish_with_attachments(db_bot: Harness) -> None:
    bot = db_bot
    radicado = await file_pqr(bot, 42)
    answer = bot.last_text(42)
    assert "Su queja quedó radicada" in answer
    assert "2027-01-13 23:59 (hora de Colombia)" in answer       # 15 business days, local time
    pqr = await bot.app.service.show(radicado)
    assert pqr.type is PqrType.QUEJA and pqr.channel == "telegram"
    assert pqr.customer.telegram_chat_id == 42 and pqr.customer.email == "ana@example.co"
    assert pqr.customer.language == "es" and pqr.customer.name == "Ana Pérez"
    assert pqr.subject == "El producto llegó dañado <b>roto</b>"
    assert "foto del daño" in pqr.messages[0].body
    async with bot.db.uow(readonly=True) as uow:
        rows = (await uow.connection.execute(select(attachments))).all()
        conversations = (await uow.connection.execute(select(telegram_conversations))).all()
    files = sorted((r.content_type, r.filename.endswith((".jpg", ".pdf")), r.size, r.sha256) for r in rows)
    assert files == [("application/pdf", True, len(DOC), hashlib.sha256(DOC).hexdigest()),
                     ("image/jpeg", True, len(PHOTO), hashlib.sha256(PHOTO).hexdigest())]
    assert conversations == []
    # customer text is escaped in the HTML the bot sent
    summaries = [c["text"] for c in bot.fake.calls_to("sendMessage") if "Revise su PQR" in c["text"]]
    assert "&lt;b&gt;roto&lt;/b&gt;" in summaries[0] and summaries[0].count("<b>") == 1


async def test_whole_conversation_in_english(polling_bot: Harness) -> None:
    h = polling_bot
    await h.say(7, "/start", "en-US")
    assert "What would you like to do?" in h.last_text(7)
    radicado = await file_pqr(h, 7, "en", files=False, email=None)
    assert "Your complaint was filed with number" in h.last_text(7)
    assert "(Colombia time)" in h.last_text(7)
    pqr = await h.app.service.show(radicado)
    assert pqr.customer.language == "en" and pqr.customer.email is None


async def test_cancel_leaves_nothing(bot: Harness) -> None:
    await bot.say(42, "/start")
    await bot.press(42, "Radicar PQR")
    await bot.press(42, "Reclamo")
    await bot.say(42, "me cobraron dos veces")
    await bot.press(42, "Continuar")
    await bot.press(42, "Omitir")
    summary = bot.fake.last_message(42)
    await bot.say(42, "/cancelar")
    assert "no se radicó nada" in bot.last_text(42)
    await bot.press(42, "Confirmar", on=summary)           # the old button does nothing
    assert await pqr_count(bot) == 0
    await bot.say(42, "/cancel")
    assert "No hay nada en curso" in bot.last_text(42)


async def test_bad_email_is_asked_again(polling_bot: Harness) -> None:
    h = polling_bot
    await h.say(5, "/start")
    await h.press(5, "Radicar PQR")
    await h.press(5, "Petición")
    await h.press(5, "Continuar")
    assert "Primero escriba la descripción" in h.last_text(5)
    await h.say(5, "necesito un certificado")
    await h.press(5, "Continuar")
    await h.say(5, "no-es-correo")
    assert "no parece un correo válido" in h.last_text(5)


async def test_idle_timeout_files_nothing(polling_bot: Harness) -> None:
    h = polling_bot
    await h.say(42, "/start")
    await h.press(42, "Radicar PQR")
    await h.press(42, "Queja")
    await h.say(42, "texto")
    await h.press(42, "Continuar")
    await h.press(42, "Omitir")
    h.clock.advance(minutes=31)
    await h.press(42, "Confirmar")
    assert "se cerró por inactividad" in h.last_text(42)
    assert await pqr_count(h) == 0


async def test_idle_sweep_drops_and_tells(polling_bot: Harness) -> None:
    h = polling_bot
    await h.say(42, "/start")
    await h.press(42, "Radicar PQR")
    h.clock.advance(minutes=10)
    assert await h.channel.sweep() == 0
    h.clock.advance(minutes=25)
    assert await h.channel.sweep() == 1
    assert "se cerró por inactividad" in h.last_text(42)


async def test_conversation_survives_a_restart(database, fake, clock) -> None:  # type: ignore[no-untyped-def]
    first = await Harness(database, fake, clock).start()
    await first.say(42, "/start")
    await first.press(42, "Radicar PQR")
    await first.press(42, "Sugerencia")
    await first.say(42, "abran los sábados")
    await first.stop()
    second = await Harness(database, fake, clock).start()
    try:
        await second.press(42, "Continuar")
        await second.press(42, "Omitir")
        await second.press(42, "Confirmar")
        assert "quedó radicada" in second.last_text(42)
        assert await pqr_count(second) == 1
        pqr = (await second.app.service.list(_all(), details=True))[0]
        assert pqr.type is PqrType.SUGERENCIA and pqr.messages[0].body == "abran los sábados"
    finally:
        await second.stop()


async def test_redelivered_confirm_files_once(db_bot: Harness) -> None:
    bot = db_bot
    await bot.say(42, "/start")
    await bot.press(42, "Radicar PQR")
    await bot.press(42, "Queja")
    await bot.say(42, "texto")
    await bot.press(42, "Continuar")
    await bot.press(42, "Omitir")
    confirm = await bot.press(42, "Confirmar")
    first_answer = bot.last_text(42)
    # the same update offered again, as after a crash before it was confirmed
    again = dict(confirm)
    if bot.mode == "webhook":
        assert await bot.post(again) == 200
    else:
        bot.fake.pending.append(again)
        bot.fake.confirmed = 0
        await bot.fake.processed(again)
    assert await pqr_count(bot) == 1
    assert bot.last_text(42) == first_answer


async def test_unsupported_content_gets_a_clear_answer(bot: Harness) -> None:
    await bot.deliver(tu.message(42, "es", sticker={"file_id": "STK", "file_unique_id": "stk", "width": 512,
                                                     "height": 512, "is_animated": False, "is_video": False,
                                                     "type": "regular"}))
    assert "Solo puedo recibir texto, fotos y documentos" in bot.last_text(42)
    await bot.say(42, "hola")
    assert "Escriba /start" in bot.last_text(42)
