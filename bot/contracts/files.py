"""Contract files (YAML) validated into a `ContractRegistry`. Errors name the file and the key path,
e.g. `contracts/acme.yaml: clients.0.contract.targets.reclamo.resolution: use 8h or 5d`."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.contracts import Area, Client, Contact, Contract, ContractRegistry, PenaltyClause, Segment
from domain.errors import InvalidInput
from domain.penalty import PenaltyCategory, parse_amount, parse_currency
from domain.pqr_types import PqrType
from domain.terms import ContractTerms, Target, Unit

_TARGET = re.compile(r"^\s*(\d+)\s*([hd])\s*$", re.IGNORECASE)


class ContractsError(Exception):
    """A contract file cannot be used; one line per problem, each naming the file and key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _target(value: str | None) -> Target | None:
    if value is None:
        return None
    m = _TARGET.match(str(value))
    if not m or int(m.group(1)) <= 0:
        raise ValueError("use business hours or days, e.g. 8h or 5d")
    return Target(int(m.group(1)), Unit.HOURS if m.group(2).lower() == "h" else Unit.DAYS)


class TargetsSpec(_Model):
    first_response: str | None = None
    resolution: str | None = None

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _valid(cls, v: Any) -> Any:
        _target(None if v is None else str(v))
        return None if v is None else str(v)


class ClauseSpec(_Model):
    category: PenaltyCategory
    description: str = ""
    amount: Decimal | None = None
    currency: str = "COP"

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, float):
            raise ValueError('write the amount as a quoted string, e.g. "1500000.50"')
        try:
            return parse_amount(str(v))
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        try:
            return parse_currency(v)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None


class ContractSpec(_Model):
    name: str = Field(min_length=1)
    pauses_when_waiting: bool = False
    targets: dict[PqrType, TargetsSpec] = Field(default_factory=dict)
    penalties: tuple[ClauseSpec, ...] = ()


class ContactSpec(_Model):
    name: str | None = None
    email: str | None = None
    telegram_user: int | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and "@" not in v:
            raise ValueError(f"not an email address: {v}")
        return v.strip().lower() if v else None


class ClientSpec(_Model):
    name: str = Field(min_length=1)
    nit: str | None = None
    segment: Segment = Segment.B2B
    email_domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    telegram_users: tuple[int, ...] = ()
    notify_emails: tuple[str, ...] = ()
    contacts: tuple[ContactSpec, ...] = ()
    account_area: str | None = None
    contract: ContractSpec | None = None

    @field_validator("addresses", "notify_emails")
    @classmethod
    def _emails(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in v if "@" not in a]
        if bad:
            raise ValueError(f"not email addresses: {', '.join(bad)}")
        return tuple(a.strip().lower() for a in v)

    @field_validator("email_domains")
    @classmethod
    def _domains(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in v if "@" in d.lstrip("@") or "." not in d]
        if bad:
            raise ValueError(f"not domains (e.g. cliente.com.co): {', '.join(bad)}")
        return tuple(d.strip().lower().lstrip("@") for d in v)


class AreaSpec(_Model):
    name: str = Field(min_length=1)
    slack_channel: str | None = None
    slack_user: str | None = None
    emails: tuple[str, ...] = ()


class ContractFile(_Model):
    clients: tuple[ClientSpec, ...] = ()
    areas: tuple[AreaSpec, ...] = ()


def _contract(spec: ContractSpec, client: str) -> Contract:
    resolution = {t: tg for t, s in spec.targets.items() if (tg := _target(s.resolution)) is not None}
    first = {t: tg for t, s in spec.targets.items() if (tg := _target(s.first_response)) is not None}
    terms = ContractTerms(contract=spec.name, client=client, resolution=resolution, first_response=first,
                          pauses_when_waiting=spec.pauses_when_waiting)
    clauses = tuple(PenaltyClause(c.category, c.description, c.amount, c.currency) for c in spec.penalties)
    return Contract(name=spec.name, client=client, terms=terms, clauses=clauses)


def parse_documents(docs: list[tuple[str, Any]]) -> ContractRegistry:
    """A registry from already-loaded documents, each `(source name, data)`. Names must be
    unique across files (case-insensitive)."""
    problems: list[str] = []
    clients: list[Client] = []
    contracts: list[Contract] = []
    areas: list[Area] = []
    seen: dict[tuple[str, str], str] = {}

    def unique(kind: str, name: str, where: str) -> None:
        key = (kind, name.casefold())
        if key in seen:
            problems.append(f"{where}: {kind} {name!r} is defined twice (also in {seen[key]})")
        seen[key] = where

    for source, data in docs:
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{source}: the top level must be a mapping with clients: and areas:")
            continue
        try:
            f = ContractFile.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"]) or "(root)"
                msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                problems.append(f"{source}: {path}: {msg}")
            continue
        for i, c in enumerate(f.clients):
            unique("client", c.name, f"{source}: clients.{i}")
            contract = _contract(c.contract, c.name) if c.contract else None
            if contract:
                unique("contract", contract.name, f"{source}: clients.{i}.contract")
                contracts.append(contract)
            clients.append(Client(name=c.name, nit=c.nit, segment=c.segment, email_domains=c.email_domains,
                                  addresses=c.addresses, telegram_users=c.telegram_users,
                                  contract=contract.name if contract else None, notify_emails=c.notify_emails,
                                  contacts=tuple(Contact(x.name, x.email, x.telegram_user) for x in c.contacts),
                                  account_area=c.account_area))
        for i, a in enumerate(f.areas):
            unique("area", a.name, f"{source}: areas.{i}")
            areas.append(Area(name=a.name, slack_channel=a.slack_channel, slack_user=a.slack_user,
                              emails=tuple(e.strip().lower() for e in a.emails)))
    if problems:
        raise ContractsError("\n".join(problems))
    return ContractRegistry(clients=tuple(clients), contracts=tuple(contracts), areas=tuple(areas))


def read_files(paths: list[str] | tuple[str, ...]) -> list[tuple[str, Any]]:
    """Load the YAML documents of `paths` (relative paths: from the working directory)."""
    docs: list[tuple[str, Any]] = []
    problems: list[str] = []
    for name in paths:
        try:
            docs.append((name, yaml.safe_load(Path(name).read_text(encoding="utf-8"))))
        except OSError as exc:
            problems.append(f"{name}: cannot read the contract file ({exc.strerror})")
        except yaml.YAMLError as exc:
            problems.append(f"{name}: not valid YAML: {exc}")
    if problems:
        raise ContractsError("\n".join(problems))
    return docs


def load_files(paths: list[str] | tuple[str, ...]) -> ContractRegistry:
    """Read and validate contract files into one registry."""
    return parse_documents(read_files(paths))
