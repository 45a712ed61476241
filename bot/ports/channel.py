"""The one contract every channel adapter follows, and the normalized inbound message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.ports.payloads import OutboxPayload
from domain.files import FileData


@dataclass(frozen=True)
class IncomingMessage:
    """What any channel hands to the bot: who (`sender` identity), where, what, when."""

    channel: str
    sender: str
    text: str
    received_at: dt.datetime
    sender_name: str | None = None
    subject: str | None = None
    external_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    language: str | None = None
    attachments: tuple[FileData, ...] = ()
    raw: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Who an acknowledgment of this message counts against (`client:IP`, `envelope:ADDRESS`,
    # `from:ADDRESS`): past the limit on any of them the message files, unacknowledged.
    ack_quota: tuple[str, ...] = ()
    # False when a trusted server says the author's domain failed DMARC: the sender is then not
    # taken to be who `From` says (no acknowledgment, no joining that customer's PQRs).
    authenticated: bool | None = None


class ChannelError(Exception):
    """A send failed."""


class Retryable(ChannelError):
    """Try again later (network error, rate limit, relay down). `channel_down` says the failure
    is not this message's: nothing on the channel can be sent now (the relay refuses connections),
    so the worker stops trying the channel's other rows until the retry time."""

    def __init__(self, message: str, retry_after: float | None = None, *, channel_down: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.channel_down = channel_down


class Permanent(ChannelError):
    """Sending again will not help (bad address, bot blocked)."""


class ChannelAdapter(Protocol):
    """start() begins taking input; stop() ends it cleanly; send() delivers one outbox payload."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, destination: str, payload: OutboxPayload) -> str | None:
        """Deliver; returns the platform's id for the sent message when it has one.
        Raises Retryable or Permanent (a kind the adapter has no renderer for is Permanent)."""
