"""The figures `/metrics` exposes about the work, read in one read-only transaction: inbound
messages by channel and outcome (the dispositions of the raw messages kept by intake and the web
form), outbox and inbox depth by status, and open and breached PQRs.

Outbox depth counts the rows still owed a delivery (`pending`) and those given up on (`dead`);
sent rows are history, not depth. Inbox depth counts the inbound mail still to file (`pending`)
and what failed to file (`failed`, until `pqrbot inbox retry`); filed items are history. Both are
exact counts on the status indexes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.pqrs.service import PqrService

INBOUND_CHANNELS = ("email", "telegram", "web")
OTHER = "other"                 # raw messages of any other channel
OUTBOX_STATUSES = ("pending", "dead")
INBOX_STATUSES = ("pending", "failed")


@dataclass(frozen=True)
class WorkFigures:
    """`inbound[(channel, outcome)]`, `outbox[status]`, `inbox[status]`, open PQRs and open PQRs
    past due."""

    inbound: dict[tuple[str, str], int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    open_pqrs: int = 0
    breached_open: int = 0
    inbox: dict[str, int] = field(default_factory=dict)


async def work_figures(service: PqrService, *, now: dt.datetime) -> WorkFigures:
    """The figures as of `now` (breached: open PQRs whose due date is before `now`)."""
    async with service.db.uow(readonly=True) as uow:
        inbound: dict[tuple[str, str], int] = {}
        for channel in INBOUND_CHANNELS:
            for outcome, n in (await uow.mail.raw_counts(channel=channel)).items():
                inbound[(channel, outcome)] = n
        for outcome, n in (await uow.mail.raw_counts()).items():
            rest = n - sum(v for (_, o), v in inbound.items() if o == outcome)
            if rest > 0:
                inbound[(OTHER, outcome)] = rest
        outbox = await uow.outbox.depth_by_status(OUTBOX_STATUSES)
        inbox = await uow.inbox.depth_by_status(INBOX_STATUSES)
        stats = await uow.pqrs.stats(now)
    return WorkFigures(inbound=inbound, outbox=outbox, open_pqrs=stats.open_total, breached_open=stats.breached,
                       inbox=inbox)
