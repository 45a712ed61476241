"""Outbox rows about penalties: the evidence request to the responsible area, the decision request
to every manager (a card with approve/reject actions), the notice to the client, the payment
authorization to accounting.

Payloads are channel-neutral and always carry `subject` and `text`, so any adapter can send them
as plain messages; the Slack and Telegram adapters render `kind == "penalty_decision"` as a card
with buttons from `actions`: `[{"action": "penalty_approve", "value": "<id>", "label": …},
{"action": "penalty_reject", "value": "<id>", "label": …}]`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.i18n import t
from bot.i18n.formats import format_amount
from bot.ports.payloads import (DecisionAction, EvidenceEntry, EvidenceFile, PenaltyClientNotice, PenaltyDecision,
                                 PenaltyEvidenceRequest, PenaltyNotice, PenaltyPaymentAuthorization)
from domain.calendar import BusinessCalendar
from domain.contracts import Area, Client
from domain.customer import reachable
from domain.penalty import Penalty
from storage.ports import OutboxItem

SUMMARY_CHARS = 500


@dataclass(frozen=True)
class PenaltyNotices:
    """Builds the penalty outbox rows for the destinations whose channel is enabled."""

    calendar: BusinessCalendar
    language: str = "es"
    managers: tuple[str, ...] = ()
    accounting_slack: str | None = None
    accounting_emails: tuple[str, ...] = ()
    enabled: Collection[str] = ("email",)

    def _fields(self, p: Penalty) -> dict[str, Any]:
        lang = self.language
        return {"penalty_id": p.id, "client": p.client, "category": p.category.value,
                "category_label": t(lang, f"penalty.category.{p.category.value}"), "amount": str(p.amount),
                "currency": p.currency, "amount_text": format_amount(p.amount, p.currency, lang), "area": p.area,
                "pqr": p.pqr, "status": p.status.value, "description": p.description, "language": lang}

    def _rows(self, p: Penalty, targets: list[tuple[str, str]], notice: PenaltyNotice,
              key: str) -> list[OutboxItem]:
        payload = notice.stored()
        seen: set[tuple[str, str]] = set()
        rows = []
        for channel, destination in targets:
            if channel not in self.enabled or (channel, destination) in seen:
                continue
            seen.add((channel, destination))
            rows.append(OutboxItem(channel=channel, destination=destination, payload=dict(payload),
                                   dedupe_key=f"penalty:{p.id}:{key}:{channel}:{destination}"))
        return rows

    def evidence_request(self, p: Penalty, area: Area | None) -> list[OutboxItem]:
        """To the responsible area's contacts: evidence and justification are needed."""
        if area is None:
            return []
        lang, f = self.language, self._fields(p)
        targets = [("slack", c) for c in (area.slack_channel, area.slack_user) if c]
        targets += [("email", e) for e in area.emails]
        payload = PenaltyEvidenceRequest(
            **f, subject=t(lang, "penalty.notice.evidence_subject", id=p.id, client=p.client),
            text=t(lang, "penalty.notice.evidence_text", id=p.id, client=p.client,
                   category=f["category_label"], amount=f["amount_text"], area=p.area,
                   description=p.description or "—"),
            auto_submitted=True)
        return self._rows(p, targets, payload, "evidence_request")

    def decision_request(self, p: Penalty) -> list[OutboxItem]:
        """To every manager: the case card with Aprobar / Rechazar actions."""
        lang, f = self.language, self._fields(p)
        summary = evidence_summary(p)
        targets = [r for m in self.managers if (r := reachable(m)) is not None]
        value = str(p.id)
        payload = PenaltyDecision(
            **f, evidence_summary=summary,
            evidence=[EvidenceEntry(text=e.text, author=e.author, at=self.calendar.local(e.at).isoformat(),
                                    files=[EvidenceFile(filename=x.filename, size=x.size, sha256=x.sha256)
                                           for x in e.files]) for e in p.evidence],
            actions=[DecisionAction(action="penalty_approve", value=value, label=t(lang, "penalty.button.approve")),
                     DecisionAction(action="penalty_reject", value=value, label=t(lang, "penalty.button.reject"))],
            subject=t(lang, "penalty.notice.decision_subject", id=p.id, client=p.client),
            text=t(lang, "penalty.notice.decision_text", id=p.id, client=p.client,
                   category=f["category_label"], amount=f["amount_text"], area=p.area,
                   evidence=summary or "—"),
            auto_submitted=True)
        return self._rows(p, targets, payload, "decision")

    def client_notice(self, p: Penalty, client: Client | None) -> list[OutboxItem]:
        """To the client's contacts: the company's decision and its reason."""
        if client is None:
            return []
        lang, f = self.language, self._fields(p)
        decision = t(lang, f"penalty.status.{p.decision.value}") if p.decision else ""
        payload = PenaltyClientNotice(
            **f, decision=p.decision.value if p.decision else None, reason=p.decision_reason,
            subject=t(lang, "penalty.notice.client_subject", id=p.id),
            text=t(lang, "penalty.notice.client_text", id=p.id, client=p.client,
                   category=f["category_label"], amount=f["amount_text"], decision=decision,
                   reason=p.decision_reason or "—"),
            auto_submitted=True)
        return self._rows(p, [("email", e) for e in client.contact_emails()], payload, "client")

    def payment_authorization(self, p: Penalty) -> list[OutboxItem]:
        """To accounting (Slack channel and emails): pay this accepted penalty."""
        lang, f = self.language, self._fields(p)
        targets = ([("slack", self.accounting_slack)] if self.accounting_slack else [])
        targets += [("email", e) for e in self.accounting_emails]
        payload = PenaltyPaymentAuthorization(
            **f, decided_by=p.decided_by, reason=p.decision_reason,
            subject=t(lang, "penalty.notice.payment_subject", id=p.id, client=p.client),
            text=t(lang, "penalty.notice.payment_text", id=p.id, client=p.client,
                   category=f["category_label"], amount=f["amount_text"], area=p.area,
                   by=p.decided_by or "—", reason=p.decision_reason or "—"),
            auto_submitted=True)
        return self._rows(p, targets, payload, "payment")


def evidence_summary(p: Penalty) -> str:
    """The evidence texts and file names, shortened for a card."""
    parts = []
    for e in p.evidence:
        files = ", ".join(f.filename for f in e.files)
        parts.append(e.text + (f" [{files}]" if files else ""))
    text = " · ".join(x for x in parts if x)
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"
