"""The public form and tracking on the real server with httpx, on SQLite and PostgreSQL where a PQR
is filed: a PQR filed with its files and acknowledged by email, refusals that name the field or the
file and say what is accepted, the honeypot, the per-IP limit, a form posted twice filed once, a
forged token refused, tracking that shows the public conversation and never a note, the same
"not found" whichever part is wrong, customer text escaped, and English."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from bot.i18n.formats import format_local_datetime
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import PqrFilter
from tests.channels.web.conftest import STAFF, WebWorld, make_world

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
SCRIPT = "<script>alert(1)</script>"
ALL = PqrFilter(statuses=())


def fields(**over: str | None) -> dict[str, str]:
    base: dict[str, str | None] = {"type": "reclamo", "name": "Ana Pérez", "email": "ana@example.co",
                                   "phone": "300 123 4567",
                                   "document": "CC 1020304050", "subject": "Cobro doble",
                                   "body": "Me cobraron dos veces la factura 123.", "consent": "yes"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def nonce_in(page: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def token(web: WebWorld) -> str:
    r = await web.client.get("/")
    assert r.status_code == 200, r.text
    return nonce_in(r.text)


async def send(web: WebWorld, data: dict[str, str], *, files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
               nonce: str | None = None, **kwargs: Any) -> httpx.Response:
    data = {**data, "nonce": nonce if nonce is not None else await token(web)}
    return await web.client.post("/", data=data, files=files, **kwargs)


def radicado_in(page: str) -> str:
    found = re.search(r'id="radicado">(PQR-\d{4}-\d{6})<', page)
    assert found, page
    return found.group(1)


async def filed(web: WebWorld) -> int:
    return await web.app.service.count(ALL)


def without_values(page: str) -> str:
    """The page without what the reader typed (echoed in `value="…"`) and without the form token."""
    return re.sub(r'value="[^"]*"', 'value=""', page)


@pytest.fixture
async def strict(sqlite_database: SqlDatabase) -> AsyncIterator[WebWorld]:
    """A web whose form takes 2 files of at most 2 KiB."""
    async for w in make_world(sqlite_database, web={"form": {"max_files": 2, "max_file_bytes": 2048}}):
        yield w


@pytest.fixture
async def limited(sqlite_database: SqlDatabase) -> AsyncIterator[WebWorld]:
    """A web that takes 3 posts an hour from one address."""
    async for w in make_world(sqlite_database, web={"form": {"rate_limit": {"per_ip_per_hour": 3}}}):
        yield w


async def test_a_customer_files_a_pqr_with_two_attachments_and_is_acknowledged_by_email(any_web: WebWorld) -> None:
    web = any_web
    r = await send(web, fields(), files=[("files", ("factura.pdf", PDF, "application/pdf")),
                                         ("files", ("foto.png", PNG, "image/png"))])
    assert r.status_code == 200, r.text
    rad = radicado_in(r.text)
    pqr = await web.app.service.show(rad)
    assert (pqr.channel, pqr.type, pqr.customer.email, pqr.customer.phone) == \
        ("web", PqrType.RECLAMO, "ana@example.co", "300 123 4567")
    assert pqr.subject == "Cobro doble" and pqr.messages[0].body == "Me cobraron dos veces la factura 123."
    files = sorted((a.filename, a.content_type, a.size) for a in pqr.messages[0].attachments)
    assert files == [("factura.pdf", "application/pdf", len(PDF)), ("foto.png", "image/png", len(PNG))]
    # The identity document is for staff: an internal note, never on the customer's pages.
    notes = [m.body for m in pqr.messages if m.direction.value == "note"]
    assert notes == ["Documento de identidad informado en el formulario web: CC 1020304050"]
    due = format_local_datetime(web.app.service.calendar.local(pqr.due_at), "es")
    assert due in r.text and "factura.pdf" in r.text and "foto.png" in r.text and "ana@example.co" in r.text
    async with web.app.db.uow(readonly=True) as uow:
        acks = [o for o in await uow.outbox.list() if o.payload.get("kind") == "ack"]
        raws = await uow.mail.raw_counts(channel="web")
    assert [(o.channel, o.destination, o.payload["radicado"]) for o in acks] == [("email", "ana@example.co", rad)]
    assert raws == {"filed": 1}


async def test_files_over_the_limits_or_of_refused_types_are_named_and_nothing_is_filed(strict: WebWorld) -> None:
    web = strict
    many = [("files", (f"f{i}.pdf", PDF, "application/pdf")) for i in range(3)]
    r = await send(web, fields(), files=many)
    assert r.status_code == 422 and "f2.pdf: el mensaje ya trae el máximo de archivos (2)" in r.text

    r = await send(web, fields(), files=[("files", ("grande.pdf", PDF + b"x" * 3000, "application/pdf"))])
    assert r.status_code == 422 and "grande.pdf (" in r.text and "supera el máximo de 2 kB por archivo" in r.text

    bad = [("files", ("setup.exe", b"MZ\x90\x00", "application/octet-stream")),
           ("files", ("pagina.html", b"<html></html>", "text/html")),
           ("files", ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"))]
    r = await send(web, fields(), files=bad)
    assert r.status_code == 422
    for name in ("setup.exe", "pagina.html", "logo.svg"):
        assert f"{name}: ese tipo de archivo no se acepta. Se aceptan: PDF, PNG, JPEG" in r.text

    r = await send(web, fields(), files=[("files", ("factura.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))])
    assert r.status_code == 422 and "factura.pdf: el contenido no corresponde a un archivo PDF" in r.text
    # The form comes back with what was typed, tied to the refusal for assistive technology.
    assert 'value="Ana Pérez"' in r.text and 'aria-describedby="f-files-hint f-files-error"' in r.text
    assert await filed(web) == 0


async def test_missing_fields_and_consent_are_refused_naming_each_field(web: WebWorld) -> None:
    r = await send(web, fields(name="", subject="  ", consent=None, email="ana@", type="otra_cosa"))
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "Nombre completo: este campo es obligatorio." in text
    assert "Asunto: este campo es obligatorio." in text
    assert "Autorización de datos personales: debe marcarla" in text
    assert "Correo electrónico: «ana@» no es una dirección de correo válida" in text
    assert "Tipo de solicitud: elija uno de los tipos de la lista." in text
    assert 'id="f-name" name="name" value="" required maxlength="200" autocomplete="name" aria-invalid="true" ' \
           'aria-describedby="f-name-error"' in r.text and 'id="f-name-error"' in r.text
    assert 'href="#f-consent"' in r.text and "Traceback" not in r.text
    assert await filed(web) == 0


async def test_every_field_of_the_form_has_a_label(web: WebWorld) -> None:
    class Fields(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: dict[str, str] = {}
            self.labels: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
                self.ids[str(a.get("name"))] = str(a.get("id"))
            if tag == "label" and a.get("for"):
                self.labels.add(str(a["for"]))

    page = Fields()
    page.feed((await web.client.get("/")).text)
    assert set(page.ids) == {"type", "name", "email", "phone", "document", "subject", "body", "files", "consent",
                             "website"}
    assert all(i in page.labels for i in page.ids.values()), page.ids


async def test_a_filled_honeypot_answers_as_received_and_files_nothing(web: WebWorld) -> None:
    r = await send(web, {**fields(), "website": "http://spam.example"})
    assert r.status_code == 200 and "Recibimos su solicitud" in r.text and "PQR-" not in r.text
    assert await filed(web) == 0
    async with web.app.db.uow(readonly=True) as uow:
        assert await uow.outbox.list() == []
        assert await uow.mail.raw_counts(channel="web") == {"kept_aside": 1}


async def test_posts_past_the_hourly_limit_get_429_until_the_hour_has_passed(limited: WebWorld) -> None:
    web = limited
    for _ in range(3):
        assert (await send(web, fields())).status_code == 200
    r = await send(web, fields())
    assert r.status_code == 429 and r.headers["retry-after"] == "3600"
    assert "demasiados formularios desde su conexión" in r.text and await filed(web) == 3
    web.tick(hours=1, seconds=1)
    assert (await send(web, fields())).status_code == 200 and await filed(web) == 4


async def test_a_form_posted_twice_is_filed_once_and_shows_the_same_radicado(any_web: WebWorld) -> None:
    web = any_web
    nonce = await token(web)
    pdf = [("files", ("factura.pdf", PDF, "application/pdf"))]
    first = await send(web, fields(), files=pdf, nonce=nonce)
    again = await send(web, fields(subject="Otro asunto"), files=pdf, nonce=nonce)
    assert first.status_code == again.status_code == 200
    assert radicado_in(first.text) == radicado_in(again.text)
    assert "ya se había recibido" in again.text and "factura.pdf" in again.text
    # Two posts of one form at the same moment (a double click) are filed once too.
    other = await token(web)
    both = await asyncio.gather(send(web, fields(), nonce=other), send(web, fields(), nonce=other))
    assert {radicado_in(r.text) for r in both} and len({radicado_in(r.text) for r in both}) == 1
    assert await filed(web) == 2
    async with web.app.db.uow(readonly=True) as uow:
        assert len([o for o in await uow.outbox.list() if o.payload.get("kind") == "ack"]) == 2
        assert await uow.mail.raw_counts(channel="web") == {"filed": 2, "duplicate": 2}


async def test_a_forged_missing_or_expired_token_is_refused_and_the_form_shown_again(web: WebWorld) -> None:
    good = await token(web)
    nonce, issued, _ = good.split(".")
    for forged in (f"{nonce}.{issued}.AAAA", f"otro{nonce}.{issued}.{good.split('.')[2]}", "", "x.y.z"):
        r = await send(web, fields(), nonce=forged)
        assert r.status_code == 400 and "venció o no fue emitido por este sitio" in r.text, forged
        assert 'value="Ana Pérez"' in r.text and nonce_in(r.text) != forged
    web.tick(hours=25)
    r = await send(web, fields(), nonce=good)
    assert r.status_code == 400 and await filed(web) == 0


async def test_tracking_shows_the_public_conversation_and_never_a_note(any_web: WebWorld) -> None:
    web = any_web
    rad = radicado_in((await send(web, fields())).text)
    await web.app.service.note(rad, "Nota interna: cliente moroso", actor=STAFF, now=web.now[0])
    await web.app.service.reply(rad, "Ya revisamos su factura.", actor=STAFF, now=web.now[0])
    pqr = await web.app.service.show(rad)
    r = await web.client.post("/consulta", data={"radicado": rad.lower(), "email": "ANA@example.co"})
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    assert rad in text and "Me cobraron dos veces la factura 123." in text and "Ya revisamos su factura." in text
    assert "Nota interna" not in text and "CC 1020304050" not in text and STAFF not in text
    assert f"status.{pqr.status.value}" not in text
    for when in (pqr.received_at, pqr.due_at):
        assert format_local_datetime(web.app.service.calendar.local(when), "es") in text
    by_get = await web.client.get("/consulta", params={"radicado": rad, "email": "ana@example.co"})
    assert by_get.status_code == 200 and "Ya revisamos su factura." in by_get.text


async def test_a_wrong_email_and_a_wrong_radicado_get_the_same_not_found(any_web: WebWorld) -> None:
    web = any_web
    rad = radicado_in((await send(web, fields())).text)
    wrong_email = await web.client.post("/consulta", data={"radicado": rad, "email": "otra@example.co"})
    wrong_rad = await web.client.post("/consulta", data={"radicado": "PQR-2026-999999", "email": "ana@example.co"})
    assert wrong_email.status_code == wrong_rad.status_code == 404
    assert "No encontramos una PQR con ese radicado y ese correo." in html.unescape(wrong_email.text)
    assert without_values(wrong_email.text) == without_values(wrong_rad.text)
    assert "Cobro doble" not in wrong_email.text
    empty = await web.client.post("/consulta", data={"radicado": "", "email": ""})
    assert empty.status_code == 422 and "Número de radicado: este campo es obligatorio." in empty.text


async def test_customer_text_is_escaped_on_the_result_and_tracking_pages(web: WebWorld) -> None:
    r = await send(web, fields(name=SCRIPT, subject=SCRIPT, body=SCRIPT))
    assert r.status_code == 200 and SCRIPT not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    rad = radicado_in(r.text)
    t = await web.client.post("/consulta", data={"radicado": rad, "email": "ana@example.co"})
    assert t.status_code == 200 and SCRIPT not in t.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in t.text
    refused = await send(web, fields(email=SCRIPT))
    assert refused.status_code == 422 and SCRIPT not in refused.text


async def test_english_by_query_or_by_the_browser(web: WebWorld) -> None:
    page = await web.client.get("/?lang=en")
    assert "File a PQR" in page.text and "Full name" in page.text and '<html lang="en">' in page.text
    assert "Leave this field empty" in page.text
    by_header = await web.client.get("/consulta", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Check a PQR" in by_header.text
    r = await web.client.post("/", params={"lang": "en"}, data={**fields(), "nonce": nonce_in(page.text)})
    assert r.status_code == 200 and "Your filing number (radicado) is:" in r.text and "Claim" in r.text
    pqr = await web.app.service.show(radicado_in(r.text))
    assert pqr.customer.language == "en"
    missing = await web.client.post("/?lang=en", data={**fields(name=""), "nonce": nonce_in(page.text)})
    assert "Full name: this field is required." in missing.text


async def test_a_disabled_form_says_so_and_tracking_still_answers(sqlite_database: SqlDatabase) -> None:
    async for web in make_world(sqlite_database, web={"form": {"enabled": False}}):
        for r in (await web.client.get("/"), await web.client.post("/", data=fields())):
            assert r.status_code == 404 and "El formulario web no está disponible" in r.text
        assert (await web.client.get("/consulta")).status_code == 200
        assert await filed(web) == 0
