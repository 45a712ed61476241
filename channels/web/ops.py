"""The web's operations endpoints: `GET /healthz` (200 `{"status": "ok", "database": "ok"}`, 503
when the database does not answer) and `GET /metrics` (Prometheus text format).

/metrics shows inbound messages by channel and outcome (`pqrbot_inbound_total`), outbox depth by
status (`pqrbot_outbox_depth`: pending, dead), inbox depth by status (`pqrbot_inbox_depth`:
pending, failed), both exact, open and breached PQRs (`pqrbot_open_pqrs`,
`pqrbot_breached_open_pqrs`) — read from the database at each scrape through
`bot.pqrs.metrics` — and the latency of the web's own requests
(`pqrbot_http_request_duration_seconds` by method, route template and status), which the app's
middleware records with `observe`. Each app has its own registry (never prometheus_client's
global one), so several apps in one process (tests) do not share figures."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.metrics_core import Metric
from starlette.types import Scope

from bot.pqrs.metrics import WorkFigures, work_figures
from channels.web.services import WebServices

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
UNMATCHED = "unmatched"          # the route label of a path no route serves (one label, not one per path)


class _HttpMetrics:
    """One app's registry and its request-latency histogram."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram("pqrbot_http_request_duration_seconds", "Time to answer a web request.",
                                 ("method", "route", "status"), registry=self.registry)


def _http_metrics(app: FastAPI) -> _HttpMetrics:
    found = getattr(app.state, "pqrbot_http_metrics", None)
    if not isinstance(found, _HttpMetrics):
        found = _HttpMetrics()
        app.state.pqrbot_http_metrics = found
    return found


def observe(scope: Scope, status: int, seconds: float) -> None:
    """Count one answered request (its ASGI scope, once the router has matched it) in its app's
    latency histogram, labelled with the route's template (`/consulta`,
    `/api/v1/pqrs/{radicado}`), never the raw path."""
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        template = "/static" if str(scope.get("path", "")).startswith("/static/") else UNMATCHED
    _http_metrics(scope["app"]).latency.labels(scope.get("method", ""), template, str(status)).observe(seconds)


class _Work(Collector):
    """The database's figures of one scrape as metric families."""

    def __init__(self, figures: WorkFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self.figures
        inbound = CounterMetricFamily("pqrbot_inbound", "Inbound messages kept, by channel and outcome.",
                                      labels=("channel", "outcome"))
        for (channel, outcome), n in sorted(f.inbound.items()):
            inbound.add_metric((channel, outcome), n)
        yield inbound
        outbox = GaugeMetricFamily("pqrbot_outbox_depth", "Outbox rows by status (pending: to deliver; "
                                   "dead: given up).", labels=("status",))
        for status, n in sorted(f.outbox.items()):
            outbox.add_metric((status,), n)
        yield outbox
        inbox = GaugeMetricFamily("pqrbot_inbox_depth", "Inbound mail in the inbox by status (pending: to file; "
                                  "failed: given up until retried).", labels=("status",))
        for status, n in sorted(f.inbox.items()):
            inbox.add_metric((status,), n)
        yield inbox
        yield GaugeMetricFamily("pqrbot_open_pqrs", "Open PQRs.", value=f.open_pqrs)
        yield GaugeMetricFamily("pqrbot_breached_open_pqrs", "Open PQRs past their due date.", value=f.breached_open)


def routes(services: WebServices) -> APIRouter:
    """/healthz and /metrics."""
    router = APIRouter(include_in_schema=False)   # not the API: kept out of /api/openapi.json

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        if await services.healthy():
            return JSONResponse({"status": "ok", "database": "ok"}, headers=NO_STORE)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503, headers=NO_STORE)

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        body = generate_latest(_http_metrics(request.app).registry)
        try:
            figures = await work_figures(services.pqrs, now=services.clock())
        except Exception:
            # The latency figures are still worth a scrape; /healthz says the database is down.
            log.warning("metrics: the database figures could not be read", exc_info=True)
        else:
            work = CollectorRegistry(auto_describe=False)
            work.register(_Work(figures))
            body += generate_latest(work)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)

    return router
