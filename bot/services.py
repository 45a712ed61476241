"""Use cases: each one runs in one transaction (records + outbox rows) and takes `now` and the
acting identity. Role checks live in `bot.commands`; these services trust their caller."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from bot.notifications import Notifier
from domain.customer import Customer, identity
from domain.errors import NotFound
from domain.events import ActionRefused
from domain.pqr import Pqr, SlaWindows, sla_windows
from domain.pqr_types import PqrType, Status
from domain.terms import ContractTerms, TermPolicy
from storage.ports import Database, PqrFilter, Stats, UnitOfWork


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


@dataclass(frozen=True)
class Digest:
    """The SLA digest as of `at`. With a `limit`, each list holds only its first PQRs, oldest due
    first; `counts` and `groups` (area, assignee, count) always cover every PQR of a section."""

    at: dt.datetime
    breached: list[Pqr] = field(default_factory=list)
    due_today: list[Pqr] = field(default_factory=list)
    due_soon: list[Pqr] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    groups: dict[str, list[tuple[str | None, str | None, int]]] = field(default_factory=dict)


class ContractLinker(Protocol):
    """Which contract a sender's PQR falls under (`bot.contracts.ContractService`)."""

    async def terms_for(self, uow: UnitOfWork, *, email: str | None,
                        telegram_user: int | None) -> ContractTerms | None: ...


class PqrService:
    """The PQR use cases, on a storage `Database`."""

    def __init__(self, db: Database, *, policy: TermPolicy, notifier: Notifier,
                 radicado_format: str = "PQR-{year}-{seq:06d}", warn_before_days: int = 2,
                 contracts: ContractLinker | None = None) -> None:
        self.db = db
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
        """`file` inside the caller's transaction (the caller commits): for intake that groups
        several messages in one commit."""
        if req.inbound_key and not await uow.inbound.remember(*req.inbound_key, now=req.received_at):
            return None
        customer = await self._customer(uow, req)
        contract = (await self.contracts.terms_for(uow, email=req.email or customer.email,
                                                   telegram_user=req.telegram_chat_id or customer.telegram_chat_id)
                    if self.contracts is not None else None)
        pqr = Pqr.file(pqr_type=req.pqr_type, channel=req.channel, customer=customer,
                       subject=req.subject, body=req.body, received_at=req.received_at,
                       policy=self.policy, actor=req.actor, area=req.area, external_id=req.external_id,
                       contract=contract)
        year = self.calendar.local(req.received_at).year
        await uow.pqrs.add(pqr, radicado_format=self.radicado_format, year=year)
        ack = self.notifier.acknowledgment(pqr)
        if ack is not None:
            await uow.outbox.put(ack, now=req.received_at)
        triage = self.notifier.slack_triage(pqr)
        if triage is not None:
            await uow.outbox.put(triage, now=req.received_at)
        return pqr

    async def _customer(self, uow: UnitOfWork, req: FilingRequest) -> Customer:
        keys = []
        if req.email:
            keys.append(identity("email", req.email))
        if req.telegram_chat_id is not None:
            keys.append(identity("telegram", str(req.telegram_chat_id)))
        for key in keys:
            found = await uow.customers.by_identity(key)
            if found is not None:
                changed = False
                if req.email and not found.email:
                    found.email, changed = req.email, True
                if req.telegram_chat_id is not None and found.telegram_chat_id is None:
                    found.telegram_chat_id, changed = req.telegram_chat_id, True
                if changed:
                    await uow.customers.save(found)
                return found
        return Customer(name=req.name.strip() or (req.email or "?"), email=req.email,
                        telegram_chat_id=req.telegram_chat_id, phone=req.phone, language=req.language)

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
            msg = pqr.reply(text, actor=actor, now=now, channel=route[0] if route else "none")
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
                pqr.close(None, actor=actor, now=now, channel=pqr.channel)
            elif to is Status.REABIERTA:
                pqr.reopen(actor=actor, now=now, policy=self.policy, reason=reason)
            else:
                pqr.change_status(to, actor=actor, now=now, reason=reason)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr, before

    async def close(self, radicado: str, answer: str, *, actor: str, now: dt.datetime) -> Pqr:
        """Send the final answer (when given) and close."""
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            route = self.notifier.route(pqr)
            msg = pqr.close(answer, actor=actor, now=now, channel=route[0] if route else "none")
            if msg is not None:
                item = self.notifier.to_customer(pqr, kind="closing", subject_key="customer.closing_subject",
                                                 text=answer, message=msg)
                if item is not None:
                    await uow.outbox.put(item, now=now)
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
        async with self.db.uow(readonly=True) as uow:
            return await self._load(uow, radicado)

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
        """Open PQRs breached, due today and due soon as of `now`, oldest due first. A message
        digest passes `limit` (it shows that many per section; counts and groups come from SQL);
        the full export (`pqrbot digest --json`) passes none."""
        w = self.windows(now)
        sections = {"breached": PqrFilter(due_before=w.now, limit=limit),
                    "due_today": PqrFilter(due_from=w.now, due_before=w.end_of_today, limit=limit),
                    "due_soon": PqrFilter(due_from=w.end_of_today, due_before=w.end_of_soon, limit=limit)}
        lists: dict[str, list[Pqr]] = {}
        counts: dict[str, int] = {}
        groups: dict[str, list[tuple[str | None, str | None, int]]] = {}
        async with self.db.uow(readonly=True) as uow:
            for key, flt in sections.items():
                lists[key] = await uow.pqrs.list(flt, details=details)
                groups[key] = await uow.pqrs.group_counts(flt)
                counts[key] = sum(n for _, _, n in groups[key])
        return Digest(at=now, breached=lists["breached"], due_today=lists["due_today"],
                      due_soon=lists["due_soon"], counts=counts, groups=groups)

