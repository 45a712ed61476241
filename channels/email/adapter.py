"""The email channel: SMTP in (to the durable inbox), outbox payloads out — to the relay, or written as
.eml files under the outgoing folder when no relay is configured (`channels.email.relay: null`)."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.clock import Clock
from bot.config import EmailChannel as EmailConfig
from bot.intake.inbox import Inbox
from bot.ports import Retryable
from bot.ports.payloads import OutboxPayload
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

    def __init__(self, cfg: EmailConfig, inbox: Inbox, clock: Clock, *,
                 outgoing: Path = OUTGOING) -> None:
        self.cfg = cfg
        self.inbox = inbox
        self.clock = clock
        handler = SmtpHandler(inbox, cfg.domains, clock)
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
        """No new connections; commit what the inbox holds; then drop the remaining sessions."""
        await self.server.close()
        await self.inbox.stop()
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
