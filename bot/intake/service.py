"""Channel-neutral intake: a normalized inbound message becomes a new PQR, a follow-up on an
existing one, a duplicate, or a message kept aside — and the raw message is kept in every case.

Threading, in order: a radicado tag in the subject; `in_reply_to` ids (In-Reply-To and
References) matching any stored message's external id, inbound or outbound; a Message-ID of ours
that names its radicado (see `Notifier.new_message_id`). A closed PQR reopens when
`reopen_closed`, otherwise the message files a new PQR.

Concurrent calls share transactions (`bot.intake.group_commit`): `receive` returns only after the
message and its PQR changes are committed. In a batch, the messages that can only be new PQRs are
filed together with one statement per table (`_process_many`); the others, or all of them when
the bulk statements fail, go one by one, each in its own savepoint."""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.pqrs.attachments import screen
from bot.pqrs.followups import StaffDestinations, followup_notices
from bot.intake.group_commit import GroupCommitter
from bot.i18n import t
from bot.pqrs.service import FilingRequest, PqrService
from bot.ports import IncomingMessage
from domain.attachments import NotTaken
from domain.errors import DomainError
from domain.pqr import Message, Pqr
from domain.pqr_types import PqrType
from storage.ports import Database, RawMessage, UnitOfWork
from domain.files import FileData


FILED, JOINED, DUPLICATE, KEPT_ASIDE = "filed", "joined", "duplicate", "kept_aside"


@dataclass(frozen=True)
class IntakeResult:
    """What became of one inbound message."""

    disposition: str                 # filed | joined | duplicate | kept_aside
    radicado: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _Item:
    msg: IncomingMessage
    pqr_type: PqrType | None
    kept_aside: str | None


def radicado_pattern(radicado_format: str) -> str:
    """A regular expression (no groups) matching the radicados `radicado_format` produces."""
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(radicado_format):
        parts.append(re.escape(literal))
        if field == "year":
            parts.append(r"\d{4}")
        elif field is not None:
            parts.append(r"\d+")
    return "".join(parts)


def inbound_key(msg: IncomingMessage) -> str:
    """The de-duplication key: the message's own id, else a hash of its raw bytes."""
    if msg.external_id:
        return msg.external_id[:998]
    raw = msg.raw if isinstance(msg.raw, bytes) else msg.text.encode("utf-8", "replace")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class IntakeService:
    """Turns inbound messages into PQR changes, committed in groups."""

    def __init__(self, db: Database, service: PqrService, *, language: str = "es",
                 default_type: PqrType = PqrType.PETICION, reopen_closed: bool = True,
                 own_id_domain: str | None = None, max_batch: int = 256,
                 on_commit: Callable[[], None] | None = None,
                 staff: StaffDestinations = lambda who: []) -> None:
        self.db = db
        self.service = service
        self.language = language
        self.default_type = default_type
        self.reopen_closed = reopen_closed
        self.staff = staff   # where a staff identity is reached, for follow-up notices
        pattern = radicado_pattern(service.radicado_format)
        self._tag = re.compile(rf"(?<![\w-])({pattern})(?![\w-])", re.IGNORECASE)
        domain = re.escape(own_id_domain.lower()) if own_id_domain else r"[^>\s]+"
        self._own_id = re.compile(rf"^<?({pattern})\.[0-9a-f]+@{domain}>?$", re.IGNORECASE)
        self.committer: GroupCommitter[_Item, IntakeResult] = GroupCommitter(
            db, self._process, recover=self._recover, apply_many=self._process_many, max_batch=max_batch,
            on_commit=on_commit)

    async def receive(self, msg: IncomingMessage, *, pqr_type: PqrType | None = None,
                      kept_aside: str | None = None) -> IntakeResult:
        """File, join or keep `msg` (kept aside, with `kept_aside` as the reason, when given);
        returns once committed. Raises when storage fails (the sender should retry)."""
        return await self.committer.submit(_Item(msg, pqr_type, kept_aside))

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        await self.committer.stop()

    # -- one message, inside the group transaction ---------------------------------------------
    async def _recover(self, uow: UnitOfWork, item: _Item, exc: Exception) -> IntakeResult | None:
        """A domain refusal is deterministic (retrying would fail again): keep the message aside
        with the reason. Anything else stays a failure (451: the sender retries)."""
        if not isinstance(exc, DomainError):
            return None
        reason = f"refused: {type(exc).__name__}: {exc}"
        await self._keep(uow, item.msg, KEPT_ASIDE, reason=reason)
        return IntakeResult(KEPT_ASIDE, reason=reason)

    async def _process_many(self, uow: UnitOfWork, items: Sequence[_Item]) -> list[IntakeResult | None]:
        """The bulk path of a batch: the messages that can only be new PQRs (not kept aside, no
        radicado tag, no In-Reply-To/References) are de-duplicated, filed and kept with one
        statement per table (`PqrService.file_many_in`). None for the others (duplicates,
        threaded mail, kept aside): they take the one-by-one path."""
        out: list[IntakeResult | None] = [None] * len(items)
        simple = [i for i, item in enumerate(items)
                  if not item.kept_aside and not item.msg.in_reply_to and not self._candidates(item.msg)]
        if len(simple) < 2:
            return out
        fresh = await uow.inbound.remember_many(
            [(items[i].msg.channel, inbound_key(items[i].msg), items[i].msg.received_at) for i in simple])
        new = [i for i, ok in zip(simple, fresh, strict=True) if ok]
        if not new:
            return out
        filed = await self.service.file_many_in(uow, [self._request(items[i].msg, items[i].pqr_type) for i in new])
        raws = []
        for i, pqr in zip(new, filed, strict=True):
            assert pqr is not None  # no inbound_key in the requests: never a duplicate here
            msg = items[i].msg
            await self._attach(uow, pqr.messages[0] if pqr.messages else None, msg)
            raws.append(self._raw(msg, FILED, pqr_id=pqr.id))
            out[i] = IntakeResult(FILED, radicado=pqr.radicado)
        await uow.mail.keep_raw_many(raws)
        return out

    async def _process(self, uow: UnitOfWork, item: _Item) -> IntakeResult:
        msg = item.msg
        if item.kept_aside:
            await self._keep(uow, msg, KEPT_ASIDE, reason=item.kept_aside)
            return IntakeResult(KEPT_ASIDE, reason=item.kept_aside)
        if not await uow.inbound.remember(msg.channel, inbound_key(msg), now=msg.received_at):
            await self._keep(uow, msg, DUPLICATE, reason="same message id already received")
            return IntakeResult(DUPLICATE, reason="same message id already received")
        pqr = await self._thread(uow, msg)
        if pqr is not None and (pqr.is_open or self.reopen_closed):
            return await self._join(uow, pqr, msg)
        return await self._file(uow, msg, item.pqr_type)

    async def _thread(self, uow: UnitOfWork, msg: IncomingMessage) -> Pqr | None:
        for radicado in self._candidates(msg):
            pqr = await uow.pqrs.get(radicado)
            if pqr is not None:
                return pqr
        if msg.in_reply_to:
            stored = await uow.mail.radicado_for_external_ids(msg.in_reply_to)
            if stored is not None:
                return await uow.pqrs.get(stored)
        for ref in reversed(msg.in_reply_to):
            match = self._own_id.match(ref.strip())
            if match:
                pqr = await uow.pqrs.get(match.group(1))
                if pqr is not None:
                    return pqr
        return None

    def _candidates(self, msg: IncomingMessage) -> list[str]:
        return [m.group(1).upper() for m in self._tag.finditer(msg.subject or "")]

    async def _join(self, uow: UnitOfWork, pqr: Pqr, msg: IncomingMessage) -> IntakeResult:
        lang = pqr.customer.language
        if not pqr.is_open:
            pqr.reopen(actor=msg.sender, now=msg.received_at, policy=self.service.policy,
                       reason=t(lang, "intake.reopened_by_customer", channel=msg.channel))
        added = pqr.receive(self._body(msg, lang), channel=msg.channel, at=msg.received_at,
                            actor=msg.sender, external_id=msg.external_id, calendar=self.service.calendar)
        _, not_taken = self._files(msg)
        if not_taken:
            self.service.note_not_taken(pqr, not_taken, channel=msg.channel, now=msg.received_at)
        await uow.pqrs.save(pqr)
        await self._attach(uow, added, msg)
        for item in followup_notices(pqr, added, language=self.language, staff=self.staff,
                                     triage=self.service.notifier.slack_triage_channel):
            await uow.outbox.put(item, now=msg.received_at)
        notice = self.service.not_taken_notice(pqr, not_taken, message=added) if not_taken else None
        if notice is not None:
            await uow.outbox.put(notice, now=msg.received_at)
        await self._keep(uow, msg, JOINED, pqr_id=pqr.id)
        return IntakeResult(JOINED, radicado=pqr.radicado)

    async def _file(self, uow: UnitOfWork, msg: IncomingMessage, pqr_type: PqrType | None) -> IntakeResult:
        pqr = await self.service.file_in(uow, self._request(msg, pqr_type))
        assert pqr is not None  # no inbound_key in the request: never a duplicate here
        await self._attach(uow, pqr.messages[0] if pqr.messages else None, msg)
        await self._keep(uow, msg, FILED, pqr_id=pqr.id)
        return IntakeResult(FILED, radicado=pqr.radicado)

    def _request(self, msg: IncomingMessage, pqr_type: PqrType | None) -> FilingRequest:
        lang = msg.language or self.language
        channel, _, address = msg.sender.partition(":")
        return FilingRequest(
            pqr_type=pqr_type or self.default_type, channel=msg.channel,
            name=(msg.sender_name or address or msg.sender)[:200],
            subject=(msg.subject or "").strip() or t(lang, "intake.no_subject"),
            body=self._body(msg, lang), received_at=msg.received_at, actor=msg.sender,
            email=address if channel == "email" else None,
            telegram_chat_id=int(address) if channel == "telegram" and address.lstrip("-").isdigit() else None,
            language=lang, external_id=msg.external_id, not_taken=tuple(self._files(msg)[1]))

    def _body(self, msg: IncomingMessage, lang: str) -> str:
        if msg.text.strip():
            return msg.text
        names = ", ".join(a.filename for a in msg.attachments)
        return t(lang, "intake.only_attachments", files=names) if names else t(lang, "intake.no_text")

    def _files(self, msg: IncomingMessage) -> tuple[list[FileData], list[NotTaken]]:
        """The message's files within the configured limits, and those that are not stored."""
        return screen(msg.attachments, self.service.attachment_limits)

    async def _attach(self, uow: UnitOfWork, message: Message | None, msg: IncomingMessage) -> None:
        taken = self._files(msg)[0] if msg.attachments else []
        if message is not None and message.id is not None and taken:
            await uow.mail.add_attachments(message.id, [FileData(a.filename, a.content_type, a.data) for a in taken])

    @classmethod
    async def _keep(cls, uow: UnitOfWork, msg: IncomingMessage, disposition: str, *,
                    reason: str | None = None, pqr_id: int | None = None) -> None:
        await uow.mail.keep_raw(cls._raw(msg, disposition, reason=reason, pqr_id=pqr_id))

    @staticmethod
    def _raw(msg: IncomingMessage, disposition: str, *, reason: str | None = None,
             pqr_id: int | None = None) -> RawMessage:
        raw = msg.raw if isinstance(msg.raw, bytes) else msg.text.encode("utf-8", "replace")
        return RawMessage(channel=msg.channel, external_id=msg.external_id, received_at=msg.received_at,
                          data=raw, disposition=disposition, reason=reason, pqr_id=pqr_id)


__all__: Sequence[str] = ["DUPLICATE", "FILED", "JOINED", "KEPT_ASIDE", "IntakeResult", "IntakeService",
                          "inbound_key", "radicado_pattern"]
