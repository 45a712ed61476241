"""How long a stored text may be and which numbers and instants fit, in one place.

The lengths are the column sizes of `storage/tables.py` (a unit test keeps both in step): a value
past them is refused before storage with `InvalidInput(code=…, value=limit)` — PostgreSQL would
refuse it with a driver error, SQLite would keep it silently. Channels that cannot ask again (a
mail's sender name, a Telegram profile name) cut the text with `fit` instead of refusing."""

from __future__ import annotations

import datetime as dt

from domain.errors import InvalidInput

NAME_MAX = 200          # customers.name
EMAIL_MAX = 254         # an address (RFC 5321's path limit); customers.email holds 320
PHONE_MAX = 50          # customers.phone
CHANNEL_MAX = 40        # pqrs.channel, messages.channel
AREA_MAX = 200          # pqrs.area, penalties.area
ASSIGNEE_MAX = 200      # pqrs.assignee
CLIENT_MAX = 200        # penalties.client
CONTRACT_MAX = 200      # pqrs.contract, penalties.contract
RADICADO_MAX = 64       # pqrs.radicado, penalties.pqr
IDENTITY_MAX = 400      # events.actor, messages.author, customer_identities.identity
FILENAME_MAX = 400      # attachments.filename, penalty_evidence_files.filename
SUBJECT_MAX = 998       # RFC 5322's line length: what a mail subject can carry unfolded
AMOUNT_DIGITS_MAX = 18  # digits before the decimal point of a penalty amount (penalties.amount: 40)

# Ids: SQLite integers and PostgreSQL BIGINT are signed 64-bit; INTEGER columns are 32-bit.
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
TELEGRAM_ID_MIN, TELEGRAM_ID_MAX = -(2**63), INT64_MAX     # chat ids may be negative (groups)

# Instants a PQR, a penalty or a digest may be about. Far enough from datetime's own limits that a
# legal term (at most 90 business days, extended once) never overflows the date arithmetic.
FIRST_INSTANT = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
LAST_INSTANT = dt.datetime(2999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


def check_length(value: str | None, limit: int, code: str) -> None:
    """Refuse `value` when longer than `limit` characters: `InvalidInput(code=code, value=limit)`
    (the catalogue text `input.<code>` says how many are accepted)."""
    if value is not None and len(value) > limit:
        raise InvalidInput(f"{code}: {len(value)} characters, at most {limit}", code=code, value=limit)


def fit(value: str, limit: int) -> str:
    """`value` cut to `limit` characters (an ellipsis marks the cut) — for texts no one can be
    asked to shorten."""
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


def shown(text: str) -> str:
    """`text` with control characters and lone surrogates written as escapes (`\\r`, `\\n`,
    `\\udcff`): safe to echo in a one-line answer."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def in_range(instant: dt.datetime) -> bool:
    """Whether `instant` (aware) lies between FIRST_INSTANT and LAST_INSTANT."""
    return FIRST_INSTANT <= instant <= LAST_INSTANT


def check_instant(instant: dt.datetime) -> None:
    """Refuse an instant outside FIRST_INSTANT … LAST_INSTANT (`input.instant_range`)."""
    if not in_range(instant):
        raise InvalidInput(f"instant out of range: {instant.isoformat()}", code="instant_range",
                           value=instant.isoformat())
