"""Customers and their identities per channel."""

from __future__ import annotations

from dataclasses import dataclass


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

    def identities(self) -> list[str]:
        ids = []
        if self.email:
            ids.append(identity("email", self.email))
        if self.telegram_chat_id is not None:
            ids.append(identity("telegram", str(self.telegram_chat_id)))
        return ids
