"""`pqrbot doctor`'s look at Telegram: `getMe` with the bot token against
`channels.telegram.base_url` (python-telegram-bot's Bot, nothing else is called)."""

from __future__ import annotations

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.ports.checks import Finding


async def check(*, base_url: str, token: str, token_env: str, timeout: float = 5.0) -> Finding:
    """Who the token belongs to, or why Telegram would not say."""
    url = {"url": base_url}
    def request() -> HTTPXRequest:
        return HTTPXRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
                            pool_timeout=timeout)

    bot = Bot(token, base_url=base_url, request=request(), get_updates_request=request())
    try:
        async with bot:                       # initialize() is getMe
            username = bot.username
    except InvalidToken:
        return Finding(False, "doctor.telegram.refused", {**url, "env": token_env})
    except NetworkError as exc:               # TimedOut included
        return Finding(False, "doctor.telegram.unreachable", {**url, "error": " ".join(str(exc).split())})
    except TelegramError as exc:
        return Finding(False, "doctor.telegram.failed", {**url, "error": " ".join(str(exc).split())})
    return Finding(True, "doctor.telegram.ok", {**url, "username": username})
