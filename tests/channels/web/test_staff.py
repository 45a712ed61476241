"""The staff pages on the real server with httpx: the one-time sign-in link (once, 10 minutes), the
session cookie (HttpOnly, SameSite=Lax, session_hours), a removed staff member refused at once,
CSRF on every form, customers refused, attachments only as downloads, customer text escaped, and
every change made through the chat's command layer and audited with the staff identity."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

from typing import Any

import httpx
import pytest
from sqlalchemy import event

from bot.access.service import RECENT, digest
from bot.bootstrap import access_service
from bot.i18n.formats import format_percentage
from bot.pqrs.service import FilingRequest
from domain.errors import NotAllowed
from domain.files import FileData
from domain.periods import Period
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import SurveyRecord
from tests.channels.web.conftest import BOSS, BOG, OUTSIDER, STAFF, WebWorld, make_world

CUSTOMER = "email:ana@example.co"


async def file_pqr(web: WebWorld, *, subject: str = "Cobro doble", body: str = "Me cobraron dos veces",
                   name: str = "Ana", received: dt.datetime | None = None) -> str:
    pqr = await web.app.service.file(FilingRequest(
        pqr_type=PqrType.RECLAMO, channel="email", name=name, subject=subject, body=body,
        received_at=received or web.now[0], actor=CUSTOMER, email="ana@example.co"))
    assert pqr is not None and pqr.radicado
    return pqr.radicado


async def attach(web: WebWorld, rad: str, files: list[FileData]) -> list[int]:
    """Store `files` on the PQR's first message (as intake stores them); their ids."""
    pqr = await web.app.service.show(rad)
    assert pqr.messages[0].id is not None
    async with web.app.db.uow() as uow:
        await uow.mail.add_attachments(pqr.messages[0].id, files)
        await uow.commit()
    return [a.id for a in (await web.app.service.show(rad)).messages[0].attachments]


def link_token(text: str) -> str:
    found = re.search(r"/login/([A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


async def sign_in(web: WebWorld, who: str = STAFF) -> httpx.Response:
    reply = await web.app.commands.handle(who, "web", web.now[0])
    assert reply.ok, reply.text
    r = await web.client.get(f"/login/{link_token(reply.text)}")
    assert r.status_code == 303 and r.headers["location"] == "/staff", r.text
    return r


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def csrf(web: WebWorld) -> str:
    r = await web.client.get("/staff")
    assert r.status_code == 200
    return csrf_of(r.text)


async def act(web: WebWorld, rad: str, action: str, **fields: str) -> str:
    """Post a PQR page form with the session's token; the flash message shown after the redirect."""
    return (await act_flash(web, rad, action, **fields))[1]


async def act_flash(web: WebWorld, rad: str, action: str, **fields: str) -> tuple[str, str]:
    """(ok | error, text) of the flash message after posting a PQR page form."""
    token = await csrf(web)
    r = await web.client.post(f"/staff/pqr/{rad}/{action}", data={"csrf": token, **fields})
    assert r.status_code == 303, r.text
    page = await web.client.get(r.headers["location"])
    assert page.status_code == 200
    flash = re.search(r'class="flash (ok|error)">(.*?)</p>', page.text, re.S)
    assert flash, page.text
    return flash.group(1), html.unescape(flash.group(2))


# -- signing in ------------------------------------------------------------------------------------

async def test_the_link_signs_in_once_with_a_safe_cookie(any_web: WebWorld) -> None:
    web = any_web
    reply = await web.app.commands.handle(STAFF, "web", web.now[0])
    assert reply.ok and reply.visibility.value == "private"
    assert f"{web.app.config.web.public_url}/login/" in reply.text
    token = link_token(reply.text)
    r = await web.client.get(f"/login/{token}")
    assert r.status_code == 303 and r.headers["location"] == "/staff"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("pqrbot_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert f"Max-Age={12 * 3600}" in cookie and "Secure" not in cookie and "Path=/" in cookie
    queue = await web.client.get("/staff")
    assert queue.status_code == 200 and STAFF in queue.text and "no-store" in queue.headers["cache-control"]

    web.client.cookies.clear()
    again = await web.client.get(f"/login/{token}")
    assert again.status_code == 403 and "/pqr web" in again.text and "set-cookie" not in again.headers
    assert (await web.client.get("/staff")).status_code == 303


async def test_under_https_the_link_is_the_public_one_and_the_cookie_secure(sqlite_database: SqlDatabase) -> None:
    async for web in make_world(sqlite_database, web={"public_url": "https://pqr.example.co/", "session_hours": 2}):
        reply = await web.app.commands.handle(STAFF, "/pqr web", web.now[0])
        assert "https://pqr.example.co/login/" in reply.text and "10" in reply.text
        r = await web.client.get(f"/login/{link_token(reply.text)}")
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"] and f"Max-Age={2 * 3600}" in r.headers["set-cookie"]


async def test_a_link_expires_after_ten_minutes(any_web: WebWorld) -> None:
    web = any_web
    token = link_token((await web.app.commands.handle(STAFF, "web", web.now[0])).text)
    web.tick(minutes=11)
    r = await web.client.get(f"/login/{token}", headers={"Accept-Language": "en"})
    assert r.status_code == 403 and "Ask for a new one by typing /pqr web" in r.text
    assert (await web.client.get("/login/not-a-token")).status_code == 403


async def test_a_session_lasts_session_hours(web: WebWorld) -> None:
    await sign_in(web)
    web.tick(hours=11, minutes=59)
    assert (await web.client.get("/staff")).status_code == 200
    web.tick(minutes=2)
    r = await web.client.get("/staff/dashboard")
    assert r.status_code == 303 and r.headers["location"] == "/staff/sign-in"
    page = await web.client.get("/staff/sign-in")
    assert page.status_code == 403 and "/pqr web" in page.text


async def test_a_removed_staff_member_is_refused_at_once(web: WebWorld, sqlite_database: SqlDatabase) -> None:
    await sign_in(web)
    cookie = web.client.cookies["pqrbot_session"]
    # The same database, served by an instance whose config no longer lists STAFF.
    async for later in make_world(sqlite_database, roles={"staff": ["slack:U0OTHER"], "managers": [BOSS]}):
        later.client.cookies.set("pqrbot_session", cookie)
        r = await later.client.get("/staff")
        assert r.status_code == 303 and r.headers["location"] == "/staff/sign-in"
        assert (await later.client.post("/logout", data={"csrf": "x"})).status_code == 403
    assert (await web.client.get("/staff")).status_code == 200      # still staff where the config says so


async def test_signing_out_ends_the_session(web: WebWorld) -> None:
    await sign_in(web)
    cookie = web.client.cookies["pqrbot_session"]
    token = await csrf(web)
    assert (await web.client.post("/logout", data={"csrf": "wrong"})).status_code == 403
    assert (await web.client.get("/staff")).status_code == 200
    r = await web.client.post("/logout", data={"csrf": token})
    assert r.status_code == 200 and 'pqrbot_session=""' in r.headers["set-cookie"]
    web.client.cookies.set("pqrbot_session", cookie)      # the old cookie is worth nothing now
    assert (await web.client.get("/staff")).status_code == 303


async def test_a_session_ended_elsewhere_is_refused_within_the_recent_bound(web: WebWorld) -> None:
    await sign_in(web)
    assert (await web.client.get("/staff")).status_code == 200
    async with web.app.db.uow() as uow:                  # another instance signs the member out
        assert await uow.access.end_sessions_of(STAFF, now=web.now[0]) == 1
        await uow.commit()
    web.tick(seconds=RECENT.total_seconds())
    assert (await web.client.get("/staff")).status_code == 303


async def test_the_queue_reads_in_one_transaction(web: WebWorld) -> None:
    for n in range(3):
        await file_pqr(web, subject=f"Caso {n}")
    await sign_in(web)
    assert (await web.client.get("/staff")).status_code == 200      # the session is now remembered
    begun: list[str] = []

    def on_begin(conn: Any) -> None:
        begun.append("begin")

    for engine in web.app.db.sync_engines:
        event.listen(engine, "begin", on_begin)
    try:
        r = await web.client.get("/staff")
    finally:
        for engine in web.app.db.sync_engines:
            event.remove(engine, "begin", on_begin)
    assert r.status_code == 200 and "Caso 2" in r.text and begun == ["begin"]


async def test_a_customer_gets_no_link_and_no_page(web: WebWorld) -> None:
    reply = await web.app.commands.handle(OUTSIDER, "web", web.now[0])
    assert not reply.ok and "/login/" not in reply.text
    with pytest.raises(NotAllowed):
        await access_service(web.app).login_link_token(OUTSIDER, now=web.now[0])
    for path in ("/staff", "/staff/dashboard", "/staff/penalties", "/staff/reports", "/staff/pqr/PQR-2026-000001"):
        r = await web.client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/staff/sign-in", path
    r = await web.client.post("/staff/pqr/PQR-2026-000001/take", data={"csrf": "x"})
    assert r.status_code == 403
    web.client.cookies.set("pqrbot_session", "forged")
    assert (await web.client.get("/staff")).status_code == 303


async def test_a_link_or_a_session_stored_for_a_customer_is_refused(web: WebWorld) -> None:
    """Even with a link or a session in the database (put there by hand), a customer gets 403."""
    async with web.app.db.uow() as uow:
        await uow.access.add_login(digest("customer-link"), OUTSIDER, now=web.now[0],
                                   expires_at=web.now[0] + dt.timedelta(minutes=10))
        await uow.access.add_session(digest("customer-session"), OUTSIDER, "csrf-token", now=web.now[0],
                                     expires_at=web.now[0] + dt.timedelta(hours=12))
        await uow.commit()
    r = await web.client.get("/login/customer-link")
    assert r.status_code == 403 and "set-cookie" not in r.headers
    web.client.cookies.set("pqrbot_session", "customer-session")
    r = await web.client.get("/staff", follow_redirects=True)
    assert r.status_code == 403 and "/pqr web" in r.text
    rad = await file_pqr(web)
    r = await web.client.post(f"/staff/pqr/{rad}/take", data={"csrf": "csrf-token"})
    assert r.status_code == 403 and (await web.app.service.show(rad)).assignee is None


# -- forms -----------------------------------------------------------------------------------------

async def test_a_form_without_the_right_csrf_token_changes_nothing(any_web: WebWorld) -> None:
    web = any_web
    rad = await file_pqr(web)
    await sign_in(web)
    before = await web.app.service.show(rad)
    for data in ({}, {"csrf": ""}, {"csrf": "not-the-token"}):
        r = await web.client.post(f"/staff/pqr/{rad}/take", data=data)
        assert r.status_code == 403 and "Traceback" not in r.text
    r = await web.client.post(f"/staff/pqr/{rad}/reply", data={"text": "hola"})
    assert r.status_code == 403
    after = await web.client.get(f"/staff/pqr/{rad}")
    assert after.status_code == 200
    now = await web.app.service.show(rad)
    assert now.assignee is None and len(now.events) == len(before.events) and len(now.messages) == 1
    assert "Tomarla yo" in after.text


async def test_every_change_goes_through_the_commands_and_is_audited(any_web: WebWorld) -> None:
    web = any_web
    rad = await file_pqr(web)
    await sign_in(web)
    before = len((await web.app.service.show(rad)).events)
    assert "asignada" in (await act(web, rad, "assign", who=BOSS)).lower()
    assert (await web.app.service.show(rad)).assignee == BOSS
    await act(web, rad, "take")
    await act(web, rad, "note", text="Revisar la factura\ncon contabilidad")
    reply = await act(web, rad, "reply", text="Estimada Ana: revisamos su caso -- y le escribimos.")
    assert rad in reply
    await act(web, rad, "status", state="en_tramite", reason="en revisión")
    await act(web, rad, "due", when="15 de diciembre de 2026", reason="falta un soporte")
    closed = await act(web, rad, "close", text="Le devolvimos el cobro doble.")
    pqr = await web.app.service.show(rad)
    assert pqr.status.value == "cerrada" and pqr.assignee == STAFF and pqr.extended
    bodies = [m.body for m in pqr.messages]
    assert "Revisar la factura\ncon contabilidad" in bodies
    assert "Estimada Ana: revisamos su caso -- y le escribimos." in bodies
    new = pqr.events[before:]
    assert len(new) >= 7 and {e.actor for e in new} == {STAFF}, [(e.kind, e.actor) for e in new]
    assert rad in closed


async def test_refusals_are_the_chats(web: WebWorld) -> None:
    rad = await file_pqr(web)
    await sign_in(web)
    chat = await web.app.commands.handle(STAFF, f"assign {rad} {OUTSIDER}", web.now[0])
    assert await act_flash(web, rad, "assign", who=OUTSIDER) == ("error", chat.text)
    chat = await web.app.commands.handle(STAFF, f"close {rad} ", web.now[0])
    assert not chat.ok and await act(web, rad, "close", text="   ") == chat.text
    chat = await web.app.commands.handle(STAFF, f"due {rad} mañana", web.now[0])
    assert not chat.ok and await act(web, rad, "due", when="mañana") == chat.text
    chat = await web.app.commands.handle(STAFF, f"status {rad} archivada", web.now[0])
    assert not chat.ok and await act(web, rad, "status", state="archivada") == chat.text
    chat = await web.app.commands.handle(STAFF, f"approve {rad}", web.now[0])
    assert not chat.ok and await act_flash(web, rad, "approve") == ("error", chat.text)   # a manager's verb
    assert (await web.app.service.show(rad)).status.value == "radicada"


async def test_a_flash_message_cannot_be_forged_by_a_link(web: WebWorld) -> None:
    rad = await file_pqr(web)
    await sign_in(web)
    token = await csrf(web)
    r = await web.client.post(f"/staff/pqr/{rad}/take", data={"csrf": token})
    query = parse_qs(urlsplit(r.headers["location"]).query)
    forged = await web.client.get(f"/staff/pqr/{rad}", params={"flash": query["flash"][0], "sig": "0" * 32})
    assert forged.status_code == 200 and 'class="flash' not in forged.text
    real = await web.client.get(r.headers["location"])
    assert 'class="flash ok"' in real.text


# -- what the pages show ---------------------------------------------------------------------------

async def test_customer_text_is_escaped_on_the_queue_and_the_pqr_page(web: WebWorld) -> None:
    rad = await file_pqr(web, subject="<script>alert('s')</script>", name="<b>Ana</b>",
                         body='<img src=x onerror="alert(1)"> y <script>alert(2)</script>')
    await sign_in(web)
    queue = await web.client.get("/staff")
    page = await web.client.get(f"/staff/pqr/{rad}")
    for r in (queue, page):
        assert r.status_code == 200
        assert "<script>alert" not in r.text and "<b>Ana</b>" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;alert(" in r.text and "&lt;b&gt;Ana&lt;/b&gt;" in r.text
    assert "&lt;img src=x onerror=" in page.text
    assert f'href="/staff/pqr/{rad}"' in queue.text


async def test_the_queue_reads_the_words_of_pqr_list(any_web: WebWorld) -> None:
    web = any_web
    old = await file_pqr(web, subject="Vieja", received=web.now[0] - dt.timedelta(days=40))
    new = [await file_pqr(web, subject=f"Nueva {i}") for i in range(21)]
    await sign_in(web)
    await web.app.commands.handle(STAFF, f"take {new[3]}", web.now[0])
    first = await web.client.get("/staff")
    assert first.status_code == 200
    radicados = re.findall(r'<a href="/staff/pqr/([^"]+)">', first.text)
    assert len(radicados) == 20 and radicados[0] == old             # oldest due first, 20 a page
    assert "VENCIDA" in first.text and "página 1 de 2" in first.text and "page%3A2" in first.text
    second = await web.client.get("/staff", params={"q": "page:2"})
    assert len(re.findall(r'<a href="/staff/pqr/([^"]+)">', second.text)) == 2
    mine = await web.client.get("/staff", params={"q": "mine"})
    assert re.findall(r'<a href="/staff/pqr/([^"]+)">', mine.text) == [new[3]]
    breached = await web.client.get("/staff", params={"q": "breached type:reclamo"})
    assert re.findall(r'<a href="/staff/pqr/([^"]+)">', breached.text) == [old]
    bad = await web.client.get("/staff", params={"q": "urgentes"})
    chat = await web.app.commands.handle(STAFF, "list urgentes", web.now[0])
    assert bad.status_code == 400 and html.escape(chat.text, quote=False) in bad.text
    en = await web.client.get("/staff", params={"lang": "en"})
    assert "PQR queue" in en.text and 'href="/staff/dashboard?lang=en"' in en.text


async def test_an_unknown_pqr_is_a_clear_404(web: WebWorld) -> None:
    await sign_in(web)
    for path in ("/staff/pqr/PQR-2026-999999", "/staff/pqr/PQR%202026", "/staff/pqr/PQR-1/attachments/1"):
        r = await web.client.get(path)
        assert r.status_code == 404 and "Traceback" not in r.text, path


@pytest.mark.parametrize(("name", "content_type"), [
    ("pagina.html", "text/html"), ("dibujo.svg", "image/svg+xml"), ("x.xml", "application/xml"),
    ("codigo.js", "text/javascript"), ("disfrazado.txt", "text/html; charset=utf-8"), ("raro.html", "text/plain"),
])
async def test_markup_attachments_are_served_as_bytes_to_download(web: WebWorld, name: str,
                                                                  content_type: str) -> None:
    rad = await file_pqr(web)
    payload = b"<html><script>alert(document.cookie)</script></html>"
    [aid] = await attach(web, rad, [FileData(name, content_type, payload)])
    await sign_in(web)
    page = await web.client.get(f"/staff/pqr/{rad}")
    assert f'href="/staff/pqr/{rad}/attachments/{aid}"' in page.text
    r = await web.client.get(f"/staff/pqr/{rad}/attachments/{aid}")
    assert r.status_code == 200 and r.content == payload
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{name}" in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]


async def test_a_pdf_keeps_its_type_and_an_odd_name_is_encoded(web: WebWorld) -> None:
    rad = await file_pqr(web)
    other = await file_pqr(web)
    [aid] = await attach(web, rad, [FileData('factura "nov"\r\n.pdf', "application/pdf", b"%PDF-1.4 x")])
    await sign_in(web)
    r = await web.client.get(f"/staff/pqr/{rad}/attachments/{aid}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    disposition = r.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert "filename*=UTF-8''factura%20%22nov%22%0D%0A.pdf" in disposition
    assert (await web.client.get(f"/staff/pqr/{other}/attachments/{aid}")).status_code == 404
    assert (await web.client.get(f"/staff/pqr/{rad}/attachments/99999")).status_code == 404
    web.client.cookies.clear()
    assert (await web.client.get(f"/staff/pqr/{rad}/attachments/{aid}")).status_code == 303


async def test_the_dashboard_shows_the_kpis_of_three_periods_with_inline_charts(web: WebWorld) -> None:
    rad = await file_pqr(web, received=web.now[0] - dt.timedelta(days=3))
    await web.app.commands.handle(STAFF, f"close {rad} listo", web.now[0])
    for _ in range(2):
        await file_pqr(web)
    await file_pqr(web, received=dt.datetime(2026, 10, 20, 9, tzinfo=BOG))
    await sign_in(web)
    r = await web.client.get("/staff/dashboard")
    assert r.status_code == 200
    this = await web.app.reports.indicators.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    last = await web.app.reports.indicators.kpis(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    year = await web.app.reports.indicators.kpis(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert (this["filed"], last["filed"], year["filed"]) == (3, 1, 4)
    row = re.search(r"PQR radicadas</th>(.*?)</tr>", r.text, re.S)
    assert row and re.findall(r'<td class="num">([^<]*)</td>', row.group(1)) == ["3", "1", "4"]
    answered = re.search(r"PQR respondidas</th>(.*?)</tr>", r.text, re.S)
    assert answered and re.findall(r'<td class="num">([^<]*)</td>', answered.group(1))[0] == str(this["answered"])
    assert "Este mes (2026-11)" in r.text and "Mes anterior (2026-10)" in r.text and "Año 2026" in r.text
    assert r.text.count("<svg") == 3 and "<?xml" not in r.text and "<!DOCTYPE svg" not in r.text
    assert not re.search(r'(src|href)="https?://', r.text)          # no CDN, nothing external
    assert "<script" not in r.text


async def test_the_dashboard_shows_the_months_nps_responses_and_response_rate(web: WebWorld) -> None:
    await sign_in(web)
    empty = await web.client.get("/staff/dashboard?lang=en")     # (the page keeps its figures a minute per language)
    assert 'id="nps"' in empty.text and "No NPS survey was sent this month." in empty.text
    now = web.now[0]
    async with web.app.db.uow() as uow:
        for i, score in enumerate([9, 10, 9, 10, 9, 7, 8, 7, 3, 6, None, None]):   # 5 / 3 / 2, two unanswered
            sid = await uow.surveys.add(SurveyRecord(
                kind="nps", contact=f"email:c{i}@acme.co", channel="email", destination=f"c{i}@acme.co",
                language="es", sent_at=now - dt.timedelta(days=1), expires_at=now + dt.timedelta(days=30),
                segment="b2b", client="Acme S.A.S.", campaign="c1"))
            if score is not None:
                assert await uow.surveys.answer(sid, score, None, now=now)
        await uow.commit()
    expected = await web.app.reports.nps(Period.parse("2026-11"))        # what the monthly report says
    assert expected is not None and (expected["nps"], expected["response_rate_pct"]) == (30.0, 83.3)
    r = await web.client.get("/staff/dashboard")
    section = re.search(r'<section aria-labelledby="h-nps" id="nps">(.*?)</section>', r.text, re.S)
    assert section and "Satisfacción (NPS) de 2026-11" in section.group(1)
    cells = dict(re.findall(r'<th scope="row">([^<]*)</th><td class="num">([^<]*)</td>', section.group(1)))
    assert cells == {"NPS": "30,0", "Respuestas": "10 / 12", "Tasa de respuesta": format_percentage(83.3, "es")}


async def test_penalties_are_listed_for_staff_and_managers(web: WebWorld) -> None:
    reply = await web.app.commands.handle(STAFF, 'penalty new "<i>Acme</i>" kpi_ans 1500000.50 laboratorio',
                                          web.now[0])
    assert reply.ok, reply.text
    for who in (STAFF, BOSS):
        web.client.cookies.clear()
        await sign_in(web, who)
        r = await web.client.get("/staff/penalties")
        assert r.status_code == 200 and "&lt;i&gt;Acme&lt;/i&gt;" in r.text and "COP 1.500.000,50" in r.text


async def test_reports_download_as_files(web: WebWorld) -> None:
    await file_pqr(web)
    await sign_in(web)
    form = await web.client.get("/staff/reports")
    assert form.status_code == 200 and 'formaction="/staff/reports/monthly.pdf"' in form.text
    xlsx = await web.client.get("/staff/reports/kpis.xlsx", params={"from": "2026-11-01", "to": "2026-12-01"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert xlsx.headers["content-disposition"].startswith("attachment;")
    assert "kpis-2026-11-01-2026-12-01.xlsx" in xlsx.headers["content-disposition"]
    pdf = await web.client.get("/staff/reports/monthly.pdf", params={"month": "2026-11", "lang": "en"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-" and pdf.headers["content-type"] == "application/pdf"
    bad = await web.client.get("/staff/reports/kpis.xlsx", params={"from": "2026-12-01", "to": "2026-11-01"})
    assert bad.status_code == 400 and "el periodo está vacío" in bad.text
    bad = await web.client.get("/staff/reports/client.xlsx", params={"client": "Nadie", "period": "2026-11"})
    assert bad.status_code == 400 and "Nadie" in bad.text
    bad = await web.client.get("/staff/reports/monthly.xlsx", params={"month": "2026"})
    assert bad.status_code == 400
    assert (await web.client.get("/staff/reports/other.xlsx")).status_code == 404
