"""The scheduler: every tick the leader instance queues due SLA alerts and, once a business day,
the digest. Leadership is a lease in the database, renewed each tick on the wall clock (leases
are infrastructure; the SLA work uses the business clock, which tests may fix)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass

from bot.sla.alerts import SlaAlerter
from bot.clock import Clock, system_clock
from bot.config import Config
from bot.sla.digest import MAX_ITEMS_PER_SECTION, digest_due, queue_digest
from bot.pqrs.service import PqrService
from storage.ports import Database

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


def instance_id() -> str:
    """Who holds the lease: host and pid (for operators reading the log), plus a random part, so
    two containers that share a hostname and both run as pid 1 are still two holders."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class TickResult:
    leader: bool
    alerts: int = 0
    digest_rows: int = 0


class Scheduler:
    """Runs the periodic work on the instance that holds the lease."""

    def __init__(self, db: Database, config: Config, service: PqrService, clock: Clock, *,
                 holder: str | None = None, wall_clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.service = service
        self.clock = clock
        self.wall_clock = wall_clock
        self.holder = holder or instance_id()
        self.alerter = SlaAlerter(db, config, service.calendar)
        self.ttl = dt.timedelta(seconds=config.scheduler.lease_seconds)
        self.leader = False
        self._digest_day: dt.date | None = None

    async def elect(self) -> bool:
        """Take or renew the lease; logs leadership changes."""
        async with self.db.uow() as uow:
            leader = await uow.leases.acquire(LEASE_NAME, self.holder, now=self.wall_clock(), ttl=self.ttl)
            await uow.commit()
        if leader != self.leader:
            log.info("scheduler: %s leader (%s)", "became" if leader else "no longer", self.holder)
        self.leader = leader
        return leader

    async def tick(self) -> TickResult:
        """One pass: alerts due now, and today's digest if its time has come."""
        if not await self.elect():
            return TickResult(leader=False)
        now = self.clock()
        result = TickResult(leader=True, alerts=await self.alerter.run(now))
        cal = self.service.calendar
        today = cal.local(now).date()
        if self._digest_day != today and digest_due(self.config, cal, now):
            digest = await self.service.digest(now, limit=MAX_ITEMS_PER_SECTION)
            result.digest_rows = await queue_digest(self.db, self.config, cal, digest)
            self._digest_day = today
            log.info("scheduler: digest for %s queued to %d destination(s)", today, result.digest_rows)
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop`; a failed tick is logged and retried next time."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("scheduler tick failed")
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.config.scheduler.tick_seconds)
                except TimeoutError:
                    pass
        finally:
            if self.leader:
                try:
                    async with self.db.uow() as uow:
                        await uow.leases.release(LEASE_NAME, self.holder)
                        await uow.commit()
                except Exception:
                    log.exception("could not release the scheduler lease")
