"""bot.i18n.formats (amounts, dates, plural categories through Babel) and the plural helper `tn`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import tn
from bot.i18n.formats import (format_amount, format_local_date, format_local_datetime, locale_for,
                              plural_category)

BOGOTA = ZoneInfo("America/Bogota")


@pytest.mark.parametrize(("amount", "currency", "lang", "shown"), [
    ("1500000.50", "COP", "es", "COP 1.500.000,50"),
    ("1500000.50", "COP", "en", "COP 1,500,000.50"),
    ("2500000", "COP", "es", "COP 2.500.000"),
    ("1234.5", "USD", "es", "USD 1.234,5"),
    ("999", "COP", "es", "COP 999"),
    ("0.05", "USD", "en", "USD 0.05"),
    ("-1750000.50", "COP", "es", "COP -1.750.000,50"),
    ("1E+3", "COP", "es", "COP 1.000"),
])
def test_amounts_keep_the_code_the_locale_separators_and_the_exact_decimals(
        amount: str, currency: str, lang: str, shown: str) -> None:
    assert format_amount(Decimal(amount), currency, lang) == shown


def test_a_long_amount_is_not_rounded_by_the_decimal_context() -> None:
    amount = Decimal("12345678901234567890123456789.123456789")
    assert format_amount(amount, "COP", "en") == "COP 12,345,678,901,234,567,890,123,456,789.123456789"


def test_an_unshipped_language_formats_as_colombian_spanish() -> None:
    assert format_amount(Decimal("1500000.50"), "COP", "fr") == "COP 1.500.000,50"
    assert locale_for("fr") == locale_for("es")
    assert str(locale_for("es")) == "es_CO" and str(locale_for("en")) == "en"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_datetimes_read_as_before_in_both_languages(lang: str) -> None:
    at = dt.datetime(2026, 12, 18, 9, 5, tzinfo=BOGOTA)
    assert format_local_datetime(at, lang) == at.strftime("%Y-%m-%d %H:%M") == "2026-12-18 09:05"


def test_a_datetime_is_shown_in_the_zone_asked_for() -> None:
    at = dt.datetime(2026, 12, 18, 23, 30, tzinfo=BOGOTA)
    assert format_local_datetime(at, "es", tz=dt.timezone.utc) == "2026-12-19 04:30"
    assert format_local_datetime(at.astimezone(dt.timezone.utc), "es", tz=BOGOTA) == "2026-12-18 23:30"


def test_dates_and_the_local_date_of_a_datetime() -> None:
    late = dt.datetime(2026, 12, 18, 23, 30, tzinfo=BOGOTA)
    assert format_local_date(dt.date(2026, 1, 2), "en") == "2026-01-02"
    assert format_local_date(late, "es") == "2026-12-18"
    assert format_local_date(late, "es", tz=dt.timezone.utc) == "2026-12-19"


@pytest.mark.parametrize(("lang", "count", "category"), [
    ("es", 0, "other"), ("es", 1, "one"), ("es", 2, "other"), ("es", 1_000_000, "many"),
    ("en", 0, "other"), ("en", 1, "one"), ("en", 2, "other"), ("en", 1_000_000, "other"),
])
def test_plural_categories_follow_cldr(lang: str, count: int, category: str) -> None:
    assert plural_category(lang, count) == category


@pytest.mark.parametrize(("lang", "count", "text"), [
    ("es", 1, "1 penalidad:"), ("es", 0, "0 penalidades:"), ("es", 3, "3 penalidades:"),
    ("en", 1, "1 penalty:"), ("en", 0, "0 penalties:"), ("en", 3, "3 penalties:"),
])
def test_tn_picks_the_form_for_the_count(lang: str, count: int, text: str) -> None:
    assert tn(lang, "penalty.list_header", count) == text


def test_tn_falls_back_to_other_when_the_language_has_no_text_for_the_category() -> None:
    """Spanish says `many` for a million; the catalogue has no `.many`, so `.other` answers."""
    assert tn("es", "contract.list_header", 1_000_000) == "1000000 clientes:"


def test_tn_fills_the_other_values_and_answers_spanish_for_an_unshipped_language() -> None:
    assert tn("en", "list_header", 1, title="open") == "1 PQR (open)"
    assert tn("en", "list_header", 23, title="open") == "23 PQRs (open)"
    assert tn("de", "penalty.list_header", 2) == "2 penalidades:"
