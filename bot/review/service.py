"""Answer approval use cases. Each runs in one transaction (the PQR, its events, its outbox rows).

`ReviewRules` is what `PqrService.close` asks: does this close wait for a manager, and which rows
tell the managers. `ReviewService` takes the managers' decisions. Role checks live here, not only
in the command layer, because decisions also arrive from chat buttons, the web and the CLI: a
refused decision is written to the PQR's audit trail before the domain error is raised."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.pqrs.service import PqrService
from bot.review.notices import ReviewNotices
from bot.roles import Roles
from domain.errors import CauseRefused, DomainError, NotAllowed, NotFound
from domain.events import ActionRefused
from domain.pqr import Pqr
from domain.review import ApprovalPolicy, Draft, NotInReview, StaleDraft
from storage.ports import OutboxItem, UnitOfWork

NOT_MANAGER = "review_not_manager"     # NotAllowed's code: only managers decide on drafts


@dataclass(frozen=True)
class ReviewRules:
    """Which closes wait for approval: those the policy covers, unless a manager closes."""

    policy: ApprovalPolicy
    roles: Roles
    notices: ReviewNotices

    def applies(self, pqr: Pqr, actor: str) -> bool:
        return self.policy.covers(pqr.type.value, pqr.client) and not self.roles.is_manager(actor)

    def requests(self, pqr: Pqr, draft: Draft, now: dt.datetime) -> list[OutboxItem]:
        return self.notices.request(pqr, draft, now)


def refusal_reason(exc: DomainError) -> str:
    """How a refused decision is named in the audit trail."""
    if isinstance(exc, NotInReview):
        return f"not_in_review:{exc.status}"
    if isinstance(exc, StaleDraft):
        return f"stale_draft:{exc.number}<{exc.current}"
    if isinstance(exc, CauseRefused):
        return f"cause:{exc.reason}"
    return type(exc).__name__


class ReviewService:
    """Approve (send the draft, close) or return (back to work, the drafter told): managers only."""

    def __init__(self, pqrs: PqrService, *, roles: Roles, notices: ReviewNotices) -> None:
        self.pqrs = pqrs
        self.db = pqrs.db
        self.roles = roles
        self.notices = notices

    async def _load(self, uow: UnitOfWork, radicado: str) -> Pqr:
        pqr = await uow.pqrs.get(radicado.strip().upper())
        if pqr is None:
            raise NotFound(radicado.strip().upper())
        return pqr

    async def _refuse(self, uow: UnitOfWork, pqr: Pqr, *, actor: str, action: str, reason: str,
                      now: dt.datetime) -> None:
        """Write the refusal to the PQR's audit trail and commit it (nothing else changed)."""
        pqr.events.append(ActionRefused(actor=actor, at=now, reason=reason, data={"action": action}))
        await uow.pqrs.save(pqr)
        await uow.commit()

    async def check(self, radicado: str, *, approve: bool, actor: str, now: dt.datetime,
                    draft: int | None = None) -> Pqr:
        """The checks a decision makes before it needs a comment (a press about to open the
        comment modal or ask for it): raises as `approve` / `send_back` would, after recording
        the refusal; otherwise changes nothing and returns the PQR with its draft."""
        action = "answer_approve" if approve else "answer_return"
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            try:
                self._allowed(actor)
                pqr.waiting_draft(draft)
            except DomainError as exc:
                await self._refuse(uow, pqr, actor=actor, action=action, reason=self._reason(exc), now=now)
                raise
            return pqr

    async def approve(self, radicado: str, *, actor: str, now: dt.datetime, draft: int | None = None) -> Pqr:
        """Send the waiting draft to the customer exactly as a close sends its answer, and close.
        Raises NotAllowed (not a manager), NotInReview (decided already, or never sent for
        approval), StaleDraft (a card of an earlier draft), CauseRefused, NotFound."""
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            try:
                self._allowed(actor)
                waiting = pqr.waiting_draft(draft)
                route = self.pqrs.notifier.route(pqr)
                msg = pqr.approve_answer(actor=actor, now=now, channel=route[0] if route else "none",
                                         draft=draft, calendar=self.pqrs.calendar,
                                         causes=self.pqrs.causes_required())
            except DomainError as exc:
                await self._refuse(uow, pqr, actor=actor, action="answer_approve", reason=self._reason(exc),
                                   now=now)
                raise
            await self.pqrs.queue_closing(uow, pqr, waiting.text, msg, now=now)
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr

    async def send_back(self, radicado: str, comment: str, *, actor: str, now: dt.datetime,
                        draft: int | None = None) -> Pqr:
        """Return the waiting draft with a comment: `en_tramite`, nothing sent to the customer,
        the drafter told on their channel. Raises as `approve`, and InvalidInput without a comment."""
        async with self.db.uow() as uow:
            pqr = await self._load(uow, radicado)
            try:
                self._allowed(actor)
                waiting = pqr.return_answer(comment, actor=actor, now=now, draft=draft)
            except DomainError as exc:
                await self._refuse(uow, pqr, actor=actor, action="answer_return", reason=self._reason(exc), now=now)
                raise
            items = self.notices.returned(pqr, waiting, comment.strip(), actor)
            if items:
                await uow.outbox.put_many([(item, now) for item in items])
            await uow.pqrs.save(pqr)
            await uow.commit()
            return pqr

    def _allowed(self, actor: str) -> None:
        if not self.roles.is_manager(actor):
            raise NotAllowed(NOT_MANAGER)

    @staticmethod
    def _reason(exc: DomainError) -> str:
        return "not_manager" if isinstance(exc, NotAllowed) else refusal_reason(exc)
