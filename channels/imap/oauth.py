"""XOAUTH2 access tokens for IMAP: Microsoft 365's client-credentials flow through MSAL, the
token kept until shortly before it expires and fetched again then (or at once when the server
refused it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

SCOPES = ["https://outlook.office365.com/.default"]
REFRESH_BEFORE = 300.0
"""Seconds before expiry a token is replaced: a session that logs in with it has time to do so."""


class TokenError(Exception):
    """No token could be had (the identity platform refused or could not be reached)."""


@dataclass(frozen=True)
class Token:
    value: str
    expires_in: float       # seconds, as the identity platform says


TokenFetch = Callable[[], Awaitable[Token]]


class TokenSource:
    """The current token, from `fetch` when there is none, it expires within `refresh_before`
    seconds, or the server refused it (`invalidate`). `now` is a monotonic clock in seconds."""

    def __init__(self, fetch: TokenFetch, *, now: Callable[[], float] = time.monotonic,
                 refresh_before: float = REFRESH_BEFORE) -> None:
        self._fetch = fetch
        self._now = now
        self._refresh_before = refresh_before
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:          # accounts sharing an app fetch once, not once each
            if self._token is None or self._now() >= self._expires_at - self._refresh_before:
                fetched = await self._fetch()
                self._token = fetched.value
                self._expires_at = self._now() + fetched.expires_in
            return self._token

    def invalidate(self) -> None:
        """The server refused the token: fetch a new one next time."""
        self._token = None


def microsoft_fetch(tenant_id: str, client_id: str, client_secret: str) -> TokenFetch:
    """Client credentials against login.microsoftonline.com (MSAL, run off the event loop: it
    blocks on the network). The MSAL application is built on the first call, not here."""
    app: Any = None

    def acquire() -> Token:
        nonlocal app
        import msal
        if app is None:
            app = msal.ConfidentialClientApplication(
                client_id, authority=f"https://login.microsoftonline.com/{tenant_id}", client_credential=client_secret)
        result = app.acquire_token_for_client(scopes=SCOPES)
        if "access_token" not in result:
            raise TokenError(f"{result.get('error', 'no token')}: {result.get('error_description', '')}".strip(": "))
        return Token(str(result["access_token"]), float(result.get("expires_in", 3600)))

    async def fetch() -> Token:
        try:
            return await asyncio.to_thread(acquire)
        except TokenError:
            raise
        except Exception as exc:        # MSAL raises the HTTP client's errors as they come
            raise TokenError(" ".join(str(exc).split()) or type(exc).__name__) from exc

    return fetch
