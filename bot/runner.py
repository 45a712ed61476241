"""`pqrbot run`: migrate, start every enabled channel and the background workers, stop cleanly on
SIGTERM/SIGINT. The end of console input stops the console, not the service."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sys

from bot.bootstrap import App, build, channels
from bot.clock import Clock
from bot.config import Config, ConfigError
from bot.i18n import tn
from bot.ports.payloads import OutboxDead
from bot.outbox.worker import DeadLetterHook, OutboxWorker, RetryPolicy
from bot.sla.scheduler import Scheduler
from storage.db import CHECKPOINT_EVERY_S
from storage.ports import Database, OutboxItem
from bot.ports import ChannelAdapter

log = logging.getLogger("pqrbot")

# Channels whose adapters deliver outbox rows (the console only shows them).
SENDING_CHANNELS = ("email", "telegram", "slack")


class StartupError(Exception):
    """pqrbot run cannot start; the message says what to fix."""


def run(config: Config, *, clock: Clock) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiosmtpd logs every SMTP command at INFO; keep its warnings only.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        return asyncio.run(serve(build(config, clock=clock)))
    except (StartupError, ConfigError) as exc:
        print(f"pqrbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def dead_letter_alert(app: App) -> DeadLetterHook:
    """Tell staff (the Slack triage channel, when Slack is on) about a message that went dead."""
    slack = app.config.channels.slack

    async def alert(item: OutboxItem, error: str) -> None:
        if not (slack.enabled and slack.triage_channel) or item.channel == "slack":
            return   # nowhere else to say it; the worker has logged it
        text = tn(app.config.language, "outbox.dead", item.attempts + 1, channel=item.channel,
                  destination=item.destination, radicado=item.payload.get("radicado") or "-", error=error[:200])
        async with app.db.uow() as uow:
            await uow.outbox.put(OutboxItem(channel="slack", destination=slack.triage_channel,
                                            payload=OutboxDead(text=text).stored(), pqr_id=item.pqr_id,
                                            dedupe_key=f"dead:{item.id}:{item.attempts}"), now=app.clock())
            await uow.commit()

    return alert


async def checkpoints(db: Database, stop: asyncio.Event, *, every: float = CHECKPOINT_EVERY_S) -> None:
    """`db.checkpoint()` every `every` seconds until `stop`."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
        try:
            await db.checkpoint()
        except Exception:   # housekeeping: the writers' own checkpoints remain as a fallback
            log.exception("database checkpoint failed")


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
    tasks: list[asyncio.Task[None]] = []
    try:
        for adapter in channels(app):
            try:
                await adapter.start()
            except OSError as exc:   # a port in use, an address that is not ours, …
                raise StartupError(f"the {adapter.name} channel could not start: {exc}") from exc
            started.append(adapter)
            log.info("channel %s started", adapter.name)
        senders = {a.name: a for a in started if a.name in SENDING_CHANNELS}
        out = app.config.outbox
        policy = RetryPolicy(max_attempts=out.max_attempts, base=dt.timedelta(seconds=out.base_delay_seconds),
                             cap=dt.timedelta(seconds=out.max_delay_seconds))
        worker = OutboxWorker(app.db, senders, app.clock, policy=policy, poll=out.poll_seconds,
                              on_dead=dead_letter_alert(app), wake=app.outbox_wake)
        scheduler = Scheduler(app.db, app.config, app.service, app.clock)
        tasks = [asyncio.create_task(worker.run(stop), name="outbox-worker"),
                 asyncio.create_task(scheduler.run(stop), name="scheduler"),
                 asyncio.create_task(checkpoints(app.db, stop), name="checkpoints")]
        log.info("pqrbot running (%s)", ", ".join(a.name for a in started) or "no channels")
        print("pqrbot running", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s", adapter.name)
        await app.db.dispose()
        log.info("pqrbot stopped")
    return 0
