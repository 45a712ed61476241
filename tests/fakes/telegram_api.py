"""A fake Telegram Bot API on loopback (aiohttp), for python-telegram-bot's real `Application`.

Serves what pqrbot uses: getMe, getUpdates (long polling; an offset confirms every earlier
update, as Telegram does), sendMessage, editMessageText/ReplyMarkup, answerCallbackQuery,
getFile (refusing files over 20 MB with "file is too big", as the Bot API does) and the file
download, setMyCommands, setWebhook/deleteWebhook. It checks the token in the
path and the required arguments, records every call, and answers 429 or 403 when told to."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BOT_ID = 7000001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "PQR Bot", "username": "pqr_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
REQUIRED = {
    "sendMessage": ("chat_id", "text"), "editMessageText": ("text",), "editMessageReplyMarkup": (),
    "answerCallbackQuery": ("callback_query_id",), "getFile": ("file_id",), "setMyCommands": ("commands",),
    "setWebhook": ("url",), "deleteWebhook": (), "getMe": (), "getUpdates": (), "getWebhookInfo": (),
}
DOWNLOAD_LIMIT = 20 * 1024 * 1024        # getFile answers "file is too big" past this
JSON_FIELDS = ("reply_markup", "commands", "allowed_updates", "reply_parameters", "entities")


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


class FakeTelegram:
    """`async with FakeTelegram() as tg:` — `tg.base_url` is what channels.telegram.base_url takes."""

    def __init__(self, token: str = "123456:TEST-token", *, latency: float = 0.0) -> None:
        self.token = token
        self.latency = latency              # seconds each method but getUpdates takes, as over a network
        self.calls: list[Call] = []
        self.pending: list[dict[str, Any]] = []        # updates not yet confirmed
        self.confirmed = 0                              # every update_id below this is confirmed
        self.sent: dict[tuple[int, int], dict[str, Any]] = {}   # (chat, message_id) → bot message
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, data)
        self.sizes: dict[str, int] = {}                 # file_id → announced size, when not len(data)
        self.failures: dict[str, list[tuple[int, str, dict[str, Any] | None]]] = {}
        self._update_ids = itertools.count(500_000)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True             # end pending long polls now
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what tests do --------------------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Offer an update (its update_id and message_id are filled in when missing)."""
        update.setdefault("update_id", next(self._update_ids))
        message = update.get("message")
        if isinstance(message, dict):
            message.setdefault("message_id", next(self._message_ids))
        self.pending.append(update)
        self._notify()
        return update

    def add_file(self, file_id: str, data: bytes, path: str, *, size: int | None = None) -> None:
        """A file customers can send; `size` is its real size when `data` only stands in for it
        (a file over DOWNLOAD_LIMIT is refused by getFile, as the Bot API does)."""
        self.files[file_id] = (path, data)
        if size is not None:
            self.sizes[file_id] = size

    def fail(self, method: str, status: int, description: str, *, retry_after: int | None = None,
             times: int = 1) -> None:
        """The next `times` calls of `method` answer `status` with `description`."""
        params = {"retry_after": retry_after} if retry_after is not None else None
        self.failures.setdefault(method, []).extend([(status, description, params)] * times)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        """The bot's latest message in the chat (as edited since)."""
        return max((m for (c, _), m in self.sent.items() if c == chat_id), key=lambda m: m["message_id"])

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds (checked whenever a call or update arrives)."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"condition not met in {timeout}s; calls: "
                                         f"{[c.method for c in self.calls[-15:]]}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass

    async def processed(self, update: dict[str, Any], timeout: float = 10.0) -> None:
        """Wait until the bot confirmed `update` (polling confirms after processing)."""
        await self.wait_for(lambda: self.confirmed > update["update_id"], timeout)

    # -- the Bot API ----------------------------------------------------------------------------
    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()
        asyncio.get_running_loop().create_task(notify())

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json()
        else:
            raw = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            raw.update(request.query)
        for key in JSON_FIELDS:
            if isinstance(raw.get(key), str):
                raw[key] = json.loads(raw[key])
        return raw

    @staticmethod
    def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(404, "Not Found")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params))
        self._notify()
        if method not in REQUIRED:
            return self._error(404, "Not Found: method not found")
        missing = [p for p in REQUIRED[method] if params.get(p) in (None, "")]
        if missing:
            return self._error(400, f"Bad Request: {missing[0]} is empty")
        queued = self.failures.get(method)
        if queued:
            status, description, extra = queued.pop(0)
            return self._error(status, description, extra)
        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)
        result = await getattr(self, f"_{method}")(params)
        return web.json_response({"ok": True, "result": result})

    async def _getMe(self, p: dict[str, Any]) -> Any:
        return BOT_USER

    async def _getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset)
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            self._notify()
        timeout = float(p.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.pending and not self._closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
        return self.pending[: int(p.get("limit") or 100)]

    def _message(self, chat_id: int, text: str, markup: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {"message_id": next(self._message_ids), "from": BOT_USER, "date": int(time.time()),
                               "chat": {"id": chat_id, "type": "private"}, "text": text}
        if markup:
            msg["reply_markup"] = markup
        self.sent[(chat_id, msg["message_id"])] = msg
        return msg

    async def _sendMessage(self, p: dict[str, Any]) -> Any:
        return self._message(int(p["chat_id"]), p["text"], p.get("reply_markup"))

    async def _edit(self, p: dict[str, Any], **change: Any) -> Any:
        key = (int(p.get("chat_id") or 0), int(p.get("message_id") or 0))
        if key not in self.sent:
            raise web.HTTPBadRequest(text=json.dumps({"ok": False, "error_code": 400,
                                                      "description": "Bad Request: message to edit not found"}),
                                     content_type="application/json")
        msg = self.sent[key]
        msg.update(change)
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        else:
            msg.pop("reply_markup", None)
        return msg

    async def _editMessageText(self, p: dict[str, Any]) -> Any:
        return await self._edit(p, text=p["text"])

    async def _editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        return await self._edit(p)

    async def _answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        return True

    async def _getFile(self, p: dict[str, Any]) -> Any:
        if p["file_id"] not in self.files:
            raise web.HTTPBadRequest(text=json.dumps({"ok": False, "error_code": 400,
                                                      "description": "Bad Request: invalid file_id"}),
                                     content_type="application/json")
        path, data = self.files[p["file_id"]]
        size = self.sizes.get(p["file_id"], len(data))
        if size > DOWNLOAD_LIMIT:        # bots may download files of at most 20 MB
            raise web.HTTPBadRequest(text=json.dumps({"ok": False, "error_code": 400,
                                                      "description": "Bad Request: file is too big"}),
                                     content_type="application/json")
        return {"file_id": p["file_id"], "file_unique_id": f"u{p['file_id'][:8]}", "file_size": size,
                "file_path": path}

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=404)
        path = request.match_info["path"]
        self.calls.append(Call("download", {"path": path}))
        self._notify()
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    async def _setMyCommands(self, p: dict[str, Any]) -> Any:
        return True

    async def _setWebhook(self, p: dict[str, Any]) -> Any:
        return True

    async def _deleteWebhook(self, p: dict[str, Any]) -> Any:
        return True

    async def _getWebhookInfo(self, p: dict[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.pending)}
