"""Properties of the day-term rule and of the prórroga, over 2026-2028 in any UTC offset."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain.calendar import BusinessCalendar
from domain.customer import Customer
from domain.errors import ExtensionRefused
from domain.pqr import Pqr
from domain.pqr_types import PqrType
from domain.terms import LEGAL_TERMS, TermPolicy

BOGOTA = ZoneInfo("America/Bogota")
CAL = BusinessCalendar()
PROPS = settings(max_examples=200, deadline=None)

offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))
instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31, 23, 59, 59)),
    offsets,
)
terms = st.integers(min_value=1, max_value=30)
pqr_types = st.sampled_from(list(PqrType))


@PROPS
@given(received_at=instants, days=terms)
def test_due_date_is_end_of_a_business_day(received_at: dt.datetime, days: int) -> None:
    due = CAL.due_after_days(received_at, days)
    local = due.astimezone(BOGOTA)
    assert local.time() == dt.time(23, 59, 59)
    assert CAL.is_business_day(local.date())
    assert local.utcoffset() == dt.timedelta(hours=-5)
    # Exactly `days` business days after the effective filing day.
    filing = CAL.effective_filing_day(received_at)
    assert CAL.is_business_day(filing)
    assert CAL.business_days_between(filing, local.date()) == days


@PROPS
@given(a=instants, b=instants, days=terms)
def test_later_receipt_never_gives_earlier_due(a: dt.datetime, b: dt.datetime, days: int) -> None:
    first, second = sorted((a, b))
    assert CAL.due_after_days(first, days) <= CAL.due_after_days(second, days)


@PROPS
@given(received_at=instants, days=terms, more=terms)
def test_longer_term_never_gives_earlier_due(received_at: dt.datetime, days: int, more: int) -> None:
    assert CAL.due_after_days(received_at, days) < CAL.due_after_days(received_at, days + more)


@PROPS
@given(received_at=instants, days=terms)
def test_due_date_is_strictly_after_receipt(received_at: dt.datetime, days: int) -> None:
    assert CAL.due_after_days(received_at, days) > received_at


@PROPS
@given(received_at=instants, pqr_type=pqr_types, days=terms,
       now_fraction=st.floats(min_value=0, max_value=1),
       target_days=st.integers(min_value=-5, max_value=70),
       target_offset=offsets, target_hour=st.integers(min_value=0, max_value=23))
def test_accepted_extension_stays_within_limit(received_at: dt.datetime, pqr_type: PqrType, days: int,
                                               now_fraction: float, target_days: int,
                                               target_offset: dt.timezone, target_hour: int) -> None:
    policy = TermPolicy(calendar=CAL, terms={**LEGAL_TERMS, pqr_type: days})
    pqr = Pqr.file(pqr_type=pqr_type, channel="email", customer=Customer("Ana", email="ana@example.co"),
                   subject="Asunto", body="Cuerpo", received_at=received_at, policy=policy,
                   actor="email:ana@example.co")
    original = pqr.due_at
    now = received_at + (original - received_at) * now_fraction
    # A requested date somewhere around the original due date, at some hour in some offset.
    day = original.astimezone(BOGOTA).date() + dt.timedelta(days=target_days)
    new_due = dt.datetime.combine(day, dt.time(target_hour), tzinfo=BOGOTA).astimezone(target_offset)
    limit = policy.extension_limit(pqr_type, received_at)
    try:
        pqr.extend(new_due, actor="slack:U1", now=now, reason="Requiere concepto", policy=policy)
    except ExtensionRefused as refused:
        assert pqr.due_at == original and not pqr.extended
        local_day = CAL.local(new_due).date()
        expected = ("not_business_day" if not CAL.is_business_day(local_day)
                    else "not_later" if CAL.end_of_day(local_day) <= original
                    else "over_limit")
        assert refused.reason == expected
        event(f"refused: {refused.reason}")
        return
    event("accepted")
    assert pqr.extended
    assert original < pqr.due_at <= limit
    local = pqr.due_at.astimezone(BOGOTA)
    assert local.time() == dt.time(23, 59, 59) and CAL.is_business_day(local.date())
    assert local.date() == CAL.local(new_due).date()


@PROPS
@given(received_at=instants, pqr_type=pqr_types, days=terms)
def test_extension_limit_is_reachable_and_bounded(received_at: dt.datetime, pqr_type: PqrType,
                                                  days: int) -> None:
    """Extending to exactly the limit is always accepted, and the limit is never more than twice
    the term (or the habeas-data extra) after the filing day."""
    policy = TermPolicy(calendar=CAL, terms={**LEGAL_TERMS, pqr_type: days})
    limit = policy.extension_limit(pqr_type, received_at)
    extra = {PqrType.HABEAS_CONSULTA: 5, PqrType.HABEAS_RECLAMO: 8}.get(pqr_type, days)
    filing = CAL.effective_filing_day(received_at)
    assert CAL.business_days_between(filing, limit.astimezone(BOGOTA).date()) == days + extra
    pqr = Pqr.file(pqr_type=pqr_type, channel="email", customer=Customer("Ana"), subject="Asunto",
                   body="", received_at=received_at, policy=policy, actor="email:ana@example.co")
    pqr.extend(limit, actor="slack:U1", now=received_at, reason="Complejo", policy=policy)
    assert pqr.due_at == limit > pqr.original_due_at


@PROPS
@given(start=instants, hours=st.integers(min_value=0, max_value=60))
def test_business_hours_land_inside_business_hours(start: dt.datetime, hours: int) -> None:
    end = CAL.add_business_hours(start, hours)
    local = end.astimezone(BOGOTA)
    assert end >= start
    assert CAL.is_business_day(local.date())
    assert CAL.business_start <= local.time() <= CAL.business_end
