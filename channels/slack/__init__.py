"""The Slack channel (slack-bolt): `/pqr` commands, cards with buttons, the intake form, and the
outbox's Slack messages. `build_adapter(app)` is what `bot.runner` wires."""

from __future__ import annotations

from bot.bootstrap import App

from channels.slack.adapter import SlackChannel
from channels.slack.settings import SlackSettings

__all__ = ["SlackChannel", "SlackSettings", "build_adapter"]


def build_adapter(app: App) -> SlackChannel:
    """The Slack adapter for `app.config`; raises bot.config.ConfigError when a token or secret
    named in channels.slack is missing from the environment."""
    return SlackChannel(app, SlackSettings.load(app.config.channels.slack))
