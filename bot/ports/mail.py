"""The port between the durable inbox and the mail channels: the intake worker (`bot.intake.worker`)
hands each raw message to a `RawMailReader` the email channel provides (through bootstrap) and
files what it reads. Parsing MIME, the loop filter and the trust checks stay channel code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.ports.channel import IncomingMessage
from domain.pqr_types import PqrType


@dataclass(frozen=True)
class ReadMail:
    """What one raw message is: the normalized message, the PQR type its subject names (None:
    the default), and why it must be kept aside (auto-reply, bounce, flood, unreadable), if so."""

    message: IncomingMessage
    pqr_type: PqrType | None = None
    kept_aside: str | None = None


class RawMailReader(Protocol):
    """Turns a raw inbound mail and its envelope into what intake files. Never raises: a message
    it cannot read comes back kept aside with the reason (it is evidence too)."""

    def read(self, data: bytes, *, mail_from: str | None, client: str | None,
             received_at: dt.datetime) -> ReadMail: ...

    def headers(self, data: bytes) -> list[tuple[str, str]]:
        """The message's top-level headers, decoded, in order (for `pqrbot inbox show`)."""
        ...
