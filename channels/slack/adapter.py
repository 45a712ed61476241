"""The Slack channel: a Bolt app reached by Socket Mode (default) or HTTP (`POST /slack/events`,
`GET /healthz`), and the outbox sender."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports.payloads import OutboxPayload
from channels.slack.listeners import SlackListeners
from channels.slack.sender import SlackSender
from channels.slack.services import SlackServices
from channels.slack.settings import SlackSettings

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def _fixed_token(token: str) -> Callable[..., Awaitable[AuthorizeResult]]:
    """Bolt's `authorize=` for one workspace: the configured bot token, no auth.test call."""
    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    return authorize


class SlackChannel:
    """start() connects (Socket Mode) or listens (HTTP); send() posts outbox payloads."""

    name = "slack"

    def __init__(self, services: SlackServices, settings: SlackSettings) -> None:
        self.settings = settings
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_base_url)
        http = settings.mode == "http"
        # authorize= answers from the configured token: no auth.test round trip at startup.
        self.bolt = AsyncApp(client=self.client, signing_secret=settings.signing_secret,
                             authorize=_fixed_token(settings.bot_token), request_verification_enabled=http,
                             process_before_response=False)
        SlackListeners(services, self.client).register(self.bolt)
        self.sender = SlackSender(services, self.client)
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Reuse one HTTP session for the Web API, then take requests in the configured mode."""
        self.client.session = aiohttp.ClientSession()
        if self.settings.mode == "http":
            await self._start_http()
        else:
            web_client = AsyncWebClient(base_url=self.settings.api_base_url, session=self.client.session)
            self._socket = AsyncSocketModeHandler(self.bolt, app_token=self.settings.app_token, web_client=web_client)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        log.info("slack: %s mode started", self.settings.mode)

    async def _start_http(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, self._events)
        web_app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _events(self, request: web.Request) -> web.Response:
        bolt_resp = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_resp)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "channel": "slack", "mode": self.settings.mode})

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        """Post one outbox payload; raises bot.ports.Retryable or Permanent."""
        return await self.sender.send(destination, payload)
