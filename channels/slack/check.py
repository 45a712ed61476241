"""`pqrbot doctor`'s look at Slack: `auth.test` with the bot token and, in Socket Mode,
`apps.connections.open` with the app-level token, against `channels.slack.api_base_url`."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports.checks import Finding


def _said(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


async def check(*, api_base_url: str, bot_token: str, bot_token_env: str, app_token: str | None = None,
                app_token_env: str = "", timeout: float = 5.0) -> list[Finding]:
    """What Slack says to the tokens (`app_token`: Socket Mode's, checked when given)."""
    base = api_base_url if api_base_url.endswith("/") else api_base_url + "/"
    url = {"url": base}
    client = AsyncWebClient(token=bot_token, base_url=base, timeout=max(1, round(timeout)))
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        return [Finding(False, "doctor.slack.refused", {**url, "error": error, "env": bot_token_env})]
    except (SlackClientError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        return [Finding(False, "doctor.slack.unreachable", {**url, "error": _said(exc)})]
    who = str(answer.get("user") or answer.get("user_id") or "?")
    found = [Finding(True, "doctor.slack.ok", {**url, "user": who, "team": str(answer.get("team") or "?")})]
    if app_token is not None:
        try:
            await AsyncWebClient(token=app_token, base_url=base, timeout=max(1, round(timeout))).apps_connections_open(
                app_token=app_token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            found.append(Finding(False, "doctor.slack.app_refused", {**url, "error": error, "env": app_token_env}))
        except (SlackClientError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            found.append(Finding(False, "doctor.slack.unreachable", {**url, "error": _said(exc)}))
        else:
            found.append(Finding(True, "doctor.slack.app_ok", url))
    return found
