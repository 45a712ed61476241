"""Contractual penalties: the aggregate, its workflow and the events every change records.

notificada → en_evaluacion (the area submits evidence) → aprobada | rechazada (a manager decides,
with a reason) → cliente_notificada → (accepted only) pago_autorizado → pagada.
Money is `Decimal` with a currency code; never float."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import DomainError, InvalidInput, InvalidTransition
from domain.events import Event
from domain.files import FileData
from domain.limits import (AMOUNT_DIGITS_MAX, AREA_MAX, CLIENT_MAX, CONTRACT_MAX, FILENAME_MAX, IDENTITY_MAX,
                           RADICADO_MAX, check_instant, check_length)


class PenaltyCategory(StrEnum):
    KPI_ANS = "kpi_ans"
    MULTAS_SANCIONES = "multas_sanciones"
    DIFERENCIAS_INVENTARIO = "diferencias_inventario"
    POSTVENTA = "postventa"


class PenaltyStatus(StrEnum):
    NOTIFICADA = "notificada"
    EN_EVALUACION = "en_evaluacion"
    APROBADA = "aprobada"
    RECHAZADA = "rechazada"
    CLIENTE_NOTIFICADA = "cliente_notificada"
    PAGO_AUTORIZADO = "pago_autorizado"
    PAGADA = "pagada"


S = PenaltyStatus
TRANSITIONS: dict[PenaltyStatus, tuple[PenaltyStatus, ...]] = {
    S.NOTIFICADA: (S.EN_EVALUACION,),
    S.EN_EVALUACION: (S.APROBADA, S.RECHAZADA),
    S.APROBADA: (S.CLIENTE_NOTIFICADA,),
    S.RECHAZADA: (S.CLIENTE_NOTIFICADA,),
    S.CLIENTE_NOTIFICADA: (S.PAGO_AUTORIZADO,),   # accepted penalties only
    S.PAGO_AUTORIZADO: (S.PAGADA,),
    S.PAGADA: (),
}
DECIDED = frozenset({S.APROBADA, S.RECHAZADA, S.CLIENTE_NOTIFICADA, S.PAGO_AUTORIZADO, S.PAGADA})


class AlreadyDecided(DomainError):
    """A second decision on a penalty: nothing changes. Says what was decided, by whom, when."""

    def __init__(self, decision: str, by: str | None, at: dt.datetime | None) -> None:
        super().__init__(f"already decided: {decision}")
        self.decision = decision
        self.by = by
        self.at = at


@dataclass(frozen=True, kw_only=True)
class PenaltyRegistered(Event):
    kind: str = "penalty_registered"


@dataclass(frozen=True, kw_only=True)
class PenaltyStatusChanged(Event):
    kind: str = "status_changed"


@dataclass(frozen=True, kw_only=True)
class EvidenceAdded(Event):
    kind: str = "evidence"


@dataclass(frozen=True, kw_only=True)
class PenaltyDecided(Event):
    kind: str = "penalty_decided"


def parse_amount(text: str | Decimal) -> Decimal:
    """A positive amount with at most two decimals, kept exactly as written ("1500000.50")."""
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInput(f"not an amount: {text!r} (e.g. 1500000.50)", code="amount", value=text) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"the amount must be positive: {text!r}", code="amount_positive", value=text)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidInput(f"at most two decimals: {text!r}", code="amount_decimals", value=text)
    if value.adjusted() >= AMOUNT_DIGITS_MAX:
        raise InvalidInput(f"amount too large: {text!r}", code="amount_too_large", value=AMOUNT_DIGITS_MAX)
    return value


def parse_currency(text: str) -> str:
    """An ISO 4217-looking code, upper case (COP, USD, …)."""
    code = text.strip().upper()
    if len(code) != 3 or not (code.isascii() and code.isalpha()):
        raise InvalidInput(f"not a currency code: {text!r} (e.g. COP)", code="currency", value=text)
    return code


@dataclass
class Evidence:
    """The area's evidence and justification: text and files."""

    text: str
    author: str
    at: dt.datetime
    files: list[FileData] = field(default_factory=list)
    id: int | None = None


@dataclass
class Penalty:
    """A penalty claimed by a client or a control body, and the company's decision on it."""

    client: str
    category: PenaltyCategory
    amount: Decimal
    currency: str
    area: str
    registered_at: dt.datetime
    status: PenaltyStatus = PenaltyStatus.NOTIFICADA
    pqr: str | None = None
    description: str | None = None
    contract: str | None = None
    decision: PenaltyStatus | None = None       # aprobada | rechazada, kept after later steps
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    id: int | None = None

    @classmethod
    def register(cls, *, client: str, category: PenaltyCategory, amount: Decimal, currency: str,
                 area: str, actor: str, now: dt.datetime, pqr: str | None = None,
                 description: str | None = None, contract: str | None = None) -> Penalty:
        """A new penalty in `notificada`; the responsible area is to be asked for evidence."""
        if now.utcoffset() is None:
            raise InvalidInput("now needs an offset", code="offset")
        if not client.strip():
            raise InvalidInput("a client is needed", code="client_required")
        if not area.strip():
            raise InvalidInput("a responsible area is needed", code="area_required")
        check_length(client.strip(), CLIENT_MAX, "client_too_long")
        check_length(area.strip(), AREA_MAX, "area_too_long")
        check_length(pqr, RADICADO_MAX, "radicado_too_long")
        check_length(contract, CONTRACT_MAX, "contract_too_long")
        check_length(actor, IDENTITY_MAX, "identity_too_long")
        check_instant(now)
        penalty = cls(client=client.strip(), category=category, amount=parse_amount(amount),
                      currency=parse_currency(currency), area=area.strip(), registered_at=now, pqr=pqr,
                      description=(description or "").strip() or None, contract=contract)
        penalty.events.append(PenaltyRegistered(
            actor=actor, at=now, to=S.NOTIFICADA.value, reason=penalty.description,
            data={"amount": str(penalty.amount), "currency": penalty.currency,
                  "category": category.value, **({"pqr": pqr} if pqr else {})}))
        return penalty

    @property
    def accepted(self) -> bool:
        return self.decision is S.APROBADA

    def _move(self, to: PenaltyStatus, *, actor: str, now: dt.datetime, reason: str | None = None) -> None:
        allowed = TRANSITIONS[self.status]
        if to not in allowed:
            raise InvalidTransition(self.status.value, to.value, tuple(s.value for s in allowed))
        self.events.append(PenaltyStatusChanged(actor=actor, at=now, from_=self.status.value, to=to.value,
                                                reason=reason))
        self.status = to

    def add_evidence(self, text: str, *, actor: str, now: dt.datetime,
                     files: list[FileData] | None = None) -> Evidence:
        """Evidence from the area; the first moves the case to `en_evaluacion`. More evidence is
        welcome while the case is in evaluation; after the decision it is refused."""
        if not text.strip() and not files:
            raise InvalidInput("evidence needs a text or a file", code="evidence_empty")
        check_length(actor, IDENTITY_MAX, "identity_too_long")
        for f in files or []:
            check_length(f.filename, FILENAME_MAX, "filename_too_long")
        if self.status not in (S.NOTIFICADA, S.EN_EVALUACION):
            raise InvalidTransition(self.status.value, "evidence", ())
        ev = Evidence(text=text.strip(), author=actor, at=now, files=list(files or []))
        self.evidence.append(ev)
        self.events.append(EvidenceAdded(actor=actor, at=now, reason=ev.text or None,
                                         data={"files": [{"filename": f.filename, "sha256": f.sha256}
                                                         for f in ev.files]}))
        if self.status is S.NOTIFICADA:
            self._move(S.EN_EVALUACION, actor=actor, now=now, reason="evidence submitted")
        return ev

    def decide(self, approve: bool, *, reason: str, actor: str, now: dt.datetime) -> None:
        """A manager's decision (the caller checks the role). Refused without a reason, outside
        `en_evaluacion`; a second decision raises `AlreadyDecided` and changes nothing."""
        if self.status in DECIDED and self.decision is not None:
            raise AlreadyDecided(self.decision.value, self.decided_by, self.decided_at)
        if not reason.strip():
            raise InvalidInput("a decision needs a reason", code="reason_required")
        to = S.APROBADA if approve else S.RECHAZADA
        if self.status is not S.EN_EVALUACION:
            raise InvalidTransition(self.status.value, to.value, tuple(s.value for s in TRANSITIONS[self.status]))
        self.events.append(PenaltyDecided(actor=actor, at=now, from_=self.status.value, to=to.value,
                                          reason=reason.strip(), data={"approve": approve}))
        self.status, self.decision = to, to
        self.decided_by, self.decided_at, self.decision_reason = actor, now, reason.strip()

    def notify_client(self, *, actor: str, now: dt.datetime, reason: str | None = None) -> None:
        """The client has been told the decision."""
        self._move(S.CLIENTE_NOTIFICADA, actor=actor, now=now, reason=reason)

    def authorize_payment(self, *, actor: str, now: dt.datetime) -> None:
        """Accounting is told to pay; only an accepted penalty is paid."""
        if not self.accepted:
            raise InvalidTransition(self.status.value, S.PAGO_AUTORIZADO.value, ())
        self._move(S.PAGO_AUTORIZADO, actor=actor, now=now)

    def mark_paid(self, *, actor: str, now: dt.datetime, reason: str | None = None) -> None:
        """Accounting has paid it."""
        self._move(S.PAGADA, actor=actor, now=now, reason=reason)


def total(amounts: list[Decimal]) -> Decimal:
    """The exact sum (Decimal("0") when empty)."""
    return sum(amounts, Decimal("0"))
