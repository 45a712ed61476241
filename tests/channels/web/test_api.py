"""The REST API on the real server: every endpoint with a valid, a revoked, a missing and a wrong
token and the wrong role; the CLI's PQR and penalty JSON; paging and filters; 404, 409 and 422 as
`{"error", "detail"}`; a PQR filed then read back on SQLite and PostgreSQL; writes audited as
`api:<token name>`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.access.service import RECENT
from bot.bootstrap import access_service
from bot.cli.serialize import penalty_json, pqr_json
from bot.penalties.service import NewPenalty
from domain.penalty import PenaltyCategory
from domain.pqr_types import Status
from storage.db import SqlDatabase
from tests.channels.web.conftest import BOG, STAFF, WebWorld, make_world

ENDPOINTS = [("GET", "/api/v1/pqrs", None), ("POST", "/api/v1/pqrs", {"type": "queja", "name": "Ana", "subject": "x"}),
             ("GET", "/api/v1/pqrs/PQR-2026-000001", None),
             ("POST", "/api/v1/pqrs/PQR-2026-000001/messages", {"kind": "note", "body": "x"}),
             ("GET", "/api/v1/kpis?from=2026-11-01&to=2026-12-01", None), ("GET", "/api/v1/penalties", None)]
NEW = {"type": "queja", "channel": "phone", "name": "Ana Gómez", "email": "ana@example.co", "phone": "3001234567",
       "subject": "Cobro doble", "body": "Me cobraron dos veces la factura de octubre.",
       "received_at": "2026-11-10T09:00:00-05:00"}
CONTRACTS = {"clients": [{"name": "Acme S.A.S.", "email_domains": ["acme.co"],
                          "contract": {"name": "ANS-ACME", "targets": {"queja": {"resolution": "5d"}}}}]}


async def token(w: WebWorld, role: str, name: str | None = None) -> dict[str, str]:
    secret = await w.web.services.access.create_token(name or role, role, actor="cli:operator", now=w.now[0])
    return {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}


async def file(w: WebWorld, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    r = await w.client.post("/api/v1/pqrs", json={**NEW, **fields}, headers=auth)
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


def is_error(r: Any, status: int, error: str) -> bool:
    body = r.json()
    return r.status_code == status and set(body) == {"error", "detail"} and body["error"] == error \
        and "Traceback" not in r.text


async def expected(w: WebWorld, radicado: str) -> dict[str, Any]:
    """What `pqrbot pqr show RAD --json` prints as of now."""
    return pqr_json(await w.app.service.show(radicado), w.app.service.calendar, now=w.now[0],
                    warn_before_days=w.app.config.sla.warn_before_days)


async def refusals(w: WebWorld) -> list[Any]:
    async with w.app.db.uow(readonly=True) as uow:
        return await uow.audit.list(kind="refused")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_every_endpoint_wants_a_live_token(web: WebWorld, method: str, path: str, body: Any) -> None:
    revoked = await token(web, "manager", "old")
    await web.web.services.access.revoke_token("old", actor="cli:operator", now=web.now[0])
    for headers in ({}, {"Authorization": "Bearer pqr_not-a-token"}, {"Authorization": "Basic YTpi"},
                    {"Authorization": revoked["Authorization"]}):
        r = await web.client.request(method, path, json=body, headers={**headers, "Accept-Language": "en"})
        assert is_error(r, 401, "unauthorized"), (headers, r.text)
        assert r.headers["www-authenticate"] == "Bearer" and "pqrbot token create" in r.json()["detail"]
    manager = await token(web, "manager")
    r = await web.client.request(method, path, json=body, headers=manager)
    assert r.status_code in (200, 201, 404), r.text      # the PQR of the path may not exist: 404, not 401


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_each_role_gets_what_it_may(web: WebWorld, method: str, path: str, body: Any) -> None:
    staff = await token(web, "staff", "crm")
    await file(web, staff)                                  # PQR-2026-000001 exists from here on
    r = await web.client.request(method, path, json=body, headers=staff)
    if path == "/api/v1/penalties":
        assert is_error(r, 403, "forbidden") and "manager" in r.json()["detail"]
        [refused] = await refusals(web)
        assert (refused.actor, refused.reason, refused.data["action"]) == ("api:crm", "not_manager", "api.penalties")
    else:
        assert r.status_code in (200, 201), r.text
        assert await refusals(web) == []


async def test_a_pqr_filed_is_read_back_as_the_cli_prints_it(any_web: WebWorld) -> None:
    w = any_web
    auth = await token(w, "staff", "crm")
    filed = await file(w, auth)
    rad = filed["radicado"]
    assert rad == "PQR-2026-000001" and filed == await expected(w, rad)
    assert filed["events"][0]["actor"] == "api:crm" and filed["messages"][0]["author"] == "api:crm"
    assert filed["received_at"] == "2026-11-10T09:00:00-05:00" and filed["due_at"] == "2026-12-02T23:59:59-05:00"
    assert filed["customer"] == {"name": "Ana Gómez", "email": "ana@example.co", "telegram_chat_id": None}
    assert filed["sla"] == "ok" and filed["channel"] == "phone" and filed["status"] == "radicada"
    shown = await w.client.get(f"/api/v1/pqrs/{rad.lower()}", headers=auth)
    assert shown.status_code == 200 and shown.json() == filed
    listed = (await w.client.get("/api/v1/pqrs", headers=auth)).json()
    assert listed == {"items": [filed], "page": 1, "per_page": 20, "total": 1}
    # The token was used: `pqrbot token list` says when.
    [used] = await w.web.services.access.tokens()
    assert used.last_used_at is not None


async def test_without_received_at_the_pqr_is_received_now(web: WebWorld) -> None:
    auth = await token(web, "manager")
    doc = await file(web, auth, received_at=None, channel="web", area="facturacion", body="")
    assert doc["received_at"] == "2026-11-10T10:00:00-05:00" and doc["messages"] == [] and doc["area"] == "facturacion"


async def test_listing_pages_and_filters(web: WebWorld) -> None:
    auth = await token(web, "staff")
    rads = [(await file(web, auth, type=kind, area=area, received_at=f"2026-11-0{day}T09:00:00-05:00"))["radicado"]
            for day, kind, area in ((3, "queja", "a"), (4, "peticion", "b"), (5, "queja", "b"), (6, "reclamo", "a"),
                                    (9, "queja", "a"))]

    async def page(**params: Any) -> dict[str, Any]:
        r = await web.client.get("/api/v1/pqrs", params=params, headers=auth)
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc

    def names(doc: dict[str, Any]) -> list[str]:
        return [p["radicado"] for p in doc["items"]]

    first, second, third = [await page(per_page=2, page=n) for n in (1, 2, 3)]
    assert (first["total"], first["page"], first["per_page"]) == (5, 1, 2)
    assert names(first) + names(second) + names(third) == rads and len(names(third)) == 1
    assert (await page(page=9))["items"] == [] and (await page(page=9))["total"] == 5
    assert names(await page(type="queja")) == [rads[0], rads[2], rads[4]]
    assert names(await page(area="b")) == [rads[1], rads[2]]
    assert names(await page(type="queja", area="a", per_page=1, page=2)) == [rads[4]]
    await web.app.service.close(rads[0], "Resuelto", actor=STAFF, now=web.now[0])
    assert rads[0] not in names(await page()) and names(await page(status="cerrada")) == [rads[0]]
    assert (await page(status="all"))["total"] == 5
    # 10 Nov: the peticion of the 4th (15 business days) is not yet due; move the clock past them all.
    assert (await page(breached="true"))["total"] == 0
    web.now[0] = dt.datetime(2026, 12, 15, 9, 0, tzinfo=BOG)
    assert (await page(breached="true"))["total"] == 4 and (await page(breached="false"))["total"] == 0
    assert {p["sla"] for p in (await page(breached=True))["items"]} == {"breached"}


async def test_an_idempotency_key_files_once_per_token_within_a_day(any_web: WebWorld) -> None:
    w = any_web
    crm, bi = await token(w, "staff", "crm"), await token(w, "staff", "bi")

    async def post(auth: dict[str, str], key: str | bytes | None, **fields: Any) -> Any:
        headers = {**auth, **({"Idempotency-Key": key} if key is not None else {})}
        return await w.client.post("/api/v1/pqrs", json={**NEW, **fields}, headers=headers)

    first = await post(crm, "order-7781")
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    w.tick(hours=23, minutes=59)
    again = await post(crm, "order-7781")
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["radicado"] == first.json()["radicado"]
    assert again.json() == await expected(w, first.json()["radicado"])
    other = await post(bi, "order-7781")                  # another token: its own key
    assert other.status_code == 201 and other.json()["radicado"] != first.json()["radicado"]
    w.tick(minutes=2)                                     # a day after the first: the key files again
    later = await post(crm, "order-7781")
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert later.json()["radicado"] not in (first.json()["radicado"], other.json()["radicado"])
    assert (await post(crm, "order-7781")).json()["radicado"] == later.json()["radicado"]
    unkeyed = [(await post(crm, None)).json()["radicado"] for _ in range(2)]
    assert len(set(unkeyed)) == 2
    listed = (await w.client.get("/api/v1/pqrs", headers=crm)).json()
    assert listed["total"] == 5
    for bad in ("", "x" * 256, "tab\there", "ñandú".encode()):
        r = await post(crm, bad)
        assert is_error(r, 422, "invalid") and "Idempotency-Key" in r.json()["detail"], bad


async def test_a_refused_filing_keeps_no_key(web: WebWorld) -> None:
    auth = {**await token(web, "staff", "crm"), "Idempotency-Key": "k-1"}
    r = await web.client.post("/api/v1/pqrs", json={**NEW, "email": "not an address"}, headers=auth)
    assert r.status_code == 422, r.text
    r = await web.client.post("/api/v1/pqrs", json=NEW, headers=auth)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


async def test_a_token_s_last_use_is_written_once_a_minute(web: WebWorld) -> None:
    auth = await token(web, "staff", "crm")

    async def last_used() -> dt.datetime | None:
        [found] = await web.web.services.access.tokens()
        return found.last_used_at

    assert (await web.client.get("/api/v1/pqrs", headers=auth)).status_code == 200
    assert await last_used() == web.now[0]
    first = web.now[0]
    web.tick(seconds=59)
    assert (await web.client.get("/api/v1/pqrs", headers=auth)).status_code == 200
    assert await last_used() == first
    web.tick(seconds=1)
    assert (await web.client.get("/api/v1/pqrs", headers=auth)).status_code == 200
    assert await last_used() == web.now[0]


async def test_a_token_revoked_elsewhere_is_refused_within_the_recent_bound(web: WebWorld) -> None:
    auth = await token(web, "staff", "crm")
    assert (await web.client.get("/api/v1/pqrs", headers=auth)).status_code == 200
    elsewhere = access_service(web.app)                   # another instance, or `pqrbot token revoke`
    await elsewhere.revoke_token("crm", actor="cli:operator", now=web.now[0])
    web.tick(seconds=RECENT.total_seconds())
    assert is_error(await web.client.get("/api/v1/pqrs", headers=auth), 401, "unauthorized")


@pytest.fixture
async def contract_web(sqlite_database: SqlDatabase, tmp_path: Path) -> AsyncIterator[WebWorld]:
    path = tmp_path / "contracts.yaml"
    path.write_text(json.dumps(CONTRACTS))
    async for w in make_world(sqlite_database, contracts={"files": [str(path)]}):
        yield w


async def test_listing_by_client_pages_the_client_s_pqrs(contract_web: WebWorld) -> None:
    w = contract_web
    auth = await token(w, "staff")
    mine = [(await file(w, auth, email=f"compras{n}@acme.co"))["radicado"] for n in range(3)]
    other = await file(w, auth, email="ana@example.co")
    assert other["radicado"] not in mine
    r = await w.client.get("/api/v1/pqrs", params={"client": "acme s.a.s.", "per_page": 2, "page": 2}, headers=auth)
    assert r.status_code == 200 and r.json()["total"] == 3
    assert [p["radicado"] for p in r.json()["items"]] == mine[2:]
    assert r.json()["items"][0] == await expected(w, mine[2])     # whole, with messages and events
    r = await w.client.get("/api/v1/pqrs", params={"client": "Nadie"}, headers=auth)
    assert r.json() == {"items": [], "page": 1, "per_page": 20, "total": 0}


async def test_messages_reply_note_and_refusals(web: WebWorld) -> None:
    auth = await token(web, "staff", "crm")
    rad = (await file(web, auth))["radicado"]
    web.tick(hours=1)
    r = await web.client.post(f"/api/v1/pqrs/{rad}/messages", json={"kind": "reply", "body": "Lo revisamos."},
                              headers=auth)
    assert r.status_code == 201 and r.json() == await expected(web, rad)
    last = r.json()["messages"][-1]
    assert (last["direction"], last["author"], last["body"], last["at"]) == \
        ("out", "api:crm", "Lo revisamos.", "2026-11-10T11:00:00-05:00")
    async with web.app.db.uow(readonly=True) as uow:
        queued = await uow.outbox.list(status="pending", limit=100)
    assert any(i.payload.get("kind") == "reply" and i.destination == "ana@example.co" for i in queued)
    r = await web.client.post(f"/api/v1/pqrs/{rad}/messages", json={"kind": "note", "body": "Revisar factura"},
                              headers=auth)
    assert r.status_code == 201 and r.json()["messages"][-1]["direction"] == "note"

    empty = await web.client.post(f"/api/v1/pqrs/{rad}/messages", json={"kind": "reply", "body": "  "}, headers=auth)
    assert is_error(empty, 422, "invalid") and empty.json()["detail"] == "The answer is empty."
    await web.app.service.close(rad, "Resuelto", actor=STAFF, now=web.now[0])
    closed = await web.client.post(f"/api/v1/pqrs/{rad}/messages", json={"kind": "reply", "body": "Otra"},
                                   headers=auth)
    assert is_error(closed, 409, "conflict") and "cerrada" in closed.json()["detail"]
    [refused] = await refusals(web)
    assert (refused.actor, refused.data["action"]) == ("api:crm", "api.reply")
    assert refused.reason is not None and refused.reason.startswith("invalid_transition:cerrada")
    es = await web.client.post(f"/api/v1/pqrs/{rad}/messages", json={"kind": "reply", "body": " "},
                               headers={**auth, "Accept-Language": "es"})
    assert es.json()["detail"] == "La respuesta está vacía."
    for body in ({"kind": "call", "body": "x"}, {"body": "x"}, {"kind": "note", "body": "a\x00b"},
                 {"kind": "note", "body": "x", "extra": 1}):
        assert is_error(await web.client.post(f"/api/v1/pqrs/{rad}/messages", json=body, headers=auth),
                        422, "invalid"), body
    unknown = await web.client.post("/api/v1/pqrs/PQR-2026-999999/messages", json={"kind": "note", "body": "x"},
                                    headers=auth)
    assert is_error(unknown, 404, "not_found") and "PQR-2026-999999" in unknown.json()["detail"]


async def test_unknown_pqr_and_bad_input_are_json(web: WebWorld) -> None:
    auth = await token(web, "staff")
    r = await web.client.get("/api/v1/pqrs/PQR-2026-424242", headers=auth)
    assert is_error(r, 404, "not_found") and r.json()["detail"] == "PQR PQR-2026-424242 not found."
    assert is_error(await web.client.get("/api/v1/pqrs/PQR%00X", headers=auth), 422, "invalid")
    for params in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": "uno"}, {"status": "perdida"},
                   {"type": "queja2"}, {"breached": "quizá"}, {"area": ""}, {"client": "a\nb"}):
        assert is_error(await web.client.get("/api/v1/pqrs", params=params, headers=auth), 422, "invalid"), params
    bad: list[tuple[dict[str, Any], str]] = [({"email": "not-an-address"}, "is not an email address"),
           ({"received_at": "2026-11-10T09:00:00"}, "received_at"),
           ({"received_at": "1900-01-01T00:00:00+00:00"}, "out of range"),
           ({"subject": "", "body": " "}, "needs a subject or a description"),
           ({"type": "chisme"}, "type"), ({"name": ""}, "name"), ({"subject": "a\r\nBcc: x@y.co"}, "subject"),
           ({"body": "\ud800"}, "body"), ({"unknown": 1}, "unknown")]
    for fields, says in bad:          # json.dumps escapes the lone surrogate as JSON may
        r = await web.client.post("/api/v1/pqrs", content=json.dumps({**NEW, **fields}),
                                  headers={**auth, "Content-Type": "application/json"})
        assert is_error(r, 422, "invalid") and says in r.json()["detail"], (fields, r.text)
    r = await web.client.post("/api/v1/pqrs", content=b"{not json", headers={**auth, "Content-Type": "application/json"})
    assert is_error(r, 422, "invalid")
    assert (await web.client.get("/api/v1/pqrs", params={"status": "all"}, headers=auth)).json()["total"] == 0


async def test_kpis_are_the_report_kpis_document(web: WebWorld) -> None:
    auth = await token(web, "staff")
    await file(web, auth)
    r = await web.client.get("/api/v1/kpis", params={"from": "2026-11-01", "to": "2026-12-01"}, headers=auth)
    want = await web.app.reports.indicators.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert r.status_code == 200 and r.json() == json.loads(json.dumps(want)) and r.json()["filed"] == 1
    r = await web.client.get("/api/v1/kpis", params={"from": "2026-11-01", "to": "2026-12-01", "client": "Acme"},
                             headers=auth)
    assert r.status_code == 200 and r.json()["filed"] == 0
    empty = await web.client.get("/api/v1/kpis", params={"from": "2026-12-01", "to": "2026-11-01"}, headers=auth)
    assert is_error(empty, 422, "invalid") and "must come after" in empty.json()["detail"]
    for params in ({"from": "2026-11-01"}, {"from": "2026-13-01", "to": "2026-12-01"},
                   {"from": "0001-01-01", "to": "2026-12-01"}):
        assert is_error(await web.client.get("/api/v1/kpis", params=params, headers=auth), 422, "invalid"), params


async def test_penalties_are_the_cli_s_for_managers(any_web: WebWorld) -> None:
    w = any_web
    auth = await token(w, "manager", "bi")
    assert (await w.client.get("/api/v1/penalties", headers=auth)).json() == []
    p = await w.app.penalties.register(NewPenalty(client="Acme S.A.S.", category=PenaltyCategory.KPI_ANS,
                                                  amount=Decimal("1500000.50"), area="laboratorio",
                                                  actor="cli:operator"), now=w.now[0])
    r = await w.client.get("/api/v1/penalties", headers=auth)
    assert r.status_code == 200 and r.json() == [penalty_json(p, w.app.penalties.calendar)]
    assert r.json()[0]["amount"] == "1500000.50"
    assert (await w.client.get("/api/v1/penalties", params={"status": "pagada"}, headers=auth)).json() == []
    assert is_error(await w.client.get("/api/v1/penalties", params={"status": "x"}, headers=auth), 422, "invalid")


async def test_the_openapi_document_describes_the_api(web: WebWorld) -> None:
    doc = (await web.client.get("/api/openapi.json")).json()
    paths = {p: set(ops) for p, ops in doc["paths"].items() if p.startswith("/api/v1")}
    assert paths == {"/api/v1/pqrs": {"get", "post"}, "/api/v1/pqrs/{radicado}": {"get"},
                     "/api/v1/pqrs/{radicado}/messages": {"post"}, "/api/v1/kpis": {"get"},
                     "/api/v1/penalties": {"get"}}
    schemas = doc["components"]["schemas"]
    pqr = schemas["PqrOut"]["properties"]
    assert {"radicado", "type", "status", "channel", "customer", "subject", "received_at", "due_at", "assignee",
            "area", "cause", "extended", "messages", "events"} <= set(pqr)
    assert set(schemas["EventOut"]["properties"]) == {"kind", "actor", "at", "from", "to", "reason", "data"}
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in schemas           # 422 answers are {"error", "detail"} too
    assert schemas["Status"]["enum"] == [s.value for s in Status]
