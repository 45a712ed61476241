"""The JSON shapes of DESIGN.md's public interface (CLI `--json`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.pqrs.service import Digest
from domain.attachments import Attachment
from domain.calendar import BusinessCalendar
from domain.events import Event
from domain.penalty import Penalty
from domain.pqr import Pqr


def _iso(instant: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    """The instant in local time `tz` with its offset (`BusinessCalendar.local`, with the zone
    read once per document: an API page writes a hundred instants)."""
    if instant is None:
        return None
    if instant.utcoffset() is None:
        raise ValueError(f"instant without offset: {instant.isoformat()}")
    return instant.astimezone(tz).isoformat()


def event_json(e: Event, tz: dt.tzinfo) -> dict[str, Any]:
    return {"kind": e.kind, "actor": e.actor, "at": _iso(e.at, tz), "from": e.from_, "to": e.to,
            "reason": e.reason, **({"data": e.data} if e.data else {})}


def attachment_json(a: Attachment) -> dict[str, Any]:
    """A stored file as listed; `pqrbot pqr attachment RAD ID` writes its bytes."""
    return {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}


def pqr_json(p: Pqr, cal: BusinessCalendar, *, now: dt.datetime | None = None,
             warn_before_days: int = 2) -> dict[str, Any]:
    """A PQR as DESIGN.md fixes it (instants in local time with their offset)."""
    tz = cal.tz
    doc: dict[str, Any] = {
        "radicado": p.radicado,
        "type": p.type.value,
        "status": p.status.value,
        "channel": p.channel,
        "customer": {"name": p.customer.name, "email": p.customer.email,
                     "telegram_chat_id": p.customer.telegram_chat_id},
        "subject": p.subject,
        "received_at": _iso(p.received_at, tz),
        "due_at": _iso(p.due_at, tz),
        "due_rule": p.due_rule,
        "legal_due_at": _iso(p.legal_due_at, tz),
        "contract": p.contract,
        "first_response_due_at": _iso(p.first_response_due_at, tz),
        "assignee": p.assignee,
        "area": p.area,
        "cause": p.cause,
        "extended": p.extended,
        "messages": [{"id": m.id, "direction": m.direction.value, "channel": m.channel, "body": m.body,
                      "at": _iso(m.at, tz), "author": m.author,
                      "attachments": [attachment_json(a) for a in m.attachments]} for m in p.messages],
        "events": [event_json(e, tz) for e in p.events],
    }
    if now is not None:
        doc["sla"] = p.sla_state(now, cal, warn_before_days).value
    return doc


def digest_json(d: Digest, cal: BusinessCalendar, *, warn_before_days: int = 2) -> dict[str, Any]:
    def many(items: list[Pqr]) -> list[dict[str, Any]]:
        return [pqr_json(p, cal, now=d.at, warn_before_days=warn_before_days) for p in items]
    return {"at": _iso(d.at, cal.tz), "breached": many(d.breached), "due_today": many(d.due_today),
            "due_soon": many(d.due_soon), "awaiting_approval": many(d.awaiting_approval)}


def penalty_json(p: Penalty, cal: BusinessCalendar) -> dict[str, Any]:
    """A penalty as DESIGN.md fixes it; `amount` is the decimal string exactly as given."""
    return {"id": p.id, "client": p.client, "category": p.category.value, "amount": str(p.amount),
            "currency": p.currency, "status": p.status.value, "area": p.area, "pqr": p.pqr,
            "contract": p.contract, "description": p.description,
            "registered_at": cal.local(p.registered_at).isoformat(),
            "decision": p.decision.value if p.decision else None, "decided_by": p.decided_by,
            "decision_reason": p.decision_reason,
            "evidence": [{"text": e.text, "author": e.author, "at": cal.local(e.at).isoformat(),
                          "files": [{"filename": f.filename, "content_type": f.content_type, "size": f.size,
                                     "sha256": f.sha256} for f in e.files]} for e in p.evidence],
            "events": [event_json(e, cal.tz) for e in p.events]}
