"""Clients, their contracts (ANS targets and penalty clauses) and the responsible areas; and which
contract a PQR falls under, from who sent it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from domain.penalty import PenaltyCategory
from domain.terms import ContractTerms


class Segment(StrEnum):
    B2B = "B2B"
    B2C = "B2C"


@dataclass(frozen=True)
class Area:
    """A responsible area and how to reach it (Slack channel or user, email)."""

    name: str
    slack_channel: str | None = None
    slack_user: str | None = None
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class PenaltyClause:
    """A contract's penalty clause: what triggers it and how much (when fixed)."""

    category: PenaltyCategory
    description: str
    amount: Decimal | None = None
    currency: str = "COP"


@dataclass(frozen=True)
class Contract:
    """A client's contract: ANS targets per PQR type, as `ContractTerms`, and penalty clauses."""

    name: str
    client: str
    terms: ContractTerms
    clauses: tuple[PenaltyClause, ...] = ()


@dataclass(frozen=True)
class Contact:
    """A client's NPS contact (contract file `contacts`)."""

    name: str | None = None
    email: str | None = None
    telegram_user: int | None = None


@dataclass(frozen=True)
class Client:
    """A company or control body. PQRs from its email domains, addresses or Telegram users fall
    under its contract. `contacts` are asked the NPS question (else `notify_emails`);
    `account_area` is the area told of a detractor's answer."""

    name: str
    nit: str | None = None
    segment: Segment = Segment.B2B
    email_domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    telegram_users: tuple[int, ...] = ()
    contract: str | None = None
    notify_emails: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    account_area: str | None = None

    def contact_emails(self) -> tuple[str, ...]:
        """Where the client is told about penalty decisions."""
        return self.notify_emails or self.addresses

    def survey_contacts(self) -> tuple[Contact, ...]:
        """Who is asked the NPS question: `contacts`, else the `notify_emails`."""
        return self.contacts or tuple(Contact(email=e) for e in self.notify_emails)


@dataclass(frozen=True)
class ContractRegistry:
    """Every known client, contract and area, by name (names are matched case-insensitively)."""

    clients: tuple[Client, ...] = ()
    contracts: tuple[Contract, ...] = ()
    areas: tuple[Area, ...] = ()
    _by_address: dict[str, Client] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_domain: dict[str, Client] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_telegram: dict[int, Client] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for c in self.clients:
            self._by_address.update({a.strip().lower(): c for a in c.addresses})
            self._by_domain.update({d.strip().lower().lstrip("@"): c for d in c.email_domains})
            self._by_telegram.update({u: c for u in c.telegram_users})

    def client(self, name: str) -> Client | None:
        key = name.strip().casefold()
        return next((c for c in self.clients if c.name.casefold() == key), None)

    def contract(self, name: str) -> Contract | None:
        key = name.strip().casefold()
        return next((c for c in self.contracts if c.name.casefold() == key), None)

    def area(self, name: str) -> Area | None:
        key = name.strip().casefold()
        return next((a for a in self.areas if a.name.casefold() == key), None)

    def contract_of(self, client: Client | None) -> Contract | None:
        if client is None:
            return None
        if client.contract:
            return self.contract(client.contract)
        return next((c for c in self.contracts if c.client.casefold() == client.name.casefold()), None)

    def client_for(self, *, email: str | None = None, telegram_user: int | None = None) -> Client | None:
        """The client a sender belongs to: an exact address first, then the email domain (a
        subdomain counts), then the Telegram user id."""
        if email:
            address = email.strip().lower()
            found = self._by_address.get(address)
            if found is not None:
                return found
            domain = address.rpartition("@")[2]
            while domain:
                found = self._by_domain.get(domain)
                if found is not None:
                    return found
                domain = domain.partition(".")[2]
        if telegram_user is not None:
            return self._by_telegram.get(telegram_user)
        return None

    def terms_for(self, *, email: str | None = None, telegram_user: int | None = None) -> ContractTerms | None:
        """The ANS terms a sender's PQRs follow, or None (the law only)."""
        contract = self.contract_of(self.client_for(email=email, telegram_user=telegram_user))
        return contract.terms if contract else None
