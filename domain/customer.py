"""Customers and their identities per channel."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address

from domain.errors import InvalidInput
from domain.limits import EMAIL_MAX, NAME_MAX, PHONE_MAX, check_length, shown

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_LOCAL_MAX = 64


def email_address(text: str) -> str:
    """`text` as a deliverable address (surrounding spaces dropped), or `InvalidInput(code="email")`.

    What the standard library parses as one plain addr-spec, and stricter: no CR, LF or other
    control characters (they would inject headers into the acknowledgment), no quotes, no display
    name, exactly one @, a local part of at most 64 characters and a domain of at least two
    labels (IDNA allowed), at most 254 characters in all. Such an address never fails later in
    the outbox."""
    value = text.strip(" \t")
    if _valid(value):
        return value
    raise InvalidInput(f"not an email address: {text!r}", code="email", value=shown(text.strip()[:100]))


def is_email_address(text: str) -> bool:
    """Whether `email_address(text)` would take it."""
    return _valid(text.strip(" \t"))


def _valid(value: str) -> bool:
    if (not value or len(value) > EMAIL_MAX or value.count("@") != 1 or '"' in value
            or any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in value)):
        return False
    try:
        parsed = Address(addr_spec=value)
    except (ValueError, HeaderParseError, IndexError):
        return False
    if parsed.addr_spec != value or not parsed.username or len(parsed.username) > _LOCAL_MAX:
        return False
    try:
        domain = parsed.domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def identity(channel: str, address: str) -> str:
    """The canonical identity string, e.g. `email:ana@example.co`, `telegram:1001`, `slack:U123`."""
    address = address.strip()
    return f"{channel}:{address.lower() if channel == 'email' else address}"


STAFF_CHANNELS = ("slack", "telegram", "email")


def reachable(who: str) -> tuple[str, str] | None:
    """Where an identity can be written to: `slack:U1` → ("slack", "U1"), `telegram:1001` →
    ("telegram", "1001"), `email:a@b.co` → ("email", "a@b.co"); None for anything else."""
    channel, _, address = who.partition(":")
    return (channel, address) if channel in STAFF_CHANNELS and address else None


@dataclass
class Customer:
    """A person or client staff member who files PQRs. The same email or Telegram chat is the same
    customer, whatever name they give."""

    name: str
    email: str | None = None
    telegram_chat_id: int | None = None
    phone: str | None = None
    language: str = "es"
    id: int | None = None
    unreachable: bool = False

    def check(self) -> None:
        """Refuse a new customer whose name, email or phone does not fit (`InvalidInput`)."""
        check_length(self.name, NAME_MAX, "name_too_long")
        check_length(self.email, EMAIL_MAX, "email_too_long")
        check_length(self.phone, PHONE_MAX, "phone_too_long")

    def identities(self) -> list[str]:
        ids = []
        if self.email:
            ids.append(identity("email", self.email))
        if self.telegram_chat_id is not None:
            ids.append(identity("telegram", str(self.telegram_chat_id)))
        return ids
