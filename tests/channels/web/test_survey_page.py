"""The survey page on the real server: a mail scanner's GET of the link records nothing, the
page's POST (with its form token) records once, a second POST and a forged post are refused, an
unknown token gets a clear page, the page speaks the survey's language, the opt-out link."""

from __future__ import annotations

import datetime as dt
import re

from bot.bootstrap import nps_campaigns
from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType
from tests.channels.web.conftest import STAFF, WebWorld


def nonce_in(page: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def survey_link(web: WebWorld, *, language: str = "es") -> tuple[str, int]:
    app = web.app
    assert app.surveys is not None
    now = web.now[0]
    pqr = await app.service.file(FilingRequest(pqr_type=PqrType.RECLAMO, channel="web", name="Ana <b>", subject="s",
                                               body="b", received_at=now, actor="email:ana@example.co",
                                               email="ana@example.co", language=language))
    assert pqr is not None and pqr.radicado
    await app.service.close(pqr.radicado, "Listo", actor=STAFF, now=now)
    assert await app.surveys.run(now + dt.timedelta(hours=3)) == 1
    async with app.db.uow(readonly=True) as uow:
        row = next(i.payload for i in await uow.outbox.list(limit=100) if i.payload["kind"] == "survey_csat")
    return row["url"].split("/encuesta/", 1)[1], row["survey_id"]


async def stored(web: WebWorld, survey_id: int) -> tuple[int | None, str | None]:
    async with web.app.db.uow(readonly=True) as uow:
        s = await uow.surveys.get(survey_id)
    assert s is not None
    return s.score, s.comment


async def test_a_scanner_get_records_nothing_the_post_once(web: WebWorld) -> None:
    token, sid = await survey_link(web)
    for _ in range(3):                                   # a mail scanner following the link
        page = await web.client.get(f"/encuesta/{token}")
        assert page.status_code == 200 and 'name="score"' in page.text and "¿Qué tan satisfecho" in page.text
    assert await stored(web, sid) == (None, None)
    nonce = nonce_in(page.text)
    forged = await web.client.post(f"/encuesta/{token}", data={"score": "5", "nonce": "x.1.y"})
    assert forged.status_code == 400 and await stored(web, sid) == (None, None)
    done = await web.client.post(f"/encuesta/{token}", data={"score": "2", "comment": "<script>x</script>",
                                                             "nonce": nonce})
    assert done.status_code == 200 and 'id="thanks"' in done.text
    assert await stored(web, sid) == (2, "<script>x</script>")
    again = await web.client.post(f"/encuesta/{token}", data={"score": "5", "nonce": nonce})
    assert again.status_code == 410 and "ya fue respondida" in again.text
    assert await stored(web, sid) == (2, "<script>x</script>")
    used = await web.client.get(f"/encuesta/{token}")
    assert used.status_code == 410 and 'name="score"' not in used.text


async def test_unknown_expired_and_english(web: WebWorld) -> None:
    assert (await web.client.get("/encuesta/nope")).status_code == 404
    token, sid = await survey_link(web, language="en")
    page = await web.client.get(f"/encuesta/{token}")
    assert "How satisfied" in page.text
    bad = await web.client.post(f"/encuesta/{token}", data={"score": "9", "nonce": nonce_in(page.text)})
    assert bad.status_code == 422 and await stored(web, sid) == (None, None)
    web.tick(days=30)
    expired = await web.client.get(f"/encuesta/{token}")
    assert expired.status_code == 410 and "expired" in expired.text


async def test_the_opt_out_link_asks_then_records(web: WebWorld) -> None:
    token, _ = await survey_link(web)
    assert (await nps_campaigns(web.app).send("b2c", now=web.now[0] + dt.timedelta(hours=3))).queued == 1
    page = await web.client.get(f"/encuesta/{token}/baja")
    assert page.status_code == 200
    async with web.app.db.uow(readonly=True) as uow:
        assert await uow.surveys.contact_flags(["email:ana@example.co"]) == {}
    done = await web.client.post(f"/encuesta/{token}/baja", data={"nonce": nonce_in(page.text)})
    assert done.status_code == 200 and 'id="optout-done"' in done.text
    async with web.app.db.uow(readonly=True) as uow:
        assert (await uow.surveys.contact_flags(["email:ana@example.co"]))["email:ana@example.co"][1]
        held = [i for i in await uow.outbox.list(limit=100) if i.payload["kind"] in ("survey_csat", "survey_nps")]
    # the CSAT and the NPS question still waiting for the contact hours will not go out
    assert sorted((i.payload["kind"], i.status) for i in held) == [("survey_csat", "cancelled"),
                                                                    ("survey_nps", "cancelled")]
