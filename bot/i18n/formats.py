"""Amounts, dates and plural categories as each shipped language writes them, from Babel (CLDR data).

`es` is read as Colombian Spanish (`es_CO`), `en` as English; any other code falls back to `es_CO`,
as `bot.i18n.t` falls back to the Spanish catalogue.

Two decisions keep what staff and customers already read:
- Amounts are the ISO currency code, a space, and the number grouped and separated by the locale
  (`COP 1.500.000,50`, `COP 1,500,000.50`). Babel's `format_currency` would write `$1.500.000` for
  es_CO (a bare `$` that reads the same for COP and USD, and COP rounded to whole pesos) and
  `COP1,500,000` for en, so the number goes through `format_decimal` with as many decimals as the
  stored `Decimal` carries, never rounded.
- Dates use one ISO-like pattern (`2026-12-18 10:00`) in both languages: unambiguous for a reader
  of either, sortable, and the text the outbox, the cards and the digest have always shown. The
  patterns live here so that a locale-specific choice is one line.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from babel.numbers import format_percent
from babel.units import format_unit

LOCALES: dict[str, str] = {"es": "es_CO", "en": "en"}
DATETIME_PATTERN = "yyyy-MM-dd HH:mm"
DATE_PATTERN = "yyyy-MM-dd"


@lru_cache(maxsize=None)
def locale_for(lang: str) -> Locale:
    """The Babel locale of a shipped language (`es` → `es_CO`); `es_CO` for any other code."""
    return Locale.parse(LOCALES.get(lang, LOCALES["es"]))


def plural_category(lang: str, count: int | float | Decimal) -> str:
    """CLDR's plural category of `count` in `lang`: `one`, `other`, and for some languages and
    numbers also `zero`, `two`, `few` or `many` (Spanish says `many` for 1 000 000)."""
    return locale_for(lang).plural_form(count)


def format_amount(amount: Decimal, currency: str, lang: str) -> str:
    """`COP 1.500.000,50` (es) or `COP 1,500,000.50` (en): the currency code, then the exact
    `Decimal` with the locale's separators and as many decimals as it carries."""
    if not amount.is_finite():
        return f"{currency} {amount}"
    sign, digits, exponent = amount.as_tuple()
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    pattern = "#,##0" + ("." + "0" * places if places else "")
    with localcontext() as ctx:   # Babel quantizes; a long amount must not hit the context precision
        ctx.prec = max(ctx.prec, len(digits) + places + 1)
        number = format_decimal(amount, format=pattern, locale=locale_for(lang))
    return f"{currency} {number}"


def format_local_datetime(instant: dt.datetime, lang: str, tz: dt.tzinfo | None = None) -> str:
    """`2026-12-18 10:00`: the wall-clock time of `instant` in `tz` (in its own zone when `tz` is
    None; pass `calendar.local(x)` or `tz=calendar.tz`)."""
    local = instant.astimezone(tz) if tz is not None else instant
    return format_datetime(local, DATETIME_PATTERN, locale=locale_for(lang))


def format_local_date(day: dt.date, lang: str, tz: dt.tzinfo | None = None) -> str:
    """`2026-12-18`: a date, or the local date of a datetime in `tz` (in its own zone when None)."""
    if isinstance(day, dt.datetime) and tz is not None:
        day = day.astimezone(tz)
    return format_date(day, DATE_PATTERN, locale=locale_for(lang))


def format_file_size(size: int, lang: str) -> str:
    """`512 byte`, `12,5 kB`, `1,2 MB` (es) or `1.2 MB` (en): a size in bytes in CLDR's short
    digital units, counted in 1024s as operating systems show file sizes."""
    for unit, scale in (("digital-gigabyte", 1024 ** 3), ("digital-megabyte", 1024 ** 2),
                        ("digital-kilobyte", 1024)):
        if size >= scale:
            return format_unit(size / scale, unit, length="short", format="#,##0.#", locale=locale_for(lang))
    return format_unit(size, "digital-byte", length="short", format="#,##0", locale=locale_for(lang))


def format_number(value: int | float | Decimal, lang: str, *, places: int = 0) -> str:
    """`1.234` / `12,5` (es) or `1,234` / `12.5` (en): a count or a measure grouped and separated
    by the locale, with exactly `places` decimals."""
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale_for(lang))


def format_percentage(pct: int | float | Decimal, lang: str, *, places: int = 1) -> str:
    """`87,5%` (es) or `87.5%` (en): a percentage carried as 0–100 (as the reports carry them) in
    the locale's percent pattern, with exactly `places` decimals so that a column lines up."""
    base = locale_for(lang).percent_formats[None].pattern
    pattern = base.replace("#,##0", "#,##0." + "0" * places, 1) if places else base
    return format_percent(Decimal(str(pct)) / 100, format=pattern, locale=locale_for(lang))


def format_month(day: dt.date, lang: str) -> str:
    """`noviembre de 2026` (es) or `November 2026` (en): the month of `day`, as CLDR writes it."""
    return format_skeleton("yMMMM", day, locale=locale_for(lang))
