"""Natural-language `<when>` for a prórroga (`/pqr due RAD <when> -- reason`), Spanish and English.

Phrases dateparser does not understand (see shared LIBRARY-NOTES: "el próximo viernes",
"este viernes", "pasado mañana", "en 3 días hábiles", …) are handled here first; everything else
goes to dateparser with fixed languages, day-month-year order and the calendar's timezone.
Nothing here reads the clock: `now` is always given.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from domain.calendar import BusinessCalendar

# dateparser costs ~70 ms to import: it is imported lazily, in _dateparser(), on the first phrase
# the handled patterns below do not cover.

__all__ = ["When", "UnreadableDate", "parse_when"]

_END_OF_DAY = dt.time(23, 59, 59)
_MAX_DAYS = 3660  # refuse "in 100000 days" rather than loop or overflow
_WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")

# Vocabulary, accent-free and lower-case (input is folded the same way before matching).
_WEEKDAY_WORDS: dict[str, dict[str, int]] = {
    "es": {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6},
    "en": {
        "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
        "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6,
    },
}
_UNITS_ES = {
    "cero": 0, "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9,
}
_NUMBER_WORDS: dict[str, dict[str, int]] = {
    "es": _UNITS_ES | {
        "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
        "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20,
        "veintiun": 21, "veintiuno": 21, "veintiuna": 21, "veintidos": 22, "veintitres": 23,
        "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26, "veintisiete": 27,
        "veintiocho": 28, "veintinueve": 29, "treinta": 30,
        "treinta y un": 31, "treinta y uno": 31, "treinta y una": 31,
    },
    "en": {
        "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
        "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
        "nineteen": 19, "twenty": 20, "thirty": 30,
    }
    | {f"twenty{sep}{word}": 20 + value for sep in (" ", "-")
       for word, value in (("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5),
                           ("six", 6), ("seven", 7), ("eight", 8), ("nine", 9))}
    | {"thirty one": 31, "thirty-one": 31},
}


class _Lang:
    """Per-language phrase patterns (one alternation per slot)."""

    def __init__(self, next_wd: list[str], wd_next: list[str], this_wd: list[str], bare_prefix: list[str],
                 after_tomorrow: list[str], tomorrow: list[str], today: list[str],
                 in_prefix: list[str], business: list[str], days: list[str], articles: list[str]) -> None:
        self.next_wd, self.wd_next, self.this_wd, self.bare_prefix = next_wd, wd_next, this_wd, bare_prefix
        self.after_tomorrow, self.tomorrow, self.today = after_tomorrow, tomorrow, today
        self.in_prefix, self.business, self.days, self.articles = in_prefix, business, days, articles


_LANGS: dict[str, _Lang] = {
    "es": _Lang(
        next_wd=[r"(?:el\s+)?(?:proximo|siguiente)"],
        wd_next=[r"(?:proximo|que\s+viene|siguiente)"],
        this_wd=[r"este"],
        bare_prefix=[r"el"],
        after_tomorrow=[r"pasado\s+manana"],
        tomorrow=[r"manana"],
        today=[r"hoy"],
        in_prefix=[r"en", r"dentro\s+de"],
        business=[r"dias?\s+(?:habil(?:es)?|laborables?|utile?s?)", r"dias?\s+de\s+trabajo"],
        days=[r"dias?(?:\s+calendario)?"],
        articles=[r"el", r"para\s+el", r"hasta\s+el"],
    ),
    "en": _Lang(
        next_wd=[r"next", r"this\s+coming", r"coming", r"on\s+next"],
        wd_next=[],
        this_wd=[r"this", r"on\s+this"],
        bare_prefix=[r"on", r"by"],
        after_tomorrow=[r"(?:the\s+)?day\s+after\s+tomorrow"],
        tomorrow=[r"tomorrow"],
        today=[r"today"],
        in_prefix=[r"in", r"within"],
        business=[r"(?:business|working|work)\s+days?"],
        days=[r"(?:calendar\s+)?days?"],
        articles=[r"on", r"by", r"the", r"until", r"on\s+the"],
    ),
}

# An optional time of day after a handled phrase: "a las 5pm", "at 17:00", "5 p.m.".
_TIME = (
    r"(?:\s*,?\s*(?:a\s+las|a\s+la|at|@)?\s*(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?"
    r"\s*(?P<ampm>am|pm|a\.\s?m\.?|p\.\s?m\.?)?)?"
)
_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:[t ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)


def _fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced, without trailing punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split()).strip(" .!¡¿?")


def _alt(options: list[str] | dict[str, int]) -> str:
    words = sorted(options, key=len, reverse=True)  # longest first: "veintiuno" before "veinte"
    return "(?:" + "|".join(words) + ")"


@dataclass(frozen=True)
class _Patterns:
    weekday: re.Pattern[str]        # groups: wd (+ time)
    relative_day: re.Pattern[str]   # groups: word (+ time)
    business_days: re.Pattern[str]  # group n
    calendar_days: re.Pattern[str]  # group n
    article: re.Pattern[str]
    weekdays: dict[str, int]
    numbers: dict[str, int]
    after_tomorrow: re.Pattern[str]
    tomorrow: re.Pattern[str]


@lru_cache(maxsize=16)
def _patterns(languages: tuple[str, ...]) -> _Patterns:
    langs = [_LANGS[code] for code in languages if code in _LANGS]
    weekdays = {w: d for code in languages for w, d in _WEEKDAY_WORDS.get(code, {}).items()}
    numbers = {w: v for code in languages for w, v in _NUMBER_WORDS.get(code, {}).items()}

    def join(pick: Callable[[_Lang], list[str]]) -> str:
        options = [p for lang in langs for p in pick(lang)]
        return "(?:" + "|".join(options) + ")" if options else "(?!)"

    def wd(name: str) -> str:
        return f"(?P<{name}>{_alt(weekdays)})" if weekdays else f"(?P<{name}>(?!))"

    bare = join(lambda lang: lang.bare_prefix)
    num = rf"(?P<n>\d+|{_alt(numbers)})" if numbers else r"(?P<n>\d+)"
    weekday = (
        rf"(?:{join(lambda lang: lang.next_wd)}\s+{wd('wd')}"
        rf"|(?:{bare}\s+)?{wd('wd2')}\s+{join(lambda lang: lang.wd_next)}"
        rf"|{join(lambda lang: lang.this_wd)}\s+{wd('wd3')}"
        rf"|(?:{bare}\s+)?{wd('wd4')})"
    )
    day_words = (
        rf"(?P<word>{join(lambda lang: lang.after_tomorrow)}|{join(lambda lang: lang.tomorrow)}"
        rf"|{join(lambda lang: lang.today)})"
    )
    in_prefix = join(lambda lang: lang.in_prefix)
    return _Patterns(
        weekday=re.compile(weekday + _TIME),
        relative_day=re.compile(day_words + _TIME),
        business_days=re.compile(rf"(?:{in_prefix}\s+)?{num}\s+{join(lambda lang: lang.business)}"),
        calendar_days=re.compile(rf"(?:{in_prefix}\s+)?{num}\s+{join(lambda lang: lang.days)}"),
        article=re.compile(rf"{join(lambda lang: lang.articles)}\s+", re.IGNORECASE),
        weekdays=weekdays,
        numbers=numbers,
        after_tomorrow=re.compile(join(lambda lang: lang.after_tomorrow)),
        tomorrow=re.compile(join(lambda lang: lang.tomorrow)),
    )


@dataclass(frozen=True)
class When:
    """An instant the user meant, and a short description of what was understood."""

    at: dt.datetime  # aware, in the calendar's timezone
    understood: str  # e.g. "2026-12-04 (viernes)"


class UnreadableDate(Exception):
    """The text is not a date we can read, or it is in the past.

    `text` is what the user wrote; `understood` is set when a date was read but refused (past).
    """

    def __init__(self, text: str, understood: When | None = None) -> None:
        if understood is None:
            message = f"unreadable date: {text!r}"
        else:
            message = f"date in the past: {text!r} (understood {understood.understood})"
        super().__init__(message)
        self.text = text
        self.understood = understood


def _describe(at: dt.datetime, with_time: bool, note: str = "") -> str:
    text = f"{at.date().isoformat()} ({_WEEKDAYS_ES[at.weekday()]})"
    if with_time:
        text = f"{at.date().isoformat()} {at:%H:%M} ({_WEEKDAYS_ES[at.weekday()]})"
    return f"{text}, {note}" if note else text


def _number(word: str, numbers: dict[str, int]) -> int | None:
    if word.isdigit():
        return int(word)
    return numbers.get(word)


def _time_of_day(match: re.Match[str]) -> dt.time | None:
    """The time suffix of a handled phrase, None if absent; raises ValueError if impossible."""
    hour_text = match.group("hour")
    if hour_text is None:
        return None
    hour, minute = int(hour_text), int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").replace(".", "").replace(" ", "")
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif match.group("minute") is None and not re.search(r"(?:a\s+las?|at|@)\s*\d", match.group(0)):
        # A bare number after a weekday ("viernes 5") is too ambiguous to be a time.
        raise ValueError("bare number")
    return dt.time(hour, minute)  # ValueError if out of range


class _Result:
    def __init__(self, day: dt.date, time: dt.time | None, note: str = "") -> None:
        self.day, self.time, self.note = day, time, note


def _handled(folded: str, today: dt.date, calendar: BusinessCalendar, patterns: _Patterns) -> _Result | None:
    """Phrases dateparser misses; None if `folded` is none of them. Raises ValueError if impossible."""
    m = _ISO.fullmatch(folded)
    if m:
        day = dt.date.fromisoformat(m.group("date"))
        if m.group("hour") is None:
            return _Result(day, None)
        return _Result(day, dt.time(int(m.group("hour")), int(m.group("minute")), int(m.group("second") or 0)))

    m = patterns.weekday.fullmatch(folded)
    if m:
        word = next(g for g in (m.group("wd"), m.group("wd2"), m.group("wd3"), m.group("wd4")) if g)
        ahead = (patterns.weekdays[word] - today.weekday() - 1) % 7 + 1  # strictly after today
        return _Result(today + dt.timedelta(days=ahead), _time_of_day(m))

    m = patterns.relative_day.fullmatch(folded)
    if m:
        word = m.group("word")
        if patterns.after_tomorrow.fullmatch(word):
            offset = 2
        elif patterns.tomorrow.fullmatch(word):
            offset = 1
        else:
            offset = 0
        return _Result(today + dt.timedelta(days=offset), _time_of_day(m))

    m = patterns.business_days.fullmatch(folded)
    if m:
        n = _number(m.group("n"), patterns.numbers)
        if n is None or n > _MAX_DAYS:
            raise ValueError("too many days")
        note = f"{n} día hábil" if n == 1 else f"{n} días hábiles"
        return _Result(calendar.add_business_days(today, n), None, note)

    m = patterns.calendar_days.fullmatch(folded)
    if m:
        n = _number(m.group("n"), patterns.numbers)
        if n is None or n > _MAX_DAYS:
            raise ValueError("too many days")
        note = f"{n} día" if n == 1 else f"{n} días"
        return _Result(today + dt.timedelta(days=n), None, note)
    return None


def _dateparser(text: str, local_now: dt.datetime, calendar: BusinessCalendar,
                languages: tuple[str, ...]) -> tuple[dt.datetime, bool] | None:
    """(local aware instant, whether a time of day was given) from dateparser, or None."""
    from dateparser.date import DateDataParser  # lazy: ~70 ms import

    settings: dict[str, Any] = {
        "DATE_ORDER": "DMY",
        "TIMEZONE": calendar.timezone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "RETURN_TIME_AS_PERIOD": True,
    }
    parser = DateDataParser(languages=list(languages), settings=settings)
    data = parser.get_date_data(text)
    found = data.date_obj
    if found is None or data.period in ("month", "year"):  # "diciembre" alone is too vague
        return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=calendar.tz)
    return calendar.local(found), data.period == "time"


def parse_when(text: str, *, now: dt.datetime, calendar: BusinessCalendar,
               languages: tuple[str, ...] = ("es", "en")) -> When:
    """Read a natural-language moment ("el próximo viernes", "en 3 días hábiles", "3/12/2026",
    "next friday 5pm", …) relative to `now` (aware) in `calendar`'s timezone.

    A date without a time of day means 23:59:59 local time of that date. Business days are counted
    with `calendar` from today's local date. Raises `UnreadableDate` when the text cannot be read,
    or when it means a moment not after `now` (then `.understood` says what was read).
    """
    local_now = calendar.local(now)
    today = local_now.date()
    folded = _fold(text)
    if not folded or folded.isdigit():  # a bare number ("15") is not a date we want to guess
        raise UnreadableDate(text)

    try:
        result = _handled(folded, today, calendar, _patterns(tuple(languages)))
    except (ValueError, OverflowError):
        raise UnreadableDate(text) from None

    if result is not None:
        with_time = result.time is not None
        at = dt.datetime.combine(result.day, result.time or _END_OF_DAY, tzinfo=calendar.tz)
        when = When(at, _describe(at, with_time, result.note))
    else:
        stripped = " ".join(text.split()).strip(" .!¡¿?")
        m = _patterns(tuple(languages)).article.match(stripped)
        if m:  # dateparser reads "15 de diciembre" but not "el 15 de diciembre"
            stripped = stripped[m.end():]
        try:
            parsed = _dateparser(stripped, local_now, calendar, tuple(languages))
        except Exception:  # noqa: BLE001 - third-party parser; any failure means "unreadable"
            parsed = None
        if parsed is None:
            raise UnreadableDate(text)
        found, with_time = parsed
        at = found if with_time else dt.datetime.combine(found.date(), _END_OF_DAY, tzinfo=calendar.tz)
        when = When(at, _describe(at, with_time))

    if when.at <= local_now:
        raise UnreadableDate(text, understood=when)
    return when
