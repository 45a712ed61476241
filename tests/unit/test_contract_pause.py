"""The contract clock's pause while a PQR waits for the customer (`esperando_cliente`): only where the
contract says so, only when the contract set the due date, never the legal clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import BusinessCalendar
from domain.customer import Customer
from domain.pqr import Pqr, SlaState
from domain.pqr_types import PqrType, Status
from domain.terms import ContractTerms, Target, TermPolicy, Unit

BOGOTA = ZoneInfo("America/Bogota")
CAL = BusinessCalendar()
POLICY = TermPolicy(calendar=CAL)
STAFF = "slack:U100"
CUSTOMER_ID = "email:ana@example.co"
# Tuesday 2026-12-08 (Inmaculada Concepción) is a holiday.
RECEIVED = dt.datetime(2026, 12, 4, 10, 0, tzinfo=BOGOTA)   # Friday

HOURS = ContractTerms("ACME", resolution={PqrType.QUEJA: Target(16, Unit.HOURS)}, pauses_when_waiting=True)
DAYS = ContractTerms("ACME", resolution={PqrType.RECLAMO: Target(5, Unit.DAYS)}, pauses_when_waiting=True)


def bog(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=BOGOTA)


def eod(y: int, m: int, d: int) -> dt.datetime:
    return bog(y, m, d, 23, 59, 59)


def make_pqr(pqr_type: PqrType, contract: ContractTerms | None, received_at: dt.datetime = RECEIVED) -> Pqr:
    return Pqr.file(pqr_type=pqr_type, channel="email", customer=Customer("Ana", email="ana@example.co"),
                    subject="Falla", body="No funciona", received_at=received_at, policy=POLICY,
                    actor=CUSTOMER_ID, contract=contract)


def wait(pqr: Pqr, at: dt.datetime) -> None:
    pqr.change_status(Status.ESPERANDO_CLIENTE, actor=STAFF, now=at, calendar=CAL)


def answer(pqr: Pqr, at: dt.datetime) -> None:
    pqr.receive("Aquí está", channel="email", at=at, actor=CUSTOMER_ID, calendar=CAL)


# -- calendar ----------------------------------------------------------------------------------

def test_business_hours_between_counts_only_business_hours() -> None:
    assert CAL.business_hours_between(bog(2026, 12, 4, 10), bog(2026, 12, 4, 14, 30)) == 4.5
    # Fri 14:00 -> Wed 10:00: Fri 4 h, Mon 10 h, Tue holiday, Wed 2 h.
    assert CAL.business_hours_between(bog(2026, 12, 4, 14), bog(2026, 12, 9, 10)) == 16
    # Outside business hours on both ends, and over a weekend.
    assert CAL.business_hours_between(bog(2026, 12, 4, 20), bog(2026, 12, 7, 7)) == 0
    assert CAL.business_hours_between(bog(2026, 12, 4, 20), bog(2026, 12, 7, 19)) == 10
    assert CAL.business_hours_between(bog(2026, 12, 9, 10), bog(2026, 12, 4, 14)) == 0


def test_business_hours_between_reads_instants_in_local_time() -> None:
    start = dt.datetime.fromisoformat("2026-12-04T15:00:00+00:00")   # 10:00 in Bogotá
    assert CAL.business_hours_between(start, bog(2026, 12, 4, 12)) == 2


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=dt.datetime(2026, 11, 1), max_value=dt.datetime(2027, 2, 1),
                          timezones=st.just(BOGOTA)),
       minutes=st.integers(min_value=0, max_value=60 * 60))
def test_business_hours_between_inverts_add_business_hours(start: dt.datetime, minutes: int) -> None:
    hours = minutes / 60
    end = CAL.add_business_hours(start, hours)
    assert CAL.business_hours_between(start, end) == pytest.approx(hours, abs=1e-6)


# -- terms -------------------------------------------------------------------------------------

def test_due_dates_carry_the_legal_deadline_and_the_pause_unit() -> None:
    legal = POLICY.due_dates(PqrType.RECLAMO, RECEIVED)
    assert legal.legal_due_at == legal.due_at and legal.pause_unit is None
    dates = POLICY.due_dates(PqrType.RECLAMO, RECEIVED, DAYS)
    assert dates.rule == "contrato:ACME:resolucion:5d"
    assert dates.legal_due_at == legal.due_at > dates.due_at
    assert dates.pause_unit is Unit.DAYS
    assert POLICY.due_dates(PqrType.QUEJA, RECEIVED, HOURS).pause_unit is Unit.HOURS
    no_pause = ContractTerms("ACME", resolution=DAYS.resolution)
    assert POLICY.due_dates(PqrType.RECLAMO, RECEIVED, no_pause).pause_unit is None


# -- hours-based contract ----------------------------------------------------------------------

def test_hours_contract_pause_over_weekend_and_holiday() -> None:
    pqr = make_pqr(PqrType.QUEJA, HOURS)
    # 16 business hours from Fri 10:00: 8 h on Friday, 8 h on Monday.
    assert pqr.due_at == bog(2026, 12, 7, 16) and pqr.due_rule == "contrato:ACME:resolucion:16h"
    legal = pqr.legal_due_at
    assert legal == POLICY.due_dates(PqrType.QUEJA, RECEIVED).due_at
    assert pqr.pause_unit is Unit.HOURS and pqr.pause_remaining is None

    paused_at, answered_at = bog(2026, 12, 4, 14), bog(2026, 12, 9, 10)
    wait(pqr, paused_at)
    assert pqr.pause_remaining == 12     # Fri 14-18 and Mon 8-16
    assert pqr.due_at == legal           # only the legal clock runs
    assert pqr.events[-1].data == {"clock": "paused", "remaining": "12h", "due_at": legal.isoformat()}

    answer(pqr, answered_at)
    assert pqr.status is Status.EN_TRAMITE
    # The 12 h left, counted from Wed 10:00: 8 h on Wednesday, 4 h on Thursday.
    assert pqr.due_at == bog(2026, 12, 10, 12)
    # Shifted by exactly the paused business time (Fri 4 h, Mon 10 h, Wed 2 h = 16 h).
    paused = CAL.business_hours_between(paused_at, answered_at)
    assert paused == 16
    assert pqr.due_at == CAL.add_business_hours(bog(2026, 12, 7, 16), paused)
    assert pqr.pause_remaining is None and pqr.pause_unit is Unit.HOURS
    assert pqr.legal_due_at == legal
    resumed = pqr.events[-1]
    assert (resumed.kind, resumed.from_, resumed.to, resumed.reason) == (
        "status_changed", "esperando_cliente", "en_tramite", "customer answered")
    assert resumed.data == {"clock": "resumed", "remaining": "12h", "due_at": pqr.due_at.isoformat()}


def test_hours_contract_pauses_again_after_resuming() -> None:
    pqr = make_pqr(PqrType.QUEJA, HOURS)
    wait(pqr, bog(2026, 12, 4, 14))
    answer(pqr, bog(2026, 12, 9, 10))           # due Thu 10 12:00
    wait(pqr, bog(2026, 12, 10, 10))            # 2 h left
    assert pqr.pause_remaining == 2
    pqr.change_status(Status.EN_TRAMITE, actor=STAFF, now=bog(2026, 12, 11, 17), calendar=CAL)
    assert pqr.due_at == bog(2026, 12, 14, 9)   # Fri 17-18, Mon 8-9


# -- days-based contract -----------------------------------------------------------------------

def test_days_contract_pause_over_holiday() -> None:
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    # 5 business days after Fri Dec 4: Mon 7, Wed 9 (Tue 8 holiday), Thu 10, Fri 11, Mon 14.
    assert pqr.due_at == eod(2026, 12, 14)
    legal = pqr.legal_due_at
    wait(pqr, bog(2026, 12, 7, 11))             # Monday
    assert pqr.pause_remaining == 4             # Wed 9, Thu 10, Fri 11, Mon 14
    assert isinstance(pqr.pause_remaining, int)
    assert pqr.due_at == legal
    assert pqr.events[-1].data["remaining"] == "4d"
    answer(pqr, bog(2026, 12, 10, 9))           # Thursday: Wed 9 and Thu 10 passed paused
    assert pqr.due_at == eod(2026, 12, 16)      # Mon 14 + 2 business days
    assert CAL.business_days_between(dt.date(2026, 12, 7), dt.date(2026, 12, 10)) == 2
    assert pqr.events[-1].data == {"clock": "resumed", "remaining": "4d",
                                   "due_at": "2026-12-16T23:59:59-05:00"}


def test_days_contract_pause_within_a_weekend_changes_nothing() -> None:
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    wait(pqr, bog(2026, 12, 5, 10))             # Saturday
    assert pqr.pause_remaining == 4             # Monday counts as the pause's day
    answer(pqr, bog(2026, 12, 6, 18))           # Sunday
    assert pqr.due_at == eod(2026, 12, 14)


def test_pause_and_answer_the_same_day_changes_nothing() -> None:
    for pqr, day in ((make_pqr(PqrType.RECLAMO, DAYS), eod(2026, 12, 14)),
                     (make_pqr(PqrType.QUEJA, HOURS), bog(2026, 12, 7, 16))):
        wait(pqr, bog(2026, 12, 7, 9))
        answer(pqr, bog(2026, 12, 7, 9))
        assert pqr.due_at == day


def test_resumed_contract_due_is_capped_by_the_legal_due() -> None:
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    legal = pqr.legal_due_at
    wait(pqr, bog(2026, 12, 7, 11))
    answer(pqr, bog(2026, 12, 28, 9))           # weeks later: 4 days more would pass the law's term
    assert CAL.due_after_days(bog(2026, 12, 28, 9), 4) > legal
    assert pqr.due_at == legal
    assert pqr.events[-1].data["due_at"] == legal.isoformat()
    # Capped at the law, it no longer pauses: the legal clock never stops.
    wait(pqr, bog(2026, 12, 29, 9))
    assert pqr.pause_remaining is None and pqr.events[-1].data == {}
    answer(pqr, bog(2027, 1, 4, 9))
    assert pqr.due_at == legal


def test_leaving_the_wait_by_any_status_resumes_the_clock() -> None:
    for to in (Status.RESPONDIDA, Status.CERRADA):
        pqr = make_pqr(PqrType.RECLAMO, DAYS)
        wait(pqr, bog(2026, 12, 7, 11))
        pqr.change_status(to, actor=STAFF, now=bog(2026, 12, 10, 9), calendar=CAL)
        assert pqr.due_at == eod(2026, 12, 16) and pqr.pause_remaining is None
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    wait(pqr, bog(2026, 12, 7, 11))
    pqr.close("Resuelto", actor=STAFF, now=bog(2026, 12, 10, 9), channel="email", calendar=CAL)
    assert pqr.status is Status.CERRADA and pqr.due_at == eod(2026, 12, 16)


def test_contract_due_already_past_does_not_pause() -> None:
    pqr = make_pqr(PqrType.QUEJA, HOURS)
    wait(pqr, bog(2026, 12, 7, 17))             # an hour after the contract due
    assert pqr.pause_remaining is None and pqr.due_at == bog(2026, 12, 7, 16)
    answer(pqr, bog(2026, 12, 9, 9))
    assert pqr.due_at == bog(2026, 12, 7, 16)


def test_pausing_needs_the_calendar() -> None:
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    with pytest.raises(ValueError):
        pqr.change_status(Status.ESPERANDO_CLIENTE, actor=STAFF, now=bog(2026, 12, 7, 11))
    assert pqr.status is Status.RADICADA and pqr.events[-1].kind == "filed"


# -- no pause ----------------------------------------------------------------------------------

def test_contract_without_pausing_keeps_its_due_date() -> None:
    contract = ContractTerms("ACME", resolution={PqrType.RECLAMO: Target(5, Unit.DAYS)})
    pqr = make_pqr(PqrType.RECLAMO, contract)
    assert pqr.pause_unit is None and pqr.legal_due_at > pqr.due_at
    wait(pqr, bog(2026, 12, 7, 11))
    assert pqr.due_at == eod(2026, 12, 14) and pqr.pause_remaining is None
    answer(pqr, bog(2026, 12, 10, 9))
    assert pqr.due_at == eod(2026, 12, 14)
    assert [e.data for e in pqr.events if e.kind == "status_changed"] == [{}, {}]


@pytest.mark.parametrize("contract", [None, ContractTerms(
    "ACME", resolution={PqrType.CONSULTA: Target(40, Unit.DAYS)}, pauses_when_waiting=True)],
    ids=["no_contract", "laxer_contract"])
def test_pqr_due_by_law_never_pauses(contract: ContractTerms | None) -> None:
    pqr = make_pqr(PqrType.CONSULTA, contract)
    assert pqr.due_rule.startswith("ley:") and pqr.pause_unit is None
    assert pqr.legal_due_at == pqr.due_at
    due = pqr.due_at
    wait(pqr, bog(2026, 12, 7, 11))
    answer(pqr, bog(2027, 1, 12, 9))
    assert pqr.due_at == due and pqr.pause_remaining is None
    # Calendar-free callers keep working for PQRs that never pause.
    pqr.change_status(Status.ESPERANDO_CLIENTE, actor=STAFF, now=bog(2027, 1, 13, 9))
    pqr.receive("Más", channel="email", at=bog(2027, 1, 14, 9), actor=CUSTOMER_ID)
    assert pqr.due_at == due


def test_breach_during_the_pause_is_judged_on_the_legal_due() -> None:
    pqr = make_pqr(PqrType.QUEJA, HOURS)
    contract_due, legal = pqr.due_at, pqr.legal_due_at
    after_contract_due = contract_due + dt.timedelta(days=1)
    assert pqr.sla_state(after_contract_due, CAL, 2) is SlaState.BREACHED
    wait(pqr, bog(2026, 12, 4, 14))
    assert pqr.sla_state(after_contract_due, CAL, 2) is SlaState.OK
    assert pqr.sla_state(legal, CAL, 2) is SlaState.NEAR_BREACH
    assert pqr.sla_state(legal + dt.timedelta(seconds=1), CAL, 2) is SlaState.BREACHED


# -- extension and reopening -------------------------------------------------------------------

def test_extension_moves_the_legal_due_and_stops_pausing() -> None:
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    pqr.extend(bog(2026, 12, 21, 9), actor=STAFF, now=bog(2026, 12, 7, 9), reason="Complejo", policy=POLICY)
    assert pqr.due_at == pqr.legal_due_at == eod(2026, 12, 21)
    assert pqr.pause_unit is None
    wait(pqr, bog(2026, 12, 9, 11))
    answer(pqr, bog(2026, 12, 17, 9))
    assert pqr.due_at == eod(2026, 12, 21)


def test_extension_while_paused_ends_the_pause() -> None:
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    wait(pqr, bog(2026, 12, 7, 11))
    pqr.extend(bog(2027, 1, 4, 9), actor=STAFF, now=bog(2026, 12, 9, 9), reason="Complejo", policy=POLICY)
    assert pqr.due_at == pqr.legal_due_at == eod(2027, 1, 4)
    assert (pqr.pause_unit, pqr.pause_remaining) == (None, None)
    answer(pqr, bog(2026, 12, 10, 9))
    assert pqr.due_at == eod(2027, 1, 4) and pqr.events[-1].data == {}


def test_reopening_gives_a_fresh_legal_term_without_pausing() -> None:
    pqr = make_pqr(PqrType.RECLAMO, DAYS)
    pqr.close("Listo", actor=STAFF, now=bog(2026, 12, 7, 10), channel="email", calendar=CAL)
    pqr.reopen(actor=CUSTOMER_ID, now=bog(2026, 12, 9, 9), policy=POLICY)
    assert pqr.legal_due_at == pqr.due_at == POLICY.due_dates(PqrType.RECLAMO, bog(2026, 12, 9, 9)).due_at
    assert (pqr.pause_unit, pqr.pause_remaining) == (None, None)
    wait(pqr, bog(2026, 12, 10, 9))
    answer(pqr, bog(2026, 12, 15, 9))
    assert pqr.due_at == pqr.legal_due_at


# -- property ----------------------------------------------------------------------------------

TARGETS = st.one_of(st.builds(Target, st.integers(1, 120), st.just(Unit.HOURS)),
                    st.builds(Target, st.integers(1, 14), st.just(Unit.DAYS)))
INSTANTS = st.datetimes(min_value=dt.datetime(2026, 11, 1), max_value=dt.datetime(2027, 1, 31),
                        timezones=st.just(BOGOTA))
GAPS = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=12))


@settings(max_examples=300, deadline=None)
@given(target=TARGETS, received=INSTANTS, steps=st.lists(st.tuples(GAPS, GAPS), min_size=1, max_size=3))
def test_effective_due_between_unpaused_contract_due_and_legal_due(
        target: Target, received: dt.datetime, steps: list[tuple[dt.timedelta, dt.timedelta]]) -> None:
    """Whatever the pauses, the effective due date is never after the legal one and never before
    the contract's unpaused one."""
    contract = ContractTerms("ACME", resolution={PqrType.RECLAMO: target}, pauses_when_waiting=True)
    pqr = make_pqr(PqrType.RECLAMO, contract, received)
    legal = POLICY.due_dates(PqrType.RECLAMO, received).due_at
    unpaused = target.due(CAL, received)
    assert pqr.legal_due_at == legal
    now = received
    for before_wait, waiting in steps:
        now += before_wait
        wait(pqr, now)
        assert pqr.due_at == legal or pqr.pause_remaining is None
        now += waiting
        answer(pqr, now)
        assert pqr.pause_remaining is None
        assert min(unpaused, legal) <= pqr.due_at <= legal
