"""The daily SLA digest as messages: one outbox row per configured destination."""

from __future__ import annotations

from bot.bootstrap import App
from bot.services import Digest
from storage.ports import OutboxItem


def digest_text(app: App, digest: Digest) -> str:
    cal = app.service.calendar
    lang = app.config.language
    titles = {"es": ("Vencidas", "Vencen hoy", "Por vencer"), "en": ("Breached", "Due today", "Due soon")}[lang]
    head = "Resumen de ANS" if lang == "es" else "SLA digest"
    lines = [f"{head} — {cal.local(digest.at).strftime('%Y-%m-%d %H:%M')}"]
    for title, items in zip(titles, (digest.breached, digest.due_today, digest.due_soon)):
        lines.append(f"{title}: {len(items)}")
        lines += [f"  {p.radicado} · {cal.local(p.due_at).strftime('%Y-%m-%d')} · {p.assignee or '-'} · {p.subject}"
                  for p in items[:50]]
    return "\n".join(lines)


async def queue_digest(app: App, digest: Digest) -> int:
    """Queue the digest for every configured destination; the same day's digest queues once."""
    cfg = app.config.digest
    day = app.service.calendar.local(digest.at).date().isoformat()
    text = digest_text(app, digest)
    targets: list[tuple[str, str]] = []
    if cfg.slack_channel:
        targets.append(("slack", cfg.slack_channel))
    if cfg.telegram_chat is not None:
        targets.append(("telegram", str(cfg.telegram_chat)))
    targets += [("email", address) for address in cfg.emails]
    async with app.db.uow() as uow:
        for channel, destination in targets:
            subject = f"Resumen de ANS {day}" if app.config.language == "es" else f"SLA digest {day}"
            await uow.outbox.put(OutboxItem(channel=channel, destination=destination,
                                            payload={"kind": "digest", "subject": subject, "text": text,
                                                     "auto_submitted": True},
                                            dedupe_key=f"digest:{day}:{channel}:{destination}"),
                                 now=digest.at)
        await uow.commit()
    return len(targets)
