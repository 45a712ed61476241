"""The Telegram channel: customers file and follow PQRs, managers press inline buttons.
`bot.bootstrap.telegram_channel` wires it (the bot token and webhook secret come from the
environment variables config.yaml names)."""

from channels.telegram.adapter import TelegramChannel
from channels.telegram.services import TelegramServices

__all__ = ["TelegramChannel", "TelegramServices"]
