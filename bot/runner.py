"""`pqrbot run`: migrate, start every enabled channel and the background workers, stop cleanly on
SIGTERM/SIGINT/SIGHUP. The end of console input stops the console, not the service — unless the
terminal went away (closed window, dropped SSH session): then the service stops too, like on SIGHUP.

Where the log goes (a file while the console is on a terminal) is `bot.process.logs`; the start-up banner
shown on that terminal is `bot.process.banner`."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bot.process import logs
from bot.process.banner import banner, database_shown
from bot.bootstrap import App, build, channels, intake_worker, outgoing_mail_dir
from bot.bootstrap import scheduler as make_scheduler
from bot.clock import Clock
from bot.config import Config, ConfigError
from bot.process.port_holder import in_use
from channels.console.adapter import ConsoleChannel
from bot.i18n import t, tn
from bot.ports.payloads import OutboxDead
from bot.outbox.worker import DeadLetterHook, OutboxWorker, RetryPolicy
from storage.db import CHECKPOINT_EVERY_S
from storage.ports import Database, OutboxItem
from bot.ports import ChannelAdapter

log = logging.getLogger("pqrbot")

# Channels whose adapters deliver outbox rows (the console only shows them).
SENDING_CHANNELS = ("email", "telegram", "slack")


class StartupError(Exception):
    """pqrbot run cannot start; the message says what to fix."""


def run(config: Config, *, clock: Clock, log_level: str = "INFO") -> int:
    data_dir = config.database.data_dir()
    try:
        setup = logs.configure(data_dir=data_dir, level=log_level,
                               console_on_tty=config.channels.console.enabled and sys.stdin.isatty())
    except logs.LogSettingsError as exc:
        print(f"pqrbot: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"pqrbot: cannot write the log under {data_dir}/ ({exc.strerror or exc}); "
              f"PQRBOT_LOG=stderr keeps it on the terminal", file=sys.stderr)
        return 1
    try:
        return asyncio.run(serve(build(config, clock=clock), log_setup=setup))
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


class Terminal:
    """The standard streams that were a terminal at start. When the terminal goes away they fail
    (reads end, writes raise EIO); `detach` points them at /dev/null, so the shutdown that follows
    writes nowhere instead of failing."""

    def __init__(self, fds: Sequence[int]) -> None:
        self.fds = tuple(fds)

    @classmethod
    def of_this_process(cls) -> Terminal:
        return cls([fd for fd in (0, 1, 2) if _isatty(fd)])

    def gone(self) -> bool:
        """There was a terminal and it is no longer there."""
        return bool(self.fds) and not any(_isatty(fd) for fd in self.fds)

    def detach(self) -> None:
        if not self.gone():
            return
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in self.fds:
            os.dup2(devnull, fd)
        os.close(devnull)
        self.fds = ()


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _on_signal(sig: signal.Signals, stop: asyncio.Event, terminal: Terminal) -> None:
    log.info("%s received; stopping", sig.name)
    if sig == getattr(signal, "SIGHUP", None):
        terminal.detach()
    stop.set()


async def _stop_when_the_terminal_goes(console: ConsoleChannel, stop: asyncio.Event, terminal: Terminal,
                                       language: str) -> None:
    """Ctrl-D ends the console and the service goes on (the terminal is told); a terminal that
    went away (its window closed, without a SIGHUP reaching us) ends the service too, so nothing
    lingers on its ports."""
    await console.done.wait()
    if not console.interactive or stop.is_set():
        return
    if terminal.gone():
        terminal.detach()
        log.info("console: the terminal went away; stopping")
        stop.set()
    else:
        _say([t(language, "run.console_closed")])


def _listen_address(config: Config, channel: str) -> tuple[str, int] | None:
    """The address a channel binds, from the config (None: it binds nothing)."""
    ch = config.channels
    if channel == "email":
        return ch.email.listen.host, ch.email.listen.port
    if channel == "slack" and ch.slack.mode == "http":
        return ch.slack.http.host, ch.slack.http.port
    if channel == "telegram" and ch.telegram.mode == "webhook":
        return ch.telegram.webhook.host, ch.telegram.webhook.port
    return None


async def _start(adapter: ChannelAdapter, config: Config) -> None:
    try:
        await adapter.start()
    except OSError as exc:   # a port in use, an address that is not ours, …
        address = _listen_address(config, adapter.name)
        reason = in_use(*address) if exc.errno == errno.EADDRINUSE and address else str(exc)
        raise StartupError(f"the {adapter.name} channel could not start: {reason}") from exc
    log.info("channel %s started", adapter.name)


def _say(lines: Sequence[str]) -> None:
    try:
        print("\n".join(lines), file=sys.stderr, flush=True)
    except OSError:   # the terminal already went away
        pass


async def serve(app: App, *, stop: asyncio.Event | None = None, log_setup: logs.LogSetup | None = None) -> int:
    """Run until `stop` is set (or a termination signal arrives). When the log goes to a file
    (`log_setup.file`), the banner is printed on stderr before the console starts."""
    stop = stop or asyncio.Event()
    terminal = Terminal.of_this_process()
    loop = asyncio.get_running_loop()
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, _on_signal, sig, stop, terminal)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass
    await app.db.upgrade()
    log.info("database: %s", database_shown(app.config.database.url))
    await app.reports.indicators.ensure_rollups()      # a database just upgraded counts its PQRs once
    adapters = channels(app)
    consoles = [a for a in adapters if isinstance(a, ConsoleChannel)]
    started: list[ChannelAdapter] = []
    tasks: list[asyncio.Task[None]] = []
    watchers: list[asyncio.Task[None]] = []
    try:
        for adapter in adapters:
            if adapter not in consoles:      # the console's prompt comes after the banner
                await _start(adapter, app.config)
                started.append(adapter)
        senders = {a.name: a for a in started if a.name in SENDING_CHANNELS}
        out = app.config.outbox
        policy = RetryPolicy(max_attempts=out.max_attempts, base=dt.timedelta(seconds=out.base_delay_seconds),
                             cap=dt.timedelta(seconds=out.max_delay_seconds))
        worker = OutboxWorker(app.db, senders, app.clock, policy=policy, poll=out.poll_seconds,
                              on_dead=dead_letter_alert(app), wake=app.outbox_wake, hold=app.burst.hold)
        scheduler = make_scheduler(app)          # with the scheduled reports job
        tasks = [asyncio.create_task(worker.run(stop), name="outbox-worker"),
                 asyncio.create_task(intake_worker(app).run(stop), name="intake-worker"),
                 asyncio.create_task(scheduler.run(stop), name="scheduler"),
                 asyncio.create_task(checkpoints(app.db, stop), name="checkpoints")]
        log.info("pqrbot running (%s)", ", ".join(a.name for a in adapters) or "no channels")
        if log_setup is not None and log_setup.file is not None:
            smtp = next((getattr(a, "address", None) for a in started if a.name == "email"), None)
            web = next((a for a in started if a.name == "web"), None)
            web_address = getattr(web, "address", None)
            web_url = f"http://{web_address[0]}:{web_address[1]}" if web_address else None
            _say(banner(app.config, smtp=smtp, outgoing=outgoing_mail_dir(app.config), log_file=log_setup.file,
                        web_url=web_url))
        for console in consoles:
            await _start(console, app.config)
            started.append(console)
            watchers.append(asyncio.create_task(
                _stop_when_the_terminal_goes(console, stop, terminal, app.config.language), name="terminal"))
        await stop.wait()
    finally:
        stop.set()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*tasks, *watchers, return_exceptions=True)
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s", adapter.name)
        await app.db.dispose()
        log.info("pqrbot stopped")
    return 0
