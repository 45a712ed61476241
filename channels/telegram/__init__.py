"""The Telegram channel: customers file and follow PQRs, managers press inline buttons.

`build_adapter(app)` reads the bot token (and the webhook secret in webhook mode) from the
environment variables config.yaml names."""

from __future__ import annotations

import os

from bot.bootstrap import App
from bot.config import ConfigError
from channels.telegram.adapter import TelegramChannel

__all__ = ["TelegramChannel", "build_adapter"]


def _secret(name: str, key: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"channels.telegram.{key}: the environment variable {name} is not set "
                          f"(it must hold the {'bot token' if key == 'token_env' else 'webhook secret token'})")
    return value


def build_adapter(app: App) -> TelegramChannel:
    """The Telegram adapter for `app`; a missing token or webhook secret stops startup clearly."""
    cfg = app.config.channels.telegram
    token = _secret(cfg.token_env, "token_env")
    secret = _secret(cfg.webhook.secret_token_env, "webhook.secret_token_env") if cfg.mode == "webhook" else None
    return TelegramChannel(app, token=token, webhook_secret=secret)
