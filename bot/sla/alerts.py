"""Near-breach and breach alerts: once per PQR, kind and due date, to the assignee and the triage
channel, through the outbox. The `sla_alerts` row and the outbox rows are written in one
transaction, so an alert is never lost nor queued twice, across restarts and instances."""

from __future__ import annotations

import datetime as dt
import logging

from bot.config import Config
from bot.i18n import t
from bot.i18n.formats import format_local_datetime
from bot.ports.payloads import Alert
from bot.review.notices import ReviewNotices
from domain.calendar import BusinessCalendar
from domain.customer import reachable
from domain.pqr import SlaState, sla_windows
from domain.pqr_types import Status
from storage.ports import AlertCandidate, Database, OutboxItem, PqrFilter

log = logging.getLogger(__name__)

KINDS = (SlaState.BREACHED, SlaState.NEAR_BREACH)
REVIEW_ALERT = "review_due"      # the sla_alerts kind of a draft waiting near its due date


def staff_destinations(config: Config, identity: str | None) -> list[tuple[str, str]]:
    """Where a staff identity can be reached on the enabled channels: `slack:U1` → Slack DM,
    `telegram:1001` → that chat, `email:a@b.co` → mail."""
    target = reachable(identity) if identity else None
    enabled = {"slack": config.channels.slack.enabled, "telegram": config.channels.telegram.enabled,
               "email": config.channels.email.enabled}
    return [target] if target is not None and enabled[target[0]] else []


class SlaAlerter:
    """Queues the alerts that became due as of `now`; with `review`, also the managers' alert
    for a draft awaiting approval while its PQR nears (or passed) its due date."""

    def __init__(self, db: Database, config: Config, calendar: BusinessCalendar, *, batch: int = 500,
                 review: ReviewNotices | None = None) -> None:
        self.db = db
        self.config = config
        self.calendar = calendar
        self.batch = batch
        self.review = review

    def destinations(self, c: AlertCandidate) -> list[tuple[str, str]]:
        targets = staff_destinations(self.config, c.assignee)
        slack = self.config.channels.slack
        if slack.enabled and slack.triage_channel and ("slack", slack.triage_channel) not in targets:
            targets.append(("slack", slack.triage_channel))
        return targets

    def text(self, c: AlertCandidate, kind: SlaState) -> str:
        lang = self.config.language
        return t(lang, f"alert.{kind.value}", radicado=c.radicado, type=t(lang, f"type.{c.type}"),
                 due=format_local_datetime(self.calendar.local(c.due_at), lang), subject=c.subject,
                 assignee=c.assignee or t(lang, "label.unassigned"))

    async def run(self, now: dt.datetime) -> int:
        """Queue every alert due as of `now`; returns how many PQR alerts were queued."""
        windows = sla_windows(now, self.calendar, self.config.sla.warn_before_days)
        bounds = {SlaState.BREACHED: (None, now), SlaState.NEAR_BREACH: (now, windows.end_of_soon)}
        queued = 0
        for kind in KINDS:
            due_from, due_before = bounds[kind]
            while True:
                async with self.db.uow() as uow:
                    found = await uow.alerts.candidates(kind.value, due_from=due_from, due_before=due_before,
                                                        limit=self.batch)
                    for c in found:
                        if not await uow.alerts.mark(c.pqr_id, kind.value, due_at=c.due_at, now=now):
                            continue
                        queued += 1
                        for channel, destination in self.destinations(c):
                            await uow.outbox.put(OutboxItem(
                                channel=channel, destination=destination, pqr_id=c.pqr_id,
                                payload=Alert(alert=kind.value, radicado=c.radicado, text=self.text(c, kind),
                                              due_at=c.due_at.isoformat()).stored(),
                                dedupe_key=f"alert:{c.pqr_id}:{kind.value}:{c.due_at.isoformat()}:{channel}:{destination}"),
                                now=now)
                    await uow.commit()
                if len(found) < self.batch:
                    break
        queued += await self._drafts_waiting(now, windows.end_of_soon)
        if queued:
            log.info("queued %d SLA alert(s)", queued)
        return queued

    async def _drafts_waiting(self, now: dt.datetime, end_of_soon: dt.datetime) -> int:
        """Once per PQR and due date: every manager is told that a draft in `en_revision` waits
        while its PQR is due before the end of the near-breach window (or already past due)."""
        if self.review is None:
            return 0
        queued = 0
        async with self.db.uow() as uow:
            waiting = await uow.pqrs.list(PqrFilter(statuses=(Status.EN_REVISION,), due_before=end_of_soon,
                                                    limit=self.batch), details=False)
            for p in waiting:
                if p.id is None or not p.radicado or not await uow.alerts.mark(p.id, REVIEW_ALERT, due_at=p.due_at,
                                                                               now=now):
                    continue
                queued += 1
                for item in self.review.due_alert(p.radicado, p.id, p.due_at, now):
                    await uow.outbox.put(item, now=now)
            await uow.commit()
        return queued
