"""BusinessCalendar: Colombian holidays, working weekdays, local time, day and hour terms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest

from domain.calendar import BusinessCalendar

BOGOTA = ZoneInfo("America/Bogota")
CO_2026 = holidays.Colombia(years=2026)
CO_2027 = holidays.Colombia(years=2027)


def bog(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=BOGOTA)


def eod(y: int, m: int, d: int) -> dt.datetime:
    return bog(y, m, d, 23, 59, 59)


def off(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar()


# -- holidays ----------------------------------------------------------------------------------

# Each of these is checked against the `holidays` package first, then against the calendar.
EMILIANI_MONDAYS_2026 = [
    dt.date(2026, 1, 12),   # Reyes (Jan 6) moved to Monday
    dt.date(2026, 3, 23),   # San José (Mar 19)
    dt.date(2026, 5, 18),   # Ascensión
    dt.date(2026, 6, 8),    # Corpus Christi
    dt.date(2026, 6, 15),   # Sagrado Corazón
    dt.date(2026, 6, 29),   # San Pedro y San Pablo (falls on Monday)
    dt.date(2026, 8, 17),   # Asunción (Aug 15)
    dt.date(2026, 10, 12),  # Día de la Raza (falls on Monday)
    dt.date(2026, 11, 2),   # Todos los Santos (Nov 1)
    dt.date(2026, 11, 16),  # Independencia de Cartagena (Nov 11)
]


@pytest.mark.parametrize("day", EMILIANI_MONDAYS_2026, ids=str)
def test_emiliani_mondays_2026_are_holidays(cal: BusinessCalendar, day: dt.date) -> None:
    assert day in CO_2026, "reference data disagrees: fix the test list"
    assert day.weekday() == 0
    assert cal.is_holiday(day)
    assert not cal.is_business_day(day)


@pytest.mark.parametrize("day", [dt.date(2026, 1, 6), dt.date(2026, 3, 19), dt.date(2026, 8, 14),
                                 dt.date(2026, 11, 11)], ids=str)
def test_moved_original_dates_are_business_days(cal: BusinessCalendar, day: dt.date) -> None:
    """The original dates of holidays moved by Ley Emiliani are ordinary working days."""
    assert day not in CO_2026
    assert cal.is_business_day(day)


def test_2026_06_22_is_not_a_holiday(cal: BusinessCalendar) -> None:
    """In 2026 Sagrado Corazón is Jun 15 and San Pedro Jun 29; the Monday between is a workday."""
    day = dt.date(2026, 6, 22)
    assert day not in CO_2026
    assert cal.is_business_day(day)


@pytest.mark.parametrize("day", [dt.date(2026, 4, 2), dt.date(2026, 4, 3)], ids=["jueves", "viernes"])
def test_holy_week_2026(cal: BusinessCalendar, day: dt.date) -> None:
    assert day in CO_2026
    assert not cal.is_business_day(day)


def test_holy_week_2026_neighbours_are_business_days(cal: BusinessCalendar) -> None:
    assert cal.is_business_day(dt.date(2026, 4, 1))   # Miércoles Santo
    assert cal.is_business_day(dt.date(2026, 4, 6))   # Monday after Easter
    assert cal.next_business_day(dt.date(2026, 4, 1)) == dt.date(2026, 4, 6)


def test_new_holiday_2026_07_13_ley_2578(cal: BusinessCalendar) -> None:
    day = dt.date(2026, 7, 13)
    assert day in CO_2026
    assert not cal.is_business_day(day)
    # Jul 13 and Jul 20 are both Monday holidays that month.
    assert cal.next_business_day(dt.date(2026, 7, 10)) == dt.date(2026, 7, 14)
    assert cal.next_business_day(dt.date(2026, 7, 17)) == dt.date(2026, 7, 21)


@pytest.mark.parametrize("day", [dt.date(2026, 12, 25), dt.date(2027, 1, 1), dt.date(2027, 1, 11)], ids=str)
def test_year_change_holidays(cal: BusinessCalendar, day: dt.date) -> None:
    assert day in (CO_2026 if day.year == 2026 else CO_2027)
    assert not cal.is_business_day(day)


def test_weekends_are_not_business_days(cal: BusinessCalendar) -> None:
    assert not cal.is_business_day(dt.date(2026, 12, 19))  # Saturday
    assert not cal.is_business_day(dt.date(2026, 12, 20))  # Sunday
    assert cal.is_business_day(dt.date(2026, 12, 21))      # Monday


def test_holiday_lookup_does_not_leak_between_years(cal: BusinessCalendar) -> None:
    # Asking about one year first must not make another year's dates holidays or not.
    assert cal.is_holiday(dt.date(2027, 1, 11))
    assert not cal.is_holiday(dt.date(2026, 1, 11))   # a Sunday, not a holiday in 2026
    assert cal.is_holiday(dt.date(2026, 1, 12))
    assert not cal.is_holiday(dt.date(2027, 1, 12))


# -- next / add business days ------------------------------------------------------------------

def test_next_business_day_is_strictly_after(cal: BusinessCalendar) -> None:
    assert cal.next_business_day(dt.date(2026, 12, 21)) == dt.date(2026, 12, 22)
    assert cal.next_business_day(dt.date(2026, 12, 24)) == dt.date(2026, 12, 28)  # Fri 25 holiday
    assert cal.next_business_day(dt.date(2026, 12, 31)) == dt.date(2027, 1, 4)    # Jan 1 holiday
    assert cal.next_business_day(dt.date(2027, 1, 8)) == dt.date(2027, 1, 12)     # Jan 11 holiday


def test_add_business_days(cal: BusinessCalendar) -> None:
    assert cal.add_business_days(dt.date(2026, 12, 18), 0) == dt.date(2026, 12, 18)
    assert cal.add_business_days(dt.date(2026, 12, 18), 1) == dt.date(2026, 12, 21)
    assert cal.add_business_days(dt.date(2026, 12, 18), 15) == dt.date(2027, 1, 13)


def test_business_days_between(cal: BusinessCalendar) -> None:
    assert cal.business_days_between(dt.date(2026, 12, 18), dt.date(2027, 1, 13)) == 15
    assert cal.business_days_between(dt.date(2026, 12, 18), dt.date(2026, 12, 18)) == 0
    assert cal.business_days_between(dt.date(2027, 1, 13), dt.date(2026, 12, 18)) == 0
    assert cal.business_days_between(dt.date(2026, 12, 24), dt.date(2026, 12, 28)) == 1


# -- local time and effective filing day -------------------------------------------------------

def test_naive_datetimes_are_refused(cal: BusinessCalendar) -> None:
    naive = dt.datetime(2026, 12, 18, 10, 0)
    with pytest.raises(ValueError):
        cal.local(naive)
    with pytest.raises(ValueError):
        cal.effective_filing_day(naive)
    with pytest.raises(ValueError):
        cal.due_after_days(naive, 15)
    with pytest.raises(ValueError):
        cal.add_business_hours(naive, 2)


def test_local_converts_to_bogota(cal: BusinessCalendar) -> None:
    local = cal.local(dt.datetime(2026, 12, 19, 3, 30, tzinfo=dt.timezone.utc))
    assert local.utcoffset() == dt.timedelta(hours=-5)
    assert (local.date(), local.time()) == (dt.date(2026, 12, 18), dt.time(22, 30))


def test_late_evening_utc_counts_as_previous_local_day(cal: BusinessCalendar) -> None:
    """2026-12-19T03:30Z is Friday 2026-12-18 22:30 in Bogotá, not Saturday."""
    received = dt.datetime.fromisoformat("2026-12-19T03:30:00+00:00")
    assert cal.effective_filing_day(received) == dt.date(2026, 12, 18)
    assert cal.due_after_days(received, 15) == eod(2027, 1, 13)


@pytest.mark.parametrize("iso", ["2026-12-18T23:30:00-05:00", "2026-12-19T05:00:00+01:00",
                                 "2026-12-18T10:00:00-05:00", "2026-12-19T04:59:59+00:00"])
def test_same_local_friday_in_any_offset(cal: BusinessCalendar, iso: str) -> None:
    received = dt.datetime.fromisoformat(iso)
    assert cal.effective_filing_day(received) == dt.date(2026, 12, 18)
    assert cal.due_after_days(received, 15) == eod(2027, 1, 13)


def test_first_local_second_of_saturday_moves_to_monday(cal: BusinessCalendar) -> None:
    received = dt.datetime.fromisoformat("2026-12-19T05:00:00+00:00")  # Sat 00:00 Bogotá
    assert cal.effective_filing_day(received) == dt.date(2026, 12, 21)
    assert cal.due_after_days(received, 15) == eod(2027, 1, 14)


def test_far_east_offset_is_read_in_bogota(cal: BusinessCalendar) -> None:
    # Saturday 12:00 at +14:00 is still Friday 17:00 in Bogotá.
    received = dt.datetime(2026, 12, 19, 12, 0, tzinfo=off(14))
    assert cal.effective_filing_day(received) == dt.date(2026, 12, 18)


def test_receipt_on_saturday(cal: BusinessCalendar) -> None:
    received = bog(2026, 12, 19, 9)
    assert cal.effective_filing_day(received) == dt.date(2026, 12, 21)
    assert cal.due_after_days(received, 1) == eod(2026, 12, 22)
    assert cal.due_after_days(received, 15) == eod(2027, 1, 14)


def test_receipt_on_holiday(cal: BusinessCalendar) -> None:
    received = bog(2026, 12, 25, 11)  # Christmas, a Friday
    assert cal.effective_filing_day(received) == dt.date(2026, 12, 28)
    assert cal.due_after_days(received, 1) == eod(2026, 12, 29)
    assert cal.due_after_days(received, 10) == eod(2027, 1, 13)


def test_receipt_on_emiliani_monday(cal: BusinessCalendar) -> None:
    received = bog(2026, 1, 12, 9)  # Reyes moved to Monday
    assert cal.effective_filing_day(received) == dt.date(2026, 1, 13)
    assert cal.due_after_days(received, 1) == eod(2026, 1, 14)


def test_receipt_before_holy_week(cal: BusinessCalendar) -> None:
    # Wed 2026-04-01: Thu 2 and Fri 3 are holidays, then the weekend.
    assert cal.due_after_days(bog(2026, 4, 1, 15), 1) == eod(2026, 4, 6)
    assert cal.due_after_days(bog(2026, 4, 2, 15), 1) == eod(2026, 4, 7)


# -- DESIGN.md's worked example ----------------------------------------------------------------

def test_design_worked_example(cal: BusinessCalendar) -> None:
    """Received Fri 2026-12-18 10:00 -05:00, 15 business days -> 2027-01-13 23:59:59-05:00."""
    due = cal.due_after_days(dt.datetime.fromisoformat("2026-12-18T10:00:00-05:00"), 15)
    assert due == dt.datetime.fromisoformat("2027-01-13T23:59:59-05:00")
    assert due.isoformat() == "2027-01-13T23:59:59-05:00"
    assert due.utcoffset() == dt.timedelta(hours=-5)


def test_end_of_day_is_local_2359(cal: BusinessCalendar) -> None:
    end = cal.end_of_day(dt.date(2027, 1, 13))
    assert end.isoformat() == "2027-01-13T23:59:59-05:00"


# -- configuration -----------------------------------------------------------------------------

def test_extra_holidays_are_skipped() -> None:
    cal = BusinessCalendar(extra_holidays=frozenset({dt.date(2026, 12, 24), dt.date(2026, 12, 31)}))
    assert cal.is_holiday(dt.date(2026, 12, 24))
    assert not cal.is_business_day(dt.date(2026, 12, 31))
    # 15 days from Fri Dec 18 now also skip Dec 24 and Dec 31.
    assert cal.due_after_days(bog(2026, 12, 18, 10), 15) == eod(2027, 1, 15)
    # A receipt on an extra holiday counts from the next business day.
    assert cal.effective_filing_day(bog(2026, 12, 24, 9)) == dt.date(2026, 12, 28)


def test_extra_holidays_do_not_touch_default_calendar() -> None:
    assert BusinessCalendar().is_business_day(dt.date(2026, 12, 24))


def test_saturday_as_workday() -> None:
    cal = BusinessCalendar(workdays=("mon", "tue", "wed", "thu", "fri", "sat"))
    assert cal.is_business_day(dt.date(2026, 12, 19))       # Saturday
    assert not cal.is_business_day(dt.date(2026, 12, 20))   # Sunday
    assert cal.is_business_day(dt.date(2027, 1, 2))          # Saturday Jan 2 works
    assert cal.effective_filing_day(bog(2026, 12, 19, 9)) == dt.date(2026, 12, 19)
    # Dec 19, 21, 22, 23, 24, 26, 28, 29, 30, 31, Jan 2, 4, 5, 6, 7 -> 15th is Thu Jan 7.
    assert cal.due_after_days(bog(2026, 12, 18, 10), 15) == eod(2027, 1, 7)


def test_saturday_holiday_still_off_when_saturday_works() -> None:
    cal = BusinessCalendar(workdays=("mon", "tue", "wed", "thu", "fri", "sat"))
    # 2027-12-25 is a Saturday and Christmas.
    assert dt.date(2027, 12, 25).weekday() == 5
    assert not cal.is_business_day(dt.date(2027, 12, 25))


def test_other_timezone() -> None:
    cal = BusinessCalendar(timezone="UTC")
    received = dt.datetime.fromisoformat("2026-12-19T03:30:00+00:00")  # Saturday in UTC
    assert cal.effective_filing_day(received) == dt.date(2026, 12, 21)


# -- business hours ----------------------------------------------------------------------------

def test_hours_within_the_day(cal: BusinessCalendar) -> None:
    assert cal.add_business_hours(bog(2026, 12, 21, 9), 3) == bog(2026, 12, 21, 12)
    assert cal.add_business_hours(bog(2026, 12, 21, 9), 0.5) == bog(2026, 12, 21, 9, 30)


def test_hours_ending_exactly_at_closing(cal: BusinessCalendar) -> None:
    assert cal.add_business_hours(bog(2026, 12, 21, 16), 2) == bog(2026, 12, 21, 18)


def test_hours_across_closing_time(cal: BusinessCalendar) -> None:
    assert cal.add_business_hours(bog(2026, 12, 21, 17), 2) == bog(2026, 12, 22, 9)


def test_hours_before_opening_start_at_opening(cal: BusinessCalendar) -> None:
    assert cal.add_business_hours(bog(2026, 12, 21, 6), 1) == bog(2026, 12, 21, 9)


def test_hours_after_closing_start_next_morning(cal: BusinessCalendar) -> None:
    assert cal.add_business_hours(bog(2026, 12, 21, 20), 1) == bog(2026, 12, 22, 9)


def test_hours_across_weekend(cal: BusinessCalendar) -> None:
    assert cal.add_business_hours(bog(2026, 12, 11, 17), 2) == bog(2026, 12, 14, 9)
    assert cal.add_business_hours(bog(2026, 12, 12, 10), 1) == bog(2026, 12, 14, 9)  # Saturday


def test_hours_across_holiday(cal: BusinessCalendar) -> None:
    # Thu Dec 24 17:00 + 3h: 1h Thursday, Fri 25 holiday, weekend, Mon 28 08:00 + 2h.
    assert cal.add_business_hours(bog(2026, 12, 24, 17), 3) == bog(2026, 12, 28, 10)
    # Fri Jan 9 2026 17:00 + 2h: Mon Jan 12 is Reyes -> Tue Jan 13 09:00.
    assert cal.add_business_hours(bog(2026, 1, 9, 17), 2) == bog(2026, 1, 13, 9)


def test_hours_spanning_several_days(cal: BusinessCalendar) -> None:
    # Mon 08:00 + 25h with 10h days: Mon 10h, Tue 10h, Wed 5h -> Wed 13:00.
    assert cal.add_business_hours(bog(2026, 12, 21, 8), 25) == bog(2026, 12, 23, 13)


def test_hours_from_another_offset(cal: BusinessCalendar) -> None:
    start = dt.datetime.fromisoformat("2026-12-21T14:00:00+00:00")  # 09:00 Bogotá
    result = cal.add_business_hours(start, 1)
    assert result == bog(2026, 12, 21, 10)
    assert result.utcoffset() == dt.timedelta(hours=-5)


def test_custom_business_hours() -> None:
    cal = BusinessCalendar(business_start=dt.time(7, 0), business_end=dt.time(12, 0))
    assert cal.add_business_hours(bog(2026, 12, 21, 11), 2) == bog(2026, 12, 22, 8)


def test_hours_on_saturday_when_saturday_works() -> None:
    cal = BusinessCalendar(workdays=("mon", "tue", "wed", "thu", "fri", "sat"))
    assert cal.add_business_hours(bog(2026, 12, 18, 17), 2) == bog(2026, 12, 19, 9)
