"""The web channel: uvicorn serving the app on the running event loop (no thread), started and
stopped with the other adapters. It takes no outbox rows: what the web says is its answer."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import Iterator

import uvicorn

from bot.ports import Permanent
from bot.ports.payloads import OutboxPayload
from channels.web.app import asgi
from channels.web.services import WebServices

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `pqrbot run` owns SIGTERM/SIGINT and stops every
    adapter itself (uvicorn would catch them and raise them again once it stopped)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


_frozen = False


def _freeze_startup_heap() -> None:
    """Once per process, when the web first listens: collect, then move every object left (the
    modules, the app, the calendars, the catalogues: ~170k objects) out of the collector's sight
    (`gc.freeze`). A full collection otherwise walks them all, ~110 ms with the loop stopped, every
    few seconds under load: the worst of the pages' tail latency (bench.web). Later garbage is
    collected as before; only once, so a process that starts many apps (tests) keeps nothing more."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


class WebChannel:
    """`ChannelAdapter` for the web. `address` is (host, port) once listening; `url` the public URL."""

    name = "web"

    def __init__(self, services: WebServices) -> None:
        cfg = services.config
        self.services = services
        self.config = cfg
        # Staff forms and the API carry text (1 MiB); the public form its files too.
        form = cfg.form.max_files * cfg.form.max_file_bytes + 1024 * 1024
        self.app = asgi(services, max_body=1024 * 1024, max_form=form)
        self.address: tuple[str, int] | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return self.config.public_url

    async def start(self) -> None:
        """Listen on `web.host:web.port` (0: a free port); logs the address once bound."""
        # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on accepted connections (without it a
        # keep-alive response waits ~40 ms for the client's delayed ACK between headers and body).
        sock = socket.socket(socket.AF_INET6 if ":" in self.config.host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        host, port = sock.getsockname()[:2]
        self.address = (str(host), int(port))
        # httptools (uvicorn's C parser, named so that a missing one fails here, not slowly):
        # with h11, the pure-Python default, parsing and framing cost ~1 ms of a 3.4 ms API page
        # (bench.web, issue 16).
        config = uvicorn.Config(self.app, lifespan="off", log_config=None, access_log=False,
                                server_header=False, proxy_headers=False, http="httptools")
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web")
        while not self._server.started:
            if self._task.done():
                self._task.result()            # raises what stopped it
            await asyncio.sleep(0.01)
        _freeze_startup_heap()
        log.info("web: listening on http://%s:%d", *self.address)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        raise Permanent("the web does not deliver outbox rows")
