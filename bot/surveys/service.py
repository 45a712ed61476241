"""Satisfaction surveys: the CSAT asked once per PQR `surveys.csat.delay_hours` after it closed
(a scheduler job, so the leader alone queues it, and the unique kind × PQR keeps it once even
with two leaders), the answers (the web page's POST, Telegram's buttons and the comment after
them: each recorded at most once), opt-outs, and what staff do with a bad answer (reopen the
PQR, file a PQR from a detractor's answer — once, however often the button is pressed)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.config import Config
from bot.contracts.service import ContractService
from bot.i18n import t
from bot.pqrs.service import FilingRequest, PqrService
from bot.roles import Roles
from bot.surveys.notices import SurveyNotices, expires, new_token, token_hash
from domain.errors import NotAllowed, NotFound
from domain.pqr_types import PqrType
from domain.surveys import (COMMENT_MAX, DETRACTOR_MAX, LOW_CSAT, SCALES, SurveyError, SurveyKind, is_open,
                            valid_score)
from storage.ports import Database, SurveyRecord, UnitOfWork

log = logging.getLogger(__name__)
CSAT_LOOKBACK = dt.timedelta(days=7)     # PQRs closed longer ago than this (plus the delay) are not asked
COMMENT_WINDOW = dt.timedelta(hours=1)   # Telegram: the next message within this is the comment
BATCH = 200


@dataclass(frozen=True)
class SurveyView:
    """What the survey page shows: the question, the scale, or why it cannot be answered."""

    kind: str
    language: str
    question: str
    low: int
    high: int
    state: str | None          # None (open), used, expired


def clean_comment(text: str | None) -> str | None:
    value = "".join(c for c in (text or "").replace("\r\n", "\n") if c.isprintable() or c in "\n\t").strip()
    return value[:COMMENT_MAX] or None


async def _opt_out(uow: UnitOfWork, contact: str, now: dt.datetime) -> bool:
    """Record the opt-out and cancel the contact's surveys still waiting in the outbox (held for
    the contact hours, say): honoured at once, not only for the next campaign."""
    done = await uow.surveys.opt_out(contact, now=now)
    channel, _, destination = contact.partition(":")
    cancelled = await uow.outbox.cancel_unsolicited(channel, destination, reason="cancelled: the contact opted out")
    if cancelled:
        log.info("surveys: %d pending survey(s) to %s cancelled by an opt-out", cancelled, contact)
    return done


class SurveyService:
    name = "surveys.csat"        # as a scheduler job

    def __init__(self, db: Database, config: Config, notices: SurveyNotices, pqrs: PqrService,
                 contracts: ContractService, roles: Roles) -> None:
        self.db = db
        self.config = config
        self.notices = notices
        self.pqrs = pqrs
        self.contracts = contracts
        self.roles = roles

    # -- CSAT after closing (scheduler job) -----------------------------------------------------
    async def run(self, now: dt.datetime) -> int:
        """Queue the CSAT of every PQR closed `delay_hours` ago or more and not asked yet."""
        cfg = self.config.surveys.csat
        if not cfg.enabled:
            return 0
        before = now - dt.timedelta(hours=cfg.delay_hours)
        queued = 0
        async with self.db.uow() as uow:
            for radicado in await uow.surveys.csat_due(closed_from=before - CSAT_LOOKBACK, closed_before=before,
                                                       limit=BATCH):
                queued += await self._csat(uow, radicado, now)
            await uow.commit()
        if queued:
            log.info("surveys: %d CSAT survey(s) queued", queued)
        return queued

    async def _csat(self, uow: UnitOfWork, radicado: str, now: dt.datetime) -> int:
        pqr = await uow.pqrs.get(radicado)
        if pqr is None or pqr.id is None:
            return 0
        route = self.pqrs.notifier.route(pqr)
        contact = None
        if route is not None:
            contact = f"{route[0]}:{route[1].lower() if route[0] == 'email' else route[1]}"
        opted_out = contact is not None and (await uow.surveys.contact_flags([contact])).get(contact, (None, False))[1]
        token, hashed = new_token() if route is not None and route[0] == "email" else (None, None)
        lang = pqr.customer.language
        survey = SurveyRecord(kind="csat", contact=contact or f"pqr:{radicado}", channel=route[0] if route else "none",
                              destination=route[1] if route else "", language=lang, sent_at=now,
                              expires_at=expires(now, self.config.surveys.csat.valid_days), pqr_id=pqr.id,
                              token_hash=hashed, client=pqr.client)
        await uow.surveys.add(survey)      # also for a PQR nobody can be asked about: it is settled
        if route is None or opted_out:
            return 0
        subject, question = self.notices.csat_question(lang, type_label=t(lang, f"type.{pqr.type.value}"),
                                                       radicado=radicado)
        await uow.outbox.put(self.notices.request(survey, token, question=question, subject=subject,
                                                  radicado=radicado), now=now)
        return 1

    # -- the survey page --------------------------------------------------------------------------
    async def view(self, token: str, now: dt.datetime) -> SurveyView | None:
        """The page of the survey whose link carries `token`; None for an unknown token."""
        async with self.db.uow(readonly=True) as uow:
            survey = await uow.surveys.by_token(token_hash(token))
        if survey is None:
            return None
        return self._view(survey, now)

    def _view(self, survey: SurveyRecord, now: dt.datetime) -> SurveyView:
        lang = survey.language
        low, high = SCALES[SurveyKind(survey.kind)]
        if survey.kind == "csat":
            question = self.notices.csat_question(lang, type_label=t(lang, f"type.{survey.pqr_type or 'peticion'}"),
                                                  radicado=survey.radicado or "")[1]
        else:
            question = self.notices.nps_question(lang, b2b=survey.segment == "b2b")[1]
        return SurveyView(survey.kind, lang, question, low, high, is_open(survey.expires_at, survey.answered_at, now))

    async def submit(self, token: str, score: int, comment: str | None, now: dt.datetime) -> SurveyView:
        """Record the page's answer; SurveyError (not_found, used, expired, bad_score) otherwise."""
        async with self.db.uow() as uow:
            survey = await uow.surveys.by_token(token_hash(token))
            if survey is None:
                raise SurveyError("not_found")
            await self._answer(uow, survey, score, clean_comment(comment), now)
            await uow.commit()
        return self._view(survey, now)

    async def _answer(self, uow: UnitOfWork, survey: SurveyRecord, score: int, comment: str | None,
                      now: dt.datetime, *, comment_until: dt.datetime | None = None) -> SurveyRecord:
        assert survey.id is not None
        if not valid_score(SurveyKind(survey.kind), score):
            raise SurveyError("bad_score")
        state = is_open(survey.expires_at, survey.answered_at, now)
        if state is not None:
            raise SurveyError(state)
        if not await uow.surveys.answer(survey.id, score, comment, now=now, comment_until=comment_until):
            raise SurveyError("used")
        survey.score, survey.comment, survey.answered_at = score, comment, now
        await self._alerts(uow, survey, now)
        return survey

    async def _alerts(self, uow: UnitOfWork, survey: SurveyRecord, now: dt.datetime, *, key: str = "") -> None:
        """A low CSAT or a detractor alerts staff; `key` tells a second alert (the comment that
        followed a Telegram score) from the first."""
        assert survey.score is not None
        if survey.kind == "csat" and survey.score <= LOW_CSAT:
            items = self.notices.low_csat(survey, key=key)
        elif survey.kind == "nps" and survey.score <= DETRACTOR_MAX:
            items = self.notices.detractor(survey, await self.contracts.registry_in(uow), key=key)
        else:
            return
        if items:
            await uow.outbox.put_many([(item, now) for item in items])

    # -- Telegram: the buttons and the comment after them -----------------------------------------
    async def press(self, chat_id: int, survey_id: int, score: int, now: dt.datetime) -> tuple[str, str]:
        """A score button pressed in chat `chat_id`: (outcome, language); outcome `thanks`, or
        `not_found` (not this chat's survey), `used`, `expired`, `bad_score`."""
        async with self.db.uow() as uow:
            survey = await uow.surveys.get(survey_id)
            if survey is None or survey.contact != f"telegram:{chat_id}":
                return "not_found", self.config.language
            try:
                await self._answer(uow, survey, score, None, now, comment_until=now + COMMENT_WINDOW)
            except SurveyError as exc:
                return exc.code, survey.language
            await uow.commit()
            return "thanks", survey.language

    async def comment(self, chat_id: int, text: str, now: dt.datetime) -> str | None:
        """A message of chat `chat_id` taken as the comment of its survey just scored: the
        language to thank in, or None when no comment was awaited (the message is not ours)."""
        async with self.db.uow() as uow:
            survey = await uow.surveys.awaiting_comment(f"telegram:{chat_id}", now=now)
            if survey is None or survey.id is None:
                return None
            survey.comment = clean_comment(text)
            if not await uow.surveys.add_comment(survey.id, survey.comment or ""):
                return None
            await self._alerts(uow, survey, now, key=":comment")
            await uow.commit()
            return survey.language

    # -- opt-outs -----------------------------------------------------------------------------------
    async def opt_out_token(self, token: str, now: dt.datetime) -> str | None:
        """The opt-out link: the survey's contact is never asked again. Its language, or None."""
        async with self.db.uow() as uow:
            survey = await uow.surveys.by_token(token_hash(token))
            if survey is None:
                return None
            await _opt_out(uow, survey.contact, now)
            await uow.commit()
            return survey.language

    async def opt_out(self, email: str, now: dt.datetime) -> bool:
        """`pqrbot survey optout EMAIL`; False when it was recorded already."""
        async with self.db.uow() as uow:
            done = await _opt_out(uow, f"email:{email.strip().lower()}", now)
            await uow.commit()
            return done

    # -- staff's buttons ---------------------------------------------------------------------------
    async def follow_up(self, survey_id: int, *, actor: str, now: dt.datetime) -> tuple[str, bool]:
        """File a queja (channel `survey`) from a detractor's answer, linked to it: (radicado,
        True) — or the one filed before and False, however often this is asked."""
        if not self.roles.is_staff(actor):
            raise NotAllowed("survey_followup")
        async with self.db.uow() as uow:
            survey = await uow.surveys.get(survey_id)
            if survey is None or survey.answered_at is None:
                raise NotFound(str(survey_id))
            if survey.followup_radicado:
                return survey.followup_radicado, False
            lang = survey.language
            channel, _, address = survey.contact.partition(":")
            req = FilingRequest(
                pqr_type=PqrType.QUEJA, channel="survey", name=survey.client or address,
                subject=t(lang, "survey.followup_subject", score=survey.score, client=survey.client or "B2C"),
                body=t(lang, "survey.followup_body", score=survey.score, contact=survey.contact,
                       comment=survey.comment or t(lang, "survey.no_comment")),
                received_at=now, actor=actor, email=address if channel == "email" else None,
                telegram_chat_id=int(address) if channel == "telegram" and address.lstrip("-").isdigit() else None,
                language=lang, inbound_key=("survey", f"followup:{survey_id}"), acknowledge=False)
            pqr = await self.pqrs.file_in(uow, req)
            if pqr is None or pqr.id is None or not await uow.surveys.set_followup(survey_id, pqr.id):
                await uow.rollback()
                again = await uow.surveys.get(survey_id)
                if again is not None and again.followup_radicado:
                    return again.followup_radicado, False
                raise NotFound(str(survey_id))
            await uow.commit()
            return pqr.radicado or "", True

    async def reopen(self, radicado: str, *, actor: str, now: dt.datetime) -> str:
        """Reopen the PQR of a low CSAT (the alert's button)."""
        if not self.roles.is_staff(actor):
            raise NotAllowed("reopen")
        pqr = await self.pqrs.reopen(radicado, actor=actor, now=now, reason=t(self.config.language, "survey.reopen_reason"))
        return pqr.radicado or radicado
