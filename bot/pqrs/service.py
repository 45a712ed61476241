"""Use cases: each one runs in one transaction (records + outbox rows) and takes `now` and the
acting identity. Role checks live in `bot.commands.handler`; these services trust their caller."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.pqrs.attachments import customer_notice, staff_note
from bot.pqrs.notices import Notifier
from domain.attachments import Attachment, AttachmentLimits, AttachmentNotFound, NotTaken
from domain.customer import Customer, identity
from domain.errors import NotFound
from domain.events import ActionRefused
from domain.pqr import Message, Pqr, SlaWindows, sla_windows
from domain.pqr_types import PqrType, Status
from domain.review import Draft
from domain.terms import ContractTerms, TermPolicy
from storage.ports import Database, OutboxItem, PqrFilter, Stats, UnitOfWork

FILES_ACTOR = "pqrbot:attachments"     # the author of the notes about files that were not taken
INTAKE_ACTOR = "pqrbot:intake"         # the author of intake's notes (an acknowledgment withheld, …)


@dataclass(frozen=True)
class FilingRequest:
    """Everything needed to file a PQR, whatever channel it came from."""

    pqr_type: PqrType
    channel: str
    name: str
    subject: str
    body: str
    received_at: dt.datetime
    actor: str
    email: str | None = None
    telegram_chat_id: int | None = None
    phone: str | None = None
    language: str = "es"
    area: str | None = None
    external_id: str | None = None            # e.g. the email Message-ID
    inbound_key: tuple[str, str] | None = None  # (channel, key) for idempotent intake
    # Files the message brought that are not stored (over the limits): the PQR gets an internal
    # note and the acknowledgment names them.
    not_taken: tuple[NotTaken, ...] = ()
    # False: file without the acknowledgment (intake's limits, DMARC); `staff_notes` say why.
    acknowledge: bool = True
    staff_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Digest:
    """The SLA digest as of `at`. With a `limit`, each list holds only its first PQRs, oldest due
    first; `counts` and `groups` (area, assignee, count) always cover every PQR of a section."""

    at: dt.datetime
    breached: list[Pqr] = field(default_factory=list)
    due_today: list[Pqr] = field(default_factory=list)
    due_soon: list[Pqr] = field(default_factory=list)
    awaiting_approval: list[Pqr] = field(default_factory=list)   # final answers in en_revision
    counts: dict[str, int] = field(default_factory=dict)
    groups: dict[str, list[tuple[str | None, str | None, int]]] = field(default_factory=dict)


class ContractLinker(Protocol):
    """Which contract a sender's PQR falls under (`bot.contracts.service.ContractService`)."""

    async def terms_for(self, uow: UnitOfWork, *, email: str | None,
                        telegram_user: int | None) -> ContractTerms | None: ...


class ReviewGate(Protocol):
    """Whether a close waits for a manager's approval, and the rows asking the managers
    (`bot.review.service.ReviewRules`)."""

    def applies(self, pqr: Pqr, actor: str) -> bool: ...

    def requests(self, pqr: Pqr, draft: Draft, now: dt.datetime) -> list[OutboxItem]: ...


class TermsLookup(Protocol):
    """Contract terms by sender, already loaded (`domain.contracts.ContractRegistry`)."""

    def terms_for(self, *, email: str | None = None, telegram_user: int | None = None) -> ContractTerms | None: ...


@runtime_checkable
class RegistryLinker(Protocol):
    """A `ContractLinker` that can hand out its whole registry (`ContractService`): a batch of
    filings then asks the database once for the registry version instead of once per PQR."""

    async def registry_in(self, uow: UnitOfWork) -> TermsLookup: ...


class PqrService:
    """The PQR use cases, on a storage `Database`."""

    def __init__(self, db: Database, *, policy: TermPolicy, notifier: Notifier,
                 radicado_format: str = "PQR-{year}-{seq:06d}", warn_before_days: int = 2,
                 contracts: ContractLinker | None = None,
                 attachment_limits: AttachmentLimits = AttachmentLimits(), language: str = "es",
                 causes: tuple[str, ...] = (), close_requires_cause: bool = False,
                 review: ReviewGate | None = None) -> None:
        self.db = db
        self.review = review                         # config `approval` (bot.review.service.ReviewRules)
        self.causes = causes                         # config `causes` keys
        self.close_requires_cause = close_requires_cause
        self.attachment_limits = attachment_limits   # config `attachments`, for every channel
        self.language = language                     # staff's language (internal notes)
        self.contracts = contracts
        self.policy = policy
        self.calendar = policy.calendar
        self.notifier = notifier
        self.radicado_format = radicado_format
        self.warn_before_days = warn_before_days

    # -- filing ---------------------------------------------------------------------------------
    async def file(self, req: FilingRequest) -> Pqr | None:
        """File a PQR and queue the acknowledgment. None when `inbound_key` was already seen."""
        async with self.db.uow() as uow:
            pqr = await self.file_in(uow, req)
            await uow.commit()
            return pqr

    async def file_in(self, uow: UnitOfWork, req: FilingRequest) -> Pqr | None:
        """`file` inside the caller's transaction (the caller commits). One filing is a batch of
        one: the same path as intake's batches, so both behave the same."""
        return (await self.file_many_in(uow, [req]))[0]

    async def file_many_in(self, uow: UnitOfWork, reqs: Sequence[FilingRequest]) -> list[Pqr | None]:
        """`file_in` for several requests in the caller's transaction, with one statement per
        table for the batch: the same PQRs, customers, radicados (in request order) and outbox
        rows as filing them one by one. None for a request whose `inbound_key` was seen before
        (or earlier in the batch). A failure fails the whole batch: the caller rolls back (a
        savepoint) and may file the requests one by one."""
        fresh = [True] * len(reqs)
        keyed = [(i, r.inbound_key) for i, r in enumerate(reqs) if r.inbound_key]
        if keyed:
            seen = await uow.inbound.remember_many([(k[0], k[1], reqs[i].received_at) for i, k in keyed])
            for (i, _), ok in zip(keyed, seen, strict=True):
                fresh[i] = ok
        todo = [r for r, ok in zip(reqs, fresh, strict=True) if ok]
        customers = await self._customers(uow, todo)
        terms = await self._terms(uow, todo, customers)
        filed = [Pqr.file(pqr_type=r.pqr_type, channel=r.channel, customer=c, subject=r.subject, body=r.body,
                          received_at=r.received_at, policy=self.policy, actor=r.actor, area=r.area,
                          external_id=r.external_id, contract=k)
                 for r, c, k in zip(todo, customers, terms, strict=True)]
        for req, pqr in zip(todo, filed, strict=True):
            if req.not_taken:
                self.note_not_taken(pqr, req.not_taken, channel=req.channel, now=req.received_at)
            for note in req.staff_notes:
                pqr.note(note, actor=INTAKE_ACTOR, now=req.received_at)
        by_year: dict[int, list[Pqr]] = {}
        for req, pqr in zip(todo, filed, strict=True):
            by_year.setdefault(self.calendar.local(req.received_at).year, []).append(pqr)
        for year, group in by_year.items():
            await uow.pqrs.add_many(group, radicado_format=self.radicado_format, year=year,
                                    customers_checked=True)
        queued = []
        for req, pqr in zip(todo, filed, strict=True):
            notice = (customer_notice(pqr.customer.language, req.not_taken, self.attachment_limits)
                      if req.not_taken else None)
            ack = self.notifier.acknowledgment(pqr, files_notice=notice) if req.acknowledge else None
            for item in (ack, self.notifier.slack_triage(pqr)):
                if item is not None:
                    queued.append((item, req.received_at))
        if queued:
            await uow.outbox.put_many(queued)
        out: list[Pqr | None] = []
        it = iter(filed)
        for ok in fresh:
            out.append(next(it) if ok else None)
        return out

    async def _customers(self, uow: UnitOfWork, reqs: Sequence[FilingRequest]) -> list[Customer]:
        """`_customer` for a batch, with one lookup: a sender new to the database and seen twice
        in the batch is one new customer, as it would be when filing one by one."""
        keys = [self._identities(r) for r in reqs]
        known = await uow.customers.by_identities([k for ks in keys for k in ks]) if any(keys) else {}
        out: list[Customer] = []
        changed: dict[int, Customer] = {}
        for req, ks in zip(reqs, keys, strict=True):
            found = next((known[k] for k in ks if k in known), None)
            if found is None:
                found = Customer(name=req.name.strip() or (req.email or "?"), email=req.email,
                                 telegram_chat_id=req.telegram_chat_id, phone=req.phone, language=req.language)
            else:
                if req.email and not found.email:
                    found.email = req.email
                    changed[id(found)] = found
                if req.telegram_chat_id is not None and found.telegram_chat_id is None:
                    found.telegram_chat_id = req.telegram_chat_id
                    changed[id(found)] = found
            for ident in found.identities():
                known.setdefault(ident, found)
            out.append(found)
        for customer in changed.values():
            if customer.id is not None:
                await uow.customers.save(customer)
        return out

    async def _terms(self, uow: UnitOfWork, reqs: Sequence[FilingRequest],
                     customers: Sequence[Customer]) -> list[ContractTerms | None]:
        """The contract terms of each request's sender (the registry is looked up once)."""
        if self.contracts is None:
            return [None] * len(reqs)
        senders = [(r.email or c.email, r.telegram_chat_id or c.telegram_chat_id)
                   for r, c in zip(reqs, customers, strict=True)]
        if isinstance(self.contracts, RegistryLinker):
            if not any(e or t is not None for e, t in senders):
                return [None] * len(reqs)
            registry = await self.contracts.registry_in(uow)
            return [registry.terms_for(email=e, telegram_user=t) if (e or t is not None) else None
                    for e, t in senders]
        return [await self.contracts.terms_for(uow, email=e, telegram_user=t) for e, t in senders]

    @staticmethod
    def _identities(req: FilingRequest) -> list[str]:
        keys = []
        if req.email:
            keys.append(identity("email", req.email))
        if req.telegram_chat_id is not None:
            keys.append(identity("telegram", str(req.telegram_chat_id)))
        return keys

    # -- files that were not taken -------------------------------------------------------------
    def note_not_taken(self, pqr: Pqr, items: Sequence[NotTaken], *, channel: str, now: dt.datetime) -> Message:
        """Add the internal note naming the files a customer's message brought that are not
        stored (the caller saves the PQR)."""
        return pqr.note(staff_note(self.language, items, channel=channel), actor=FILES_ACTOR, now=now)

    def not_taken_notice(self, pqr: Pqr, items: Sequence[NotTaken], *, message: Message) -> OutboxItem | None:
        """The customer's notice that files of a follow-up (`message`) were not taken: an
        automatic message on their channel, once per message."""
        notice = customer_notice(pqr.customer.language, items, self.attachment_limits)
        return self.notifier.to_customer(pqr, kind="ack", subject_key="customer.files_subject", text=notice,
                                         dedupe_key=f"files:{pqr.radicado}:{message.id or message.external_id}")

    # -- changes on one PQR ---------------------------------------------------------------------
    async def _load(self, uow: UnitOfWork, radicado: str) -> Pqr:
        pqr = await uow.pqrs.get(radicado)
        if pqr is None:
            raise NotFound(radicado)
        return pqr

    async def assign(self, radicado: str, assignee: str, *, actor: str, now: dt.datetime) -> Pqr:
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            pqr.assign(assignee, actor=actor, now=now)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr

    async def reply(self, radicado: str, text: str, *, actor: str, now: dt.datetime) -> tuple[Pqr, str | None]:
        """Answer the customer on their channel; returns the channel used (None: unreachable)."""
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            route = self.notifier.route(pqr)
            msg = pqr.reply(text, actor=actor, now=now, channel=route[0] if route else "none", calendar=self.calendar)
            item = self.notifier.to_customer(pqr, kind="reply", subject_key="customer.reply_subject",
                                             text=text, message=msg)
            if item is not None:
                await uow.outbox.put(item, now=now)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr, route[0] if route else None

    async def note(self, radicado: str, text: str, *, actor: str, now: dt.datetime) -> Pqr:
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            pqr.note(text, actor=actor, now=now)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr

    async def change_status(self, radicado: str, to: Status, *, actor: str, now: dt.datetime,
                            reason: str | None = None) -> tuple[Pqr, Status]:
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            before = pqr.status
            if to is Status.CERRADA:
                pqr.close(None, actor=actor, now=now, channel=pqr.channel, calendar=self.calendar,
                          causes=self._causes_required())
            elif to is Status.REABIERTA:
                pqr.reopen(actor=actor, now=now, policy=self.policy, reason=reason)
            else:
                pqr.change_status(to, actor=actor, now=now, reason=reason, calendar=self.calendar)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr, before

    async def close(self, radicado: str, answer: str, *, actor: str, now: dt.datetime) -> Pqr:
        """Send the final answer (when given) and close. Where the approval policy covers the
        PQR and `actor` is no manager (`review`), the answer waits in `en_revision` instead and
        every manager is asked to approve it: check the returned PQR's status."""
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            if self.review is not None and answer.strip() and self.review.applies(pqr, actor):
                draft = pqr.submit_answer(answer, actor=actor, now=now, calendar=self.calendar,
                                          causes=self._causes_required())
                requests = self.review.requests(pqr, draft, now)
                if requests:
                    await uow.outbox.put_many([(item, now) for item in requests])
                await uow.pqrs.save(pqr)
                await uow.commit()
                return pqr
            route = self.notifier.route(pqr)
            msg = pqr.close(answer, actor=actor, now=now, channel=route[0] if route else "none",
                            calendar=self.calendar, causes=self._causes_required())
            if msg is not None:
                await self.queue_closing(uow, pqr, answer, msg, now=now)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr

    async def queue_closing(self, uow: UnitOfWork, pqr: Pqr, answer: str, msg: Message, *, now: dt.datetime) -> None:
        """Queue the final answer `msg` to the customer (a close, an approved draft)."""
        item = self.notifier.to_customer(pqr, kind="closing", subject_key="customer.closing_subject",
                                         text=answer, message=msg)
        if item is not None:
            await uow.outbox.put(item, now=now)

    def causes_required(self) -> tuple[str, ...] | None:
        """The causes a close must name one of, when `close_requires_cause`; else None."""
        return self._causes_required()

    def _causes_required(self) -> tuple[str, ...] | None:
        return self.causes if self.close_requires_cause else None

    async def set_cause(self, radicado: str, cause: str, *, actor: str, now: dt.datetime,
                        area: str | None = None) -> Pqr:
        """Record the PQR's cause (a key of config `causes`) and, when given, its area."""
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            pqr.set_cause(cause, actor=actor, now=now, allowed=self.causes, area=area)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr

    async def reopen(self, radicado: str, *, actor: str, now: dt.datetime, reason: str | None = None) -> Pqr:
        pqr, _ = await self.change_status(radicado, Status.REABIERTA, actor=actor, now=now, reason=reason)
        return pqr

    async def extend(self, radicado: str, new_due: dt.datetime, *, reason: str, actor: str,
                     now: dt.datetime) -> tuple[Pqr, dt.datetime]:
        """A prórroga; the customer is told on their channel. Returns the PQR and the old due date."""
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            before = pqr.due_at
            pqr.extend(new_due, actor=actor, now=now, reason=reason, policy=self.policy)
            item = self.notifier.extension(pqr, reason)
            if item is not None:
                await uow.outbox.put(item, now=now)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr, before

    async def remember_inbound(self, channel: str, key: str, *, now: dt.datetime) -> bool:
        """Record an inbound delivery key (a Slack retry, a redelivered envelope) in its own
        transaction; False when it was seen before and must not be acted on again."""
        async with self.db.uow() as uow:
            fresh = await uow.inbound.remember(channel, key, now=now)
            await uow.commit()
            return fresh

    async def record_refusal(self, *, actor: str, action: str, reason: str, now: dt.datetime,
                             radicado: str | None = None) -> None:
        """Write a refused action to the audit trail."""
        async with self.db.uow() as uow:
            pqr = await uow.pqrs.get(radicado) if radicado else None
            event = ActionRefused(actor=actor, at=now, reason=reason, data={"action": action})
            await uow.audit.record(event, pqr_id=pqr.id if pqr else None)
            await uow.commit()

    # -- reading --------------------------------------------------------------------------------
    async def show(self, radicado: str) -> Pqr:
        async with self.db.uow(readonly=True, short=True) as uow:
            return await self._load(uow, radicado)

    async def attachment(self, radicado: str, attachment_id: int) -> tuple[Attachment, bytes]:
        """One stored file of the PQR, with its bytes, for staff to open (the CLI, Slack). Raises
        NotFound for an unknown PQR and AttachmentNotFound for an id that is not this PQR's."""
        rad = radicado.strip().upper()
        async with self.db.uow(readonly=True) as uow:
            # Ids are positive 64-bit integers: any other number (a forged button) is no attachment.
            found = await uow.pqrs.attachment(rad, attachment_id) if 0 < attachment_id < 2 ** 63 else None
            if found is None:
                await self._load(uow, rad)          # NotFound when the PQR itself is unknown
                raise AttachmentNotFound(rad, attachment_id)
            return found

    async def list(self, flt: PqrFilter, *, details: bool = False) -> list[Pqr]:
        async with self.db.uow(readonly=True) as uow:
            return await uow.pqrs.list(flt, details=details)

    async def count(self, flt: PqrFilter) -> int:
        async with self.db.uow(readonly=True) as uow:
            return await uow.pqrs.count(flt)

    async def stats(self, now: dt.datetime) -> Stats:
        async with self.db.uow(readonly=True) as uow:
            return await uow.pqrs.stats(now)

    def windows(self, now: dt.datetime) -> SlaWindows:
        return sla_windows(now, self.calendar, self.warn_before_days)

    async def digest(self, now: dt.datetime, *, details: bool = False, limit: int | None = None) -> Digest:
        """Open PQRs breached, due today and due soon as of `now`, oldest due first, and the
        drafts awaiting approval (PQRs in `en_revision`, whatever their due date). A message
        digest passes `limit` (it shows that many per section; counts and groups come from SQL);
        the full export (`pqrbot digest --json`) passes none."""
        w = self.windows(now)
        sections = {"breached": PqrFilter(due_before=w.now, limit=limit),
                    "due_today": PqrFilter(due_from=w.now, due_before=w.end_of_today, limit=limit),
                    "due_soon": PqrFilter(due_from=w.end_of_today, due_before=w.end_of_soon, limit=limit),
                    "awaiting_approval": PqrFilter(statuses=(Status.EN_REVISION,), limit=limit)}
        lists: dict[str, list[Pqr]] = {}
        counts: dict[str, int] = {}
        groups: dict[str, list[tuple[str | None, str | None, int]]] = {}
        async with self.db.uow(readonly=True) as uow:
            for key, flt in sections.items():
                lists[key] = await uow.pqrs.list(flt, details=details)
                groups[key] = await uow.pqrs.group_counts(flt)
                counts[key] = sum(n for _, _, n in groups[key])
        return Digest(at=now, breached=lists["breached"], due_today=lists["due_today"],
                      due_soon=lists["due_soon"], awaiting_approval=lists["awaiting_approval"], counts=counts,
                      groups=groups)

