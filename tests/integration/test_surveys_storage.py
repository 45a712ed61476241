"""The survey store on SQLite and PostgreSQL: an answer is taken once and not after expiry, the
CSAT candidates skip PQRs already asked, opt-outs and consent by contact."""

from __future__ import annotations

import datetime as dt

from storage.db import SqlDatabase
from storage.ports import SurveyRecord

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 21, 14, 0, tzinfo=UTC)


def _survey(contact: str, **kw: object) -> SurveyRecord:
    values: dict[str, object] = dict(kind="nps", contact=contact, channel="email", destination=contact[6:],
                                     language="es", sent_at=NOW, expires_at=NOW + dt.timedelta(days=30))
    values.update(kw)
    return SurveyRecord(**values)  # type: ignore[arg-type]


async def test_an_answer_is_taken_once_and_not_after_expiry(database: SqlDatabase) -> None:
    async with database.uow() as uow:
        sid = await uow.surveys.add(_survey("email:ana@x.co", token_hash="a" * 64))
        old = await uow.surveys.add(_survey("email:bea@x.co", expires_at=NOW - dt.timedelta(seconds=1)))
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.surveys.answer(sid, 9, "bien", now=NOW)
        assert not await uow.surveys.answer(sid, 3, "otra vez", now=NOW)
        assert not await uow.surveys.answer(old, 3, None, now=NOW)
        await uow.commit()
    async with database.uow(readonly=True) as uow:
        found = await uow.surveys.by_token("a" * 64)
        assert found is not None and found.score == 9 and found.comment == "bien"
        assert await uow.surveys.last_asked(["email:ana@x.co", "email:nadie@x.co"], "nps") == {"email:ana@x.co": NOW}


async def test_opt_out_and_consent_by_contact(database: SqlDatabase) -> None:
    async with database.uow() as uow:
        await uow.surveys.consent("email:ana@x.co", "web_form", now=NOW)
        assert await uow.surveys.opt_out("email:ana@x.co", now=NOW)
        assert not await uow.surveys.opt_out("email:ana@x.co", now=NOW)
        assert await uow.surveys.opt_out("email:bea@x.co", now=NOW)
        await uow.commit()
    async with database.uow(readonly=True) as uow:
        flags = await uow.surveys.contact_flags(["email:ana@x.co", "email:bea@x.co", "email:cai@x.co"])
    assert flags == {"email:ana@x.co": ("web_form", True), "email:bea@x.co": (None, True)}
