"""The scheduler: the leader instance queues due SLA alerts every tick and, once a business day,
the digest. Leadership is a lease in the database, kept on the wall clock (leases are
infrastructure; the SLA work uses the business clock, which tests may fix).

The lease is short and renewed well before it ends, and the other instances try to take it more
often than the leader works, so a killed leader is replaced within `lease + standby` seconds (35
with the defaults) and one stopped cleanly hands over at once. Two leaders at once (a paused
process whose lease ran out) cannot send anything twice: each alert is recorded in `sla_alerts`
in the transaction that queues it, and the digest's outbox rows carry a per-day dedupe key.
Other periodic work (the scheduled reports) is registered as `jobs`, run after the digest, each
keeping its own exactly-once the same way."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.sla.alerts import SlaAlerter
from bot.clock import Clock, system_clock
from bot.config import Config
from bot.sla.digest import MAX_ITEMS_PER_SECTION, digest_due, queue_digest
from bot.pqrs.service import PqrService
from bot.review.notices import ReviewNotices
from storage.ports import Database

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
STOP_GRACE_SECONDS = 5.0
"""How long a clean stop waits for a work pass in progress before cancelling it (its
transaction rolls back; the next leader does that work again)."""


def instance_id() -> str:
    """Who holds the lease: host and pid (for operators reading the log), plus a random part, so
    two containers that share a hostname and both run as pid 1 are still two holders."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Job(Protocol):
    """Periodic work the leader runs on every tick (bot.reports.schedule.ScheduledReports):
    `run(now)` queues what is due and returns the outbox rows it queued."""

    name: str

    async def run(self, now: dt.datetime) -> int: ...


@dataclass
class TickResult:
    leader: bool
    alerts: int = 0
    digest_rows: int = 0
    jobs: dict[str, int] = field(default_factory=dict)     # rows queued by each job


class Scheduler:
    """Keeps (or waits for) the lease and, while it holds it, runs the periodic work."""

    def __init__(self, db: Database, config: Config, service: PqrService, clock: Clock, *,
                 holder: str | None = None, wall_clock: Clock = system_clock, jobs: Sequence[Job] = (),
                 review: ReviewNotices | None = None) -> None:
        self.db = db
        self.config = config
        self.service = service
        self.clock = clock
        self.wall_clock = wall_clock
        self.holder = holder or instance_id()
        self.jobs = tuple(jobs)
        self.alerter = SlaAlerter(db, config, service.calendar, review=review)
        cfg = config.scheduler
        self.ttl = dt.timedelta(seconds=cfg.lease_seconds)
        # A third of the lease at most: a leader misses two renewals before it loses the lease,
        # and a follower looks at least three times per lease.
        self.renew_every = min(cfg.renew_seconds, cfg.lease_seconds / 3)
        self.standby_every = min(cfg.standby_seconds, cfg.lease_seconds / 3)
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
        """One pass: take or renew the lease, then (as leader) the work."""
        if not await self.elect():
            return TickResult(leader=False)
        return await self.work()

    async def work(self) -> TickResult:
        """The leader's work: alerts due now, today's digest if its time has come, then the jobs."""
        now = self.clock()
        result = TickResult(leader=True, alerts=await self.alerter.run(now))
        cal = self.service.calendar
        today = cal.local(now).date()
        if self._digest_day != today and digest_due(self.config, cal, now):
            digest = await self.service.digest(now, limit=MAX_ITEMS_PER_SECTION)
            result.digest_rows = await queue_digest(self.db, self.config, cal, digest)
            self._digest_day = today
            log.info("scheduler: digest for %s queued to %d destination(s)", today, result.digest_rows)
        for job in self.jobs:        # one failing job does not keep the others from running
            try:
                result.jobs[job.name] = await job.run(now)
            except Exception:
                log.exception("scheduler: job %s failed", job.name)
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: renew the lease every `renew_every` seconds as leader (try to take it
        every `standby_every` as follower) and, while leading, work every tick_seconds, starting
        the moment leadership begins. The work runs beside the renewals, so a long pass does not
        let the lease lapse. On the way out the lease is released at once."""
        loop = asyncio.get_running_loop()
        work: asyncio.Task[None] | None = None
        due = 0.0          # loop time of the next work pass while leading
        try:
            while not stop.is_set():
                was_leader = self.leader
                try:
                    leader = await self.elect()
                except Exception as exc:
                    log.warning("scheduler: could not take or renew the lease: %s", exc)
                    leader = self.leader = False
                if leader and not was_leader:
                    due = loop.time()
                if leader and (work is None or work.done()) and loop.time() >= due:
                    due = loop.time() + self.config.scheduler.tick_seconds
                    work = asyncio.create_task(self._logged_work(), name="scheduler-work")
                wait = self.standby_every
                if leader:      # past `due` only while a long pass still runs: then renew as usual
                    until_due = due - loop.time()
                    wait = min(self.renew_every, until_due) if until_due > 0 else self.renew_every
                try:
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                except TimeoutError:
                    pass
        finally:
            if work is not None and not work.done():
                await asyncio.wait([work], timeout=STOP_GRACE_SECONDS)
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            if self.leader:
                await self.release()

    async def release(self) -> None:
        """Give the lease up, so a follower takes it at its next try instead of when it ends."""
        try:
            async with self.db.uow() as uow:
                await uow.leases.release(LEASE_NAME, self.holder)
                await uow.commit()
            self.leader = False
            log.info("scheduler: released the lease (%s)", self.holder)
        except Exception:
            log.exception("could not release the scheduler lease")

    async def _logged_work(self) -> None:
        try:
            await self.work()
        except Exception:
            log.exception("scheduler work failed")
