"""A page of PQRs and how many match in all, read in one read-only transaction: the staff queue
(a filter built by the command layer) and the REST API (`GET /api/v1/pqrs`, by plain values:
channels never import storage)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.pqrs.service import PqrService
from domain.pqr import Pqr
from domain.pqr_types import PqrType, Status
from storage.ports import PqrFilter


@dataclass(frozen=True)
class PqrPage:
    """One page of the PQRs that match (with their messages and events when asked), and how many
    match in all."""

    items: list[Pqr]
    total: int


async def listing(service: PqrService, flt: PqrFilter, *, details: bool = False) -> PqrPage:
    """The PQRs `flt` picks (its limit and offset; by due date then id) and the count of all that
    match, in one transaction. The page is not read when the offset is past the end.

    A listing of the open PQRs (the queue's and the API's default) is a short read: the partial
    indexes bound it by the open backlog. Any other states are read off the loop: no index
    bounds them (`status:cerrada` scans every PQR, ~45 ms at 100k)."""
    async with service.db.uow(readonly=True, short=flt.statuses is None) as uow:
        total = await uow.pqrs.count(flt)
        items = await uow.pqrs.list(flt, details=details) if flt.offset < total else []
    return PqrPage(items=items, total=total)


async def pqr_page(service: PqrService, *, now: dt.datetime, statuses: tuple[Status, ...] | None = None,
                   pqr_type: PqrType | None = None, area: str | None = None, client: str | None = None,
                   breached: bool | None = None, page: int = 1, per_page: int = 20) -> PqrPage:
    """Page `page` (from 1) of `per_page` PQRs, by due date then id, with their messages and
    events. `statuses`: None for the open states, () for all. `breached`: True for those past due
    at `now`, False for the others. The client is the contract's client, compared
    case-insensitively (as the indicators do)."""
    flt = PqrFilter(statuses=statuses, due_before=now if breached else None,
                    due_from=now if breached is False else None, area=area,
                    type=pqr_type.value if pqr_type else None, client=client,
                    limit=per_page, offset=(page - 1) * per_page)
    return await listing(service, flt, details=True)
