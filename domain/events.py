"""What happened to a PQR: one small record per change, kept forever as the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Event:
    """An audit-trail entry: who did what, when, from which state to which, and why.
    Loaded from storage every entry is a plain `Event`; the subclasses only fix `kind`."""

    kind: str = "event"
    actor: str
    at: dt.datetime
    from_: str | None = None
    to: str | None = None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Set by storage once the entry is stored: entries without one are new.
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True)
class PqrFiled(Event):
    kind: str = "filed"


@dataclass(frozen=True, kw_only=True)
class PqrAssigned(Event):
    kind: str = "assigned"


@dataclass(frozen=True, kw_only=True)
class StatusChanged(Event):
    kind: str = "status_changed"


@dataclass(frozen=True, kw_only=True)
class MessageAdded(Event):
    kind: str = "message"


@dataclass(frozen=True, kw_only=True)
class DueDateExtended(Event):
    kind: str = "extended"


@dataclass(frozen=True, kw_only=True)
class ActionRefused(Event):
    kind: str = "refused"


@dataclass(frozen=True, kw_only=True)
class CauseSet(Event):
    """The PQR's cause (`to`, the previous one in `from_`), and its area in `data` when set."""

    kind: str = "cause_set"
