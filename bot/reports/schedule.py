"""Scheduled reports (config `reports.schedule`): each entry's report goes out once per period,
with its XLSX and PDF, on day `day` of the month after the period ends (a day that is not a
business day moves to the next business day), to every destination the entry lists.

The scheduler's leader runs `ScheduledReports.run(now)` on every tick. For each entry it looks
at one period only, the latest whose send day has come: when some destination has no row for it
yet, the report is generated (the files rendered and stored in `report_files`) and one outbox
row per missing destination is queued, in one transaction. So a run missed while the service
was down goes out when it comes back, a fresh install sends only the latest period (never the
history before it), and a destination added later gets the latest report too.

Exactly once: each row carries the dedupe key `report:{report}:{client or '-'}:{period}:{to}`,
so two leaders that overlap (a paused process whose lease ran out) queue it once; the loser's
transaction, having queued nothing, rolls back with the files it stored."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config, ReportSchedule
from bot.i18n import t
from bot.i18n.formats import format_local_date
from bot.ports.payloads import ReportDelivery, ReportFileRef
from bot.reports.document import render_pdf
from bot.reports.service import ReportService
from bot.reports.workbook import write_workbook
from domain.calendar import BusinessCalendar
from domain.errors import NotFound
from domain.files import FileData
from domain.periods import Period
from storage.ports import Database, IndicatorSlice, OutboxItem

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
KEY_LIMIT = 400        # the outbox's dedupe_key column
RETRY_AFTER = dt.timedelta(minutes=15)
"""How long a report that failed to generate waits before the next try (each try costs seconds)."""


# -- when: pure rules on the calendar ------------------------------------------------------------

def send_day(period: Period, day: int, calendar: BusinessCalendar) -> dt.date:
    """The day `period`'s report goes out: day `day` of the month after it ends, or the next
    business day when that one is not."""
    nominal = dt.date(period.end.year, period.end.month, day)
    return nominal if calendar.is_business_day(nominal) else calendar.next_business_day(nominal)


def latest_due(every: str, day: int, today: dt.date, calendar: BusinessCalendar) -> Period:
    """The latest period of kind `every` whose send day is `today` or before."""
    period = Period.of(every, today).previous()
    return period if send_day(period, day, calendar) <= today else period.previous()


@dataclass(frozen=True)
class Run:
    """One report to generate: `report` (monthly | client) of `client` for `period`, to the
    destinations `to` (`email:ADDRESS`, `slack:CHANNEL`) of every entry that asks for it."""

    report: str
    client: str | None
    period: Period
    to: tuple[str, ...]

    def key(self, to: str) -> str:
        """The outbox dedupe key of this run's row for destination `to`."""
        key = f"report:{self.report}:{self.client or '-'}:{self.period.label}:{to}"
        if len(key) <= KEY_LIMIT:
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{key[:KEY_LIMIT - len(digest) - 1]}#{digest}"


def slug(name: str) -> str:
    """A file-name-safe form of a client name: `Acme S.A.S.` → `acme-s-a-s`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80] or "cliente"


# -- what: documents and files -------------------------------------------------------------------

async def render_files(kind: str, doc: dict[str, Any], name: str, *, lang: str, calendar: BusinessCalendar,
                       detail: AsyncIterator[tuple[Any, ...]] | None, now: dt.datetime) -> list[FileData]:
    """The report's XLSX (with the detail sheet) and PDF (generated `now`, as its cover says) as
    bytes, named `name.xlsx` / `name.pdf`. The PDF is drawn in a worker thread (CPU-bound)."""
    with tempfile.TemporaryDirectory(prefix="pqrbot-report-") as folder:
        path = Path(folder) / f"{name}.xlsx"
        await write_workbook(kind, doc, path, lang=lang, tz=calendar.tz, detail=detail)
        xlsx = await asyncio.to_thread(path.read_bytes)
    pdf = await asyncio.to_thread(lambda: render_pdf(kind, doc, lang=lang, tz=calendar.tz, generated_at=now))
    return [FileData(f"{name}.xlsx", XLSX, xlsx), FileData(f"{name}.pdf", PDF, pdf)]


class ScheduledReports:
    """The scheduler's report job (`name`, `run(now)`): queue every due report not queued yet."""

    name = "reports"

    def __init__(self, db: Database, config: Config, reports: ReportService, calendar: BusinessCalendar, *,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        self.config = config
        self.reports = reports
        self.calendar = calendar
        self.on_commit = on_commit          # wakes the outbox worker
        self._said: set[str] = set()        # problems already logged (at most once per process)
        self._retry_at: dict[str, dt.datetime] = {}     # failed runs: not before then

    # -- the job ---------------------------------------------------------------------------------
    async def run(self, now: dt.datetime) -> int:
        """Generate and queue the due reports that some destination still lacks; the rows queued.
        A report that fails is logged and tried again `RETRY_AFTER` later; the others go on."""
        runs = await self.due(self.calendar.local(now).date())
        if not runs:
            return 0
        async with self.db.uow(readonly=True) as uow:
            queued = await uow.report_files.queued([r.key(to) for r in runs for to in r.to])
        total = 0
        for run in runs:
            missing = tuple(to for to in run.to if run.key(to) not in queued)
            failed = run.key("")
            if not missing or now < self._retry_at.get(failed, now):
                continue
            try:
                total += await self.deliver(run, missing, now)
                self._retry_at.pop(failed, None)
                self._said.discard(failed)
            except Exception:
                self._retry_at[failed] = now + RETRY_AFTER
                self._once(failed, logging.ERROR, "scheduled report %s %s %s could not be generated; "
                           "trying again in %s", run.report, run.client or "-", run.period.label, RETRY_AFTER,
                           exc_info=True)
        return total

    async def due(self, today: dt.date) -> list[Run]:
        """The runs whose send day has come as of `today`: for each entry its latest period, one
        run per client for `client: "*"`; entries asking for the same report share one run."""
        merged: dict[tuple[str, str | None, str], Run] = {}
        for entry in self.config.reports.schedule:
            to = tuple(d for d in entry.to if self._enabled(d))
            if not to:
                continue
            if entry.report == "monthly" and entry.every != "month":
                self._once(f"every:{entry.every}", logging.WARNING,
                           "reports.schedule: the monthly report is sent every month (every: %s ignored)",
                           entry.every)
            every = "month" if entry.report == "monthly" else entry.every
            period = latest_due(every, entry.day, today, self.calendar)
            for client in await self._clients(entry):
                run = Run(entry.report, client, period, to)
                known = merged.get((run.report, client, period.label))
                if known is not None:
                    run = Run(run.report, client, period, known.to + tuple(d for d in to if d not in known.to))
                merged[(run.report, client, period.label)] = run
        return list(merged.values())

    async def deliver(self, run: Run, to: tuple[str, ...], now: dt.datetime) -> int:
        """Generate `run`'s report, store its files and queue a row for each destination in `to`
        (one transaction); the rows queued (0 when another leader got there first)."""
        lang = self.config.language
        files = await self._files(run, lang, now)
        period, client = run.period, run.client
        values = {"period": period.label, "client": client or "",
                  "start": format_local_date(period.start, lang),
                  "end": format_local_date(period.end - dt.timedelta(days=1), lang)}
        queued = 0
        async with self.db.uow() as uow:
            refs = [ReportFileRef(file_id=await uow.report_files.add(f, now=now), filename=f.filename,
                                  content_type=f.content_type) for f in files]
            payload = ReportDelivery(report=run.report, period=period.label, client=client, language=lang,
                                     subject=t(lang, f"schedule.subject.{run.report}", **values),
                                     text=t(lang, f"schedule.text.{run.report}", **values), files=refs).stored()
            for destination in to:
                channel, _, address = destination.partition(":")
                item = OutboxItem(channel=channel, destination=address, payload=payload,
                                  dedupe_key=run.key(destination))
                await uow.outbox.put(item, now=now)
                queued += item.id is not None
            if queued:          # else the files go with the rollback
                await uow.commit()
        if queued:
            log.info("scheduler: %s report %s%s queued to %d destination(s)", run.report, period.label,
                     f" of {client}" if client else "", queued)
            if self.on_commit is not None:
                self.on_commit()
        return queued

    # -- helpers ---------------------------------------------------------------------------------
    async def _files(self, run: Run, lang: str, now: dt.datetime) -> list[FileData]:
        period = run.period
        if run.report == "monthly":
            doc, flt = await self.reports.monthly(period), IndicatorSlice()
            name = t(lang, "schedule.file.monthly", period=period.label)
        else:
            assert run.client is not None
            doc, flt = await self.reports.client(run.client, period), IndicatorSlice(client=run.client)
            name = t(lang, "schedule.file.client", client=slug(run.client), period=period.label)
        detail = self.reports.indicators.detail(period.start, period.end, flt)
        return await render_files(run.report, doc, name, lang=lang, calendar=self.calendar, detail=detail,
                                  now=now)

    async def _clients(self, entry: ReportSchedule) -> list[str | None]:
        """The clients an entry reports on, named as the contract files name them: every client
        for "*", else the one named (an unknown name is logged once and skipped)."""
        if entry.report == "monthly":
            return [None]
        if entry.client == "*":
            return [c.name for c in await self.reports.clients()]
        assert entry.client is not None
        try:
            return [(await self.reports.client_of(entry.client)).name]
        except NotFound:
            self._once(f"client:{entry.client}", logging.WARNING,
                       "reports.schedule: no client %r in the contract files; its report is not sent", entry.client)
            return []

    def _enabled(self, destination: str) -> bool:
        """A row for a disabled channel would never leave the outbox: such destinations are
        skipped (and said once)."""
        channel = destination.partition(":")[0]
        enabled = {"email": self.config.channels.email.enabled, "slack": self.config.channels.slack.enabled}
        if not enabled.get(channel, False):
            self._once(f"disabled:{destination}", logging.WARNING,
                       "reports.schedule: %s is skipped, channels.%s is not enabled", destination, channel)
            return False
        return True

    def _once(self, key: str, level: int, msg: str, *args: Any, exc_info: bool = False) -> None:
        if key not in self._said:
            self._said.add(key)
            log.log(level, msg, *args, exc_info=exc_info)
        elif exc_info:
            log.debug(msg, *args, exc_info=True)
