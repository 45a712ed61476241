"""Contact hours (Ley 2300 de 2023, art. 3): `next_open` around every edge of the window — its
opening and closing on weekdays and Saturdays, Sundays, Colombian holidays (a Monday, a Saturday,
Holy Week, the year's end) — the one-a-day `schedule`, and `surveys.contact_hours` in config."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.config import ConfigError, parse_config
from bot.ports.payloads import KINDS
from domain.calendar import BusinessCalendar
from domain.contact_hours import UNSOLICITED_KINDS, ContactHours, Window

BOGOTA = ZoneInfo("America/Bogota")
HOURS = ContactHours()


def bog(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, us, tzinfo=BOGOTA)


def test_the_holidays_these_tests_lean_on_are_colombian_holidays() -> None:
    co = holidays.country_holidays("CO", years=[2026, 2027])
    for day in (dt.date(2026, 3, 23), dt.date(2026, 4, 2), dt.date(2026, 4, 3), dt.date(2026, 12, 25),
                dt.date(2027, 1, 1), dt.date(2027, 5, 1)):
        assert day in co, day
    assert dt.date(2026, 3, 23).weekday() == 0 and dt.date(2027, 5, 1).weekday() == 5


@pytest.mark.parametrize(("at", "expected"), [
    # Weekdays 07:00-19:00: the opening is inside, the closing is not.
    (bog(2026, 3, 17, 6, 59, 59), bog(2026, 3, 17, 7)),          # Tuesday, just before opening
    (bog(2026, 3, 17, 7), bog(2026, 3, 17, 7)),                  # the opening itself
    (bog(2026, 3, 17, 12, 30), bog(2026, 3, 17, 12, 30)),
    (bog(2026, 3, 17, 18, 59, 59, 999999), bog(2026, 3, 17, 18, 59, 59, 999999)),
    (bog(2026, 3, 17, 19), bog(2026, 3, 18, 7)),                 # the closing: next morning
    (bog(2026, 3, 17, 23, 59), bog(2026, 3, 18, 7)),
    (bog(2026, 3, 18, 0, 0), bog(2026, 3, 18, 7)),               # after midnight: the same day
    # Friday evening to Saturday 08:00-15:00.
    (bog(2026, 3, 20, 18, 50), bog(2026, 3, 20, 18, 50)),
    (bog(2026, 3, 20, 19), bog(2026, 3, 21, 8)),
    (bog(2026, 3, 20, 19, 10), bog(2026, 3, 21, 8)),
    (bog(2026, 3, 21, 7, 30), bog(2026, 3, 21, 8)),              # Saturday opens at 08:00, not 07:00
    (bog(2026, 3, 21, 8), bog(2026, 3, 21, 8)),
    (bog(2026, 3, 21, 14, 59, 59), bog(2026, 3, 21, 14, 59, 59)),
    # Saturday 15:00 on: never Sunday, and 2026-03-23 is a holiday Monday (San José).
    (bog(2026, 3, 21, 15), bog(2026, 3, 24, 7)),
    (bog(2026, 3, 21, 15, 30), bog(2026, 3, 24, 7)),
    (bog(2026, 3, 22, 10), bog(2026, 3, 24, 7)),                 # Sunday
    (bog(2026, 3, 23, 10), bog(2026, 3, 24, 7)),                 # the holiday Monday itself
    (bog(2026, 3, 14, 15, 30), bog(2026, 3, 16, 7)),             # an ordinary weekend: Monday
    (bog(2026, 3, 15, 23, 59, 59), bog(2026, 3, 16, 7)),         # late Sunday
    # Holy Week: Thursday and Friday are holidays, Saturday is open.
    (bog(2026, 4, 1, 19), bog(2026, 4, 4, 8)),
    (bog(2026, 4, 3, 9), bog(2026, 4, 4, 8)),
    # A holiday Saturday (2027-05-01, Labour Day): Friday evening waits until Monday.
    (bog(2027, 4, 30, 19, 30), bog(2027, 5, 3, 7)),
    (bog(2027, 5, 1, 9), bog(2027, 5, 3, 7)),
    # Christmas (a Friday) and the year's end: 2027-01-01 is a Friday holiday.
    (bog(2026, 12, 24, 19), bog(2026, 12, 26, 8)),
    (bog(2026, 12, 31, 18, 59), bog(2026, 12, 31, 18, 59)),
    (bog(2026, 12, 31, 19), bog(2027, 1, 2, 8)),
    (bog(2027, 1, 1, 12), bog(2027, 1, 2, 8)),
    (bog(2027, 1, 2, 15), bog(2027, 1, 4, 7)),
])
def test_next_open(at: dt.datetime, expected: dt.datetime) -> None:
    got = HOURS.next_open(at)
    assert got == expected
    assert HOURS.is_open(got)
    assert HOURS.is_open(at) == (got == at)


def test_an_instant_inside_the_window_is_returned_as_it_is() -> None:
    at = dt.datetime(2026, 3, 17, 15, 0, tzinfo=dt.timezone.utc)        # 10:00 in Bogotá
    assert HOURS.next_open(at) is at


def test_instants_are_read_in_the_calendars_zone() -> None:
    friday_night_utc = dt.datetime(2026, 3, 21, 0, 30, tzinfo=dt.timezone.utc)   # Friday 19:30 in Bogotá
    assert HOURS.next_open(friday_night_utc) == bog(2026, 3, 21, 8)
    assert HOURS.day_of(friday_night_utc) == dt.date(2026, 3, 20)
    madrid = ContactHours(calendar=BusinessCalendar(timezone="Europe/Madrid", country="ES"))
    assert madrid.next_open(friday_night_utc) == dt.datetime(2026, 3, 21, 8, tzinfo=ZoneInfo("Europe/Madrid"))


def test_an_instant_without_offset_is_refused() -> None:
    with pytest.raises(ValueError):
        HOURS.next_open(dt.datetime(2026, 3, 17, 10))


def test_the_next_opening_is_never_late_nor_early() -> None:
    """Every quarter hour over the year's end and Holy Week: the answer is open, not before
    the instant, and nothing between them is open."""
    step = dt.timedelta(minutes=15)
    for start, days in ((bog(2026, 12, 19), 20), (bog(2026, 3, 28), 12)):
        at = start
        while at < start + dt.timedelta(days=days):
            got = HOURS.next_open(at)
            assert got >= at and HOURS.is_open(got)
            probe = at
            while probe + step <= got:
                assert not HOURS.is_open(probe), (at, probe)
                probe += step
            at += step


def test_the_calendars_extra_holidays_and_a_window_config_are_kept() -> None:
    cal = BusinessCalendar(extra_holidays=frozenset({dt.date(2026, 3, 18)}))
    hours = ContactHours(calendar=cal, weekdays=Window(dt.time(8), dt.time(18)), saturday=None)
    assert hours.next_open(bog(2026, 3, 17, 18)) == bog(2026, 3, 19, 8)      # Wednesday is a day off
    assert hours.next_open(bog(2026, 3, 20, 17, 59)) == bog(2026, 3, 20, 17, 59)
    assert hours.next_open(bog(2026, 3, 20, 18)) == bog(2026, 3, 24, 8)      # no Saturday; holiday Monday
    assert hours.window(dt.date(2026, 3, 21)) is None and hours.window(dt.date(2026, 3, 22)) is None


def test_schedule_skips_the_days_a_contact_already_has() -> None:
    friday = dt.date(2026, 3, 20)
    assert HOURS.schedule(bog(2026, 3, 20, 10)) == bog(2026, 3, 20, 10)
    assert HOURS.schedule(bog(2026, 3, 20, 10), {friday}) == bog(2026, 3, 21, 8)
    assert HOURS.schedule(bog(2026, 3, 20, 10), {friday, dt.date(2026, 3, 21)}) == bog(2026, 3, 24, 7)
    assert HOURS.schedule(bog(2026, 3, 20, 19, 10), {dt.date(2026, 3, 19)}) == bog(2026, 3, 21, 8)
    assert HOURS.opening_after(friday) == bog(2026, 3, 21, 8)


@pytest.mark.parametrize("text", ["7am", "07:00", "19:00-07:00", "07:00-07:00", "07:00-25:00",
                                  "07:00+05:00-19:00", ""])
def test_a_bad_window_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM|start before"):
        Window.parse(text)


def test_window_parse_and_text() -> None:
    assert Window.parse(" 07:30 - 19:00 ") == Window(dt.time(7, 30), dt.time(19))
    assert str(Window(dt.time(8), dt.time(15))) == "08:00-15:00"


def test_the_config_default_is_the_laws_window() -> None:
    cfg = parse_config({})
    assert cfg.surveys.contact_hours.weekdays == "07:00-19:00"
    assert cfg.surveys.contact_hours.saturday == "08:00-15:00"
    hours = cfg.contact_hours()
    assert (hours.weekdays, hours.saturday) == (HOURS.weekdays, HOURS.saturday)
    assert hours.calendar == cfg.business_calendar()


def test_the_config_shape_of_design() -> None:
    cfg = parse_config({"timezone": "America/Bogota", "calendar": {"extra_holidays": ["2026-03-18"]},
                        "surveys": {"contact_hours": {"weekdays": "08:00-18:00", "saturday": None}}})
    hours = cfg.contact_hours()
    assert hours.weekdays == Window(dt.time(8), dt.time(18)) and hours.saturday is None
    assert hours.next_open(bog(2026, 3, 17, 18)) == bog(2026, 3, 19, 8)


@pytest.mark.parametrize(("value", "key"), [({"weekdays": "19:00-07:00"}, "surveys.contact_hours.weekdays"),
                                            ({"saturday": "8-15"}, "surveys.contact_hours.saturday"),
                                            ({"sunday": "08:00-12:00"}, "surveys.contact_hours.sunday")])
def test_a_bad_config_names_the_key(value: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_config({"surveys": {"contact_hours": value}})


def test_only_surveys_are_held_never_answers_to_the_customers_own_request_nor_staff_messages() -> None:
    assert UNSOLICITED_KINDS == {"survey_csat", "survey_nps"}
    own_request = {"ack", "extension", "reply", "closing", "penalty_client_notice"}
    staff = {"triage", "followup", "alert", "digest", "outbox_dead", "penalty_evidence_request",
             "penalty_decision", "penalty_payment_authorization", "report", "answer_review"}
    known = {k.model_fields["kind"].default for k in KINDS}
    assert own_request | staff <= known
    assert UNSOLICITED_KINDS.isdisjoint(own_request | staff)
    assert {k for k in known if not k.startswith("survey_")}.isdisjoint(UNSOLICITED_KINDS)
    assert "survey_alert" not in UNSOLICITED_KINDS          # a survey's alert goes to staff
