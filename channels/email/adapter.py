"""The email channel: SMTP in (to intake), SMTP out (outbox payloads to the relay)."""

from __future__ import annotations

import datetime as dt
import logging
import sys

from bot.clock import Clock
from bot.config import EmailChannel as EmailConfig
from bot.intake.service import IntakeService
from bot.ports.payloads import OutboxPayload
from channels.email.loops import LoopFilter, RateLimiter
from channels.email.outbound import RelaySession, build_message
from channels.email.server import SmtpHandler, SmtpServer

log = logging.getLogger(__name__)


class EmailChannel:
    """`ChannelAdapter` for email. `address` is (host, port) once started."""

    name = "email"

    def __init__(self, cfg: EmailConfig, intake: IntakeService, clock: Clock) -> None:
        self.cfg = cfg
        self.intake = intake
        self.clock = clock
        limiter = RateLimiter(cfg.rate_limit.max_messages, dt.timedelta(minutes=cfg.rate_limit.window_minutes))
        self.loops = LoopFilter([cfg.address], limiter)
        self.server = SmtpServer(SmtpHandler(intake, self.loops, cfg.domains, clock), cfg)
        self.address: tuple[str, int] | None = None
        self.relay = RelaySession(cfg.relay)   # one kept-open connection, opened on the first send

    async def start(self) -> None:
        """Listen for mail; prints `email: SMTP listening on HOST:PORT` on stderr once bound."""
        self.address = await self.server.start()
        host, port = self.address
        log.info("email: SMTP listening on %s:%d", host, port)
        print(f"email: SMTP listening on {host}:{port}", file=sys.stderr, flush=True)

    async def stop(self) -> None:
        """No new connections; commit what intake holds; then drop the remaining sessions."""
        await self.server.close()
        await self.intake.stop()
        self.server.drop_sessions()
        await self.relay.close()

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        """Send one outbox payload to `destination` through the relay; returns its Message-ID.
        Raises Retryable (relay down, 4xx) or Permanent (5xx)."""
        msg = build_message(payload, destination=destination, from_address=self.cfg.address)
        await self.relay.send(msg)
        return str(msg["Message-ID"])
