"""The Telegram customer conversation as a use case: /start → type → description (text, photos,
documents) → optional email → Confirmar/Cancelar → radicado and due date.

The channel adapter turns each update into a `ChatEvent` and renders the `Say`s it gets back; the
state lives in the database (`uow.telegram`), so a conversation survives a restart, and each
update is applied once (`last_update_id`; the filing itself remembers the update_id)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.i18n import language_of, t
from bot.i18n.formats import format_file_size
from bot.pqrs.attachments import not_taken_lines, screen, staff_note
from bot.pqrs.service import FILES_ACTOR, FilingRequest, PqrService
from bot.conversation.model import Body, ChatEvent, Choice, FetchFile, FileRef, Kind, Say, Text
from bot.conversation.support import TelegramSupport
from domain.attachments import FileRefusal, FileRefused, NotTaken
from domain.customer import is_email_address
from domain.pqr_types import PqrType
from storage.ports import TelegramConversation, UnitOfWork
from domain.files import FileData

TYPE_BUTTONS: tuple[PqrType, ...] = tuple(PqrType)
SUBJECT_MAX = 120
SUMMARY_MAX = 600
CONSENT_SOURCE = "telegram_start"       # survey_contacts.consent_source of a chat that saw /start


class Step(StrEnum):
    TYPE = "type"
    DESCRIPTION = "description"
    EMAIL = "email"
    CONFIRM = "confirm"


@dataclass
class Draft:
    """The PQR being put together, as stored in the conversation's JSON."""

    type: str | None = None
    parts: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    email: str | None = None
    name: str = ""
    refused: list[dict[str, Any]] = field(default_factory=list)    # files sent but past the limits

    @classmethod
    def of(cls, data: dict[str, Any]) -> Draft:
        return cls(type=data.get("type"), parts=list(data.get("parts", [])), files=list(data.get("files", [])),
                   email=data.get("email"), name=str(data.get("name", "")), refused=list(data.get("refused", [])))

    def as_data(self) -> dict[str, Any]:
        return {"type": self.type, "parts": self.parts, "files": self.files, "email": self.email, "name": self.name,
                "refused": self.refused}

    def file_refs(self) -> list[FileRef]:
        return [FileRef(f["file_id"], f["name"], f["content_type"], f.get("size")) for f in self.files]

    def not_taken(self) -> list[NotTaken]:
        return [NotTaken(f["name"], FileRefusal(f["reason"]), size=f.get("size"), limit=f.get("limit"))
                for f in self.refused]

    def refuse(self, item: NotTaken) -> None:
        self.refused.append({"name": item.filename, "reason": item.reason.value, "size": item.size,
                             "limit": item.limit})


class TelegramFlow:
    """Runs the customer conversation; `fetch` downloads a customer's file from Telegram."""

    def __init__(self, service: PqrService, support: TelegramSupport, clock: Clock, *, fetch: FetchFile,
                 timeout: dt.timedelta = dt.timedelta(minutes=30), language: str = "es") -> None:
        self.service = service
        self.support = support
        self.db = service.db
        self.clock = clock
        self.fetch = fetch
        self.timeout = timeout
        self.language = language

    def lang(self, ev: ChatEvent) -> str:
        return language_of(ev.language_code, self.language)

    # -- entry point ----------------------------------------------------------------------------
    async def handle(self, ev: ChatEvent) -> list[Say]:
        """The answers to one customer update (none for a repeated update)."""
        lang = self.lang(ev)
        if ev.reply_to is not None and ev.kind in (Kind.TEXT, Kind.FILES):
            radicado = await self.support.radicado_for_message(ev.chat_id, ev.reply_to)
            if radicado is not None:
                return await self._follow_up(ev, radicado, lang)
        if ev.kind is Kind.STATUS:
            return [await self.support.status(ev.chat_id, ev.text, lang)]
        if ev.kind is Kind.BUTTON and ev.text == "c:confirm":
            return await self._confirm(ev, lang)
        async with self.db.uow() as uow:
            conv = await uow.telegram.conversation(ev.chat_id)
            if conv is not None and conv.last_update_id >= ev.update_id:
                return []
            out: list[Say] = []
            if conv is not None and self._expired(conv, ev.at):
                await uow.telegram.drop_conversation(ev.chat_id)
                conv = None
                out.append(Say(Text.of(lang, "tg.expired")))
                if ev.kind not in (Kind.START, Kind.CANCEL) and ev.text not in ("c:file", "c:status"):
                    await uow.commit()
                    return out
            out += await self._step(uow, ev, conv, lang)
            await uow.commit()
            return out

    def _expired(self, conv: TelegramConversation, now: dt.datetime) -> bool:
        return now - conv.updated_at > self.timeout

    async def _step(self, uow: UnitOfWork, ev: ChatEvent, conv: TelegramConversation | None,
                    lang: str) -> list[Say]:
        if ev.kind is Kind.START:
            if conv is not None:
                await uow.telegram.drop_conversation(ev.chat_id)
            # The habeas-data notice goes with the welcome; the chat's consent to surveys is
            # recorded as bot.surveys reads it (an opt-out recorded earlier stays in force).
            await uow.surveys.consent(f"telegram:{ev.chat_id}", CONSENT_SOURCE, now=ev.at)
            return [self._menu(ev, lang, notice=Text.of(lang, "survey.tg_consent"))]
        if ev.kind is Kind.CANCEL or ev.text == "c:cancel":
            dropped = await uow.telegram.drop_conversation(ev.chat_id)
            return [Say(Text.of(lang, "tg.cancelled" if dropped else "tg.nothing_to_cancel"), edit=ev.kind is Kind.BUTTON)]
        if ev.kind is Kind.UNSUPPORTED:
            return [Say(Text.of(lang, "tg.unsupported"))]
        if ev.text == "c:file" and ev.kind is Kind.BUTTON:
            conv = TelegramConversation(chat_id=ev.chat_id, user_id=ev.user_id, language=lang, step=Step.TYPE,
                                        data=Draft(name=ev.name).as_data(), last_update_id=ev.update_id,
                                        updated_at=ev.at)
            await uow.telegram.save_conversation(conv)
            return [self._prompt(conv, lang, edit=True)]
        if ev.text == "c:status" and ev.kind is Kind.BUTTON:
            return [await self.support.my_pqrs(uow, ev.chat_id, lang)]
        if conv is None:
            if ev.kind is Kind.BUTTON:
                return [Say(Text.of(lang, "tg.stale_button"), edit=True)]
            return [self._menu(ev, lang, key="tg.help")]
        draft = Draft.of(conv.data)
        says = self._advance(ev, conv, draft, lang)
        conv.data, conv.last_update_id, conv.updated_at, conv.language = draft.as_data(), ev.update_id, ev.at, lang
        await uow.telegram.save_conversation(conv)
        return says

    def _advance(self, ev: ChatEvent, conv: TelegramConversation, draft: Draft, lang: str) -> list[Say]:
        """Apply the event to the draft; `conv.step` moves on when the step is complete."""
        step = Step(conv.step)
        if ev.kind is Kind.BUTTON:
            if step is Step.TYPE and ev.text.startswith("c:type:"):
                value = ev.text.removeprefix("c:type:")
                if value in PqrType.__members__.values():
                    draft.type, conv.step = value, Step.DESCRIPTION
                    return [self._prompt(conv, lang, edit=True, draft=draft)]
            elif step is Step.DESCRIPTION and ev.text == "c:continue":
                if not (draft.parts or draft.files):
                    return [Say(Text.of(lang, "tg.need_description"))]
                conv.step = Step.EMAIL
                return [self._prompt(conv, lang, edit=True)]
            elif step is Step.EMAIL and ev.text == "c:skip":
                draft.email, conv.step = None, Step.CONFIRM
                return [self._prompt(conv, lang, edit=True, draft=draft)]
            return [Say(Text.of(lang, "tg.stale_button"), edit=True)]
        if step is Step.DESCRIPTION:
            if ev.text.strip():
                draft.parts.append(ev.text.strip())
            # The limits count every file of the draft: together they become one PQR message.
            known = [f.get("size") for f in draft.files]
            verdicts = self.service.attachment_limits.screen(known + [f.size for f in ev.files])[len(known):]
            refused = []
            for f, verdict in zip(ev.files, verdicts, strict=True):
                if verdict is None:
                    draft.files.append({"file_id": f.file_id, "name": f.name, "content_type": f.content_type,
                                        "size": f.size})
                else:
                    refused.append(NotTaken(f.name, verdict[0], size=f.size, limit=verdict[1]))
                    draft.refuse(refused[-1])
            parts = len(draft.parts) + len(draft.files)
            says = [self._not_taken_say(lang, refused)] if refused else []
            return says + [Say(Text.of(lang, "tg.part_added", parts=parts),
                               keyboard=((Choice(t(lang, "tg.btn.continue"), "c:continue"),),))]
        if step is Step.EMAIL and ev.kind is Kind.TEXT:
            email = ev.text.strip()
            if not is_email_address(email):     # no CR/LF, one @, a real domain: it must not fail in the outbox
                return [Say(Text.of(lang, "tg.bad_email", text=email[:100]),
                            keyboard=((Choice(t(lang, "tg.btn.skip"), "c:skip"),),))]
            draft.email, conv.step = email, Step.CONFIRM
            return [self._prompt(conv, lang, draft=draft)]
        return [self._prompt(conv, lang, draft=draft)]

    # -- rendering ------------------------------------------------------------------------------
    def _menu(self, ev: ChatEvent, lang: str, key: str = "tg.welcome", *, notice: Text | None = None) -> Say:
        text = Text.of(lang, key, name=ev.name or "")
        return Say((text, notice) if notice is not None else text,
                   keyboard=((Choice(t(lang, "tg.btn.file"), "c:file"), Choice(t(lang, "tg.btn.status"), "c:status")),))

    def _prompt(self, conv: TelegramConversation, lang: str, *, edit: bool = False, draft: Draft | None = None) -> Say:
        """The question of the conversation's current step."""
        draft = draft or Draft.of(conv.data)
        step = Step(conv.step)
        if step is Step.TYPE:
            buttons = [Choice(t(lang, f"type.{p.value}"), f"c:type:{p.value}") for p in TYPE_BUTTONS]
            rows = tuple(tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2))
            return Say(Text.of(lang, "tg.ask_type"), keyboard=rows + ((Choice(t(lang, "tg.btn.cancel"), "c:cancel"),),),
                       edit=edit)
        if step is Step.DESCRIPTION:
            label = t(lang, f"type.{draft.type}").lower() if draft.type else ""
            return Say(Text.of(lang, "tg.ask_description", type=label), edit=edit,
                       keyboard=((Choice(t(lang, "tg.btn.continue"), "c:continue"),),))
        if step is Step.EMAIL:
            return Say(Text.of(lang, "tg.ask_email"), keyboard=((Choice(t(lang, "tg.btn.skip"), "c:skip"),),), edit=edit)
        description = "\n\n".join(draft.parts)
        if len(description) > SUMMARY_MAX:
            description = description[:SUMMARY_MAX] + "…"
        files = ", ".join(f["name"] for f in draft.files) or t(lang, "tg.none")
        text = Text.of(lang, "tg.confirm", type=t(lang, f"type.{draft.type}"), description=description or "—",
                       attachments=files, email=draft.email or t(lang, "tg.none"))
        return Say(text, keyboard=((Choice(t(lang, "tg.btn.confirm"), "c:confirm"),
                                    Choice(t(lang, "tg.btn.cancel"), "c:cancel")),), edit=edit)

    # -- filing ---------------------------------------------------------------------------------
    async def _confirm(self, ev: ChatEvent, lang: str) -> list[Say]:
        async with self.db.uow(readonly=True) as uow:
            conv = await uow.telegram.conversation(ev.chat_id)
        if conv is None or Step(conv.step) is not Step.CONFIRM or conv.last_update_id >= ev.update_id:
            # Pressed twice, or offered again after a crash: answer with what was filed, if anything.
            again = await self.support.filed_answer(ev.chat_id, ev.message_id, lang)
            return [again] if again else [Say(Text.of(lang, "tg.stale_button"), edit=True)]
        if self._expired(conv, ev.at):
            async with self.db.uow() as uow:
                await uow.telegram.drop_conversation(ev.chat_id)
                await uow.commit()
            return [Say(Text.of(lang, "tg.expired"), edit=True)]
        draft = Draft.of(conv.data)
        files, failed = await self._download(tuple(draft.file_refs()))   # outside any transaction
        not_taken = draft.not_taken() + failed
        names = [f.filename for f in files] + [n.filename for n in not_taken]
        body = "\n\n".join(draft.parts) or "[" + ", ".join(names) + "]"
        first = (draft.parts[0] if draft.parts else "").strip().splitlines()
        subject = (first[0] if first else t(lang, f"type.{draft.type}"))[:SUBJECT_MAX]
        req = FilingRequest(pqr_type=PqrType(draft.type or PqrType.PETICION), channel="telegram", name=draft.name or ev.name,
                            subject=subject, body=body, received_at=ev.at, actor=f"telegram:{ev.user_id}",
                            email=draft.email, telegram_chat_id=ev.chat_id, language=lang,
                            external_id=f"telegram:{ev.chat_id}:{ev.message_id}",
                            inbound_key=("telegram", str(ev.update_id)), not_taken=tuple(not_taken))
        async with self.db.uow() as uow:
            current = await uow.telegram.conversation(ev.chat_id)
            if current is None or current.last_update_id != conv.last_update_id:
                return []          # another instance moved this conversation on meanwhile
            pqr = await self.service.file_in(uow, req)
            if pqr is None:
                return []
            assert pqr.id is not None and pqr.radicado is not None
            if files and pqr.messages and pqr.messages[0].id is not None:
                await uow.telegram.add_attachments(pqr.messages[0].id, files)
            if ev.message_id is not None:
                await uow.telegram.remember_message(ev.chat_id, ev.message_id, pqr.id, kind="filed", at=ev.at)
            await uow.telegram.drop_conversation(ev.chat_id)
            await uow.commit()
        filed = self.support.filed_say(pqr, lang)
        if not_taken:       # said in the same message: the radicado, then the files not taken
            notice = self._not_taken_say(lang, not_taken).text
            filed = replace(filed, text=_lines(filed.text) + (Text.verbatim(lang, ""),) + _lines(notice))
        return [filed]

    async def _follow_up(self, ev: ChatEvent, radicado: str, lang: str) -> list[Say]:
        """A reply to a bot message joins its PQR; files that are not taken are noted on the PQR
        and the customer is told which and why."""
        files, not_taken = await self._download(ev.files)
        says = await self.support.follow_up(ev, radicado, lang, files, not_taken=[n.filename for n in not_taken])
        if not says or not not_taken:
            return says
        await self.service.note(radicado, staff_note(self.service.language, not_taken, channel="telegram"),
                                actor=FILES_ACTOR, now=ev.at)
        return says + [replace(self._not_taken_say(lang, not_taken), reply_to=ev.message_id)]

    async def _download(self, refs: tuple[FileRef, ...]) -> tuple[list[FileData], list[NotTaken]]:
        """The files within the limits, fetched; and those not taken: past the limits (by the
        size Telegram announced, or once fetched when it announced none), or refused by the
        platform (`FileRefused`: Telegram bots cannot download files over 20 MB). Any other
        failure propagates, so the update is tried again."""
        limits = self.service.attachment_limits
        fetched: list[FileData] = []
        refused: list[NotTaken] = []
        for ref, verdict in zip(refs, limits.screen([r.size for r in refs]), strict=True):
            if verdict is not None:
                refused.append(NotTaken(ref.name, verdict[0], size=ref.size, limit=verdict[1]))
                continue
            try:
                data = await self.fetch(ref)
            except FileRefused as exc:
                refused.append(NotTaken(ref.name, exc.reason, size=ref.size, limit=exc.limit))
                continue
            fetched.append(FileData(ref.name, ref.content_type, data))
        taken, late = screen(fetched, limits)
        return taken, refused + late

    def _not_taken_say(self, lang: str, items: list[NotTaken]) -> Say:
        limits = self.service.attachment_limits
        return Say(Text.of(lang, "files.refused_customer", lines=not_taken_lines(lang, items),
                           max=format_file_size(limits.max_file_bytes, lang)))

    # -- idle conversations ---------------------------------------------------------------------
    async def expire_idle(self, *, limit: int = 100) -> list[tuple[int, str]]:
        """Drop conversations idle longer than the timeout; returns (chat, language) to tell."""
        now = self.clock()
        async with self.db.uow() as uow:
            idle = await uow.telegram.idle_conversations(now - self.timeout, limit=limit)
            for conv in idle:
                await uow.telegram.drop_conversation(conv.chat_id)
            await uow.commit()
        return [(c.chat_id, c.language) for c in idle]


def _lines(body: Body) -> tuple[Text, ...]:
    return body if isinstance(body, tuple) else (body,)
