"""Input that storage or the date arithmetic could not take is refused (or cut) before storage:
lengths, email addresses, instants, the radicado format, the SMTP AUTH settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import String

from bot.commands.refusals import refusal_text
from bot.config import ConfigError, parse_config
from bot.i18n import t
from domain import limits
from domain.calendar import BusinessCalendar
from domain.customer import Customer, email_address, is_email_address
from domain.errors import InvalidInput
from domain.penalty import Penalty, PenaltyCategory, parse_amount
from domain.pqr import Pqr
from domain.pqr_types import PqrType
from domain.terms import LEGAL_TERMS, TermPolicy
from storage import tables

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
POLICY = TermPolicy(calendar=BusinessCalendar(), terms=dict(LEGAL_TERMS))


def length(table: str, column: str) -> int:
    col = tables.metadata.tables[table].c[column]
    assert isinstance(col.type, String) and col.type.length is not None
    return col.type.length


@pytest.mark.parametrize("limit, columns", [
    (limits.NAME_MAX, [("customers", "name")]),
    (limits.PHONE_MAX, [("customers", "phone")]),
    (limits.CHANNEL_MAX, [("pqrs", "channel"), ("messages", "channel")]),
    (limits.AREA_MAX, [("pqrs", "area"), ("penalties", "area")]),
    (limits.ASSIGNEE_MAX, [("pqrs", "assignee")]),
    (limits.CLIENT_MAX, [("penalties", "client")]),
    (limits.CONTRACT_MAX, [("pqrs", "contract"), ("penalties", "contract")]),
    (limits.RADICADO_MAX, [("pqrs", "radicado"), ("penalties", "pqr")]),
    (limits.IDENTITY_MAX, [("events", "actor"), ("messages", "author"), ("penalty_evidence", "author")]),
    (limits.FILENAME_MAX, [("attachments", "filename"), ("penalty_evidence_files", "filename")]),
])
def test_the_limits_are_the_column_sizes(limit: int, columns: list[tuple[str, str]]) -> None:
    assert [length(t, c) for t, c in columns] == [limit] * len(columns)


def test_an_address_fits_its_column_and_identity() -> None:
    assert limits.EMAIL_MAX <= length("customers", "email")
    assert len("email:") + limits.EMAIL_MAX <= length("customer_identities", "identity")


@pytest.mark.parametrize("good", ["ana@example.co", "a.b+tag@sub.example.com", "ana@exámple.co", "  ana@x.co "])
def test_plain_addresses_are_taken(good: str) -> None:
    assert email_address(good) == good.strip() and is_email_address(good)


@pytest.mark.parametrize("bad", [
    "ana@example.co\r\nBcc: evil@x.co", "ana@example.co\n", "\rana@example.co", "ana@x.co\x00",
    "ana", "ana@localhost", "a@@b.co", "a@b@c.co", "Ana <ana@x.co>", "<ana@x.co>", "ana@x.co>",
    '"a b"@x.co', "a b@x.co", "a,b@x.co", "a..b@x.co", "a@-x.co", "a@x_y.co", "a@1.2.3.4",
    "a@[1.2.3.4]", "ñ@x.co", "x" * 65 + "@x.co", "a@" + "b" * 64 + ".co", "a@" + "b." * 130 + "co", "",
])
def test_other_addresses_are_refused_with_what_is_accepted(bad: str) -> None:
    assert not is_email_address(bad)
    with pytest.raises(InvalidInput) as refused:
        email_address(bad)
    assert refused.value.code == "email"
    text = refusal_text(refused.value, "en")
    assert "ana@example.co" in text and "\n" not in text and "\r" not in text


def customer(**kw: str) -> Customer:
    return Customer(**{"name": "Ana", **kw})  # type: ignore[arg-type]


def file(**kw: object) -> Pqr:
    args: dict[str, object] = {"pqr_type": PqrType.QUEJA, "channel": "phone", "customer": customer(),
                               "subject": "Cobro", "body": "x", "received_at": NOW, "policy": POLICY,
                               "actor": "cli:operator", **kw}
    return Pqr.file(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, code, limit", [
    ({"customer": Customer(name="x" * 201)}, "name_too_long", limits.NAME_MAX),
    ({"customer": Customer(name="Ana", phone="1" * 51)}, "phone_too_long", limits.PHONE_MAX),
    ({"channel": "c" * 41}, "channel_too_long", limits.CHANNEL_MAX),
    ({"area": "a" * 201}, "area_too_long", limits.AREA_MAX),
    ({"subject": "s" * 999}, "subject_too_long", limits.SUBJECT_MAX),
    ({"actor": "cli:" + "x" * 400}, "identity_too_long", limits.IDENTITY_MAX),
])
def test_filing_refuses_what_does_not_fit(kw: dict[str, object], code: str, limit: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        file(**kw)
    assert (refused.value.code, refused.value.value) == (code, limit)
    for lang in ("es", "en"):
        assert str(limit) in refusal_text(refused.value, lang)


def test_at_the_limits_it_files_and_a_known_customer_is_not_checked_again() -> None:
    pqr = file(customer=Customer(name="x" * 200, phone="1" * 50), area="a" * 200, subject="s" * 998)
    assert len(pqr.customer.name) == 200
    stored = Customer(name="y" * 300, id=7)      # already in the database: not ours to refuse now
    assert file(customer=stored).customer is stored


def test_assigning_a_too_long_assignee_is_refused() -> None:
    pqr = file()
    with pytest.raises(InvalidInput) as refused:
        pqr.assign("slack:" + "U" * 200, actor="slack:U0STAFF", now=NOW)
    assert refused.value.code == "assignee_too_long" and pqr.assignee is None and len(pqr.events) == 1


@pytest.mark.parametrize("instant", [dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc),
                                     dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
                                     dt.datetime(3000, 1, 1, tzinfo=dt.timezone.utc),
                                     dt.datetime(1969, 12, 31, 23, tzinfo=dt.timezone.utc)])
def test_instants_out_of_range_are_refused_before_the_arithmetic_overflows(instant: dt.datetime) -> None:
    assert not limits.in_range(instant)
    with pytest.raises(InvalidInput) as refused:
        file(received_at=instant)
    assert refused.value.code == "instant_range"


def test_the_edges_of_the_range_file_with_a_due_date() -> None:
    for instant in (limits.FIRST_INSTANT, limits.LAST_INSTANT):
        pqr = file(pqr_type=PqrType.CONSULTA, received_at=instant)
        assert pqr.due_at > instant


def test_the_catalogues_name_the_accepted_years() -> None:
    for lang in ("es", "en"):
        text = t(lang, "input.instant_range", value="9999-12-31")
        assert str(limits.FIRST_INSTANT.year) in text and str(limits.LAST_INSTANT.year) in text


@pytest.mark.parametrize("field, value, code", [
    ("client", "c" * 201, "client_too_long"), ("area", "a" * 201, "area_too_long"),
    ("pqr", "PQR-" + "9" * 61, "radicado_too_long"), ("contract", "k" * 201, "contract_too_long"),
])
def test_a_penalty_refuses_what_does_not_fit(field: str, value: str, code: str) -> None:
    args: dict[str, object] = {"client": "ACME", "category": PenaltyCategory.KPI_ANS, "amount": Decimal("10"),
                               "currency": "COP", "area": "Logística", "actor": "cli:operator", "now": NOW,
                               field: value}
    with pytest.raises(InvalidInput) as refused:
        Penalty.register(**args)  # type: ignore[arg-type]
    assert refused.value.code == code


def test_an_amount_too_large_for_its_column_is_refused() -> None:
    assert parse_amount("999999999999999999.99") == Decimal("999999999999999999.99")
    for text in ("1" + "0" * 18, "1e30"):
        with pytest.raises(InvalidInput) as refused:
            parse_amount(text)
        assert refused.value.code == "amount_too_large"


def test_fit_cuts_with_an_ellipsis_and_shown_escapes_control_characters() -> None:
    assert limits.fit("Ana", 200) == "Ana"
    cut = limits.fit("x" * 300, 200)
    assert len(cut) == 200 and cut.endswith("…")
    assert limits.shown("a\r\nb\udcff") == "a\\r\\nb\\udcff"


# -- config.yaml ----------------------------------------------------------------------------------

def test_a_radicado_format_without_year_is_refused_at_load() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"radicado_format": "PQR-{seq:06d}"})
    message = str(refused.value)
    assert "radicado_format" in message and "{year}" in message and "{seq}" in message
    assert "\n" not in message


@pytest.mark.parametrize("fmt, says", [
    ("PQR-{year}-{seq:06d}-{client}", "unknown field {client}"),
    ("PQR-{0}-{year}-{seq}", "unknown field {0}"),
    ("PQR-{year.real}-{seq}", "unknown field {year.real}"),
    ("PQR-{year}", "{seq} is missing"),
    ("PQR-{year}-{seq:g}", "every year and every {seq} differently"),
    ("PQR-{year}-{seq:.2e}", "every year and every {seq} differently"),
    ("PQR-{year}-{seq:c}", "PQR-{year}-{seq:06d}"),
    ("PQR-{year}-{seq:%y}", "PQR-{year}-{seq:06d}"),
    ("PQR-{year}-{seq:070d}", "at most 64 characters"),
    ("PQR-{year}-{seq}}", "PQR-{year}-{seq:06d}"),
])
def test_other_formats_that_cannot_stay_unique_are_refused(fmt: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"radicado_format": fmt})
    assert says in str(refused.value)


@pytest.mark.parametrize("fmt", ["PQR-{year}-{seq:06d}", "{year}{seq}", "R{seq:08d}/{year}", "{year}-{seq:x}"])
def test_formats_with_both_fields_are_taken(fmt: str) -> None:
    assert parse_config({"radicado_format": fmt}).radicado_format == fmt


def test_smtp_auth_needs_both_variables_or_neither() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"channels": {"email": {"auth": {"username_env": "SMTP_USER"}}}})
    assert "channels.email.auth" in str(refused.value) and "password_env" in str(refused.value)
    both = {"username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD"}
    assert parse_config({"channels": {"email": {"auth": both}}}).channels.email.auth.password_env == "SMTP_PASSWORD"
