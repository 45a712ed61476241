"""Webhook mode served from our own aiohttp route: Telegram's secret token header is checked
(403 otherwise) and the update is answered 200 only once it was processed (500 asks Telegram to
offer it again)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ProcessJson = Callable[[dict[str, Any]], Awaitable[bool]]


def webhook_app(process: ProcessJson, *, path: str, secret: str) -> web.Application:
    """An aiohttp application with the webhook route (it can share a server with other routes)."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        got = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(got, expected):
            log.warning("telegram webhook: bad or missing secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="not an Update")
        ok = await process(data)
        return web.Response(status=200 if ok else 500)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, receive)
    return app


async def serve(process: ProcessJson, *, host: str, port: int, path: str, secret: str) -> tuple[web.AppRunner, int]:
    """Start the webhook server; returns its runner and the port it listens on (port 0 picks one)."""
    runner = web.AppRunner(webhook_app(process, path=path, secret=secret), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    return runner, bound
