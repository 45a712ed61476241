"""Telegram use cases outside the filing conversation: status for the filing chat only, follow-ups
by reply, the map from bot messages to PQRs, and a customer who blocked the bot."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from bot.clock import Clock
from bot.ports.payloads import Alert
from bot.pqrs.followups import StaffDestinations, followup_notices
from bot.i18n import t
from bot.pqrs.notices import ACK_TEXT
from bot.pqrs.service import PqrService
from bot.conversation.model import Body, ChatEvent, Say, Text
from domain.customer import identity
from domain.errors import NotFound
from domain.events import Event
from domain.pqr import Pqr
from storage.ports import OutboxItem, PqrFilter, UnitOfWork
from domain.files import FileData

log = logging.getLogger(__name__)
BOT_ACTOR = "telegram:bot"
MY_PQRS_LIMIT = 10
UNREADABLE_KEEP = 20_000      # characters of an unreadable update kept in the audit trail


class TelegramSupport:
    """Status, follow-ups and delivery bookkeeping for Telegram customers."""

    def __init__(self, service: PqrService, clock: Clock, *, language: str = "es",
                 staff: StaffDestinations | None = None) -> None:
        self.service = service
        self.db = service.db
        self.clock = clock
        self.language = language
        self.staff: StaffDestinations = staff or (lambda identity: [])

    def _instant(self, pqr: Pqr, lang: str, which: str = "due") -> str:
        when = pqr.due_at if which == "due" else pqr.received_at
        return self.service.notifier.format_instant(when, lang)

    # -- answers about PQRs ---------------------------------------------------------------------
    def filed_say(self, pqr: Pqr, lang: str) -> Say:
        """The answer to Confirmar: radicado and due date (local time), remembered as about the PQR."""
        assert pqr.radicado is not None and pqr.id is not None
        custom = self.service.notifier.custom_text(ACK_TEXT, pqr, lang)    # the deployment's acknowledgment
        text: Body = (tuple(Text.verbatim(lang, line) for line in custom.split("\n")) if custom else
                      Text.of(lang, "tg.filed", type=t(lang, f"type.{pqr.type.value}").lower(),
                              radicado=pqr.radicado, due=self._instant(pqr, lang)))
        return Say(text, edit=True, about=(pqr.radicado, pqr.id))

    async def filed_answer(self, chat_id: int, message_id: int | None, lang: str) -> Say | None:
        """The filing answer again, when the confirmation message `message_id` already filed a PQR."""
        if message_id is None:
            return None
        radicado = await self.radicado_for_message(chat_id, message_id)
        if radicado is None:
            return None
        return self.filed_say(await self.service.show(radicado), lang)

    async def status(self, chat_id: int, text: str, lang: str) -> Say:
        """`/estado RAD`: only the chat that filed it sees it; anyone else gets "not found"."""
        radicado = text.strip().split()[0] if text.strip() else ""
        if not radicado:
            async with self.db.uow(readonly=True) as uow:
                return await self.my_pqrs(uow, chat_id, lang)
        try:
            pqr = await self.service.show(radicado)
        except NotFound:
            pqr = None
        if pqr is None or pqr.customer.telegram_chat_id != chat_id:
            return Say(Text.of(lang, "tg.not_found", radicado=radicado[:40]))
        return self.status_say(pqr, lang)

    def status_say(self, pqr: Pqr, lang: str) -> Say:
        """A PQR's number, type, status, filing and due dates."""
        assert pqr.radicado is not None and pqr.id is not None
        return Say(self.status_text(pqr, lang), about=(pqr.radicado, pqr.id))

    def status_text(self, pqr: Pqr, lang: str) -> Text:
        """Number, type, status, filing and due dates (shown to the customer and to managers)."""
        return Text.of(lang, "tg.status", radicado=pqr.radicado or "", type=t(lang, f"type.{pqr.type.value}"),
                       status=t(lang, f"status.{pqr.status.value}"), received=self._instant(pqr, lang, "received"),
                       due=self._instant(pqr, lang))

    async def my_pqrs(self, uow: UnitOfWork, chat_id: int, lang: str) -> Say:
        """The latest PQRs filed from this chat."""
        customer = await uow.customers.by_identity(identity("telegram", str(chat_id)))
        found = [] if customer is None or customer.id is None else await uow.pqrs.list(
            PqrFilter(statuses=(), customer_id=customer.id), details=False)
        found = [p for p in found if p.customer.telegram_chat_id == chat_id]
        if not found:
            return Say(Text.of(lang, "tg.no_pqrs"))
        found.sort(key=lambda p: p.received_at, reverse=True)
        lines = tuple(Text.of(lang, "tg.my_pqrs.line", radicado=p.radicado or "", status=t(lang, f"status.{p.status.value}"),
                              due=self._instant(p, lang)) for p in found[:MY_PQRS_LIMIT])
        return Say(Text.of(lang, "tg.my_pqrs", lines=lines))

    # -- follow-ups -----------------------------------------------------------------------------
    async def radicado_for_message(self, chat_id: int, message_id: int) -> str | None:
        """The PQR a bot message in this chat is about."""
        async with self.db.uow(readonly=True) as uow:
            return await uow.telegram.radicado_for_message(chat_id, message_id)

    async def follow_up(self, ev: ChatEvent, radicado: str, lang: str,
                        files: list[FileData], *, not_taken: Sequence[str] = ()) -> list[Say]:
        """A customer's reply to a bot message about a PQR joins that PQR (once per update);
        staff hear of it through the outbox (the assignee, else the Slack triage channel).
        `not_taken` names files that came with it but are not stored (a body without text names them)."""
        async with self.db.uow() as uow:
            if not await uow.inbound.remember("telegram", str(ev.update_id), now=ev.at):
                return []
            pqr = await uow.pqrs.get(radicado)
            if pqr is None:
                return []
            body = ev.text.strip() or "[" + ", ".join([f.filename for f in files] + list(not_taken)) + "]"
            msg = pqr.receive(body, channel="telegram", at=ev.at, actor=f"telegram:{ev.user_id}",
                              external_id=f"telegram:{ev.chat_id}:{ev.message_id}",
                              calendar=self.service.calendar)
            await uow.pqrs.save(pqr)
            if files and msg.id is not None:
                await uow.telegram.add_attachments(msg.id, files)
            for item in followup_notices(pqr, msg, language=self.language, staff=self.staff,
                                         triage=self.service.notifier.slack_triage_channel):
                await uow.outbox.put(item, now=ev.at)
            await uow.commit()
        assert pqr.id is not None
        return [Say(Text.of(lang, "tg.followup_added", radicado=radicado), reply_to=ev.message_id,
                    about=(radicado, pqr.id))]

    async def keep_unreadable(self, update_id: int | None, data: object, error: str) -> None:
        """Keep an update python-telegram-bot could not read in the audit trail (it is skipped)."""
        raw = json.dumps(data, ensure_ascii=False, default=str)
        async with self.db.uow() as uow:
            await uow.audit.record(Event(kind="telegram_update_unreadable", actor=BOT_ACTOR, at=self.clock(),
                                         reason=error[:500], data={"update_id": update_id,
                                                                   "update": raw[:UNREADABLE_KEEP]}))
            await uow.commit()

    # -- delivery bookkeeping -------------------------------------------------------------------
    async def remember_sent(self, chat_id: int, message_id: int, *, kind: str, radicado: str | None = None,
                            pqr_id: int | None = None) -> None:
        """Record that a sent bot message is about a PQR (by id, or looked up by radicado)."""
        async with self.db.uow() as uow:
            if pqr_id is None and radicado:
                pqr = await uow.pqrs.get(radicado)
                pqr_id = pqr.id if pqr else None
            if pqr_id is None:
                return
            await uow.telegram.remember_message(chat_id, message_id, pqr_id, kind=kind, at=self.clock())
            await uow.commit()

    async def answered_in_chat(self, radicado: str) -> bool:
        """Whether the filing conversation already gave this PQR's radicado in the chat (so the
        outbox acknowledgment would say it twice)."""
        async with self.db.uow(readonly=True) as uow:
            return await uow.telegram.has_message(radicado, kind="filed")

    async def mark_unreachable(self, chat_id: int, *, radicado: str | None, kind: str, reason: str) -> None:
        """The customer blocked the bot: mark them unreachable on Telegram, note it on the PQR,
        record it in the audit trail and alert staff (Slack triage channel, when enabled)."""
        now = self.clock()
        async with self.db.uow() as uow:
            customer = await uow.customers.by_identity(identity("telegram", str(chat_id)))
            if customer is not None and not customer.unreachable:
                customer.unreachable = True
                await uow.customers.save(customer)
            pqr = await uow.pqrs.get(radicado) if radicado else None
            note = t(self.language, "tg.unreachable_note", chat=chat_id, kind=kind)
            if pqr is not None:
                pqr.note(note, actor=BOT_ACTOR, now=now)
                await uow.pqrs.save(pqr)
            await uow.audit.record(Event(kind="customer_unreachable", actor=BOT_ACTOR, at=now, reason=reason,
                                         data={"channel": "telegram", "chat_id": chat_id, "kind": kind}),
                                   pqr_id=pqr.id if pqr else None)
            triage = self.service.notifier.slack_triage_channel
            if triage:
                await uow.outbox.put(OutboxItem(
                    channel="slack", destination=triage, pqr_id=pqr.id if pqr else None,
                    payload=Alert(alert="unreachable", radicado=radicado, text=note).stored(),
                    dedupe_key=f"telegram-unreachable:{chat_id}:{radicado}:{now.date().isoformat()}"), now=now)
            await uow.commit()
        log.warning("telegram chat %s blocked the bot (%s)", chat_id, reason)
