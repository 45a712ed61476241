"""The PQR aggregate: its data, its workflow and the events every change records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from domain.attachments import Attachment
from domain.calendar import BusinessCalendar
from domain.customer import Customer
from domain.errors import CauseRefused, ExtensionRefused, InvalidInput, InvalidTransition
from domain.limits import (AREA_MAX, ASSIGNEE_MAX, CHANNEL_MAX, IDENTITY_MAX, SUBJECT_MAX, check_instant,
                           check_length)
from domain.events import (CauseSet, DueDateExtended, Event, MessageAdded, PqrAssigned, PqrFiled,
                           StatusChanged)
from domain.pqr_types import OPEN_STATUSES, TRANSITIONS, PqrType, Status, is_review_move
from domain.review import AwaitingApproval, Draft, NotInReview, ReviewDecision, StaleDraft
from domain.terms import ContractTerms, TermPolicy, Unit


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    NOTE = "note"


class SlaState(StrEnum):
    OK = "ok"
    NEAR_BREACH = "near_breach"
    BREACHED = "breached"
    CLOSED = "closed"


@dataclass
class Message:
    """A message in a PQR's thread: from the customer, to the customer, or an internal note."""

    direction: Direction
    channel: str
    body: str
    at: dt.datetime
    author: str | None = None
    external_id: str | None = None
    id: int | None = None
    attachments: tuple[Attachment, ...] = ()   # as stored (filled when the PQR is read)


@dataclass
class Pqr:
    """A filed petición, queja, reclamo, sugerencia or felicitación, with its legal clock.

    `due_at` is the effective deadline: the earliest of the legal one (`legal_due_at`, which never
    pauses) and the contract's. When a contract target set it and that contract pauses while
    waiting for the customer, `pause_unit` is the target's unit ("hours" or "days") and, while the
    PQR is `esperando_cliente`, `pause_remaining` holds the contract time left (business hours as
    a float, business days as an int) and `due_at` is the legal deadline. See `change_status`."""

    type: PqrType
    channel: str
    customer: Customer
    subject: str
    received_at: dt.datetime
    due_at: dt.datetime
    due_rule: str
    original_due_at: dt.datetime
    legal_due_at: dt.datetime
    status: Status = Status.RADICADA
    radicado: str | None = None
    first_response_due_at: dt.datetime | None = None
    first_response_at: dt.datetime | None = None
    assignee: str | None = None
    area: str | None = None
    contract: str | None = None
    extended: bool = False
    closed_at: dt.datetime | None = None
    pause_unit: Unit | None = None
    pause_remaining: float | None = None
    # Indicators: the cause (config `causes`), the client of the contract, the contract's
    # resolution deadline (ANS; None without one, and while its clock is paused), and the times
    # measured on the business calendar once reached (`measure`).
    cause: str | None = None
    client: str | None = None
    contract_due_at: dt.datetime | None = None
    first_response_hours: float | None = None
    resolution_hours: float | None = None
    resolution_days: int | None = None
    messages: list[Message] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    id: int | None = None

    # -- filing -------------------------------------------------------------------------------
    @classmethod
    def file(cls, *, pqr_type: PqrType, channel: str, customer: Customer, subject: str, body: str,
             received_at: dt.datetime, policy: TermPolicy, actor: str,
             contract: ContractTerms | None = None, area: str | None = None,
             external_id: str | None = None) -> Pqr:
        """A new PQR with the due date its terms give, counted from `received_at`."""
        if received_at.utcoffset() is None:
            raise InvalidInput("received_at needs an offset", code="offset")
        if not (subject.strip() or body.strip()):
            raise InvalidInput("empty PQR: a subject or a body is needed", code="empty_pqr")
        check_instant(received_at)
        check_length(subject.strip(), SUBJECT_MAX, "subject_too_long")
        check_length(channel, CHANNEL_MAX, "channel_too_long")
        check_length(area, AREA_MAX, "area_too_long")
        check_length(actor, IDENTITY_MAX, "identity_too_long")
        if customer.id is None:
            customer.check()
        dates = policy.due_dates(pqr_type, received_at, contract)
        pqr = cls(type=pqr_type, channel=channel, customer=customer, subject=subject.strip(),
                  received_at=received_at, due_at=dates.due_at, due_rule=dates.rule,
                  original_due_at=dates.due_at, legal_due_at=dates.legal_due_at,
                  first_response_due_at=dates.first_response_due_at,
                  contract=contract.contract if contract else None, area=area,
                  pause_unit=dates.pause_unit, client=contract.client if contract else None,
                  contract_due_at=dates.contract_due_at)
        pqr.events.append(PqrFiled(actor=actor, at=received_at, to=Status.RADICADA.value,
                                   data={"due_at": dates.due_at.isoformat(), "rule": dates.rule}))
        if body.strip():
            pqr.messages.append(Message(Direction.IN, channel, body, received_at, author=actor,
                                        external_id=external_id))
        return pqr

    # -- workflow -----------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def change_status(self, to: Status, *, actor: str, now: dt.datetime, reason: str | None = None,
                      calendar: BusinessCalendar | None = None) -> None:
        """Move to `to` if the workflow allows it from the current state.

        Entering `esperando_cliente` pauses the contract clock where the contract says so
        (`pause_unit` set, the contract deadline still ahead and earlier than the legal one): the
        contract time left is kept in `pause_remaining` and `due_at` becomes the legal deadline,
        which never pauses. Leaving it resumes the contract clock from `now`; `due_at` becomes the
        earliest of the legal deadline and the resumed contract one. Both moves are recorded in the
        status_changed event's data. `calendar` is needed only when the clock pauses or resumes.

        Moves into and out of `en_revision` belong to the approval workflow (`submit_answer`,
        `approve_answer`, `return_answer`): a PQR awaiting approval raises `AwaitingApproval`,
        and `en_revision` is not offered as a plain target."""
        if self.status is Status.EN_REVISION:
            raise AwaitingApproval(self.radicado or "")
        if to is Status.EN_REVISION:
            raise InvalidTransition(self.status.value, to.value,
                                    tuple(s.value for s in TRANSITIONS[self.status] if s is not Status.EN_REVISION))
        self._move(to, actor=actor, now=now, reason=reason, calendar=calendar)

    def _move(self, to: Status, *, actor: str, now: dt.datetime, reason: str | None = None,
              calendar: BusinessCalendar | None = None, extra: dict[str, object] | None = None) -> None:
        """The move itself, checked against the workflow table; `extra` joins the event's data."""
        allowed = TRANSITIONS[self.status]
        if to not in allowed:
            raise InvalidTransition(self.status.value, to.value, tuple(s.value for s in allowed
                                                                      if not is_review_move(self.status, s)))
        data: dict[str, object] = {}
        if to is Status.ESPERANDO_CLIENTE:
            data = dict(self._pause_contract_clock(now, calendar))
        elif self.status is Status.ESPERANDO_CLIENTE:
            data = dict(self._resume_contract_clock(now, calendar))
        data.update(extra or {})
        self.events.append(StatusChanged(actor=actor, at=now, from_=self.status.value, to=to.value,
                                         reason=reason, data=data))
        self.status = to
        self.closed_at = now if to is Status.CERRADA else None

    def _pause_contract_clock(self, now: dt.datetime, calendar: BusinessCalendar | None) -> dict[str, str]:
        """Keep the contract time left from `now`; only the legal clock runs meanwhile. A contract
        deadline already past, or no earlier than the legal one, has nothing left to keep."""
        if self.pause_unit is None or now >= self.due_at or self.due_at >= self.legal_due_at:
            return {}
        cal = _needed(calendar)
        remaining: float
        if self.pause_unit is Unit.HOURS:
            remaining = cal.business_hours_between(now, self.due_at)
        else:
            remaining = cal.business_days_between(cal.effective_filing_day(now), cal.local(self.due_at).date())
        self.pause_remaining = remaining
        self.due_at = self.legal_due_at
        self.contract_due_at = None      # paused: no contract deadline runs
        return {"clock": "paused", "remaining": _label(remaining, self.pause_unit),
                "due_at": cal.local(self.due_at).isoformat()}

    def _resume_contract_clock(self, now: dt.datetime, calendar: BusinessCalendar | None) -> dict[str, str]:
        """The contract deadline is the time kept at the pause counted again from `now`."""
        if self.pause_remaining is None or self.pause_unit is None:
            return {}
        cal = _needed(calendar)
        if self.pause_unit is Unit.HOURS:
            resumed = cal.add_business_hours(now, self.pause_remaining)
        else:
            resumed = cal.due_after_days(now, int(self.pause_remaining))
        kept = _label(self.pause_remaining, self.pause_unit)
        self.due_at = min(self.legal_due_at, resumed)
        self.contract_due_at = resumed
        self.pause_remaining = None
        return {"clock": "resumed", "remaining": kept, "due_at": cal.local(self.due_at).isoformat()}

    def assign(self, assignee: str, *, actor: str, now: dt.datetime, reason: str | None = None) -> None:
        """Give the PQR to `assignee`; a filed or reopened PQR becomes `asignada`."""
        if not self.is_open:
            raise InvalidTransition(self.status.value, Status.ASIGNADA.value,
                                    tuple(s.value for s in TRANSITIONS[self.status]))
        check_length(assignee, ASSIGNEE_MAX, "assignee_too_long")
        self.events.append(PqrAssigned(actor=actor, at=now, from_=self.assignee, to=assignee, reason=reason))
        self.assignee = assignee
        if self.status in (Status.RADICADA, Status.REABIERTA):
            self.change_status(Status.ASIGNADA, actor=actor, now=now)

    def receive(self, body: str, *, channel: str, at: dt.datetime, actor: str,
                external_id: str | None = None, calendar: BusinessCalendar | None = None) -> Message:
        """A follow-up from the customer. A PQR waiting for the customer goes back to work (and
        a paused contract clock resumes: `calendar` as in `change_status`)."""
        msg = Message(Direction.IN, channel, body, at, author=actor, external_id=external_id)
        self.messages.append(msg)
        self.events.append(MessageAdded(actor=actor, at=at, data={"direction": "in"}))
        if self.status is Status.ESPERANDO_CLIENTE:
            self.change_status(Status.EN_TRAMITE, actor=actor, now=at, reason="customer answered",
                               calendar=calendar)
        return msg

    def reply(self, body: str, *, actor: str, now: dt.datetime, channel: str,
              calendar: BusinessCalendar | None = None) -> Message:
        """An answer to the customer, sent on the channel they used; with `calendar`, the first
        one is measured (`measure`)."""
        if not body.strip():
            raise InvalidInput("empty reply", code="empty_reply")
        if not self.is_open:
            raise InvalidTransition(self.status.value, "reply", tuple(s.value for s in TRANSITIONS[self.status]))
        return self._send(body, author=actor, actor=actor, now=now, channel=channel, calendar=calendar)

    def _send(self, body: str, *, author: str, actor: str, now: dt.datetime, channel: str,
              calendar: BusinessCalendar | None, extra: dict[str, object] | None = None) -> Message:
        """A message to the customer written by `author` and sent by `actor` (the approver of a
        draft, else the author), measured and moving a new PQR to work as `reply` says."""
        msg = Message(Direction.OUT, channel, body, now, author=author)
        self.messages.append(msg)
        self.events.append(MessageAdded(actor=actor, at=now, data={"direction": "out", **(extra or {})}))
        if self.first_response_at is None:
            self.first_response_at = now
            if calendar is not None:
                self.measure(calendar)
        if self.status in (Status.RADICADA, Status.ASIGNADA, Status.REABIERTA):
            self.change_status(Status.EN_TRAMITE, actor=actor, now=now)
        return msg

    def note(self, body: str, *, actor: str, now: dt.datetime) -> Message:
        """An internal note: never sent to the customer."""
        if not body.strip():
            raise InvalidInput("empty note", code="empty_note")
        msg = Message(Direction.NOTE, "internal", body, now, author=actor)
        self.messages.append(msg)
        self.events.append(MessageAdded(actor=actor, at=now, data={"direction": "note"}))
        return msg

    def close(self, answer: str | None, *, actor: str, now: dt.datetime, channel: str,
              calendar: BusinessCalendar | None = None, causes: tuple[str, ...] | None = None) -> Message | None:
        """Close with a final answer to the customer (if given); `calendar` as in `change_status`,
        and to measure the resolution. `causes`: the configured list when a close needs a cause.
        A PQR whose answer awaits approval is closed only by `approve_answer`."""
        self._closable(causes)
        msg = (self.reply(answer, actor=actor, now=now, channel=channel, calendar=calendar)
               if answer and answer.strip() else None)
        self.change_status(Status.CERRADA, actor=actor, now=now, reason=answer, calendar=calendar)
        if calendar is not None:
            self.measure(calendar)
        return msg

    def _closable(self, causes: tuple[str, ...] | None) -> None:
        if self.status is Status.EN_REVISION:
            raise AwaitingApproval(self.radicado or "")
        if Status.CERRADA not in TRANSITIONS[self.status]:
            raise InvalidTransition(self.status.value, Status.CERRADA.value,
                                    tuple(s.value for s in TRANSITIONS[self.status]))
        if causes is not None and not self.cause:
            raise CauseRefused("required", causes)

    # -- answer approval (config `approval`) --------------------------------------------------
    def submit_answer(self, answer: str, *, actor: str, now: dt.datetime, calendar: BusinessCalendar | None = None,
                      causes: tuple[str, ...] | None = None) -> Draft:
        """A final answer that a manager approves before it goes out: the PQR waits in
        `en_revision` with the draft kept as the reason of its status change (the customer gets
        nothing yet; the clocks keep running). Refused as `close` would refuse it."""
        if not answer.strip():
            raise InvalidInput("empty answer", code="empty_reply")
        self._closable(causes)
        number = 1 + sum(1 for e in self.events if e.kind == "status_changed" and e.to == Status.EN_REVISION.value)
        self._move(Status.EN_REVISION, actor=actor, now=now, reason=answer, calendar=calendar,
                   extra={"review": "requested", "draft": number})
        return Draft(number=number, text=answer, drafter=actor, at=now)

    @property
    def draft(self) -> Draft | None:
        """The answer waiting for approval (None unless `en_revision`)."""
        if self.status is not Status.EN_REVISION:
            return None
        for e in reversed(self.events):
            if e.kind == "status_changed" and e.to == Status.EN_REVISION.value:
                return Draft(number=int(e.data.get("draft") or 1), text=e.reason or "", drafter=e.actor, at=e.at)
        return None

    @property
    def last_review(self) -> ReviewDecision | None:
        """The last approval or return (None when no draft was ever decided)."""
        for e in reversed(self.events):
            if e.kind == "status_changed" and e.from_ == Status.EN_REVISION.value:
                return ReviewDecision(decision=str(e.data.get("review") or ""), by=e.actor, at=e.at)
        return None

    def waiting_draft(self, number: int | None = None) -> Draft:
        """The draft a decision is about: refused when none waits or `number` is an earlier one."""
        current = self.draft
        if current is None:
            raise NotInReview(self.radicado or "", self.status.value, self.last_review)
        if number is not None and number != current.number:
            raise StaleDraft(self.radicado or "", number, current.number)
        return current

    def approve_answer(self, *, actor: str, now: dt.datetime, channel: str, draft: int | None = None,
                       calendar: BusinessCalendar | None = None, causes: tuple[str, ...] | None = None) -> Message:
        """A manager approves the waiting draft (`draft`: the number the card showed): it is sent
        to the customer as the final answer (written by the drafter, sent by `actor`) and the PQR
        closes; the event records drafter and approver."""
        waiting = self.waiting_draft(draft)
        if causes is not None and not self.cause:
            raise CauseRefused("required", causes)
        review = {"draft": waiting.number, "drafter": waiting.drafter, "approver": actor}
        msg = self._send(waiting.text, author=waiting.drafter, actor=actor, now=now, channel=channel,
                         calendar=calendar, extra=review)
        self._move(Status.CERRADA, actor=actor, now=now, reason=waiting.text, calendar=calendar,
                   extra={"review": "approved", **review})
        if calendar is not None:
            self.measure(calendar)
        return msg

    def return_answer(self, comment: str, *, actor: str, now: dt.datetime, draft: int | None = None) -> Draft:
        """A manager returns the waiting draft with a comment: back to `en_tramite`, nothing sent.
        Returns the draft (its drafter is to be told)."""
        if not comment.strip():
            raise InvalidInput("a comment is needed", code="comment_required")
        waiting = self.waiting_draft(draft)
        self._move(Status.EN_TRAMITE, actor=actor, now=now, reason=comment.strip(),
                   extra={"review": "returned", "draft": waiting.number, "drafter": waiting.drafter,
                          "approver": actor})
        return waiting

    def set_cause(self, cause: str, *, actor: str, now: dt.datetime, allowed: tuple[str, ...],
                  area: str | None = None) -> None:
        """Record the cause (one of `allowed`, the configured keys) and, when given, the
        responsible area; open or closed (causes are often settled after the answer)."""
        key = cause.strip().lower()
        if key not in allowed:
            raise CauseRefused("unknown", allowed, cause)
        check_length(area, AREA_MAX, "area_too_long")
        data = {"area": area} if area else {}
        self.events.append(CauseSet(actor=actor, at=now, from_=self.cause, to=key, data=data))
        self.cause = key
        if area:
            self.area = area

    def measure(self, calendar: BusinessCalendar) -> None:
        """The business time to the first response (hours) and to the closing (hours and days,
        from the start of the current term), once each is reached and not measured yet."""
        if self.first_response_at is not None and self.first_response_hours is None:
            self.first_response_hours = round(calendar.business_hours_between(self.received_at,
                                                                              self.first_response_at), 4)
        if self.closed_at is not None and self.resolution_hours is None:
            start = self.term_started_at
            self.resolution_hours = round(calendar.business_hours_between(start, self.closed_at), 4)
            self.resolution_days = calendar.business_days_between(calendar.effective_filing_day(start),
                                                                  calendar.local(self.closed_at).date())

    def reopen(self, *, actor: str, now: dt.datetime, policy: TermPolicy, reason: str | None = None) -> None:
        """Reopen a closed PQR; it gets a fresh legal term counted from the reopening (the
        contract no longer applies, so its clock no longer pauses)."""
        self.change_status(Status.REABIERTA, actor=actor, now=now, reason=reason)
        dates = policy.due_dates(self.type, now)
        self.due_at, self.original_due_at, self.due_rule = dates.due_at, dates.due_at, f"reapertura:{dates.rule}"
        self.legal_due_at = dates.due_at
        self.pause_unit, self.pause_remaining = None, None
        self.contract_due_at = None
        self.resolution_hours = self.resolution_days = None
        self.extended = False

    @property
    def term_started_at(self) -> dt.datetime:
        """When the current legal term started: the filing, or the last reopening."""
        for event in reversed(self.events):
            if event.kind == "status_changed" and event.to == Status.REABIERTA.value:
                return event.at
        return self.received_at

    def extend(self, new_due: dt.datetime, *, actor: str, now: dt.datetime, reason: str,
               policy: TermPolicy) -> None:
        """A prórroga: once, with a reason, before the due date passes, within the legal limit.
        The new due date is the end of the local business day `new_due` falls on.

        A prórroga moves the legal deadline: `due_at` and `legal_due_at` both become the new date,
        and a contract clock that paused while waiting for the customer stops pausing for this PQR
        (`pause_unit` and `pause_remaining` are cleared), even if it is paused right now."""
        cal = policy.calendar
        if not reason.strip():
            raise ExtensionRefused("reason_required")
        if self.extended:
            raise ExtensionRefused("already_extended")
        if not self.is_open:
            raise ExtensionRefused("closed")
        if now > self.due_at:
            raise ExtensionRefused("past_due", self.due_at)
        day = cal.local(new_due).date()
        if not cal.is_business_day(day):
            raise ExtensionRefused("not_business_day", day)
        target = cal.end_of_day(day)
        limit = policy.extension_limit(self.type, self.term_started_at)
        if target <= self.due_at:
            raise ExtensionRefused("not_later", self.due_at)
        if target > limit:
            raise ExtensionRefused("over_limit", limit)
        self.events.append(DueDateExtended(actor=actor, at=now, from_=self.due_at.isoformat(),
                                           to=target.isoformat(), reason=reason))
        self.due_at = self.legal_due_at = target
        self.pause_unit, self.pause_remaining = None, None
        self.extended = True

    # -- SLA ----------------------------------------------------------------------------------
    def sla_state(self, now: dt.datetime, calendar: BusinessCalendar, warn_before_days: int) -> SlaState:
        """Breached once `now` is past the due date; near breach when at most `warn_before_days`
        business days remain until it."""
        return sla_state(self.status, self.due_at, now, calendar, warn_before_days)


def _needed(calendar: BusinessCalendar | None) -> BusinessCalendar:
    if calendar is None:
        raise ValueError("a business calendar is needed to pause or resume a contract clock")
    return calendar


def _label(amount: float, unit: Unit) -> str:
    """`7.5h` or `3d`: contract time kept by a pause, for the audit trail."""
    return f"{amount:g}h" if unit is Unit.HOURS else f"{int(amount)}d"


@dataclass(frozen=True)
class SlaWindows:
    """The instants that split open PQRs into breached / due today / due soon as of `now`.
    `end_of_today` and `end_of_soon` are exclusive bounds: the first instant after the day."""

    now: dt.datetime
    end_of_today: dt.datetime
    end_of_soon: dt.datetime


def sla_windows(now: dt.datetime, calendar: BusinessCalendar, warn_before_days: int) -> SlaWindows:
    """Breached: due before `now`. Due today: due by the end of the local day. Due soon: due by the
    end of the `warn_before_days`-th business day after today."""
    today = calendar.local(now).date()
    second = dt.timedelta(seconds=1)
    return SlaWindows(now=now, end_of_today=calendar.end_of_day(today) + second,
                      end_of_soon=calendar.end_of_day(calendar.add_business_days(today, warn_before_days)) + second)


def sla_state(status: Status, due_at: dt.datetime, now: dt.datetime, calendar: BusinessCalendar,
              warn_before_days: int) -> SlaState:
    if status not in OPEN_STATUSES:
        return SlaState.CLOSED
    if now > due_at:
        return SlaState.BREACHED
    remaining = calendar.business_days_between(calendar.local(now).date(), calendar.local(due_at).date())
    return SlaState.NEAR_BREACH if remaining <= warn_before_days else SlaState.OK
