"""The email channel: SMTP in (to intake), outbox payloads out — to the relay, or written as
.eml files under the outgoing folder when no relay is configured (`channels.email.relay: null`)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from bot.clock import Clock
from bot.config import EmailChannel as EmailConfig
from bot.intake.service import IntakeService
from bot.ports import Retryable
from bot.ports.payloads import OutboxPayload
from channels.email.loops import LoopFilter, RateLimiter
from channels.email.maildrop import MailDrop
from channels.email.outbound import RelaySession, build_message
from channels.email.server import SmtpHandler, SmtpServer

log = logging.getLogger(__name__)

OUTGOING = Path("data/mail/outgoing")
"""Where outgoing mail is written when there is no relay, unless the channel is told otherwise."""


class EmailChannel:
    """`ChannelAdapter` for email. `address` is (host, port) once started. Outgoing mail goes to
    `cfg.relay`, or into the folder `outgoing` when the config has no relay."""

    name = "email"

    def __init__(self, cfg: EmailConfig, intake: IntakeService, clock: Clock, *,
                 outgoing: Path = OUTGOING) -> None:
        self.cfg = cfg
        self.intake = intake
        self.clock = clock
        limiter = RateLimiter(cfg.rate_limit.max_messages, dt.timedelta(minutes=cfg.rate_limit.window_minutes))
        self.loops = LoopFilter([cfg.address], limiter)
        handler = SmtpHandler(intake, self.loops, cfg.domains, clock, trusted_authserv_id=cfg.trusted_authserv_id,
                              exempt_clients=cfg.rate_limit.exempt_clients)
        self.server = SmtpServer(handler, cfg)
        self.address: tuple[str, int] | None = None
        # The relay (one kept-open connection, opened on the first send), or the .eml writer.
        self.outgoing: RelaySession | MailDrop = RelaySession(cfg.relay) if cfg.relay else MailDrop(outgoing)

    async def start(self) -> None:
        """Listen for mail; logs `email: SMTP listening on HOST:PORT` once bound (the start-up
        banner shows it on a terminal)."""
        self.address = await self.server.start()
        host, port = self.address
        log.info("email: SMTP listening on %s:%d", host, port)
        if isinstance(self.outgoing, MailDrop):
            log.info("email: no relay; outgoing mail is written as .eml files under %s", self.outgoing.folder)
        else:
            log.info("email: outgoing mail goes through the relay %s:%d", self.outgoing.relay.host,
                     self.outgoing.relay.port)

    async def stop(self) -> None:
        """No new connections; commit what intake holds; then drop the remaining sessions."""
        await self.server.close()
        await self.intake.stop()
        self.server.drop_sessions()
        await self.outgoing.close()

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        """Send one outbox payload to `destination` (or write it out); returns its Message-ID.
        Raises Retryable (relay down, 4xx, the file cannot be written) or Permanent (5xx)."""
        msg = build_message(payload, destination=destination, from_address=self.cfg.address)
        try:
            await self.outgoing.send(msg)
        except OSError as exc:   # only the mail drop lets one through: the relay's are classified
            raise Retryable(f"cannot write outgoing mail: {exc}", channel_down=True) from exc
        return str(msg["Message-ID"])
