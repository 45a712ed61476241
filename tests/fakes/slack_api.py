"""A fake Slack on 127.0.0.1: the Web API methods pqrbot uses, response_url endpoints and a Socket
Mode WebSocket. It checks tokens and required arguments the way Slack does (HTTP 200 with
`ok: false` and Slack's error strings), can answer `ratelimited`, and records every call so
tests can wait for one instead of sleeping."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"

# method -> arguments Slack refuses the call without (any one of a tuple will do).
REQUIRED: dict[str, list[str | tuple[str, ...]]] = {
    "auth.test": [],
    "chat.postMessage": ["channel", ("text", "blocks", "attachments")],
    "chat.update": ["channel", "ts"],
    "chat.postEphemeral": ["channel", "user", ("text", "blocks", "attachments")],
    "views.open": ["trigger_id", "view"],
    "conversations.open": [("users", "channel")],
    "users.info": ["user"],
    "apps.connections.open": [],
    "files.getUploadURLExternal": ["filename", "length"],
    "files.completeUploadExternal": ["files"],
}
MISSING_ERROR = {"channel": "channel_not_found", "text": "no_text", "user": "user_not_found", "ts": "message_not_found",
                 "trigger_id": "invalid_arguments", "view": "invalid_arguments", "users": "invalid_arguments"}


@dataclass(frozen=True)
class Call:
    """One request the fake received (`method` is the API method, or "response_url")."""

    method: str
    args: dict[str, Any]
    token: str | None = None
    at: float = 0.0


@dataclass
class _Failure:
    error: str
    times: int
    retry_after: int | None = None
    status: int | None = None


@dataclass
class Envelope:
    envelope_id: str
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    ack: dict[str, Any] | None = None


class FakeSlack:
    """`async with FakeSlack() as slack:`; `slack.api_base_url` goes in channels.slack.api_base_url."""

    def __init__(self, *, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.calls: list[Call] = []
        self.unknown_channels: set[str] = set()
        self._failures: dict[str, _Failure] = {}
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_ready = asyncio.Event()
        self.envelopes: dict[str, Envelope] = {}
        self.uploads: dict[str, bytes] = {}            # file id -> bytes POSTed to its upload URL
        self._upload_names: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------------
    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/ws", self._ws)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self) -> str:
        """A fresh response_url, as Slack puts in commands and button presses."""
        return f"{self.url}/response/{next(self._ids)}"

    # -- test controls --------------------------------------------------------------------------
    def fail(self, method: str, error: str, *, times: int = 1, retry_after: int | None = None,
             status: int | None = None) -> None:
        """Answer the next `times` calls of `method` with `error` (ratelimited: HTTP 429 + Retry-After;
        `status`, e.g. 500: that HTTP status with `{"ok": false, "error": error}`)."""
        self._failures[method] = _Failure(error, times, retry_after, status)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, where: Callable[[Call], bool] = lambda c: True, *,
                       count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The first `count` calls of `method` matching `where`, waiting for them (no polling)."""
        def found() -> list[Call]:
            return [c for c in self.of(method) if where(c)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(found()) >= count), timeout)
        return found()[:count]

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # -- Web API --------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else args.pop("token", None)
        await self._record(Call(method, args, token, time.monotonic()))
        if method not in REQUIRED:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        failure = self._failures.get(method)
        if failure and failure.times > 0:
            failure.times -= 1
            if failure.error == "ratelimited":
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(failure.retry_after or 1)})
            if failure.status is not None:
                return web.json_response({"ok": False, "error": failure.error}, status=failure.status)
            return web.json_response({"ok": False, "error": failure.error})
        for need in REQUIRED[method]:
            names = need if isinstance(need, tuple) else (need,)
            if not any(args.get(n) not in (None, "", []) for n in names):
                return web.json_response({"ok": False, "error": MISSING_ERROR.get(names[0], "invalid_arguments")})
        if args.get("channel") in self.unknown_channels:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        problem = self._check_blocks(args.get("blocks")) or self._check_blocks((args.get("view") or {}).get("blocks")
                                                                              if isinstance(args.get("view"), dict) else None)
        if problem:
            return web.json_response({"ok": False, "error": "invalid_blocks", "errors": [problem]})
        return web.json_response({"ok": True, **self._result(method, args)})

    @staticmethod
    async def _args(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data = await request.json()
            return dict(data) if isinstance(data, dict) else {}
        args: dict[str, Any] = dict(parse_qsl(await request.text(), keep_blank_values=True))
        args.update(request.query)
        for key in ("blocks", "view", "attachments", "files"):   # complex arguments arrive as JSON strings
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    return {**args, key: None}
        return args

    @staticmethod
    def _check_blocks(blocks: Any) -> str | None:
        """The Block Kit limits that bite in practice."""
        if blocks is None:
            return None
        if not isinstance(blocks, list) or len(blocks) > 100:
            return "blocks must be a list of at most 50 (messages) or 100 (views)"
        for i, b in enumerate(blocks):
            text = (b.get("text") or {}).get("text", "") if isinstance(b, dict) else ""
            if not isinstance(b, dict) or "type" not in b:
                return f"block {i} has no type"
            if len(text) > 3000:
                return f"block {i}: text longer than 3000"
            if len(b.get("fields") or []) > 10:
                return f"block {i}: more than 10 fields"
        return None

    def _result(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {"channel": args["channel"], "ts": ts, "message": {"text": args.get("text"), "ts": ts}}
        if method == "chat.update":
            return {"channel": args["channel"], "ts": args["ts"], "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "views.open":
            return {"view": {**args["view"], "id": f"V{next(self._ids):08d}"}}
        if method == "conversations.open":
            return {"channel": {"id": "D" + str(args.get("users", "X")).split(",")[0]}}
        if method == "users.info":
            return {"user": {"id": args["user"], "name": args["user"].lower(), "is_bot": False}}
        if method == "auth.test":
            return {"user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0TEAM", "team": "pqr", "url": self.url}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            self._upload_names[file_id] = str(args["filename"])
            return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            return {"files": [{"id": f.get("id"), "title": f.get("title"), "name": self._upload_names.get(str(f.get("id"))),
                               "size": len(self.uploads.get(str(f.get("id")), b""))}
                              for f in args.get("files") or [] if isinstance(f, dict)]}
        if method == "apps.connections.open":
            return {"url": f"{self.url.replace('http', 'ws', 1)}/ws"}
        return {}

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        # `_url` says which response_url was used (a test waits for the answer to its own request).
        await self._record(Call("response_url", {**body, "_url": str(request.url.with_query(None))},
                                None, time.monotonic()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL that files.getUploadURLExternal hands out (step 2 of files_upload_v2)."""
        file_id = request.match_info["file_id"]
        if file_id not in self._upload_names:
            return web.Response(status=404, text="unknown upload")
        data = await request.read()
        self.uploads[file_id] = data
        await self._record(Call("upload", {"file_id": file_id, "size": len(data)}, None, time.monotonic()))
        return web.Response(text=f"OK - {len(data)}")

    # -- Socket Mode ----------------------------------------------------------------------------
    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A0FAKE"}})
        self._socket_ready.set()
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            env = self.envelopes.get(data.get("envelope_id", ""))
            if env is not None:
                env.ack = data
                env.acked.set()
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0,
                            envelope_id: str | None = None) -> Envelope:
        """Push one envelope (`slash_commands`, `interactive`, `events_api`) to the connected app."""
        await asyncio.wait_for(self._socket_ready.wait(), 5)
        env = Envelope(envelope_id or f"env-{next(self._ids)}")
        self.envelopes[env.envelope_id] = env
        await self._sockets[-1].send_json({"envelope_id": env.envelope_id, "type": kind, "payload": payload,
                                           "accepts_response_payload": kind != "events_api",
                                           "retry_attempt": retry_attempt,
                                           "retry_reason": "timeout" if retry_attempt else ""})
        return env
