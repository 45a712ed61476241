"""Telling staff that a customer's follow-up joined a PQR, whatever channel it came from.

The notice goes to the assignee on their enabled channel when the PQR has one, else to the Slack
triage channel when Slack is on; it is queued in the outbox (kind "followup") inside the
transaction that stored the follow-up, so it is sent once the follow-up is durable, and only once."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import t
from bot.ports.payloads import Followup
from domain.pqr import Message, Pqr
from storage.ports import OutboxItem

EXCERPT_MAX = 200
# Staff identity (`slack:U1`, `telegram:1001`, …) → where it can be reached on enabled channels.
StaffDestinations = Callable[[str | None], list[tuple[str, str]]]


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut) + "…"


def followup_targets(pqr: Pqr, staff: StaffDestinations, triage: str | None) -> list[tuple[str, str]]:
    """The assignee's destinations; without an assignee reachable, the Slack triage channel."""
    targets = staff(pqr.assignee) if pqr.assignee else []
    if not targets and triage:
        targets = [("slack", triage)]
    return targets


def followup_notices(pqr: Pqr, message: Message, *, language: str, staff: StaffDestinations,
                     triage: str | None) -> list[OutboxItem]:
    """The outbox rows telling staff that `message` (a customer's follow-up) joined `pqr`."""
    if pqr.radicado is None:
        return []
    text = t(language, "followup.text", radicado=pqr.radicado, customer=pqr.customer.name or "—",
             channel=message.channel or "—", excerpt=excerpt(message.body) or "—")
    subject = t(language, "followup.subject", radicado=pqr.radicado)
    key = message.id if message.id is not None else message.external_id
    return [OutboxItem(channel=channel, destination=destination, pqr_id=pqr.id,
                       payload=Followup(radicado=pqr.radicado, language=language, subject=subject,
                                        text=text).stored(),
                       dedupe_key=f"followup:{pqr.radicado}:{key}:{channel}:{destination}")
            for channel, destination in followup_targets(pqr, staff, triage)]
