"""TermPolicy: legal terms, configured overrides, contract targets, first response, extension limits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import BusinessCalendar
from domain.pqr_types import PqrType
from domain.terms import LEGAL_TERMS, ContractTerms, Target, TermPolicy, Unit

BOGOTA = ZoneInfo("America/Bogota")
CAL = BusinessCalendar()
RECEIVED = dt.datetime.fromisoformat("2026-12-18T10:00:00-05:00")  # Friday


def bog(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=BOGOTA)


def eod(y: int, m: int, d: int) -> dt.datetime:
    return bog(y, m, d, 23, 59, 59)


@pytest.fixture
def policy() -> TermPolicy:
    return TermPolicy(calendar=CAL)


# -- legal defaults ----------------------------------------------------------------------------

EXPECTED_TERMS = {
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

# From Fri 2026-12-18 (Dec 25, Jan 1, Jan 11 are holidays).
EXPECTED_DUE = {10: eod(2027, 1, 5), 15: eod(2027, 1, 13), 30: eod(2027, 2, 3)}


def test_every_type_has_a_legal_term() -> None:
    assert set(LEGAL_TERMS) == set(PqrType)
    assert LEGAL_TERMS == EXPECTED_TERMS


@pytest.mark.parametrize("pqr_type", list(PqrType), ids=str)
def test_legal_default_terms(policy: TermPolicy, pqr_type: PqrType) -> None:
    days = EXPECTED_TERMS[pqr_type]
    assert policy.term_days(pqr_type) == days
    dates = policy.due_dates(pqr_type, RECEIVED)
    assert dates.due_at == EXPECTED_DUE[days]
    assert dates.term_days == days
    assert dates.rule == f"ley:{pqr_type.value}:{days}d"
    assert dates.first_response_due_at is None


def test_configured_override(policy: TermPolicy) -> None:
    custom = TermPolicy(calendar=CAL, terms={**LEGAL_TERMS, PqrType.PETICION: 10, PqrType.CONSULTA: 20})
    assert custom.term_days(PqrType.PETICION) == 10
    assert custom.term_days(PqrType.CONSULTA) == 20
    dates = custom.due_dates(PqrType.PETICION, RECEIVED)
    assert dates.due_at == eod(2027, 1, 5)
    assert dates.rule == "ley:peticion:10d"
    # The default policy is unaffected.
    assert policy.term_days(PqrType.PETICION) == 15


def test_partial_override_falls_back_to_law() -> None:
    custom = TermPolicy(calendar=CAL, terms={PqrType.QUEJA: 5})
    assert custom.term_days(PqrType.QUEJA) == 5
    assert custom.term_days(PqrType.RECLAMO) == 15
    assert custom.due_dates(PqrType.QUEJA, RECEIVED).due_at == eod(2026, 12, 28)


def test_policy_uses_its_calendar() -> None:
    cal = BusinessCalendar(extra_holidays=frozenset({dt.date(2026, 12, 24), dt.date(2026, 12, 31)}))
    assert TermPolicy(calendar=cal).due_dates(PqrType.PETICION, RECEIVED).due_at == eod(2027, 1, 15)


# -- contracts ---------------------------------------------------------------------------------

def test_stricter_contract_in_days_wins(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", resolution={PqrType.RECLAMO: Target(5, Unit.DAYS)})
    dates = policy.due_dates(PqrType.RECLAMO, RECEIVED, contract)
    # Dec 21, 22, 23, 24, 28.
    assert dates.due_at == eod(2026, 12, 28)
    assert dates.rule == "contrato:ACME:resolucion:5d"
    assert dates.rule.startswith("contrato:")
    assert dates.term_days == 15  # the legal term is still reported


def test_stricter_contract_in_hours_wins(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", resolution={PqrType.QUEJA: Target(8, Unit.HOURS)})
    received = bog(2026, 12, 18, 16)  # Fri 16:00: 2h Friday, 6h Monday
    dates = policy.due_dates(PqrType.QUEJA, received, contract)
    assert dates.due_at == bog(2026, 12, 21, 14)
    assert dates.rule == "contrato:ACME:resolucion:8h"


def test_laxer_contract_does_not_win(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", resolution={PqrType.PETICION: Target(20, Unit.DAYS)})
    dates = policy.due_dates(PqrType.PETICION, RECEIVED, contract)
    assert dates.due_at == eod(2027, 1, 13)
    assert dates.rule == "ley:peticion:15d"


def test_laxer_contract_in_hours_does_not_win(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", resolution={PqrType.HABEAS_CONSULTA: Target(200, Unit.HOURS)})
    dates = policy.due_dates(PqrType.HABEAS_CONSULTA, RECEIVED, contract)
    assert dates.due_at == eod(2027, 1, 5)
    assert dates.rule.startswith("ley:")


def test_contract_equal_to_law_keeps_law(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", resolution={PqrType.PETICION: Target(15, Unit.DAYS)})
    dates = policy.due_dates(PqrType.PETICION, RECEIVED, contract)
    assert dates.due_at == eod(2027, 1, 13)
    assert dates.rule == "ley:peticion:15d"


def test_contract_for_other_type_is_ignored(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", resolution={PqrType.RECLAMO: Target(1, Unit.DAYS)},
                             first_response={PqrType.RECLAMO: Target(2, Unit.HOURS)})
    dates = policy.due_dates(PqrType.PETICION, RECEIVED, contract)
    assert dates.rule == "ley:peticion:15d"
    assert dates.first_response_due_at is None


def test_first_response_due_in_hours(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", first_response={PqrType.RECLAMO: Target(4, Unit.HOURS)})
    dates = policy.due_dates(PqrType.RECLAMO, bog(2026, 12, 18, 16), contract)
    assert dates.first_response_due_at == bog(2026, 12, 21, 10)
    assert dates.rule == "ley:reclamo:15d"


def test_first_response_due_in_days(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", first_response={PqrType.RECLAMO: Target(2, Unit.DAYS)})
    dates = policy.due_dates(PqrType.RECLAMO, RECEIVED, contract)
    assert dates.first_response_due_at == eod(2026, 12, 22)


def test_first_response_never_after_resolution(policy: TermPolicy) -> None:
    contract = ContractTerms("ACME", resolution={PqrType.RECLAMO: Target(2, Unit.DAYS)},
                             first_response={PqrType.RECLAMO: Target(5, Unit.DAYS)})
    dates = policy.due_dates(PqrType.RECLAMO, RECEIVED, contract)
    assert dates.due_at == eod(2026, 12, 22)
    assert dates.first_response_due_at == dates.due_at


def test_target_labels() -> None:
    assert Target(8, Unit.HOURS).label() == "8h"
    assert Target(3, Unit.DAYS).label() == "3d"


# -- extension limits --------------------------------------------------------------------------

@pytest.mark.parametrize("pqr_type, limit", [
    (PqrType.PETICION, eod(2027, 2, 3)),               # 15 + 15
    (PqrType.QUEJA, eod(2027, 2, 3)),
    (PqrType.PETICION_INFORMACION, eod(2027, 1, 20)),  # 10 + 10
    (PqrType.HABEAS_CONSULTA, eod(2027, 1, 13)),       # 10 + 5
    (PqrType.HABEAS_RECLAMO, eod(2027, 1, 25)),        # 15 + 8
], ids=str)
def test_extension_limit(policy: TermPolicy, pqr_type: PqrType, limit: dt.datetime) -> None:
    assert policy.extension_limit(pqr_type, RECEIVED) == limit


def test_general_extension_limit_is_twice_the_term(policy: TermPolicy) -> None:
    for pqr_type in (PqrType.PETICION, PqrType.PETICION_INFORMACION, PqrType.CONSULTA, PqrType.QUEJA,
                     PqrType.RECLAMO, PqrType.SUGERENCIA, PqrType.FELICITACION):
        days = policy.term_days(pqr_type)
        assert policy.extension_limit(pqr_type, RECEIVED) == CAL.due_after_days(RECEIVED, 2 * days)


def test_habeas_extension_is_fixed_by_law(policy: TermPolicy) -> None:
    assert policy.extension_limit(PqrType.HABEAS_CONSULTA, RECEIVED) == CAL.due_after_days(RECEIVED, 15)
    assert policy.extension_limit(PqrType.HABEAS_RECLAMO, RECEIVED) == CAL.due_after_days(RECEIVED, 23)


def test_extension_limit_follows_configured_term() -> None:
    custom = TermPolicy(calendar=CAL, terms={**LEGAL_TERMS, PqrType.PETICION: 10})
    assert custom.extension_limit(PqrType.PETICION, RECEIVED) == CAL.due_after_days(RECEIVED, 20)
