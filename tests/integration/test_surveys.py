"""Surveys through the real services on SQLite and PostgreSQL, the clock moved: NPS figures
exact on hand-built answers, the CSAT queued once `delay_hours` after closing and not again after
a reopen and a second close, an opt-out honoured at once, the NPS campaign's selection
(min_days_between, consent) and the detractor's follow-up filed once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from bot.bootstrap import App, build, nps_campaigns
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from bot.surveys.results import SurveyResults
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import SurveyRecord

BOG = dt.timezone(dt.timedelta(hours=-5))
STAFF, BOSS = "slack:U0STAFF", "slack:U0BOSS"
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)   # a Monday


def make_app(db: SqlDatabase, tmp_path: Path, **extra: Any) -> App:
    contracts = tmp_path / "contracts.json"
    contracts.write_text(json.dumps({"areas": [{"name": "cuentas", "emails": ["cuentas@empresa.co"]}], "clients": [
        {"name": "Acme S.A.S.", "email_domains": ["acme.co"], "account_area": "cuentas",
         "contacts": [{"name": "Compras", "email": "compras@acme.co"}, {"name": "Gerencia", "email": "gg@acme.co"}]},
        {"name": "Beta Ltda.", "email_domains": ["beta.co"], "notify_emails": ["contratos@beta.co"]}]}))
    cfg = {"database": {"url": db.url}, "roles": {"staff": [STAFF], "managers": [BOSS, "email:jefa@empresa.co"]},
           "contracts": {"files": [str(contracts)]},
           "channels": {"console": {"enabled": False}, "email": {"enabled": True}}, **extra}
    return build(parse_config(cfg), db=db, clock=lambda: NOW)


async def file(app: App, email: str, *, channel: str = "email") -> str:
    pqr = await app.service.file(FilingRequest(pqr_type=PqrType.RECLAMO, channel=channel, name="Ana", subject="Cobro",
                                               body="Me cobraron dos veces", received_at=NOW, actor="email:" + email,
                                               email=email))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def survey_rows(app: App, kind: str) -> list[dict[str, Any]]:
    async with app.db.uow(readonly=True) as uow:
        return [i.payload for i in await uow.outbox.list(limit=1000) if i.payload["kind"] == kind]


async def test_nps_figures_are_exact_on_hand_built_answers(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    scores = [9, 10, 9, 10, 9, 7, 8, 7, 3, 6]          # 5 promoters, 3 passives, 2 detractors
    async with database.uow() as uow:
        for i, score in enumerate(scores + [None, None]):  # two more sent, not answered
            sid = await uow.surveys.add(SurveyRecord(
                kind="nps", contact=f"email:c{i}@acme.co", channel="email", destination=f"c{i}@acme.co",
                language="es", sent_at=NOW, expires_at=NOW + dt.timedelta(days=30), segment="b2b",
                client="Acme S.A.S.", campaign="c1"))
            if score is not None:
                assert await uow.surveys.answer(sid, score, f"porque {score}", now=NOW + dt.timedelta(hours=1))
        await uow.commit()
    doc = await SurveyResults(database, app.service.calendar).nps(dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert set(doc) == {"sent", "responses", "response_rate_pct", "promoters", "passives", "detractors", "nps",
                        "by_segment", "by_client", "by_month", "detractors_list"}
    assert (doc["sent"], doc["responses"], doc["promoters"], doc["passives"], doc["detractors"]) == (12, 10, 5, 3, 2)
    assert doc["nps"] == 30.0 and doc["response_rate_pct"] == 83.3
    assert doc["by_client"]["Acme S.A.S."]["nps"] == 30.0 and doc["by_month"]["2026-12"]["responses"] == 10
    assert sorted(d["score"] for d in doc["detractors_list"]) == [3, 6]
    assert not any(d["followed_up"] for d in doc["detractors_list"])
    monthly = await app.reports.monthly(__import__("domain.periods", fromlist=["Period"]).Period.parse("2026-12"))
    assert monthly["nps"]["nps"] == 30.0 and monthly["nps"]["sent"] == 12
    assert [p["period"] for p in monthly["nps"]["trend"]] == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
                                                              "2026-12"]
    assert monthly["nps"]["trend"][-1] == {"period": "2026-12", "nps": 30.0, "responses": 10}
    assert monthly["nps"]["trend"][0] == {"period": "2026-07", "nps": None, "responses": 0}


async def test_csat_is_queued_once_after_the_delay_and_not_again_after_a_reopen(database: SqlDatabase,
                                                                               tmp_path: Path) -> None:
    app = make_app(database, tmp_path, surveys={"csat": {"delay_hours": 2}})
    assert app.surveys is not None
    rad = await file(app, "ana@example.co", channel="web")
    closed = NOW + dt.timedelta(hours=1)
    await app.service.close(rad, "Resuelto", actor=STAFF, now=closed)
    assert await app.surveys.run(closed + dt.timedelta(hours=1, minutes=59)) == 0
    assert await app.surveys.run(closed + dt.timedelta(hours=2)) == 1
    assert await app.surveys.run(closed + dt.timedelta(hours=3)) == 0
    await app.service.reopen(rad, actor=STAFF, now=closed + dt.timedelta(hours=4))
    await app.service.close(rad, "Resuelto otra vez", actor=STAFF, now=closed + dt.timedelta(hours=5))
    assert await app.surveys.run(closed + dt.timedelta(hours=8)) == 0
    rows = await survey_rows(app, "survey_csat")
    assert len(rows) == 1 and rows[0]["radicado"] == rad and rows[0]["url"].startswith("http://127.0.0.1:8080/encuesta/")
    async with database.uow(readonly=True) as uow:
        token = rows[0]["url"].rsplit("/", 1)[1]
        stored = await uow.surveys.get(rows[0]["survey_id"])
        assert stored is not None and stored.token_hash != token and len(stored.token_hash or "") == 64


async def test_a_low_csat_alerts_the_managers_with_the_comment(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    assert app.surveys is not None
    rad = await file(app, "ana@example.co")
    await app.service.close(rad, "Resuelto", actor=STAFF, now=NOW)
    await app.surveys.run(NOW + dt.timedelta(hours=3))
    token = (await survey_rows(app, "survey_csat"))[0]["url"].rsplit("/", 1)[1]
    await app.surveys.submit(token, 1, "Nadie me <b>llamó</b>", NOW + dt.timedelta(hours=4))
    alerts = await survey_rows(app, "survey_alert")
    assert alerts and all(a["alert"] == "low_csat" and a["comment"] == "Nadie me <b>llamó</b>" for a in alerts)
    assert alerts[0]["action"]["action"] == "survey_reopen" and alerts[0]["action"]["value"] == rad


async def test_an_opt_out_is_honoured_at_once(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    assert app.surveys is not None
    first = await nps_campaigns(app).send("client:Acme S.A.S.", now=NOW, dry_run=True)
    assert [x.who.contact for x in first.selected] == ["email:compras@acme.co", "email:gg@acme.co"]
    assert await app.surveys.opt_out("GG@acme.co", NOW)
    after = await nps_campaigns(app).send("client:Acme S.A.S.", now=NOW, dry_run=True)
    assert [x.who.contact for x in after.selected] == ["email:compras@acme.co"] and after.skipped_no_consent == 1
    rad = await file(app, "gg@acme.co")
    await app.service.close(rad, "Listo", actor=STAFF, now=NOW)
    assert await app.surveys.run(NOW + dt.timedelta(hours=3)) == 0      # the CSAT honours it too


async def test_an_opt_out_cancels_the_contacts_surveys_still_held_in_the_outbox(database: SqlDatabase,
                                                                               tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    assert app.surveys is not None
    saturday = dt.datetime(2026, 12, 19, 16, 0, tzinfo=BOG)            # past Saturday's window: held to Monday
    assert (await nps_campaigns(app).send("client:Acme S.A.S.", now=saturday)).queued == 2
    assert await app.surveys.opt_out("GG@Acme.co", saturday + dt.timedelta(hours=1))   # what `survey optout` runs
    async with database.uow(readonly=True) as uow:
        rows = {i.destination: i for i in await uow.outbox.list(limit=100) if i.payload["kind"] == "survey_nps"}
    assert rows["gg@acme.co"].status == "cancelled" and "opted out" in (rows["gg@acme.co"].last_error or "")
    assert rows["compras@acme.co"].status == "pending"
    monday = dt.datetime(2026, 12, 21, 7, 0, tzinfo=BOG)
    async with database.uow() as uow:
        claimed = await uow.outbox.claim(now=monday, limit=10, lease=dt.timedelta(minutes=5))
        assert [i.destination for i in claimed] == ["compras@acme.co"]
        cancelled_id = rows["gg@acme.co"].id
        assert cancelled_id is not None and not await uow.outbox.retry(cancelled_id, now=monday)
        await uow.commit()
    assert not await app.surveys.opt_out("gg@acme.co", monday)         # recorded already: nothing more to cancel


async def test_campaign_selection_skips_recent_and_unconsented_contacts(database: SqlDatabase,
                                                                        tmp_path: Path) -> None:
    app = make_app(database, tmp_path, surveys={"nps": {"min_days_between": 90}})
    await file(app, "web1@example.co", channel="web")          # consented on the web form
    await file(app, "web2@example.co", channel="web")
    await file(app, "phone@example.co", channel="phone")       # no consent recorded
    await file(app, "staff@acme.co", channel="web")            # a B2B client's person: not B2C
    campaigns = nps_campaigns(app)
    dry = await campaigns.send("b2c", now=NOW, dry_run=True)
    assert [x.who.contact for x in dry.selected] == ["email:web1@example.co", "email:web2@example.co"]
    assert (dry.skipped_no_consent, dry.skipped_recent, dry.queued) == (1, 0, 0)
    assert await survey_rows(app, "survey_nps") == []
    sent = await campaigns.send("b2c", now=NOW, sample_pct=50)
    assert sent.queued == 1
    row = (await survey_rows(app, "survey_nps"))[0]
    assert "familiar" in row["text"] and row["low"] == 0 and row["high"] == 10 and row["optout_url"].endswith("/baja")
    later = await campaigns.send("b2c", now=NOW + dt.timedelta(days=89), dry_run=True)
    assert later.skipped_recent == 1 and len(later.selected) == 1
    doc = (await campaigns.send("b2c", now=NOW + dt.timedelta(days=91), dry_run=True)).json()
    assert set(doc) == {"campaign", "selected", "skipped_recent", "skipped_no_consent", "queued"}
    assert doc["skipped_recent"] == 0 and len(doc["selected"]) == 2
    b2b = await campaigns.send("b2b", now=NOW)
    assert b2b.queued == 3     # Acme's two contacts and Beta's notify_emails
    assert any("colega o a otra empresa" in r["text"] for r in await survey_rows(app, "survey_nps"))


async def test_a_detractor_is_alerted_and_followed_up_once(database: SqlDatabase, tmp_path: Path) -> None:
    app = make_app(database, tmp_path)
    assert app.surveys is not None
    await nps_campaigns(app).send("client:Acme S.A.S.", now=NOW)
    row = (await survey_rows(app, "survey_nps"))[0]
    await app.surveys.submit(row["url"].rsplit("/", 1)[1], 4, "Lentos", NOW + dt.timedelta(hours=1))
    alerts = await survey_rows(app, "survey_alert")
    assert {a["alert"] for a in alerts} == {"detractor"} and alerts[0]["action"]["action"] == "survey_followup"
    async with database.uow(readonly=True) as uow:
        targets = {(i.channel, i.destination) for i in await uow.outbox.list(limit=1000)
                   if i.payload["kind"] == "survey_alert"}
    assert ("email", "cuentas@empresa.co") in targets and ("email", "jefa@empresa.co") in targets
    first = await app.surveys.follow_up(row["survey_id"], actor=STAFF, now=NOW + dt.timedelta(hours=2))
    again = await app.surveys.follow_up(row["survey_id"], actor=STAFF, now=NOW + dt.timedelta(hours=3))
    assert first[1] and not again[1] and first[0] == again[0]
    pqr = await app.service.show(first[0])
    assert pqr.type is PqrType.QUEJA and pqr.channel == "survey"
    doc = await SurveyResults(database, app.service.calendar).nps(dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert doc["detractors_list"][0]["followed_up"] and doc["detractors_list"][0]["pqr"] == first[0]
