"""A page of PQRs chosen by plain values (state, type, area, client, breached), for callers that
may not build storage's filter themselves: the REST API (`GET /api/v1/pqrs`; channels never
import storage)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from bot.pqrs.service import PqrService
from domain.pqr import Pqr
from domain.pqr_types import PqrType, Status
from storage.ports import PqrFilter


@dataclass(frozen=True)
class PqrPage:
    """One page of the PQRs that match, with their messages and events, and how many match in all."""

    items: list[Pqr]
    total: int


async def pqr_page(service: PqrService, *, now: dt.datetime, statuses: tuple[Status, ...] | None = None,
                   pqr_type: PqrType | None = None, area: str | None = None, client: str | None = None,
                   breached: bool | None = None, page: int = 1, per_page: int = 20) -> PqrPage:
    """Page `page` (from 1) of `per_page` PQRs, by due date then id. `statuses`: None for the open
    states, () for all. `breached`: True for those past due at `now`, False for the others. The
    client is the contract's client, compared case-insensitively (as the indicators do)."""
    flt = PqrFilter(statuses=statuses, due_before=now if breached else None,
                    due_from=now if breached is False else None, area=area,
                    type=pqr_type.value if pqr_type else None)
    offset = (page - 1) * per_page
    if client is None:
        total = await service.count(flt)
        items = await service.list(dataclasses.replace(flt, limit=per_page, offset=offset), details=True) \
            if offset < total else []
        return PqrPage(items=items, total=total)
    # Storage's filter has no client condition: match it on the listing (without details), then
    # load the page's PQRs whole.
    wanted = client.strip().casefold()
    matching = [p for p in await service.list(flt) if (p.client or "").casefold() == wanted]
    chosen = matching[offset:offset + per_page]
    return PqrPage(items=[await service.show(p.radicado) for p in chosen if p.radicado], total=len(matching))
