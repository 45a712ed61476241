"""The web's ASGI app: every route module mounted on one FastAPI app, with the answers every page
shares — security headers on every response, request bodies capped, errors as a clear page (or
`{"error", "detail"}` under /api) and never a stack trace."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.i18n import t
from channels.web import api, ops, public, staff
from channels.web.pages import error_page, language
from channels.web.services import WebServices

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages use only their own styles and scripts; charts are inline SVG.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "frame-ancestors 'none'; form-action 'self'",
}


class BodyLimit:
    """Refuse a request body over its limit with 413, by Content-Length or while reading: the
    public form (`POST /`) may carry its files (`form_limit`), everything else `limit`."""

    def __init__(self, app: ASGIApp, limit: int, form_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.form_limit = form_limit or limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.form_limit if scope.get("path") == "/" else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(scope, send)


class _BodyTooLarge(Exception):
    pass


class Answered:
    """Security headers on every answer, and its latency counted in /metrics (`ops.observe`) once
    the app is done with it. Plain ASGI: Starlette's `@app.middleware("http")` runs each request
    through a task group and memory streams, which cost more than some pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500                    # what an exception that escapes every handler becomes

        async def answering(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            ops.observe(scope, status, time.perf_counter() - started)


async def _too_large(scope: Scope, send: Send) -> None:
    """JSON under /api; elsewhere a short page in both languages (no request was read to tell)."""
    if str(scope.get("path", "")).startswith("/api/"):
        body, kind = b'{"error": "too_large", "detail": "request body too large"}', b"application/json"
    else:
        body = ("<!doctype html><meta charset=utf-8><title>413</title><h1>El envío es demasiado grande</h1>"
                "<p>Reduzca el tamaño o el número de archivos e intente de nuevo.</p><hr lang=en>"
                "<p lang=en>The submission is too large: send fewer or smaller files.</p>").encode()
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(services: WebServices) -> FastAPI:
    """The app: public pages, staff pages, the API, and the operations endpoints."""
    app = FastAPI(title="pqrbot", openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    default = services.language
    app.add_middleware(Answered)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
            return JSONResponse({"error": _error_code(exc.status_code), "detail": detail},
                                status_code=exc.status_code, headers=getattr(exc, "headers", None))
        lang = language(request, default)
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code not in (404, 405) else \
            t(lang, f"web.error.{exc.status_code}" if exc.status_code in (403, 404, 405) else "web.error.generic")
        return error_page(lang, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
            return JSONResponse({"error": "invalid", "detail": problems[:2000]}, status_code=422)
        lang = language(request, default)
        return error_page(lang, 422, t(lang, "web.error.invalid"))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("web: %s %s failed", request.method, request.url.path)
        if _is_api(request):
            return JSONResponse({"error": "internal", "detail": "internal error"}, status_code=500)
        return error_page(language(request, default), 500, t(language(request, default), "web.error.500"))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (ops, api, staff, public):
        app.include_router(module.routes(services))
    return app


def asgi(services: WebServices, *, max_body: int, max_form: int | None = None) -> ASGIApp:
    """The app behind the body limits (what uvicorn serves)."""
    return BodyLimit(create_app(services), max_body, max_form)


def _error_code(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
            409: "conflict", 413: "too_large", 422: "invalid", 429: "rate_limited"}.get(status, "error")
