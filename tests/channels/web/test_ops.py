"""/healthz and /metrics on the real server: healthy on a live database, 503 when the database cannot
be reached, and Prometheus text with the work's figures and the web's own latency."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from bot.bootstrap import build, web_channel
from bot.config import parse_config
from bot.pqrs.service import FilingRequest
from domain.pqr_types import PqrType
from storage.ports import InboxItem
from storage.tables import outbox
from tests.channels.web.conftest import T0, WebWorld

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/x"


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def value(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float | None:
    return next((v for ls, v in found.get(name, []) if all(ls.get(k) == x for k, x in labels.items())), None)


async def test_healthz_says_ok_on_a_live_database(web: WebWorld) -> None:
    r = await web.client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
    assert r.headers["cache-control"] == "no-store"


async def test_healthz_is_503_when_the_database_cannot_be_reached() -> None:
    app = build(parse_config({"database": {"url": UNREACHABLE}, "web": {"host": "127.0.0.1", "port": 0},
                              "channels": {"console": {"enabled": False}, "email": {"enabled": False}}}),
                clock=lambda: T0)
    web = web_channel(app)
    await web.start()
    try:
        assert web.address is not None
        async with httpx.AsyncClient(base_url=f"http://{web.address[0]}:{web.address[1]}", timeout=30) as client:
            r = await client.get("/healthz")
            assert r.status_code == 503 and r.json() == {"status": "error", "database": "unreachable"}
            # /metrics still answers with the web's own figures.
            m = await client.get("/metrics")
            assert m.status_code == 200 and "pqrbot_http_request_duration_seconds" in m.text
            assert "pqrbot_open_pqrs" not in m.text
    finally:
        await web.stop()
        await app.db.dispose()


async def test_metrics_show_inbound_outbox_open_and_breached_pqrs_and_request_latency(web: WebWorld) -> None:
    page = await web.client.get("/")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    r = await web.client.post("/", data={"type": "queja", "name": "Ana", "email": "ana@example.co", "subject": "Demora",
                                         "body": "Nadie responde.", "consent": "yes", "nonce": nonce.group(1)})
    assert r.status_code == 200
    await web.app.service.file(FilingRequest(pqr_type=PqrType.PETICION, channel="phone", name="Luis",
                                             subject="Llamada", body="Pide copia", received_at=T0,
                                             actor="slack:U0STAFF", email="luis@example.co"))
    await web.client.get("/no/such/page-12345")

    m = await web.client.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    found = samples(m.text)
    assert value(found, "pqrbot_inbound_total", channel="web", outcome="filed") == 1
    assert value(found, "pqrbot_outbox_depth", status="pending") == 2       # both acknowledgments
    assert value(found, "pqrbot_outbox_depth", status="dead") == 0
    assert value(found, "pqrbot_open_pqrs") == 2 and value(found, "pqrbot_breached_open_pqrs") == 0
    assert value(found, "pqrbot_http_request_duration_seconds_count", method="POST", route="/", status="200") == 1
    assert value(found, "pqrbot_http_request_duration_seconds_count", method="GET", route="/", status="200") == 1
    assert value(found, "pqrbot_http_request_duration_seconds_count", route="unmatched", status="404") == 1
    assert "page-12345" not in m.text

    web.tick(days=40)                      # past every legal term
    later = samples((await web.client.get("/metrics")).text)
    assert value(later, "pqrbot_breached_open_pqrs") == 2
    assert value(later, "pqrbot_http_request_duration_seconds_count", method="GET", route="/metrics",
                 status="200") == 1


async def test_each_app_counts_its_own_requests(web: WebWorld) -> None:
    """Two apps in one process (as here, test after test) keep separate figures."""
    app = build(parse_config({"database": {"url": UNREACHABLE}, "web": {"host": "127.0.0.1", "port": 0},
                              "channels": {"console": {"enabled": False}, "email": {"enabled": False}}}),
                clock=lambda: T0)
    other = web_channel(app)
    await other.start()
    try:
        await web.client.get("/healthz")
        assert other.address is not None
        async with httpx.AsyncClient(base_url=f"http://{other.address[0]}:{other.address[1]}") as client:
            text = (await client.get("/metrics")).text
        assert value(samples(text), "pqrbot_http_request_duration_seconds_count", route="/healthz") is None
        mine = samples((await web.client.get("/metrics")).text)
        assert value(mine, "pqrbot_http_request_duration_seconds_count", route="/healthz", status="200") == 1
    finally:
        await other.stop()
        await app.db.dispose()


async def test_metrics_count_outbox_and_inbox_depth_exactly(web: WebWorld) -> None:
    """Over 10,000 pending outbox rows are counted, not capped; the inbox's pending and failed
    items are its depth, the filed ones history."""
    async with web.app.db.uow() as uow:
        await uow.connection.execute(insert(outbox), [
            {"channel": "email", "destination": f"c{n}@example.co", "payload": {"kind": "text", "text": "x"},
             "status": "dead" if n < 3 else "pending", "attempts": 0, "created_at": T0, "next_attempt_at": T0}
            for n in range(10_050)])
        ids = await uow.inbox.append_many([InboxItem(source="smtp", received_at=T0, data=b"x") for _ in range(4)],
                                          now=T0)
        await uow.inbox.failed(ids[0], reason="refused by a trigger", now=T0, retry_at=None)
        await uow.inbox.mark(ids[1], "filed", now=T0)
        await uow.commit()
    found = samples((await web.client.get("/metrics")).text)
    assert value(found, "pqrbot_outbox_depth", status="pending") == 10_047
    assert value(found, "pqrbot_outbox_depth", status="dead") == 3
    assert value(found, "pqrbot_inbox_depth", status="pending") == 2
    assert value(found, "pqrbot_inbox_depth", status="failed") == 1
