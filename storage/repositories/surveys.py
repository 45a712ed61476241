"""`SurveyStore`: the satisfaction surveys sent, their answers (kept on the survey's row, so an
answer is recorded at most once by a conditional UPDATE), and consent and opt-outs by contact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.orm import aliased

from storage.ports import SurveyContact, SurveyRecord
from storage.repositories.common import chunks
from storage.sqlite_inline import SqlConnection
from storage.tables import customers, pqrs, survey_contacts, surveys

_FOLLOWUP = aliased(pqrs, name="followup")
_COLUMNS = ("kind", "contact", "channel", "destination", "language", "sent_at", "expires_at", "campaign", "segment",
            "client", "pqr_id", "token_hash", "id", "answered_at", "score", "comment", "comment_until",
            "followup_pqr_id")


def _select() -> Any:
    return (select(surveys, pqrs.c.radicado, pqrs.c.type.label("pqr_type"), pqrs.c.area, pqrs.c.assignee,
                   _FOLLOWUP.c.radicado.label("followup_radicado"))
            .select_from(surveys.outerjoin(pqrs, pqrs.c.id == surveys.c.pqr_id)
                         .outerjoin(_FOLLOWUP, _FOLLOWUP.c.id == surveys.c.followup_pqr_id)))


def _record(r: Any) -> SurveyRecord:
    values = {name: getattr(r, name) for name in _COLUMNS}
    return SurveyRecord(**values, radicado=r.radicado, pqr_type=r.pqr_type, area=r.area, assignee=r.assignee,
                        followup_radicado=r.followup_radicado)


class SqlSurveys:
    """`SurveyStore` on the surveys and survey_contacts tables."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def add(self, survey: SurveyRecord) -> int:
        values = {name: getattr(survey, name) for name in _COLUMNS if name != "id"}
        result = await self._conn.execute(insert(surveys).returning(surveys.c.id), values)
        survey.id = int(result.scalar_one())
        return survey.id

    async def get(self, survey_id: int) -> SurveyRecord | None:
        row = (await self._conn.execute(_select().where(surveys.c.id == survey_id))).first()
        return None if row is None else _record(row)

    async def by_token(self, token_hash: str) -> SurveyRecord | None:
        row = (await self._conn.execute(_select().where(surveys.c.token_hash == token_hash))).first()
        return None if row is None else _record(row)

    async def csat_due(self, *, closed_from: dt.datetime, closed_before: dt.datetime, limit: int) -> list[str]:
        asked = select(surveys.c.id).where(surveys.c.kind == "csat", surveys.c.pqr_id == pqrs.c.id).exists()
        rows = await self._conn.execute(
            select(pqrs.c.radicado)
            .where(pqrs.c.status == "cerrada", pqrs.c.closed_at >= closed_from, pqrs.c.closed_at <= closed_before,
                   ~asked)
            .order_by(pqrs.c.closed_at, pqrs.c.id).limit(limit))
        return [str(r) for (r,) in rows.all()]

    async def answer(self, survey_id: int, score: int, comment: str | None, *, now: dt.datetime,
                     comment_until: dt.datetime | None = None) -> bool:
        result = await self._conn.execute(
            update(surveys)
            .where(surveys.c.id == survey_id, surveys.c.answered_at.is_(None), surveys.c.expires_at > now)
            .values(answered_at=now, score=score, comment=comment, comment_until=comment_until))
        return bool(result.rowcount == 1)

    async def add_comment(self, survey_id: int, comment: str) -> bool:
        result = await self._conn.execute(
            update(surveys).where(surveys.c.id == survey_id, surveys.c.comment_until.is_not(None))
            .values(comment=comment, comment_until=None))
        return bool(result.rowcount == 1)

    async def awaiting_comment(self, contact: str, *, now: dt.datetime) -> SurveyRecord | None:
        row = (await self._conn.execute(
            _select().where(surveys.c.contact == contact, surveys.c.comment_until > now)
            .order_by(surveys.c.answered_at.desc()).limit(1))).first()
        return None if row is None else _record(row)

    async def set_followup(self, survey_id: int, pqr_id: int) -> bool:
        result = await self._conn.execute(
            update(surveys).where(surveys.c.id == survey_id, surveys.c.followup_pqr_id.is_(None))
            .values(followup_pqr_id=pqr_id))
        return bool(result.rowcount == 1)

    async def last_asked(self, contacts: Collection[str], kind: str) -> dict[str, dt.datetime]:
        found: dict[str, dt.datetime] = {}
        for part in chunks(sorted(set(contacts))):
            rows = await self._conn.execute(
                select(surveys.c.contact, func.max(surveys.c.sent_at).label("last"))
                .where(surveys.c.kind == kind, surveys.c.contact.in_(part)).group_by(surveys.c.contact))
            for row in rows.all():
                contact, at = row.contact, row.last
                if at is not None:
                    found[str(contact)] = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
        return found

    async def contact_flags(self, contacts: Collection[str]) -> dict[str, tuple[str | None, bool]]:
        found: dict[str, tuple[str | None, bool]] = {}
        for part in chunks(sorted(set(contacts))):
            rows = await self._conn.execute(select(survey_contacts).where(survey_contacts.c.contact.in_(part)))
            for r in rows.all():
                found[r.contact] = (r.consent_source, r.opted_out_at is not None)
        return found

    async def _row(self, contact: str) -> Any:
        return (await self._conn.execute(
            select(survey_contacts).where(survey_contacts.c.contact == contact))).first()

    async def consent(self, contact: str, source: str, *, now: dt.datetime) -> None:
        row = await self._row(contact)
        if row is None:
            await self._conn.execute(insert(survey_contacts).values(contact=contact, consent_source=source,
                                                                    consented_at=now))
        elif row.consent_source is None:
            await self._conn.execute(update(survey_contacts).where(survey_contacts.c.contact == contact)
                                     .values(consent_source=source, consented_at=now))

    async def opt_out(self, contact: str, *, now: dt.datetime) -> bool:
        row = await self._row(contact)
        if row is None:
            await self._conn.execute(insert(survey_contacts).values(contact=contact, opted_out_at=now))
            return True
        if row.opted_out_at is not None:
            return False
        await self._conn.execute(update(survey_contacts).where(survey_contacts.c.contact == contact)
                                 .values(opted_out_at=now))
        return True

    async def b2c_contacts(self) -> list[SurveyContact]:
        web = func.max(case((pqrs.c.channel == "web", 1), else_=0))
        tg = func.max(case((pqrs.c.channel == "telegram", 1), else_=0))
        rows = await self._conn.execute(
            select(customers.c.id, customers.c.name, customers.c.email, customers.c.telegram_chat_id,
                   customers.c.language, customers.c.unreachable, web.label("web"), tg.label("tg"))
            .select_from(customers.join(pqrs, pqrs.c.customer_id == customers.c.id))
            .group_by(customers.c.id, customers.c.name, customers.c.email, customers.c.telegram_chat_id,
                      customers.c.language, customers.c.unreachable)
            .order_by(customers.c.id))
        found: list[SurveyContact] = []
        for r in rows.all():
            if r.tg and r.telegram_chat_id is not None and not r.unreachable:
                found.append(SurveyContact(f"telegram:{r.telegram_chat_id}", r.name, "telegram",
                                           str(r.telegram_chat_id), r.language, "telegram_start"))
            elif r.email:
                found.append(SurveyContact(f"email:{r.email.strip().lower()}", r.name, "email", r.email, r.language,
                                           "web_form" if r.web else None))
        return found

    async def sent(self, kind: str, start: dt.datetime, end: dt.datetime) -> list[SurveyRecord]:
        rows = await self._conn.execute(
            _select().where(and_(surveys.c.kind == kind, surveys.c.sent_at >= start, surveys.c.sent_at < end))
            .order_by(surveys.c.sent_at, surveys.c.id))
        return [_record(r) for r in rows.all()]
