"""Outbox rows of answer approval: the review request to every manager (a card with Aprobar /
Devolver, the draft in full), the returned draft's notice to its drafter, and the managers'
alert when a draft waits while its PQR nears its due date.

Payloads carry `subject` and `text`, so any adapter can send them as plain messages; Slack and
Telegram draw `kind == "answer_review"` as a card with buttons from `actions`:
`[{"action": "answer_approve", "value": "PQR-2026-000001:1", …}, {"action": "answer_return", …}]`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.i18n import t, tn
from bot.i18n.formats import format_local_datetime
from bot.ports.payloads import Alert, AnswerReview, DecisionAction
from domain.calendar import BusinessCalendar
from domain.customer import reachable
from domain.pqr import Pqr
from domain.review import Draft
from storage.ports import OutboxItem

APPROVE, RETURN = "answer_approve", "answer_return"
DECISION_ACTIONS = (APPROVE, RETURN)
Destinations = Callable[[str], list[tuple[str, str]]]


def button_value(radicado: str, draft: int) -> str:
    """What a decision button carries: the PQR and the draft it was drawn for."""
    return f"{radicado}:{draft}"


def parse_value(value: str) -> tuple[str, int | None] | None:
    """A button's value as (radicado, draft number), or None when it is not one. A bare
    radicado (typed, not pressed) has no draft number."""
    raw = value.strip().upper()
    rad, sep, number = raw.rpartition(":")
    if not sep:
        rad, number = raw, ""
    if not rad or len(rad) > 64 or not all(c.isalnum() or c in "-_" for c in rad):
        return None
    if number and not (number.isdigit() and len(number) < 9):
        return None
    return rad, int(number) if number else None


def time_left(due: dt.datetime, now: dt.datetime, calendar: BusinessCalendar, lang: str) -> str:
    """How long until `due`, as a manager reads it: business days, hours on the last day, or
    how long ago it passed."""
    if now >= due:
        return t(lang, "review.overdue")
    days = calendar.business_days_between(calendar.local(now).date(), calendar.local(due).date())
    if days >= 1:
        return tn(lang, "review.days_left", days)
    return tn(lang, "review.hours_left", max(1, int((due - now).total_seconds() // 3600)))


@dataclass(frozen=True)
class ReviewNotices:
    """Builds the approval rows for the destinations whose channel is enabled. `staff` says
    where a staff identity is reached (`bot.sla.alerts.staff_destinations`)."""

    calendar: BusinessCalendar
    language: str = "es"
    managers: tuple[str, ...] = ()
    enabled: Collection[str] = ("email",)
    staff: Destinations | None = None

    def _managers(self) -> list[tuple[str, str]]:
        targets = [r for m in self.managers if (r := reachable(m)) is not None and r[0] in self.enabled]
        return list(dict.fromkeys(targets))

    def request(self, pqr: Pqr, draft: Draft, now: dt.datetime) -> list[OutboxItem]:
        """To every manager: the PQR, its due date and time left, the draft, Aprobar / Devolver."""
        lang, rad = self.language, pqr.radicado or ""
        type_label = t(lang, f"type.{pqr.type.value}")
        due_text = format_local_datetime(self.calendar.local(pqr.due_at), lang)
        left = time_left(pqr.due_at, now, self.calendar, lang)
        value = button_value(rad, draft.number)
        payload = AnswerReview(
            radicado=rad, draft=draft.number, type=pqr.type.value, type_label=type_label,
            pqr_subject=pqr.subject, customer=pqr.customer.name,
            due_at=self.calendar.local(pqr.due_at).isoformat(), due_text=due_text, time_left=left,
            drafter=draft.drafter, answer=draft.text, language=lang,
            actions=[DecisionAction(action=APPROVE, value=value, label=t(lang, "review.button.approve")),
                     DecisionAction(action=RETURN, value=value, label=t(lang, "review.button.return"))],
            subject=t(lang, "review.request_subject", radicado=rad, type=type_label),
            text=t(lang, "review.request_text", radicado=rad, type=type_label, subject=pqr.subject,
                   customer=pqr.customer.name, due=due_text, left=left, drafter=draft.drafter,
                   answer=draft.text),
            auto_submitted=True).stored()
        return [OutboxItem(channel=channel, destination=destination, payload=dict(payload), pqr_id=pqr.id,
                           dedupe_key=f"review:{rad}:{draft.number}:{channel}:{destination}")
                for channel, destination in self._managers()]

    def returned(self, pqr: Pqr, draft: Draft, comment: str, by: str) -> list[OutboxItem]:
        """To the drafter, on their channel: the draft came back, with the manager's comment."""
        if self.staff is None:
            return []
        rad = pqr.radicado or ""
        text = t(self.language, "review.returned_notice", radicado=rad, by=by, comment=comment)
        payload = Alert(alert="answer_returned", radicado=rad, text=text).stored()
        return [OutboxItem(channel=channel, destination=destination, payload=dict(payload), pqr_id=pqr.id,
                           dedupe_key=f"review-returned:{rad}:{draft.number}:{channel}:{destination}")
                for channel, destination in self.staff(draft.drafter) if channel in self.enabled]

    def due_alert(self, radicado: str, pqr_id: int, due_at: dt.datetime, now: dt.datetime) -> list[OutboxItem]:
        """To every manager, once per due date: a draft still waits while the PQR nears (or
        passed) its due date."""
        lang = self.language
        text = t(lang, "review.due_alert", radicado=radicado,
                 due=format_local_datetime(self.calendar.local(due_at), lang),
                 left=time_left(due_at, now, self.calendar, lang))
        payload = Alert(alert="review_due", radicado=radicado, text=text, due_at=due_at.isoformat()).stored()
        return [OutboxItem(channel=channel, destination=destination, payload=dict(payload), pqr_id=pqr_id,
                           dedupe_key=f"review-due:{pqr_id}:{due_at.isoformat()}:{channel}:{destination}")
                for channel, destination in self._managers()]
