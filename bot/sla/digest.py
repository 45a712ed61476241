"""The daily SLA digest as messages: breached, due today and due soon, oldest due first, grouped
by area and assignee with counts, then the final answers awaiting a manager's approval; one
outbox row per configured destination and day."""

from __future__ import annotations

import datetime as dt

from bot.config import Config
from bot.i18n import t
from bot.i18n.formats import format_local_date, format_local_datetime
from bot.ports import payloads
from bot.pqrs.service import Digest
from domain.calendar import BusinessCalendar
from domain.pqr import Pqr
from storage.ports import Database, OutboxItem

SECTIONS = ("breached", "due_today", "due_soon", "awaiting_approval")
MAX_ITEMS_PER_SECTION = 50


def _item(p: Pqr, cal: BusinessCalendar) -> payloads.DigestItem:
    return payloads.DigestItem(radicado=p.radicado, type=p.type.value, subject=p.subject, assignee=p.assignee,
                               area=p.area, due_at=cal.local(p.due_at).isoformat())


def digest_payload(digest: Digest, cal: BusinessCalendar, lang: str) -> payloads.Digest:
    """The channel-neutral digest: `text` for every channel, `sections` for rich renderers
    (Slack Block Kit with a button per PQR)."""
    at = cal.local(digest.at)
    lines = [t(lang, "digest.title", at=format_local_datetime(at, lang))]
    sections: list[payloads.DigestSection] = []
    for key, items in zip(SECTIONS, (digest.breached, digest.due_today, digest.due_soon, digest.awaiting_approval)):
        groups = [(area or t(lang, "digest.no_area"), who or t(lang, "label.unassigned"), n)
                  for area, who, n in digest.groups.get(key, [])]
        total = digest.counts.get(key, len(items))
        title = t(lang, f"digest.{key}")
        lines.append(f"\n{title}: {total}")
        lines += ["  " + t(lang, "digest.group", area=a, assignee=w, count=n) for a, w, n in groups]
        shown = items[:MAX_ITEMS_PER_SECTION]
        lines += [f"    {p.radicado} · {format_local_date(cal.local(p.due_at), lang)} · {p.assignee or '-'} · {p.subject}"
                  for p in shown]
        if total > len(shown):
            lines.append(f"    … +{total - len(shown)}")
        sections.append(payloads.DigestSection(
            key=key, title=title, count=total,
            groups=[payloads.DigestGroup(area=a, assignee=w, count=n) for a, w, n in groups],
            items=[_item(p, cal) for p in shown]))
    return payloads.Digest(subject=t(lang, "digest.subject", day=at.date().isoformat()),
                           text="\n".join(lines), sections=sections, at=at.isoformat(), auto_submitted=True,
                           language=lang)


def digest_targets(config: Config) -> list[tuple[str, str]]:
    """The configured destinations whose channel is enabled (a row for a disabled channel would
    never leave the outbox)."""
    cfg, channels = config.digest, config.channels
    targets: list[tuple[str, str]] = []
    if cfg.slack_channel and channels.slack.enabled:
        targets.append(("slack", cfg.slack_channel))
    if cfg.telegram_chat is not None and channels.telegram.enabled:
        targets.append(("telegram", str(cfg.telegram_chat)))
    if channels.email.enabled:
        targets += [("email", address) for address in cfg.emails]
    return targets


async def queue_digest(db: Database, config: Config, cal: BusinessCalendar, digest: Digest) -> int:
    """Queue the digest for every configured destination; a day's digest is queued once per
    destination, whoever asks (the outbox's dedupe key). Returns the rows queued."""
    payload = digest_payload(digest, cal, config.language).stored()
    day = cal.local(digest.at).date().isoformat()
    queued = 0
    async with db.uow() as uow:
        for channel, destination in digest_targets(config):
            item = OutboxItem(channel=channel, destination=destination, payload=payload,
                              dedupe_key=f"digest:{day}:{channel}:{destination}")
            await uow.outbox.put(item, now=digest.at)
            queued += item.id is not None
        await uow.commit()
    return queued


def digest_due(config: Config, cal: BusinessCalendar, now: dt.datetime) -> bool:
    """Is it time for today's digest: a business day, at or after `digest.time` local?"""
    local = cal.local(now)
    return cal.is_business_day(local.date()) and local.time() >= config.digest.time
