"""What an approval card shows, whichever chat draws it (Slack Block Kit, Telegram HTML).

A card is read from the outbox payload of kind "answer_review" (when the request is delivered)
or from the stored PQR (when the card is redrawn after a decision). Texts are in the reader's
language and not escaped: each renderer escapes for its own markup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.commands.replies import Button
from bot.i18n import t
from bot.review.notices import APPROVE, DECISION_ACTIONS
from domain.pqr import Pqr
from domain.pqr_types import Status


@dataclass(frozen=True)
class ReviewCard:
    """The fields of an approval card; `decided` is the outcome line once a decision was taken."""

    radicado: str
    draft: int
    type: str
    subject: str
    customer: str
    due: str
    drafter: str
    answer: str
    language: str
    actions: tuple[Button, ...] = ()
    decided: str | None = None
    fallback: str = ""

    @property
    def open(self) -> bool:
        return bool(self.actions) and self.decided is None

    @classmethod
    def of_payload(cls, payload: dict[str, Any]) -> ReviewCard:
        """The card of an "answer_review" outbox payload (bot.review.notices)."""
        lang = str(payload.get("language") or "es")
        actions = tuple(Button(str(a.get("label") or a["action"]), str(a["action"]), str(a["value"]),
                               "primary" if a.get("action") == APPROVE else "danger")
                        for a in payload.get("actions") or []
                        if isinstance(a, dict) and a.get("action") in DECISION_ACTIONS and a.get("value"))
        due = f"{payload.get('due_text') or payload.get('due_at') or ''} ({payload.get('time_left') or ''})"
        return cls(radicado=str(payload["radicado"]), draft=int(payload.get("draft") or 1),
                   type=str(payload.get("type_label") or payload.get("type") or ""),
                   subject=str(payload.get("pqr_subject") or ""), customer=str(payload.get("customer") or ""),
                   due=due, drafter=str(payload.get("drafter") or ""), answer=str(payload.get("answer") or ""),
                   language=lang, actions=actions, fallback=str(payload.get("text") or payload.get("subject") or ""))

    @classmethod
    def of_decided(cls, pqr: Pqr, lang: str, *, due: str) -> ReviewCard:
        """The card of `pqr`'s last decided draft, redrawn: no buttons, the outcome line instead."""
        submitted = next((e for e in reversed(pqr.events)
                          if e.kind == "status_changed" and e.to == Status.EN_REVISION.value), None)
        decision = next((e for e in reversed(pqr.events)
                         if e.kind == "status_changed" and e.from_ == Status.EN_REVISION.value), None)
        line = None
        if decision is not None:
            line = (t(lang, "review.decided.approved", by=decision.actor) if decision.data.get("review") == "approved"
                    else t(lang, "review.decided.returned", by=decision.actor, comment=decision.reason or ""))
        rad = pqr.radicado or ""
        return cls(radicado=rad, draft=int(submitted.data.get("draft") or 1) if submitted else 0,
                   type=t(lang, f"type.{pqr.type.value}"), subject=pqr.subject, customer=pqr.customer.name,
                   due=due, drafter=submitted.actor if submitted else "",
                   answer=(submitted.reason or "") if submitted else "", language=lang, decided=line,
                   fallback=t(lang, "review.card_title", radicado=rad) + (f" — {line}" if line else ""))
