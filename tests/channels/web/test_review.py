"""Answer approval and templates on the staff PQR page, through the real server (httpx, the
session cookie, CSRF) and the real outbox to a relay sink: a staff close waits en_revision; a
manager sees Aprobar / Devolver, approve closes it and the customer's mail carries the draft,
return with a comment sends it back; a staff member sees no forms and a forged post gets the
chat's refusal; a page showing an earlier draft is refused as stale. The template select of the
reply and close forms fills the answer the customer receives."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest

from bot.bootstrap import email_channel
from bot.i18n import t
from bot.outbox.worker import OutboxWorker
from channels.email.adapter import EmailChannel
from domain.pqr_types import Status
from storage.db import SqlDatabase
from tests.channels.email.conftest import Sink
from tests.channels.web.conftest import BOSS, STAFF, WebWorld, make_world
from tests.channels.web.test_staff import act_flash, csrf_of, file_pqr, sign_in

DRAFT = "Le devolvemos <b>el valor</b> & los intereses."
TEMPLATE = """title: {es: Revisión del caso, en: Case review}
types: [reclamo]
es: "Hola {nombre}, revisamos su {tipo} {radicado}. {texto}"
en: "Hello {nombre}, we reviewed your {tipo} {radicado}. {texto}"
"""


@dataclass
class Mailed:
    web: WebWorld
    sink: Sink
    email: EmailChannel

    async def deliver(self) -> list[EmailMessage]:
        """Run the outbox once through the real email channel; every message the sink holds."""
        await OutboxWorker(self.web.app.db, {"email": self.email}, self.web.app.clock).run_once()
        return [cast(EmailMessage, message_from_bytes(e.original_content or b"", policy=policy.default))
                for e in self.sink.messages]

    async def answer_to(self, address: str, radicado: str) -> list[str]:
        """The bodies of the answers (replies and closings) mailed to `address` about `radicado`."""
        pqr = await self.web.app.service.show(radicado)
        answers = {t("es", key, radicado=radicado, type=t("es", f"type.{pqr.type.value}"))
                   for key in ("customer.reply_subject", "customer.closing_subject")}
        return [m.get_content() for m in await self.deliver()
                if m["To"] == address and any(s in str(m["Subject"]) for s in answers)]


async def mailed_world(db: SqlDatabase, **extra: Any) -> AsyncIterator[Mailed]:
    sink = Sink()
    await sink.start()
    channels = {"console": {"enabled": False},
                "email": {"enabled": True, "listen": {"host": "127.0.0.1", "port": 0},
                          "relay": {"host": "127.0.0.1", "port": sink.port}}}
    try:
        async for web in make_world(db, channels=channels, **extra):
            email = email_channel(web.app)
            try:
                yield Mailed(web, sink, email)
            finally:
                await email.outgoing.close()
    finally:
        await sink.stop()


@pytest.fixture
async def review(sqlite_database: SqlDatabase) -> AsyncIterator[Mailed]:
    async for m in mailed_world(sqlite_database, approval={"types": ["reclamo"]}):
        yield m


async def page(web: WebWorld, rad: str) -> str:
    r = await web.client.get(f"/staff/pqr/{rad}")
    assert r.status_code == 200
    return r.text


async def post(web: WebWorld, rad: str, action: str, token: str, **fields: str) -> tuple[str, str]:
    """Post a form with the token of a page loaded earlier; (ok | error, flash text)."""
    r = await web.client.post(f"/staff/pqr/{rad}/{action}", data={"csrf": token, **fields})
    assert r.status_code == 303, r.text
    shown = (await web.client.get(r.headers["location"])).text
    flash = re.search(r'class="flash (ok|error)">(.*?)</p>', shown, re.S)
    assert flash, shown
    return flash.group(1), html.unescape(flash.group(2))


async def drafted(m: Mailed) -> str:
    """A reclamo closed by staff on the page: it waits en_revision, the customer gets nothing."""
    web = m.web
    rad = await file_pqr(web, name="Ana <Admin>")
    await sign_in(web, STAFF)
    kind, text = await act_flash(web, rad, "close", text=DRAFT)
    assert kind == "ok" and text == t("es", "review.submitted", radicado=rad)
    assert (await web.app.service.show(rad)).status is Status.EN_REVISION
    assert await m.answer_to("ana@example.co", rad) == []
    return rad


def forms(text: str, rad: str) -> set[str]:
    return {a for a in ("approve", "return") if f'action="/staff/pqr/{rad}/{a}"' in text}


async def test_a_manager_approves_on_the_page_and_the_customer_gets_the_answer(review: Mailed) -> None:
    web = review.web
    rad = await drafted(review)
    staff_page = await page(web, rad)
    assert "Le devolvemos &lt;b&gt;el valor&lt;/b&gt; &amp; los intereses." in staff_page   # the draft, escaped
    assert "Ana &lt;Admin&gt;" in staff_page and "<Admin>" not in staff_page
    assert forms(staff_page, rad) == set()                               # staff sees no decision forms

    web.client.cookies.clear()
    await sign_in(web, BOSS)
    boss_page = await page(web, rad)
    assert forms(boss_page, rad) == {"approve", "return"}
    assert 'name="draft" value="1"' in boss_page and t("es", "web.staff.review.approve") in boss_page
    assert await post(web, rad, "approve", csrf_of(boss_page), draft="1") == (
        "ok", t("es", "review.approved", radicado=rad))
    pqr = await web.app.service.show(rad)
    assert pqr.status is Status.CERRADA
    assert (pqr.events[-1].data["drafter"], pqr.events[-1].data["approver"]) == (STAFF, BOSS)
    [body] = await review.answer_to("ana@example.co", rad)
    assert DRAFT in body
    assert forms(await page(web, rad), rad) == set()                     # nothing left to decide

    kind, again = await post(web, rad, "approve", csrf_of(boss_page), draft="1")   # the old page, again
    assert kind == "error" and f"ya fue aprobada por {BOSS}" in again
    assert len(await review.answer_to("ana@example.co", rad)) == 1


async def test_a_forged_decision_by_staff_gets_the_chats_refusal(review: Mailed) -> None:
    web = review.web
    rad = await drafted(review)
    chat = await web.app.commands.handle(STAFF, f"approve {rad}:1", web.now[0])
    assert not chat.ok
    assert await act_flash(web, rad, "approve", draft="1") == ("error", chat.text)
    assert await act_flash(web, rad, "return", draft="1", comment="Así no") == ("error", chat.text)
    pqr = await web.app.service.show(rad)
    assert pqr.status is Status.EN_REVISION
    assert [(e.actor, e.data["action"], e.reason) for e in pqr.events if e.kind == "refused"] == [
        (STAFF, "answer_approve", "not_manager")] * 2 + [(STAFF, "answer_return", "not_manager")]


async def test_return_with_a_comment_then_a_stale_page_is_refused(review: Mailed) -> None:
    web = review.web
    rad = await drafted(review)
    web.client.cookies.clear()
    await sign_in(web, BOSS)
    first = await page(web, rad)
    kind, _ = await post(web, rad, "return", csrf_of(first), draft="1", comment="   ")
    assert kind == "error" and (await web.app.service.show(rad)).status is Status.EN_REVISION   # no comment
    assert await post(web, rad, "return", csrf_of(first), draft="1", comment="Cite la <norma>") == (
        "ok", t("es", "review.returned", radicado=rad))
    pqr = await web.app.service.show(rad)
    assert pqr.status is Status.EN_TRAMITE and pqr.events[-1].reason == "Cite la <norma>"
    assert "Cite la &lt;norma&gt;" in await page(web, rad)              # the comment in the events, escaped

    redrafted = await web.app.commands.handle(STAFF, f"close {rad} Segunda versión", web.now[0])
    assert redrafted.ok and (await web.app.service.show(rad)).status is Status.EN_REVISION
    kind, stale = await post(web, rad, "approve", csrf_of(first), draft="1")     # the page of draft 1
    assert kind == "error" and "respuesta anterior" in stale
    assert (await web.app.service.show(rad)).status is Status.EN_REVISION
    current = await page(web, rad)
    assert 'name="draft" value="2"' in current
    assert (await post(web, rad, "approve", csrf_of(current), draft="2"))[0] == "ok"
    [body] = await review.answer_to("ana@example.co", rad)
    assert "Segunda versión" in body and DRAFT not in body


async def test_the_template_select_fills_the_answer(sqlite_database: SqlDatabase, tmp_path: Path) -> None:
    (tmp_path / "revision.yaml").write_text(TEMPLATE, encoding="utf-8")
    async for m in mailed_world(sqlite_database, templates={"dir": str(tmp_path)}):
        web = m.web
        rad = await file_pqr(web)
        await sign_in(web, STAFF)
        shown = await page(web, rad)
        assert '<option value="revision">Revisión del caso (@revision)</option>' in shown
        kind, _ = await post(web, rad, "reply", csrf_of(shown), template="revision", text="Le escribimos pronto.")
        assert kind == "ok"
        kind, _ = await post(web, rad, "close", csrf_of(shown), template="revision", text="Caso resuelto.")
        assert kind == "ok" and (await web.app.service.show(rad)).status is Status.CERRADA
        bodies = await m.answer_to("ana@example.co", rad)
        assert len(bodies) == 2
        assert f"Hola Ana, revisamos su reclamo {rad}. Le escribimos pronto." in bodies[0]
        assert f"Hola Ana, revisamos su reclamo {rad}. Caso resuelto." in bodies[1]
        kind, refused = await post(web, rad, "reply", csrf_of(shown), template="no_existe", text="x")
        assert kind == "error" and "revision" in refused                 # refused with the list
