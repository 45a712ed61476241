"""`pqrbot run`: migrate, start every enabled channel and the background workers, stop cleanly on
SIGTERM/SIGINT. The end of console input stops the console, not the service."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.bootstrap import App, build
from bot.clock import Clock
from bot.config import Config
from bot.outbox_worker import OutboxWorker
from channels.base import ChannelAdapter

log = logging.getLogger("pqrbot")

# Channels whose adapters deliver outbox rows (the console only shows them).
SENDING_CHANNELS = ("email", "telegram", "slack")


def run(config: Config, *, clock: Clock) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(serve(build(config, clock=clock)))
    except KeyboardInterrupt:
        return 0


def build_channels(app: App) -> list[ChannelAdapter]:
    """The adapters the config enables, in start order."""
    cfg = app.config.channels
    adapters: list[ChannelAdapter] = []
    if cfg.console.enabled:
        from channels.console.adapter import ConsoleChannel
        identity = app.config.roles.staff[0] if app.config.roles.staff else "console:operator"
        adapters.append(ConsoleChannel(app.commands, identity, app.clock))
    return adapters


async def serve(app: App, *, stop: asyncio.Event | None = None) -> int:
    """Run until `stop` is set (or a termination signal arrives)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass
    await app.db.upgrade()
    started: list[ChannelAdapter] = []
    worker_task: asyncio.Task[None] | None = None
    try:
        for adapter in build_channels(app):
            await adapter.start()
            started.append(adapter)
            log.info("channel %s started", adapter.name)
        senders = {a.name: a for a in started if a.name in SENDING_CHANNELS}
        worker = OutboxWorker(app.db, senders, app.clock)
        worker_task = asyncio.create_task(worker.run(stop), name="outbox-worker")
        log.info("pqrbot running (%s)", ", ".join(a.name for a in started) or "no channels")
        print("pqrbot running", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        stop.set()
        if worker_task is not None:
            await asyncio.gather(worker_task, return_exceptions=True)
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s", adapter.name)
        await app.db.dispose()
        log.info("pqrbot stopped")
    return 0
