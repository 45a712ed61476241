"""`POST /api/v1/pqrs` with an `Idempotency-Key`: a client that retries a filing (a timeout, a
lost answer) with the same key and the same token within `WINDOW` gets the PQR its first request
filed, not a second PQR. The key is kept as an inbound key (channel `api`, `<token name>:<sha256
of the key>`) linked to the PQR, in the filing's own transaction: two requests racing with one
key file once (the second waits on the key's row, then finds the PQR). A filing that fails keeps
no key, so its retry files. After `WINDOW` the key may file again."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from bot.pqrs.service import FilingRequest, PqrService
from domain.pqr import Pqr

CHANNEL = "api"
WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class ApiFiled:
    """The PQR the request stands for; `replayed` when an earlier request with its key filed it
    (it is then shown as it is now)."""

    pqr: Pqr
    replayed: bool = False


def key_of(caller: str, key: str) -> str:
    """The stored form of a client's key: whose token, and the key's sha256 (any length in)."""
    return f"{caller}:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()}"


async def file_once(service: PqrService, req: FilingRequest, *, caller: str, key: str | None,
                    now: dt.datetime) -> ApiFiled:
    """File `req` unless `caller` filed with `key` within `WINDOW` of `now`. DomainError as
    `PqrService.file`."""
    if key is None:
        pqr = await service.file(req)
        assert pqr is not None          # None only for a repeated inbound key, which this sets none of
        return ApiFiled(pqr)
    stored = key_of(caller, key)
    async with service.db.uow() as uow:
        if not await uow.inbound.remember(CHANNEL, stored, now=now):
            found = await uow.inbound.filed_for(CHANNEL, stored)
            if found is not None and found[1] is not None and found[0] <= now < found[0] + WINDOW:
                first = await uow.pqrs.get(found[1])
                if first is not None:
                    return ApiFiled(first, replayed=True)      # nothing written: rolled back
            await uow.inbound.renew(CHANNEL, stored, now=now)   # lapsed, or its PQR is gone
        pqr = await service.file_in(uow, req)
        assert pqr is not None and pqr.id is not None
        await uow.inbound.link_pqr(CHANNEL, stored, pqr.id)
        await uow.commit()
    return ApiFiled(pqr)
