"""Legal and contractual terms, and the due dates they give."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from domain.calendar import BusinessCalendar
from domain.pqr_types import PqrType

# Ley 1755 de 2015 art. 14 and Ley 1581 de 2012 arts. 14-15, in business days.
LEGAL_TERMS: dict[PqrType, int] = {
    PqrType.PETICION: 15,
    PqrType.PETICION_INFORMACION: 10,
    PqrType.CONSULTA: 30,
    PqrType.QUEJA: 15,
    PqrType.RECLAMO: 15,
    PqrType.SUGERENCIA: 15,
    PqrType.FELICITACION: 15,
    PqrType.HABEAS_CONSULTA: 10,
    PqrType.HABEAS_RECLAMO: 15,
}

# Habeas-data extensions are fixed by Ley 1581; others may add at most the original term.
HABEAS_EXTENSION_DAYS: dict[PqrType, int] = {PqrType.HABEAS_CONSULTA: 5, PqrType.HABEAS_RECLAMO: 8}


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"


@dataclass(frozen=True)
class Target:
    """A contractual target: an amount of business hours or business days."""

    amount: int
    unit: Unit

    def due(self, calendar: BusinessCalendar, received_at: dt.datetime) -> dt.datetime:
        if self.unit is Unit.HOURS:
            return calendar.add_business_hours(received_at, self.amount)
        return calendar.due_after_days(received_at, self.amount)

    def label(self) -> str:
        return f"{self.amount}{'h' if self.unit is Unit.HOURS else 'd'}"


@dataclass(frozen=True)
class ContractTerms:
    """A B2B contract's ANS targets per PQR type (absent types follow the law only)."""

    contract: str
    client: str | None = None          # the client the contract is with (reports slice by it)
    resolution: dict[PqrType, Target] = field(default_factory=dict)
    first_response: dict[PqrType, Target] = field(default_factory=dict)
    pauses_when_waiting: bool = False


@dataclass(frozen=True)
class DueDates:
    """What the terms give for one PQR: the due date, the rule that set it, the first-response date.

    `legal_due_at` is the legal deadline alone: `due_at` when the law set it, later than `due_at`
    when a stricter contract target did. `pause_unit` is the unit of the contract
    target that set `due_at` when that contract pauses its clock while waiting for the customer;
    None otherwise (the law set it, or the contract does not pause)."""

    due_at: dt.datetime
    rule: str
    term_days: int
    legal_due_at: dt.datetime
    first_response_due_at: dt.datetime | None = None
    pause_unit: Unit | None = None
    contract_due_at: dt.datetime | None = None   # the contract's resolution target (ANS), if any


@dataclass(frozen=True)
class TermPolicy:
    """Legal terms per type (configurable) and the calendar they are counted on."""

    calendar: BusinessCalendar
    terms: dict[PqrType, int] = field(default_factory=lambda: dict(LEGAL_TERMS))

    def term_days(self, pqr_type: PqrType) -> int:
        return self.terms.get(pqr_type, LEGAL_TERMS[pqr_type])

    def due_dates(self, pqr_type: PqrType, received_at: dt.datetime,
                  contract: ContractTerms | None = None) -> DueDates:
        """The earliest applicable deadline wins; the result says which rule set it."""
        days = self.term_days(pqr_type)
        legal = self.calendar.due_after_days(received_at, days)
        due, rule = legal, f"ley:{pqr_type.value}:{days}d"
        first: dt.datetime | None = None
        pause_unit: Unit | None = None
        contract_due: dt.datetime | None = None
        if contract is not None:
            target = contract.resolution.get(pqr_type)
            if target is not None:
                contract_due = target.due(self.calendar, received_at)
                if contract_due < due:
                    due, rule = contract_due, f"contrato:{contract.contract}:resolucion:{target.label()}"
                    pause_unit = target.unit if contract.pauses_when_waiting else None
            response = contract.first_response.get(pqr_type)
            if response is not None:
                first = min(response.due(self.calendar, received_at), due)
        return DueDates(due_at=due, rule=rule, term_days=days, legal_due_at=legal,
                        first_response_due_at=first, pause_unit=pause_unit, contract_due_at=contract_due)

    def extension_limit(self, pqr_type: PqrType, received_at: dt.datetime) -> dt.datetime:
        """The latest due date a prórroga may set, for a term that started at `received_at`."""
        days = self.term_days(pqr_type)
        extra = HABEAS_EXTENSION_DAYS.get(pqr_type, days)
        return self.calendar.due_after_days(received_at, days + extra)
