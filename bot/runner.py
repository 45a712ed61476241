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
from channels.base import ChannelAdapter

log = logging.getLogger("pqrbot")


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
    try:
        for adapter in build_channels(app):
            await adapter.start()
            started.append(adapter)
            log.info("channel %s started", adapter.name)
        log.info("pqrbot running (%s)", ", ".join(a.name for a in started) or "no channels")
        print("pqrbot running", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s", adapter.name)
        await app.db.dispose()
        log.info("pqrbot stopped")
    return 0
