"""`pqrbot doctor`'s look at one mailbox: connect (TLS, STARTTLS or plain as configured), log in,
select the folder, log out — nothing is read, moved or created."""

from __future__ import annotations

import asyncio
import ssl

import aioimaplib

from bot.config import ImapAccount
from bot.ports.checks import Finding
from channels.imap.client import Credentials, ImapError, ImapSession, LoginRefused, TlsError
from channels.imap.oauth import TokenError


def _said(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


async def check_account(account: ImapAccount, credentials: Credentials, *, timeout: float = 5.0,
                        ssl_context: ssl.SSLContext | None = None) -> Finding:
    """One line for `account`: reachable, credentials accepted, folder there (how many messages
    wait in it, and whether the processed folder exists yet or will be created)."""
    where = {"account": account.name, "host": account.host, "port": account.port, "folder": account.folder}
    session = ImapSession(account.host, account.port, account.security, timeout=timeout, ssl_context=ssl_context)
    network = (OSError, asyncio.TimeoutError, aioimaplib.AioImapException)
    try:
        try:
            await session.connect()
        except TlsError as exc:
            return Finding(False, "imap.doctor.tls", {**where, "security": account.security, "error": _said(exc)})
        except (*network, ImapError) as exc:
            return Finding(False, "imap.doctor.unreachable", {**where, "error": _said(exc)})
        try:
            if credentials.tokens is not None:    # the identity platform first, within the timeout
                try:
                    await asyncio.wait_for(credentials.tokens.token(), timeout)
                except asyncio.TimeoutError:
                    raise TokenError(f"no answer within {timeout:g} s") from None
            await session.authenticate(credentials)
        except TokenError as exc:
            oauth = account.oauth2
            return Finding(False, "imap.doctor.token", {**where, "error": _said(exc),
                                                         "env": oauth.client_secret_env if oauth else ""})
        except LoginRefused as exc:
            how = ("oauth2.client_secret_env", account.oauth2.client_secret_env) if account.oauth2 else (
                "password_env", account.password_env or "")
            return Finding(False, "imap.doctor.login", {**where, "username": account.username, "setting": how[0],
                                                         "env": how[1], "error": _said(exc)})
        except (*network, ImapError) as exc:
            return Finding(False, "imap.doctor.unreachable", {**where, "error": _said(exc)})
        try:
            _, count = await session.select(account.folder)
            processed = await session.folder_exists(account.processed_folder)
        except (*network, ImapError) as exc:
            return Finding(False, "imap.doctor.folder", {**where, "error": _said(exc)})
        key = "imap.doctor.ok" if processed else "imap.doctor.ok_create"
        return Finding(True, key, {**where, "messages": count, "processed": account.processed_folder})
    finally:
        await session.logout()
