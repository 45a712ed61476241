"""What a penalty decision card shows, whichever chat draws it (Slack Block Kit, Telegram HTML).

A card is read from the outbox payload of kind "penalty_decision" (when the request is delivered)
or from the stored penalty (when the message is redrawn after a decision). Texts are in the
reader's language and not escaped: each renderer escapes for its own markup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.commands.replies import Button
from bot.i18n import t
from bot.i18n.formats import format_amount
from bot.penalties.notices import evidence_summary
from domain.penalty import Penalty, PenaltyStatus

APPROVE, REJECT = "penalty_approve", "penalty_reject"
DECISION_ACTIONS = (APPROVE, REJECT)


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of evidence: its text, who sent it, and the names of its files."""

    text: str
    author: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class PenaltyCard:
    """The fields of a decision card, with labels already in `language`."""

    id: int
    client: str
    category: str
    amount: str
    area: str
    status: str
    language: str
    pqr: str | None = None
    description: str | None = None
    evidence: tuple[EvidenceLine, ...] = ()
    evidence_summary: str = ""
    actions: tuple[Button, ...] = ()
    decision: str | None = None          # aprobada | rechazada, once decided
    decided_by: str | None = None
    reason: str | None = None
    fallback: str = ""

    @property
    def open(self) -> bool:
        """Whether the card still offers its decision buttons."""
        return bool(self.actions) and self.decision is None

    @classmethod
    def of_payload(cls, payload: dict[str, Any]) -> PenaltyCard:
        """The card of a "penalty_decision" outbox payload (see bot.penalties.notices)."""
        lang = str(payload.get("language") or "es")
        evidence = tuple(
            EvidenceLine(text=str(e.get("text") or ""), author=str(e.get("author") or ""),
                         files=tuple(str(f.get("filename") or "") for f in e.get("files") or []))
            for e in payload.get("evidence") or [] if isinstance(e, dict))
        actions = tuple(Button(str(a.get("label") or a["action"]), str(a["action"]), str(a["value"]))
                        for a in payload.get("actions") or []
                        if isinstance(a, dict) and a.get("action") in DECISION_ACTIONS and a.get("value"))
        status = str(payload.get("status") or "")
        return cls(id=int(payload["penalty_id"]), client=str(payload.get("client") or ""),
                   category=str(payload.get("category_label") or payload.get("category") or ""),
                   amount=str(payload.get("amount_text") or payload.get("amount") or ""),
                   area=str(payload.get("area") or ""),
                   status=t(lang, f"penalty.status.{status}") if status else "", language=lang,
                   pqr=payload.get("pqr") or None, description=payload.get("description") or None,
                   evidence=evidence, evidence_summary=str(payload.get("evidence_summary") or ""),
                   actions=actions, fallback=str(payload.get("text") or payload.get("subject") or ""))

    @classmethod
    def of_penalty(cls, p: Penalty, lang: str) -> PenaltyCard:
        """The card of a stored penalty as it is now (buttons only while it is in evaluation)."""
        assert p.id is not None
        actions: tuple[Button, ...] = ()
        if p.status is PenaltyStatus.EN_EVALUACION:
            actions = (Button(t(lang, "penalty.button.approve"), APPROVE, str(p.id), "primary"),
                       Button(t(lang, "penalty.button.reject"), REJECT, str(p.id), "danger"))
        return cls(id=p.id, client=p.client, category=t(lang, f"penalty.category.{p.category.value}"),
                   amount=format_amount(p.amount, p.currency, lang), area=p.area,
                   status=t(lang, f"penalty.status.{p.status.value}"), language=lang, pqr=p.pqr,
                   description=p.description,
                   evidence=tuple(EvidenceLine(e.text, e.author, tuple(f.filename for f in e.files))
                                  for e in p.evidence),
                   evidence_summary=evidence_summary(p), actions=actions,
                   decision=p.decision.value if p.decision else None, decided_by=p.decided_by,
                   reason=p.decision_reason,
                   fallback=t(lang, "penalty.card", id=p.id, client=p.client,
                              category=t(lang, f"penalty.category.{p.category.value}"),
                              amount=format_amount(p.amount, p.currency, lang), area=p.area,
                              status=t(lang, f"penalty.status.{p.status.value}"), pqr=p.pqr or "—"))

    def decision_label(self) -> str:
        """"aprobada" / "rechazada" in the card's language ("" while undecided)."""
        return t(self.language, f"penalty.status.{self.decision}") if self.decision else ""


def parse_penalty_id(value: str) -> int | None:
    """A button's value as a penalty id, or None when it is not one."""
    raw = value.strip().lstrip("#")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None
