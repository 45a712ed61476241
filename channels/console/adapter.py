"""A line-based local chat on stdin/stdout that runs the same /pqr commands as Slack, so anyone can
work the bot with no Slack or Telegram account. Piped input works: one command a line."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from bot.clock import Clock
from bot.commands.handler import CommandHandler
from bot.commands.replies import Reply
from bot.ports import payloads
from bot.ports import Permanent

log = logging.getLogger(__name__)
PROMPT = "pqr> "
QUIT = {"exit", "quit", "salir", r"\q"}


def render(reply: Reply) -> str:
    """The console shows the reply's plain text (every reply's text stands on its own)."""
    return reply.text


def _text(payload: payloads.CustomerMessage | payloads.Followup | payloads.Alert | payloads.Digest
          | payloads.OutboxDead | payloads.PenaltyNotice | payloads.AnswerReview | payloads.SurveyRequest
          | payloads.SurveyAlert) -> str:
    return payload.text


def _unknown(payload: payloads.BasePayload) -> str:
    raise Permanent(f"console: no renderer for outbox kind {payload.kind!r}")


# An outbox payload as the console shows it: its text. (A triage card has none.)
TEXTS: dict[type[payloads.BasePayload], Callable[[Any], str]] = {
    kind: _text for kind in (payloads.Ack, payloads.Extension, payloads.Reply, payloads.Closing, payloads.Followup,
                             payloads.Alert, payloads.Digest, payloads.OutboxDead, payloads.PenaltyEvidenceRequest,
                             payloads.PenaltyDecision, payloads.PenaltyClientNotice,
                             payloads.PenaltyPaymentAuthorization, payloads.AnswerReview, payloads.SurveyCsat,
                             payloads.SurveyNps, payloads.SurveyAlert)}


class ConsoleChannel:
    """Reads commands as `identity` until end of input; `done` is set when input ends."""

    name = "console"

    def __init__(self, commands: CommandHandler, identity: str, clock: Clock, *,
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.commands = commands
        self.identity = identity
        self.clock = clock
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty()
        self.done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="console")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.done.set()

    async def send(self, destination: str, payload: payloads.OutboxPayload) -> str | None:
        """The console has no customers; outgoing messages are only shown (their text, from
        `TEXTS`; Permanent for a kind without one)."""
        self._write(f"[→ {destination}] {TEXTS.get(type(payload), _unknown)(payload)}")
        return None

    async def run(self) -> None:
        """Run until end of input (used by `pqrbot console`)."""
        await self._loop()

    async def _loop(self) -> None:
        try:
            if self.interactive:
                self._write(f"pqrbot console as {self.identity} — /pqr help, Ctrl-D to leave")
            while True:
                if self.interactive:
                    self.stdout.write(PROMPT)
                    self.stdout.flush()
                line = await self._readline()
                if not line:
                    break
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                if text.lower() in QUIT:
                    break
                reply = await self.commands.handle(self.identity, text, self.clock())
                self._write(render(reply))
        finally:
            log.info("console: end of input")
            self.done.set()

    async def _readline(self) -> str:
        """One line from stdin without blocking the loop. A daemon thread does the blocking read,
        so a pending read never keeps the process alive at shutdown."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()

        def read() -> None:
            try:
                line = self.stdin.readline()
            except (OSError, ValueError):
                line = ""
            def deliver() -> None:
                if not future.done():
                    future.set_result(line)

            loop.call_soon_threadsafe(deliver)

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        return await future

    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()
