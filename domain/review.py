"""Answer approval: which final answers a manager approves before they go out (config
`approval`), the draft a PQR keeps while it waits in `en_revision`, and the refusals of a
decision that comes too late or about an earlier draft."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import DomainError

ANY = "*"


@dataclass(frozen=True)
class ApprovalPolicy:
    """The PQR types and the contract clients whose final answers wait for a manager. `*` in
    `types` covers every PQR; `*` in `clients` covers every PQR filed under a client's contract.
    Client names compare case-insensitively. Empty (the default): no answer waits."""

    types: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()

    @classmethod
    def of(cls, types: Iterable[str] = (), clients: Iterable[str] = ()) -> ApprovalPolicy:
        return cls(frozenset(t.strip().lower() for t in types),
                   frozenset(c.strip().casefold() for c in clients))

    def covers(self, pqr_type: str, client: str | None) -> bool:
        if ANY in self.types or pqr_type in self.types:
            return True
        if client is None:
            return False
        return ANY in self.clients or client.strip().casefold() in self.clients


@dataclass(frozen=True)
class Draft:
    """The final answer waiting for approval: the `number`-th draft of the PQR (a card names it,
    so a press on the card of an earlier draft is recognised), its text, who wrote it, when."""

    number: int
    text: str
    drafter: str
    at: dt.datetime


@dataclass(frozen=True)
class ReviewDecision:
    """The last decision on a draft: `approved` or `returned`, by whom, when."""

    decision: str
    by: str
    at: dt.datetime


class NotInReview(DomainError):
    """Approve or return on a PQR that has no draft waiting (already decided, or never sent for
    approval): nothing changes. `last` is the last decision, when there was one."""

    def __init__(self, radicado: str, status: str, last: ReviewDecision | None = None) -> None:
        super().__init__(f"{radicado} is not awaiting approval ({status})")
        self.radicado = radicado
        self.status = status
        self.last = last


class StaleDraft(DomainError):
    """A decision about draft `number` while draft `current` is the one waiting (a card drawn
    before the answer was returned and drafted again): nothing changes."""

    def __init__(self, radicado: str, number: int, current: int) -> None:
        super().__init__(f"{radicado}: draft {number} is not the one waiting (draft {current})")
        self.radicado = radicado
        self.number = number
        self.current = current


class AwaitingApproval(DomainError):
    """A change the workflow does not allow while the final answer waits for a manager (close,
    another state): approve or return it first."""

    def __init__(self, radicado: str) -> None:
        super().__init__(f"{radicado} is awaiting approval")
        self.radicado = radicado
