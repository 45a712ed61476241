"""Penalty use cases. Each runs in one transaction (the penalty, its events and its outbox rows).

Role checks live here, not only in the command layer, because the decision also arrives from chat
buttons: `decide` is the one channel-neutral entry point for "Aprobar" / "Rechazar" presses. A
refused action raises a domain error after the refusal is written to the penalty's audit trail."""

from __future__ import annotations

import builtins
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from bot.contracts.service import ContractService
from bot.penalties.notices import PenaltyNotices
from bot.roles import Roles
from domain.errors import DomainError, InvalidTransition, NotAllowed, NotFound
from domain.events import ActionRefused
from domain.penalty import AlreadyDecided, Penalty, PenaltyCategory, PenaltyStatus
from domain.limits import FIRST_INSTANT, LAST_INSTANT
from domain.files import FileData
from storage.ports import Database, UnitOfWork

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class NewPenalty:
    """What registering a penalty needs, whichever channel it came from."""

    client: str
    category: PenaltyCategory
    amount: Decimal
    area: str
    actor: str
    currency: str = "COP"
    pqr: str | None = None
    description: str | None = None


class PenaltyService:
    """Register, evidence, decide (managers only), notify the client, pay."""

    def __init__(self, db: Database, *, roles: Roles, contracts: ContractService,
                 notices: PenaltyNotices) -> None:
        self.db = db
        self.roles = roles
        self.contracts = contracts
        self.notices = notices
        self.calendar = notices.calendar

    async def _load(self, uow: UnitOfWork, penalty_id: int) -> Penalty:
        p = await uow.penalties.get(penalty_id)
        if p is None:
            raise NotFound(f"penalty {penalty_id}")
        return p

    async def _refuse(self, uow: UnitOfWork, p: Penalty | None, *, actor: str, action: str, reason: str,
                      now: dt.datetime) -> None:
        """Write the refusal to the penalty's audit trail (or the general one) and commit it."""
        event = ActionRefused(actor=actor, at=now, reason=reason, data={"action": action})
        if p is not None:
            p.events.append(event)
            await uow.penalties.save(p)
        else:
            await uow.audit.record(event)
        await uow.commit()

    # -- registering ----------------------------------------------------------------------------
    async def register(self, req: NewPenalty, *, now: dt.datetime) -> Penalty:
        """A new penalty in `notificada`, optionally tied to a (breached) PQR; the responsible
        area is asked for evidence. `cli:…` actors are operators at the server (as for
        `pqrbot pqr new`), trusted like staff."""
        async with self.db.uow() as uow:
            if not self.roles.is_staff(req.actor) and not req.actor.startswith("cli:"):
                await self._refuse(uow, None, actor=req.actor, action="penalty_new", reason="not_staff", now=now)
                raise NotAllowed("not_staff")
            registry = await self.contracts.registry_in(uow)
            client = registry.client(req.client)
            contract = registry.contract_of(client)
            pqr_rad = None
            if req.pqr:
                pqr = await uow.pqrs.get(req.pqr.strip().upper())
                if pqr is None:
                    raise NotFound(req.pqr)
                pqr_rad = pqr.radicado
                contract_name = pqr.contract or (contract.name if contract else None)
            else:
                contract_name = contract.name if contract else None
            area = registry.area(req.area)
            p = Penalty.register(client=client.name if client else req.client,
                                 category=req.category, amount=req.amount, currency=req.currency,
                                 area=area.name if area else req.area, actor=req.actor, now=now, pqr=pqr_rad,
                                 description=req.description, contract=contract_name)
            await uow.penalties.add(p)
            for item in self.notices.evidence_request(p, area):
                await uow.outbox.put(item, now=now)
            await uow.commit()
            return p

    # -- evidence -------------------------------------------------------------------------------
    async def add_evidence(self, penalty_id: int, text: str, *, actor: str, now: dt.datetime,
                           files: list[FileData] | None = None) -> Penalty:
        """Staff attach the area's evidence; the first moves the case to evaluation and every
        manager gets the decision request."""
        async with self.db.uow() as uow:
            p = await self._load(uow, penalty_id)
            if not self.roles.is_staff(actor):
                await self._refuse(uow, p, actor=actor, action="penalty_evidence", reason="not_staff", now=now)
                raise NotAllowed("not_staff")
            before = p.status
            try:
                p.add_evidence(text, actor=actor, now=now, files=files)
            except InvalidTransition as exc:
                await self._refuse(uow, p, actor=actor, action="penalty_evidence",
                                   reason=f"invalid_transition:{exc.current}->evidence", now=now)
                raise
            await uow.penalties.save(p)
            if before is PenaltyStatus.NOTIFICADA:
                for item in self.notices.decision_request(p):
                    await uow.outbox.put(item, now=now)
            await uow.commit()
            return p

    # -- the decision ---------------------------------------------------------------------------
    async def decide(self, penalty_id: int, approve: bool, reason: str, actor: str, now: dt.datetime) -> Penalty:
        """A manager approves or rejects a case in evaluation, with a reason. The client notice
        goes out (when the client has a contact) and, for an accepted penalty, the payment
        authorization to accounting. Raises `NotAllowed` (not a manager), `AlreadyDecided` (a
        second press: nothing changes), `InvalidTransition` (not in evaluation), `InvalidInput`
        (no reason), `NotFound`; refusals are written to the audit trail first."""
        action = "penalty_approve" if approve else "penalty_reject"
        async with self.db.uow() as uow:
            p = await self._load(uow, penalty_id)
            if not self.roles.is_manager(actor):
                await self._refuse(uow, p, actor=actor, action=action, reason="not_manager", now=now)
                raise NotAllowed("not_manager")
            try:
                p.decide(approve, reason=reason, actor=actor, now=now)
            except AlreadyDecided as exc:
                await self._refuse(uow, p, actor=actor, action=action, reason=f"already_decided:{exc.decision}",
                                   now=now)
                raise
            except InvalidTransition as exc:
                await self._refuse(uow, p, actor=actor, action=action,
                                   reason=f"invalid_transition:{exc.current}->{exc.wanted}", now=now)
                raise
            await self._after_decision(uow, p, actor=actor, now=now)
            await uow.penalties.save(p)
            await uow.commit()
            return p

    async def check_decision(self, penalty_id: int, approve: bool, actor: str, now: dt.datetime) -> Penalty:
        """The checks `decide` makes that do not need the reason, for a button press that is about
        to ask for it: raises `NotAllowed`, `AlreadyDecided`, `InvalidTransition` or `NotFound` as
        `decide` would, after recording the refusal; otherwise changes nothing."""
        action = "penalty_approve" if approve else "penalty_reject"
        async with self.db.uow() as uow:
            p = await self._load(uow, penalty_id)
            if not self.roles.is_manager(actor):
                await self._refuse(uow, p, actor=actor, action=action, reason="not_manager", now=now)
                raise NotAllowed("not_manager")
            if p.decision is not None:
                decided = AlreadyDecided(p.decision.value, p.decided_by, p.decided_at)
                await self._refuse(uow, p, actor=actor, action=action, reason=f"already_decided:{decided.decision}",
                                   now=now)
                raise decided
            if p.status is not PenaltyStatus.EN_EVALUACION:
                wanted = (PenaltyStatus.APROBADA if approve else PenaltyStatus.RECHAZADA).value
                wrong = InvalidTransition(p.status.value, wanted, ())
                await self._refuse(uow, p, actor=actor, action=action,
                                   reason=f"invalid_transition:{wrong.current}->{wrong.wanted}", now=now)
                raise wrong
            return p

    async def _after_decision(self, uow: UnitOfWork, p: Penalty, *, actor: str, now: dt.datetime) -> None:
        registry = await self.contracts.registry_in(uow)
        notices = self.notices.client_notice(p, registry.client(p.client))
        if not notices:
            return  # stays decided until someone reaches the client: `notify_client`
        for item in notices:
            await uow.outbox.put(item, now=now)
        p.notify_client(actor=actor, now=now, reason=", ".join(i.destination for i in notices))
        if p.accepted:
            p.authorize_payment(actor=actor, now=now)
            for item in self.notices.payment_authorization(p):
                await uow.outbox.put(item, now=now)

    async def notify_client(self, penalty_id: int, *, actor: str, now: dt.datetime,
                            reason: str | None = None) -> Penalty:
        """Record that the client was told the decision by other means (no contact on file), then
        authorize payment for an accepted penalty."""
        async with self.db.uow() as uow:
            p = await self._load(uow, penalty_id)
            if not self.roles.is_staff(actor):
                await self._refuse(uow, p, actor=actor, action="penalty_notify", reason="not_staff", now=now)
                raise NotAllowed("not_staff")
            p.notify_client(actor=actor, now=now, reason=reason)
            if p.accepted:
                p.authorize_payment(actor=actor, now=now)
                for item in self.notices.payment_authorization(p):
                    await uow.outbox.put(item, now=now)
            await uow.penalties.save(p)
            await uow.commit()
            return p

    async def mark_paid(self, penalty_id: int, *, actor: str, now: dt.datetime, reason: str | None = None) -> Penalty:
        """Accounting reports the payment (staff or managers record it)."""
        async with self.db.uow() as uow:
            p = await self._load(uow, penalty_id)
            if not self.roles.is_staff(actor) and not actor.startswith("cli:"):
                await self._refuse(uow, p, actor=actor, action="penalty_paid", reason="not_staff", now=now)
                raise NotAllowed("not_staff")
            try:
                p.mark_paid(actor=actor, now=now, reason=reason)
            except InvalidTransition as exc:
                await self._refuse(uow, p, actor=actor, action="penalty_paid",
                                   reason=f"invalid_transition:{exc.current}->{exc.wanted}", now=now)
                raise
            await uow.penalties.save(p)
            await uow.commit()
            return p

    # -- reading --------------------------------------------------------------------------------
    async def show(self, penalty_id: int) -> Penalty:
        async with self.db.uow(readonly=True) as uow:
            return await self._load(uow, penalty_id)

    async def list(self, *, status: PenaltyStatus | None = None) -> list[Penalty]:
        async with self.db.uow(readonly=True) as uow:
            return await uow.penalties.list(status=status)

    async def month(self, month: str) -> builtins.list[Penalty]:
        """Penalties registered in local month `YYYY-MM`."""
        start, end = self.month_bounds(month)
        async with self.db.uow(readonly=True) as uow:
            return await uow.penalties.list(registered_from=start, registered_before=end)

    def month_bounds(self, month: str) -> tuple[dt.datetime, dt.datetime]:
        """The local month `YYYY-MM` as [start, end) instants."""
        m = _MONTH.match(month.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise BadMonth(month)
        year, mon = int(m.group(1)), int(m.group(2))
        if not FIRST_INSTANT.year <= year <= LAST_INSTANT.year:     # 9999-12 would overflow below
            raise BadMonth(month)
        first = dt.date(year, mon, 1)
        nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
        tz = self.calendar.tz
        return dt.datetime.combine(first, dt.time(0), tzinfo=tz), dt.datetime.combine(nxt, dt.time(0), tzinfo=tz)


class BadMonth(DomainError):
    """Not a month written as YYYY-MM."""
