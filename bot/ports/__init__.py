"""The channel port: what every channel adapter implements and receives. `bot/` defines it,
`channels/` implements it (dependency inversion), so no bot feature imports a channel.

- `channel`: the normalized inbound message, the `ChannelAdapter` protocol, `Retryable`/`Permanent`.
- `payloads`: the typed outbox payloads an adapter renders, one pydantic model per kind."""

from bot.ports.channel import ChannelAdapter, ChannelError, IncomingMessage, Permanent, Retryable
from bot.ports.payloads import OutboxPayload

__all__ = ["ChannelAdapter", "ChannelError", "IncomingMessage", "OutboxPayload", "Permanent",
           "Retryable"]
