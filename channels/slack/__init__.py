"""The Slack channel (slack-bolt): `/pqr` commands, cards with buttons, the intake form, and the
outbox's Slack messages. `bot.bootstrap.slack_channel` wires it."""

from channels.slack.adapter import SlackChannel
from channels.slack.services import SlackServices
from channels.slack.settings import SlackSettings

__all__ = ["SlackChannel", "SlackServices", "SlackSettings"]
