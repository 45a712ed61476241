"""Channel-neutral intake: a normalized inbound message becomes a new PQR, a follow-up on an
existing one, a duplicate, or a message kept aside — and the raw message is kept in every case.

Threading, in order: a radicado tag in the subject; `in_reply_to` ids (In-Reply-To and
References) equal to a whole stored id — a PQR message's, or the Message-ID of mail we queued.
Only the PQR's customer, or an address that already wrote on it, joins it; anyone else files a
new PQR whose internal note names the other radicado (and that PQR gets a note naming the new
one). A closed PQR reopens when `reopen_closed`, otherwise the message files a new PQR.

Acknowledgments are limited (`AckLimit`): each filed message counts against the keys in its
`ack_quota`, in the database; past the limit on any key it files with a note instead of an
acknowledgment, and the Slack triage channel is told once per key and window. Mail whose DMARC
failed (`authenticated` False) is never acknowledged.

Concurrent calls share transactions (`bot.intake.group_commit`): `receive` returns only after the
message and its PQR changes are committed. In a batch, the messages that can only be new PQRs are
filed together with one statement per table (`_process_many`); the others, or all of them when
the bulk statements fail, go one by one, each in its own savepoint."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.pqrs.attachments import screen
from bot.pqrs.followups import StaffDestinations, followup_notices
from bot.intake.group_commit import GroupCommitter
from bot.i18n import t
from bot.pqrs.service import INTAKE_ACTOR, FilingRequest, PqrService
from bot.ports import IncomingMessage
from bot.ports.payloads import Alert
from domain.attachments import NotTaken
from domain.errors import DomainError
from domain.pqr import Direction, Message, Pqr
from domain.pqr_types import PqrType
from storage.ports import Database, OutboxItem, RawMessage, UnitOfWork
from domain.files import FileData

log = logging.getLogger(__name__)

FILED, JOINED, DUPLICATE, KEPT_ASIDE = "filed", "joined", "duplicate", "kept_aside"


@dataclass(frozen=True)
class AckLimit:
    """At most `max_acks` acknowledgments per key (`IncomingMessage.ack_quota`) in `window`."""

    max_acks: int
    window: dt.timedelta


@dataclass
class _Ack:
    """What intake decided about one filing's acknowledgment."""

    send: bool = True
    notes: list[str] = field(default_factory=list)       # internal notes for the new PQR
    alerts: list[tuple[OutboxItem, dt.datetime]] = field(default_factory=list)   # (row, now)


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
    """The de-duplication key. With an id of its own, the message is a resend only from the same
    sender with the same content: the id, then a digest of sender, subject, text and files (a
    broken client reusing `<1@localhost>` for different mail is not a duplicate). Without an
    id, a hash of the raw bytes."""
    if msg.external_id:
        digest = hashlib.sha256()
        for part in (msg.sender, msg.subject or "", msg.text):
            digest.update(part.encode("utf-8", "replace") + b"\0")
        for f in msg.attachments:
            digest.update(f.filename.encode("utf-8", "replace") + b"\0" + hashlib.sha256(f.data).digest())
        return f"{msg.external_id[:900]}|{digest.hexdigest()[:40]}"
    raw = msg.raw if isinstance(msg.raw, bytes) else msg.text.encode("utf-8", "replace")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class IntakeService:
    """Turns inbound messages into PQR changes, committed in groups."""

    def __init__(self, db: Database, service: PqrService, *, language: str = "es",
                 default_type: PqrType = PqrType.PETICION, reopen_closed: bool = True,
                 max_batch: int = 256,
                 on_commit: Callable[[], None] | None = None,
                 staff: StaffDestinations = lambda who: [], ack_limit: AckLimit | None = None) -> None:
        self.db = db
        self.ack_limit = ack_limit
        self._limits_logged: set[tuple[str, int]] = set()   # (key, window) already logged
        self.service = service
        self.language = language
        self.default_type = default_type
        self.reopen_closed = reopen_closed
        self.staff = staff   # where a staff identity is reached, for follow-up notices
        pattern = radicado_pattern(service.radicado_format)
        self._tag = re.compile(rf"(?<![\w-])({pattern})(?![\w-])", re.IGNORECASE)
        self.committer: GroupCommitter[_Item, IntakeResult] = GroupCommitter(
            db, self._process, recover=self._recover, apply_many=self._process_many, max_batch=max_batch,
            on_commit=on_commit)

    async def receive(self, msg: IncomingMessage, *, pqr_type: PqrType | None = None,
                      kept_aside: str | None = None) -> IntakeResult:
        """File, join or keep `msg` (kept aside, with `kept_aside` as the reason, when given);
        returns once committed. Raises when storage fails (the sender should retry)."""
        return await self.committer.submit(_Item(msg, pqr_type, kept_aside))

    async def receive_many_in(self, uow: UnitOfWork, items: Sequence[tuple[IncomingMessage, PqrType | None, str | None]]
                              ) -> list[IntakeResult | Exception]:
        """File, join or keep each (message, type, kept-aside reason) inside the caller's unit of
        work, which the caller commits (with its own records: the intake worker marks each inbox
        item in the same transaction). As a group commit's batch: the bulk path first, in a
        savepoint; then the others one by one, each in its own savepoint, so a message that fails
        rolls back alone and comes back as its exception."""
        batch = [_Item(msg, pqr_type, kept_aside) for msg, pqr_type, kept_aside in items]
        done: Sequence[IntakeResult | None] = [None] * len(batch)
        if len(batch) > 1:
            try:
                async with uow.savepoint():
                    done = await self._process_many(uow, batch)
            except Exception:
                log.exception("intake: the bulk path failed for %d message(s); filing them one by one", len(batch))
                done = [None] * len(batch)
        out: list[IntakeResult | Exception] = []
        for item, result in zip(batch, done, strict=True):
            if result is not None:
                out.append(result)
                continue
            try:
                async with uow.savepoint():
                    out.append(await self._process(uow, item))
            except Exception as exc:
                out.append(await self._recover_in(uow, item, exc))
        return out

    async def _recover_in(self, uow: UnitOfWork, item: _Item, exc: Exception) -> IntakeResult | Exception:
        try:
            async with uow.savepoint():
                recovered = await self._recover(uow, item, exc)
        except Exception:
            log.exception("intake: keeping a refused message aside failed")
            return exc
        return exc if recovered is None else recovered

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
        acks = await self._acks(uow, [items[i].msg for i in new])
        filed = await self.service.file_many_in(
            uow, [self._request(items[i].msg, items[i].pqr_type, ack) for i, ack in zip(new, acks, strict=True)])
        await self._alert(uow, acks)
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
        found = await self._thread(uow, msg)
        if found:
            pqr = next((p for p in found if self._knows(p, msg)), None)
            if pqr is None:   # a stranger naming someone else's PQR: a new one, which names it
                return await self._file(uow, msg, item.pqr_type, names=found[0])
            if pqr.is_open or self.reopen_closed:
                return await self._join(uow, pqr, msg)
        return await self._file(uow, msg, item.pqr_type)

    async def _thread(self, uow: UnitOfWork, msg: IncomingMessage) -> list[Pqr]:
        """The PQRs the message names: by radicado tag in the subject, then the one holding a
        whole stored id of its In-Reply-To/References."""
        found: list[Pqr] = []
        for radicado in dict.fromkeys(self._candidates(msg)):
            pqr = await uow.pqrs.get(radicado)
            if pqr is not None:
                found.append(pqr)
        if msg.in_reply_to:
            stored = await uow.mail.radicado_for_external_ids(msg.in_reply_to)
            if stored is not None and all(p.radicado != stored for p in found):
                pqr = await uow.pqrs.get(stored)
                if pqr is not None:
                    found.append(pqr)
        return found

    @staticmethod
    def _knows(pqr: Pqr, msg: IncomingMessage) -> bool:
        """Whether the sender may write on `pqr`: its customer, or an identity that already
        wrote on it — and not a sender a trusted server says is forged (DMARC failed)."""
        if msg.authenticated is False:
            return False
        channel, _, address = msg.sender.partition(":")
        if not address:
            return False
        if channel == "email" and (pqr.customer.email or "").lower() == address.lower():
            return True
        if channel == "telegram" and str(pqr.customer.telegram_chat_id) == address:
            return True
        return any(m.direction is Direction.IN and m.author == msg.sender for m in pqr.messages)

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

    async def _file(self, uow: UnitOfWork, msg: IncomingMessage, pqr_type: PqrType | None, *,
                    names: Pqr | None = None) -> IntakeResult:
        """File `msg` as a new PQR. `names`: the PQR of someone else the message named by tag or
        headers; both PQRs get an internal note naming the other."""
        ack = (await self._acks(uow, [msg]))[0]
        sender = msg.sender.partition(":")[2] or msg.sender
        if names is not None:
            ack.notes.append(t(self.language, "intake.names_other_pqr", radicado=names.radicado, sender=sender))
        pqr = await self.service.file_in(uow, self._request(msg, pqr_type, ack))
        assert pqr is not None  # no inbound_key in the request: never a duplicate here
        await self._alert(uow, [ack])
        await self._attach(uow, pqr.messages[0] if pqr.messages else None, msg)
        if names is not None:
            names.note(t(self.language, "intake.named_by_other", radicado=pqr.radicado, sender=sender),
                       actor=INTAKE_ACTOR, now=msg.received_at)
            await uow.pqrs.save(names)
        await self._keep(uow, msg, FILED, pqr_id=pqr.id)
        return IntakeResult(FILED, radicado=pqr.radicado)

    # -- acknowledgments --------------------------------------------------------------------
    async def _acks(self, uow: UnitOfWork, msgs: Sequence[IncomingMessage]) -> list[_Ack]:
        """Whether each of `msgs`, filed in this order, is acknowledged: not when its DMARC
        failed, nor past the limit on one of its `ack_quota` keys (the acknowledgments sent
        count, in the database, for every instance)."""
        out = [_Ack() for _ in msgs]
        for ack, msg in zip(out, msgs, strict=True):
            if msg.authenticated is False:
                ack.send = False
                ack.notes.append(t(self.language, "intake.ack_withheld_dmarc"))
        limit = self.ack_limit
        keyed = [(ack, msg) for ack, msg in zip(out, msgs, strict=True) if ack.send and msg.ack_quota]
        if limit is None or not keyed:
            return out
        now = max(msg.received_at for _, msg in keyed)
        counts = await uow.inbound.acks_since({k for _, m in keyed for k in m.ack_quota}, now - limit.window)
        counted: list[tuple[str, dt.datetime]] = []
        for ack, msg in keyed:
            over = [k for k in msg.ack_quota if counts[k] >= limit.max_acks]
            if over:
                ack.send = False
                minutes = int(limit.window.total_seconds() // 60)
                ack.notes.append(t(self.language, "intake.ack_withheld_limit", who=over[0],
                                   max=limit.max_acks, minutes=minutes))
                for k in over:
                    alert = self._limit_alert(k, msg.received_at, limit)
                    if alert is not None:
                        ack.alerts.append((alert, msg.received_at))
                continue
            for k in msg.ack_quota:
                counts[k] += 1
                counted.append((k, msg.received_at))
        if counted:
            await uow.inbound.count_acks(counted, forget_before=now - limit.window)
        return out

    def _limit_alert(self, key: str, now: dt.datetime, limit: AckLimit) -> OutboxItem | None:
        """The triage channel's notice that acknowledgments to `key` stopped, once per window."""
        triage = self.service.notifier.slack_triage_channel
        window = int(limit.window.total_seconds())
        bucket = (key, int(now.timestamp()) // window)
        if bucket not in self._limits_logged:
            if len(self._limits_logged) > 10_000:
                self._limits_logged.clear()
            self._limits_logged.add(bucket)
            log.warning("intake: more than %d acknowledgments for %s in %d min: filing without acknowledging",
                        limit.max_acks, key, window // 60)
        if not triage:
            return None
        text = t(self.language, "intake.acks_withheld_alert", who=key, max=limit.max_acks, minutes=window // 60)
        return OutboxItem(channel="slack", destination=triage, payload=Alert(alert="acks_withheld", text=text).stored(),
                          dedupe_key=f"ack-limit:{key}:{int(now.timestamp()) // window}"[:400])

    @staticmethod
    async def _alert(uow: UnitOfWork, acks: Sequence[_Ack]) -> None:
        items = [alert for ack in acks for alert in ack.alerts]
        if items:
            await uow.outbox.put_many(items)

    def _request(self, msg: IncomingMessage, pqr_type: PqrType | None, ack: _Ack | None = None) -> FilingRequest:
        lang = msg.language or self.language
        channel, _, address = msg.sender.partition(":")
        return FilingRequest(
            pqr_type=pqr_type or self.default_type, channel=msg.channel,
            name=(msg.sender_name or address or msg.sender)[:200],
            subject=(msg.subject or "").strip() or t(lang, "intake.no_subject"),
            body=self._body(msg, lang), received_at=msg.received_at, actor=msg.sender,
            email=address if channel == "email" else None,
            telegram_chat_id=int(address) if channel == "telegram" and address.lstrip("-").isdigit() else None,
            language=lang, external_id=msg.external_id, not_taken=tuple(self._files(msg)[1]),
            acknowledge=ack.send if ack else True, staff_notes=tuple(ack.notes) if ack else ())

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
