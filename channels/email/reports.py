"""The email channel for scheduled reports too: a report's row is sent as one mail with its files
attached, their bytes loaded through the narrow `ReportFiles` service bootstrap hands in (the
channel never opens a unit of work). Every other kind goes as `EmailChannel` sends it."""

from __future__ import annotations

from pathlib import Path

from bot.clock import Clock
from bot.config import EmailChannel as EmailConfig
from bot.intake.inbox import Inbox
from bot.ports import Retryable
from bot.ports.files import ReportFiles
from bot.ports.payloads import OutboxPayload, ReportDelivery
from channels.email.adapter import OUTGOING, EmailChannel
from channels.email.outbound import build_report_message


class ReportingEmailChannel(EmailChannel):
    """`EmailChannel` whose `send` also attaches a report's XLSX and PDF."""

    def __init__(self, cfg: EmailConfig, inbox: Inbox, clock: Clock, *, report_files: ReportFiles,
                 outgoing: Path = OUTGOING) -> None:
        super().__init__(cfg, inbox, clock, outgoing=outgoing)
        self.report_files = report_files

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        if not isinstance(payload, ReportDelivery):
            return await super().send(destination, payload)
        msg = await build_report_message(payload, destination=destination, from_address=self.cfg.address,
                                         files=self.report_files)
        try:
            await self.outgoing.send(msg)
        except OSError as exc:   # only the mail drop lets one through: the relay's are classified
            raise Retryable(f"cannot write outgoing mail: {exc}", channel_down=True) from exc
        return str(msg["Message-ID"])
