"""The Telegram channel on python-telegram-bot's `Application`, with a manual lifecycle.

Updates come by long polling (our own loop: an update's offset is confirmed only after it was
processed, so a crash offers it again) or by webhook (our own aiohttp route). Every update goes
through one `TypeHandler`: `inbound.classify` → bot use case → `Say`s rendered here."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from telegram import (BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update)
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.config import TelegramChannel as TelegramConfig
from bot.conversation.manager_actions import ManagerPress
from bot.conversation.model import FileRef, Kind, Say
from bot.i18n import language_of, t
from bot.ports.payloads import Ack, AnswerReview, OutboxPayload, PenaltyDecision, SurveyCsat, SurveyNps
from bot.ports import Permanent
from domain.attachments import FileRefusal, FileRefused
from channels.telegram import outbound, polling, webhook
from channels.telegram.inbound import ManagerButton, Skip, classify
from channels.telegram.penalties import TelegramPenalties
from channels.telegram.polling import ALLOWED_UPDATES, ChatLocks, Unreadable
from channels.telegram.review import TelegramReview
from channels.telegram.render import html_of
from channels.telegram.services import TelegramServices
from channels.telegram.surveys import TelegramSurveys

log = logging.getLogger(__name__)
MAX_UPDATE_ATTEMPTS = 3
CONCURRENT_UPDATES = 32      # updates of different chats processed at the same time
COMMANDS = {"es": ("start", "estado", "cancelar"), "en": ("start", "status", "cancel")}
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024     # getFile refuses bigger files ("file is too big")


def file_base_url(base_url: str) -> str:
    """The file download base for a Bot API base: `https://api.telegram.org/bot` → `…/file/bot`."""
    return base_url[:-3] + "file/bot" if base_url.endswith("/bot") else base_url.rstrip("/") + "/file/bot"


class TelegramChannel:
    """The `ChannelAdapter` for Telegram: customers file and follow PQRs; managers press buttons."""

    name = "telegram"

    def __init__(self, services: TelegramServices, cfg: TelegramConfig, *, token: str,
                 webhook_secret: str | None = None, poll_timeout: float = 10.0, sweep_every: float = 60.0,
                 concurrency: int = CONCURRENT_UPDATES) -> None:
        self.services = services
        self.cfg = cfg
        if self.cfg.mode == "webhook" and not webhook_secret:
            raise ValueError("webhook mode needs a secret token")
        self.webhook_secret = webhook_secret or ""
        self.poll_timeout = poll_timeout
        self.sweep_every = sweep_every
        self.concurrency = concurrency
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            Application.builder().token(token).base_url(self.cfg.base_url)
            .base_file_url(file_base_url(self.cfg.base_url)).updater(None)
            # The library's own httpx client, with a pool wide enough for the concurrent updates.
            .connection_pool_size(concurrency + 8).build())
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.support = services.support
        self.flow = services.make_flow(self._download)
        self.actions = services.actions
        self.penalties = TelegramPenalties(services.decisions, self.application)   # Aprobar / Rechazar
        self.review = (TelegramReview(services.answers, self.application)           # Aprobar / Devolver
                       if services.answers is not None else None)
        self.surveys = (TelegramSurveys(services.surveys, self.application.bot)     # score buttons, comment
                        if services.surveys is not None else None)
        self.webhook_port: int | None = None
        self._failed: set[int] = set()
        self._chats = ChatLocks()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None

    @property
    def bot(self) -> Any:
        return self.application.bot

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """getMe, setMyCommands, then setWebhook + our route (webhook) or deleteWebhook + polling."""
        self._stop.clear()
        await self.application.initialize()
        await self._register_commands()
        await self.application.start()
        if self.cfg.mode == "webhook":
            hook = self.cfg.webhook
            if hook.public_url:
                await self.bot.set_webhook(url=hook.public_url, secret_token=self.webhook_secret,
                                           allowed_updates=ALLOWED_UPDATES)
            else:
                log.warning("telegram: webhook.public_url is not set; register the webhook yourself")
            self._runner, self.webhook_port = await webhook.serve(
                self.process_json, host=hook.host, port=hook.port, path=hook.path, secret=self.webhook_secret)
        else:
            await self.bot.delete_webhook()
            self._tasks.append(asyncio.create_task(self._poll(), name="telegram-polling"))
        self._tasks.append(asyncio.create_task(self._sweeper(), name="telegram-sweeper"))

    async def stop(self) -> None:
        """Stop taking updates (confirming the processed ones), then shut the application down."""
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _register_commands(self) -> None:
        default = self.services.language
        for lang, names in COMMANDS.items():
            commands = [BotCommand(n, t(lang, f"tg.cmd.{k}")) for n, k in zip(names, ("start", "status", "cancel"))]
            await self.bot.set_my_commands(commands, language_code=None if lang == default else lang)

    # -- receiving ------------------------------------------------------------------------------
    async def process(self, update: Update) -> bool:
        """Process one update after the earlier ones of its chat; False when a handler failed
        (it should be offered again)."""
        async with self._chats.hold(polling.chat_key(update)):
            return await self._process_now(update)

    async def _process_now(self, update: Update) -> bool:
        self._failed.discard(update.update_id)
        await self.application.process_update(update)
        return update.update_id not in self._failed

    async def process_json(self, data: dict[str, Any]) -> bool:
        """Process one Update as Telegram posts it. One python-telegram-bot cannot read is
        logged, kept and skipped (True): offering it again would not help."""
        (item,) = polling.parse([data], self.bot)
        if isinstance(item, Unreadable):
            await self._unreadable(item)
            return True
        return await self.process(item)

    async def _unreadable(self, item: Unreadable) -> None:
        log.error("telegram update %s unreadable, skipped: %s", item.update_id, item.error)
        try:
            await self.support.keep_unreadable(item.update_id, item.data, item.error)
        except Exception:
            log.exception("telegram: could not keep unreadable update %s", item.update_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            self._failed.add(update.update_id)
        log.error("telegram update failed: %r", context.error, exc_info=context.error)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        inbound = classify(update, self.services.clock())
        if isinstance(inbound, Skip):
            log.debug("telegram update %s skipped: %s", update.update_id, inbound.reason)
            return
        if isinstance(inbound, ManagerButton):
            await self._manager(inbound)
            return
        if inbound.kind is Kind.BUTTON and update.callback_query is not None:
            await self._answer_query(update.callback_query.id)
        if await self.penalties.consume(inbound):      # a manager's reason for a penalty decision
            return
        if self.review is not None and await self.review.consume(inbound):   # a returned answer's comment
            return
        if self.surveys is not None and await self.surveys.consume(inbound):  # a survey's score or comment
            return
        says = await self.flow.handle(inbound)
        for say in says:
            await self._say(inbound.chat_id, inbound.message_id, say)

    async def _manager(self, press: ManagerButton) -> None:
        lang = language_of(press.language_code, self.services.language)
        result = await self.actions.run(ManagerPress(actor=f"telegram:{press.user_id}", action=press.action,
                                                     arg=press.arg, now=self.services.clock(), language=lang,
                                                     chat_id=press.chat_id, message_id=press.message_id))
        await self._answer_query(press.query_id, result.notice[:200], alert=result.refused)
        if (result.close_keyboard and self.review is not None and press.chat_id is not None
                and press.message_id is not None):
            await self.review.redraw(press.chat_id, press.message_id, result.edit_card)
        if result.text and press.chat_id is not None:
            await self._say(press.chat_id, None, Say(result.text, keyboard=result.keyboard))

    async def _answer_query(self, query_id: str, text: str | None = None, *, alert: bool = False) -> None:
        try:
            await self.bot.answer_callback_query(query_id, text=text, show_alert=alert)
        except TelegramError as exc:     # too old or already answered: the rest still matters
            log.info("telegram: answerCallbackQuery failed: %s", exc)

    async def _say(self, chat_id: int, message_id: int | None, say: Say) -> None:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=c.data) for c in row]
                                       for row in say.keyboard]) if say.keyboard else None
        if say.edit and message_id is not None:
            try:
                await self.bot.edit_message_text(html_of(say.text), chat_id=chat_id, message_id=message_id,
                                                 parse_mode=ParseMode.HTML, reply_markup=markup)
                return
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return
                log.info("telegram: edit failed (%s); sending instead", exc.message)
        reply = ReplyParameters(message_id=say.reply_to, allow_sending_without_reply=True) if say.reply_to else None
        sent = await self.bot.send_message(chat_id, html_of(say.text), parse_mode=ParseMode.HTML, reply_markup=markup,
                                           reply_parameters=reply)
        if say.about is not None:
            await self.support.remember_sent(chat_id, sent.message_id, kind="info", radicado=say.about[0],
                                             pqr_id=say.about[1])

    async def _download(self, ref: FileRef) -> bytes:
        """A customer's file. The Bot API hands bots files of at most 20 MB: a bigger one (by the
        size in the update, or getFile's "file is too big") and a file_id Telegram refuses raise
        FileRefused, so the message is taken without the file instead of failing for good."""
        if ref.size is not None and ref.size > BOT_API_DOWNLOAD_LIMIT:
            raise FileRefused(FileRefusal.PLATFORM_LIMIT, limit=BOT_API_DOWNLOAD_LIMIT)
        try:
            file = await self.bot.get_file(ref.file_id)
        except BadRequest as exc:
            log.info("telegram: getFile %s refused: %s", ref.file_id, exc.message)
            if "too big" in exc.message.lower():
                raise FileRefused(FileRefusal.PLATFORM_LIMIT, limit=BOT_API_DOWNLOAD_LIMIT,
                                  detail=exc.message) from exc
            raise FileRefused(FileRefusal.UNAVAILABLE, detail=exc.message) from exc
        return bytes(await file.download_as_bytearray())

    # -- polling --------------------------------------------------------------------------------
    async def _poll(self) -> None:
        """getUpdates → read each update alone → process the batch (chats concurrently, each
        chat in order) → getUpdates again with the offset confirming the batch."""
        offset: int | None = None
        errors = 0
        while not self._stop.is_set():
            fetch = asyncio.ensure_future(polling.fetch(self.bot, offset=offset, timeout=self.poll_timeout))
            stopping = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
                break
            try:
                raw = fetch.result()
            except RetryAfter as exc:
                await self._pause(outbound.seconds(exc.retry_after))
                continue
            except Exception as exc:    # network, conflict, a server error
                errors += 1
                log.warning("telegram getUpdates failed (%s); retrying", exc)
                await self._pause(min(30.0, 0.5 * 2 ** min(errors, 6)))
                continue
            errors = 0
            items = polling.parse(raw, self.bot)
            for bad in (i for i in items if isinstance(i, Unreadable)):
                await self._unreadable(bad)
            updates = [i for i in items if isinstance(i, Update)]
            left = await polling.run_batch(updates, self._process_with_retries, concurrency=self.concurrency)
            offset = left if left is not None else polling.next_offset(items, offset)
        if offset is not None:          # confirm what was processed, without long polling
            try:
                await polling.fetch(self.bot, offset=offset, timeout=0, limit=1)
            except TelegramError as exc:
                log.warning("telegram: could not confirm updates before %s: %s", offset, exc)

    async def _process_with_retries(self, update: Update) -> bool:
        """Process an update, retrying a failure in place (the chat waits); after
        MAX_UPDATE_ATTEMPTS it is skipped. False only when stopping before it was done."""
        async with self._chats.hold(polling.chat_key(update)):
            for attempt in range(1, MAX_UPDATE_ATTEMPTS + 1):
                if await self._process_now(update):
                    return True
                if self._stop.is_set():
                    return False
                if attempt < MAX_UPDATE_ATTEMPTS:
                    await self._pause(0.5 * attempt)
            log.error("telegram update %s failed %d times; skipped", update.update_id, MAX_UPDATE_ATTEMPTS)
            return True

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    # -- idle conversations ---------------------------------------------------------------------
    async def _sweeper(self) -> None:
        while not self._stop.is_set():
            await self._pause(self.sweep_every)
            if self._stop.is_set():
                break
            try:
                await self.sweep()
            except Exception:
                log.exception("telegram: idle conversation sweep failed")

    async def sweep(self) -> int:
        """Drop idle conversations and tell their chats; returns how many were dropped."""
        dropped = await self.flow.expire_idle()
        for chat_id, lang in dropped:
            try:
                await self.bot.send_message(chat_id, t(lang, "tg.expired"))
            except TelegramError as exc:
                log.info("telegram: could not tell chat %s its conversation expired: %s", chat_id, exc)
        return len(dropped)

    # -- sending (outbox) -----------------------------------------------------------------------
    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        """Deliver an outbox payload to a chat; raises Retryable (429, network) or Permanent (a
        kind `outbound.RENDERERS` has no function for, too)."""
        try:
            chat_id = int(destination.removeprefix("telegram:"))
        except ValueError:
            raise Permanent(f"telegram: not a chat id: {destination!r}") from None
        if isinstance(payload, PenaltyDecision):    # the card with its inline keyboard
            return await self.penalties.send(chat_id, payload)
        if isinstance(payload, AnswerReview) and self.review is not None:
            return await self.review.send(chat_id, payload)
        if isinstance(payload, (SurveyCsat, SurveyNps)) and self.surveys is not None:
            return await self.surveys.send(chat_id, payload)       # the question with its score buttons
        kind, radicado = payload.kind, payload.about
        if isinstance(payload, Ack) and radicado and await self.support.answered_in_chat(radicado):
            return None          # the conversation already gave the radicado in this chat
        texts, mode = outbound.render(payload)
        if not texts:
            raise Permanent("telegram: empty message")
        try:
            for text in texts:
                sent = await self.bot.send_message(chat_id, text, parse_mode=mode)
        except TelegramError as exc:
            if outbound.blocked(exc) and kind != "digest":
                await self.support.mark_unreachable(chat_id, radicado=radicado, kind=kind, reason=str(exc))
            raise outbound.classify_error(exc) from exc
        if radicado and kind not in outbound.STAFF_KINDS:    # a customer may reply to it
            try:
                await self.support.remember_sent(chat_id, sent.message_id, kind=kind, radicado=radicado)
            except Exception:        # delivered all the same: do not make the outbox send it again
                log.exception("telegram: could not remember message %s about %s", sent.message_id, radicado)
        return str(sent.message_id)
