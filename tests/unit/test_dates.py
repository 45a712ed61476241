"""Natural-language `<when>` for a prórroga, in Spanish and English, with a fixed `now`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.dates import UnreadableDate, When, parse_when
from domain.calendar import BusinessCalendar

BOGOTA = ZoneInfo("America/Bogota")
CAL = BusinessCalendar()
THU = dt.datetime(2026, 11, 26, 10, 0, tzinfo=BOGOTA)  # Thursday
FRI = dt.datetime(2026, 12, 4, 10, 0, tzinfo=BOGOTA)   # Friday; Tue 2026-12-08 is a holiday


def eod(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 23, 59, 59, tzinfo=BOGOTA)


def when(text: str, now: dt.datetime = THU, **kw: tuple[str, ...]) -> When:
    return parse_when(text, now=now, calendar=CAL, **kw)


NEXT_FRIDAY_PHRASES = [
    "el próximo viernes", "el proximo viernes", "próximo viernes", "proximo viernes",
    "el viernes próximo", "viernes próximo", "el viernes que viene", "este viernes", "el viernes",
    "viernes", "El Próximo Viernes.", "el   siguiente viernes",
    "next friday", "this friday", "friday", "on friday", "Next Friday", "this coming friday", "next fri",
]


@pytest.mark.parametrize("text", NEXT_FRIDAY_PHRASES)
def test_next_weekday_from_thursday(text: str) -> None:
    w = when(text, THU)
    assert w.at == eod(2026, 11, 27)
    assert w.understood == "2026-11-27 (viernes)"


@pytest.mark.parametrize("text", NEXT_FRIDAY_PHRASES)
def test_next_weekday_from_friday_excludes_today(text: str) -> None:
    assert when(text, FRI).at == eod(2026, 12, 11)


@pytest.mark.parametrize(("text", "day"), [
    ("el próximo lunes", 30), ("el miércoles", 2), ("este jueves", 3), ("next thursday", 3),
    ("el sábado próximo", 28), ("next sunday", 29), ("próximo martes", 1),
])
def test_other_weekdays(text: str, day: int) -> None:
    expected = eod(2026, 11, day) if day > 26 else eod(2026, 12, day)
    assert when(text, THU).at == expected


def test_weekday_with_time() -> None:
    assert when("el próximo viernes a las 5pm").at == dt.datetime(2026, 11, 27, 17, 0, tzinfo=BOGOTA)
    assert when("viernes 17:30").at == dt.datetime(2026, 11, 27, 17, 30, tzinfo=BOGOTA)
    w = when("next friday at 9 am")
    assert w.at == dt.datetime(2026, 11, 27, 9, 0, tzinfo=BOGOTA)
    assert w.understood == "2026-11-27 09:00 (viernes)"


@pytest.mark.parametrize("text", ["pasado mañana", "pasado manana", "Pasado Mañana", "day after tomorrow",
                                  "the day after tomorrow"])
def test_day_after_tomorrow(text: str) -> None:
    assert when(text, THU).at == eod(2026, 11, 28)
    assert when(text, FRI).at == eod(2026, 12, 6)


@pytest.mark.parametrize(("text", "offset"), [("mañana", 1), ("tomorrow", 1), ("hoy", 0), ("today", 0)])
def test_tomorrow_and_today(text: str, offset: int) -> None:
    assert when(text, THU).at == eod(2026, 11, 26 + offset)


@pytest.mark.parametrize("text", [
    "en 3 días hábiles", "en 3 dias habiles", "3 días hábiles", "dentro de 3 días hábiles",
    "en tres días hábiles", "3 dias laborables", "in 3 business days", "3 business days",
    "in three working days", "EN 3 DÍAS HÁBILES",
])
def test_business_days(text: str) -> None:
    # Thu 11-26 -> Fri 27, Mon 30, Tue 12-01
    assert when(text, THU).at == eod(2026, 12, 1)


def test_business_days_across_a_holiday() -> None:
    # From Fri 2026-12-04: Mon 7, (Tue 8 is a holiday), Wed 9, Thu 10.
    w = when("en 3 días hábiles", FRI)
    assert w.at == eod(2026, 12, 10)
    assert w.understood == "2026-12-10 (jueves), 3 días hábiles"
    assert when("in 3 business days", FRI).at == eod(2026, 12, 10)
    assert when("en cinco días hábiles", FRI).at == eod(2026, 12, 14)


def test_business_days_from_a_weekend() -> None:
    sunday = dt.datetime(2026, 12, 6, 9, 0, tzinfo=BOGOTA)
    assert when("1 día hábil", sunday).at == eod(2026, 12, 7)
    assert when("2 días hábiles", sunday).at == eod(2026, 12, 9)


@pytest.mark.parametrize(("word", "n"), [
    ("un", 1), ("uno", 1), ("dos", 2), ("tres", 3), ("cuatro", 4), ("cinco", 5), ("seis", 6),
    ("siete", 7), ("ocho", 8), ("nueve", 9), ("diez", 10), ("quince", 15), ("veinte", 20),
    ("veintiún", 21), ("treinta", 30),
])
def test_spanish_number_words(word: str, n: int) -> None:
    assert when(f"en {word} días", THU).at == eod(2026, 11, 26) + dt.timedelta(days=n)


@pytest.mark.parametrize(("word", "n"), [("one", 1), ("ten", 10), ("fifteen", 15), ("twenty-one", 21),
                                         ("twenty one", 21), ("thirty", 30)])
def test_english_number_words(word: str, n: int) -> None:
    assert when(f"in {word} days", THU).at == eod(2026, 11, 26) + dt.timedelta(days=n)


@pytest.mark.parametrize("text", ["en 3 días", "en 3 dias", "dentro de 3 días", "in 3 days", "3 days"])
def test_calendar_days(text: str) -> None:
    w = when(text, THU)
    assert w.at == eod(2026, 11, 29)
    assert w.understood.startswith("2026-11-29 (domingo)")


def test_iso_date() -> None:
    w = when("2026-12-15")
    assert w.at == eod(2026, 12, 15)
    assert w.understood == "2026-12-15 (martes)"
    assert when("2026-12-15T14:30").at == dt.datetime(2026, 12, 15, 14, 30, tzinfo=BOGOTA)
    assert when("2026-12-15 08:00:05").at == dt.datetime(2026, 12, 15, 8, 0, 5, tzinfo=BOGOTA)


def test_day_month_year_order() -> None:
    assert when("3/12/2026").at == eod(2026, 12, 3)
    assert when("15/12/2026").at == eod(2026, 12, 15)
    assert when("3/1/2027").at == eod(2027, 1, 3)


@pytest.mark.parametrize(("text", "expected"), [
    ("15 de diciembre", eod(2026, 12, 15)),
    ("el 15 de diciembre", eod(2026, 12, 15)),
    ("3 de diciembre de 2026", eod(2026, 12, 3)),
    ("December 15", eod(2026, 12, 15)),
    ("15 de diciembre a las 3pm", dt.datetime(2026, 12, 15, 15, 0, tzinfo=BOGOTA)),
    ("en 2 semanas", eod(2026, 12, 10)),
    ("in 2 weeks", eod(2026, 12, 10)),
    ("next monday", eod(2026, 11, 30)),
])
def test_dateparser_phrases(text: str, expected: dt.datetime) -> None:
    w = when(text)
    assert w.at == expected
    assert w.at.tzinfo is not None and w.at.utcoffset() == dt.timedelta(hours=-5)


def test_result_is_in_calendar_zone_even_if_now_is_utc() -> None:
    now_utc = THU.astimezone(dt.timezone.utc)
    w = parse_when("mañana", now=now_utc, calendar=CAL)
    assert w.at == eod(2026, 11, 27)
    assert w.at.tzinfo == BOGOTA
    # 02:00 UTC on the 27th is still the 26th in Bogotá.
    late = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.timezone.utc)
    assert parse_when("mañana", now=late, calendar=CAL).at == eod(2026, 11, 27)


@pytest.mark.parametrize(("text", "understood"), [
    ("2020-01-01", "2020-01-01 (miércoles)"),
    ("ayer", "2026-12-03 (jueves)"),
    ("3/12/2026", "2026-12-03 (jueves)"),
    ("en 0 días", "2026-12-04 (viernes), 0 días"),
])
def test_past_dates_refused_with_what_was_understood(text: str, understood: str) -> None:
    late_friday = FRI.replace(hour=23, minute=59, second=59)
    with pytest.raises(UnreadableDate) as info:
        parse_when(text, now=late_friday, calendar=CAL)
    assert info.value.text == text
    assert info.value.understood is not None
    assert info.value.understood.understood == understood


@pytest.mark.parametrize("text", [
    "", "   ", "asdf", "el día del juicio", "no sé", "15", "1", "diciembre", "2026-02-30", "viernes 5",
    "viernes a las 25:00", "en 99999999 días", "en 5000 días hábiles", "el próximo", "next",
    "jueves de la semana 99", "🙂", "-- razón",
])
def test_garbage_refused(text: str) -> None:
    with pytest.raises(UnreadableDate) as info:
        when(text)
    assert info.value.text == text
    assert info.value.understood is None


def test_languages_restrict_handled_phrases() -> None:
    assert parse_when("next friday", now=THU, calendar=CAL, languages=("en",)).at == eod(2026, 11, 27)
    with pytest.raises(UnreadableDate):
        parse_when("el próximo viernes", now=THU, calendar=CAL, languages=("en",))
    with pytest.raises(UnreadableDate):
        parse_when("in 3 business days", now=THU, calendar=CAL, languages=("es",))


def test_saturday_workdays_calendar() -> None:
    cal = BusinessCalendar(workdays=("mon", "tue", "wed", "thu", "fri", "sat"))
    assert parse_when("en 2 días hábiles", now=THU, calendar=cal).at == eod(2026, 11, 28)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_when("mañana", now=dt.datetime(2026, 11, 26, 10, 0), calendar=CAL)


_words = st.sampled_from([
    "el", "próximo", "viernes", "en", "3", "días", "hábiles", "next", "friday", "pasado", "mañana",
    "de", "diciembre", "2026-12-15", "a", "las", "5pm", "17:00", "in", "business", "days", "15", "/", "--",
])


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=30), st.lists(_words, max_size=6).map(" ".join)))
def test_parse_when_only_raises_unreadable_date(text: str) -> None:
    try:
        w = when(text, THU)
    except UnreadableDate as exc:
        assert exc.text == text
        return
    assert w.at > THU
    assert w.at.tzinfo == BOGOTA
