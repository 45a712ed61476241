"""The SMTP server (aiosmtpd, on the running event loop) and its handler.

RCPT outside our domains: 550 (not a relay). Too big: 552 (aiosmtpd's SIZE limit). DATA: the raw
message and its envelope are appended to the durable inbox; `250 … queued as <inbox id>` only once
that is committed, `451` when storage fails, so the sending server tries again later. Parsing, the
loop filter and the trust checks happen afterwards, in the intake worker (`channels.email.reader`):
the SMTP transaction only stores bytes."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
import ssl
import weakref
from collections.abc import Iterable
from email.header import decode_header, make_header
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from bot.clock import Clock
from bot.config import EmailChannel as EmailConfig
from bot.intake.inbox import Inbox, InboxItem

log = logging.getLogger(__name__)

# Protocol answers (read by mail servers and shown in bounces), not catalogue texts.
NOT_OURS = "550 5.7.1 Relaying denied: this server only takes mail for {domains}"
TRY_LATER = "451 4.3.0 Temporary failure storing the message; please try again later"
ACCEPTED = "250 2.0.0 OK: queued as {id}"

# The header block, and the two headers the inbox shows before the worker has read the message.
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_HEADER = {name: re.compile(rb"^" + name + rb"[ \t]*:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
           for name in (b"message-id", b"subject")}
MAIL_FROM_MAX = 400        # the inbox's column; a longer envelope sender is cut, not refused


def _cheap_header(head: bytes, name: bytes) -> str | None:
    """One header's value from the raw header block, unfolded, RFC 2047 words decoded; no MIME parse."""
    found = _HEADER[name].search(head)
    if found is None:
        return None
    value = " ".join(found.group(1).decode("utf-8", "replace").split())
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except Exception:  # a bad encoded word: shown as it came (the worker decodes leniently)
            pass
    return _text(value)


def _text(value: str | None) -> str | None:
    """Text storage takes: no NUL, no unpaired surrogate."""
    if value is None:
        return None
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


class SmtpHandler:
    """aiosmtpd handler: recipient check, then the raw message into the inbox -> status line."""

    def __init__(self, inbox: Inbox, domains: Iterable[str], clock: Clock) -> None:
        self.inbox = inbox
        self.domains = {d.strip().lower() for d in domains}
        self.clock = clock
        self._failing: str | None = None        # the storage failure going on, if any

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        """Only addresses of our domains."""
        if address.rpartition("@")[2].strip().lower() not in self.domains:
            return NOT_OURS.format(domains=", ".join(sorted(self.domains)))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Commit the raw message to the inbox, then answer 250 with its inbox id."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mail_from = envelope.mail_from
        end = _HEAD_END.search(raw)
        head = raw[:end.start()] if end else raw
        item = InboxItem(source="smtp", received_at=self.clock(), data=raw,
                         mail_from=_text(mail_from[:MAIL_FROM_MAX]) if mail_from is not None else None,
                         rcpt_tos=tuple(_text(r) or "" for r in envelope.rcpt_tos),
                         client=str(session.peer[0])[:100] if isinstance(session.peer, tuple) and session.peer else None,
                         message_id=_cheap_header(head, b"message-id"), subject=_cheap_header(head, b"subject"))
        try:
            [queued] = await self.inbox.append([item])
        except Exception as exc:
            self._storage_failed(exc, mail_from)
            return TRY_LATER
        self._failing = None
        return ACCEPTED.format(id=queued)

    def _storage_failed(self, exc: Exception, mail_from: str | None) -> None:
        """Log a failure to store: with its traceback the first time, then one line per message
        while the same failure lasts (a database that is gone stays gone until a restart)."""
        what = f"{type(exc).__name__}: {exc}"
        if what == self._failing:
            log.warning("email: a message from %r was not stored (%s); answered 451", mail_from, what)
            return
        self._failing = what
        log.exception("email: storing a message from %r failed; answered 451", mail_from)

    async def handle_exception(self, error: Exception) -> str:
        """Anything unexpected is temporary for the sender: 451, and no internals leaked."""
        log.error("email: SMTP session error: %s: %s", type(error).__name__, error)
        return TRY_LATER


def _tls_context(cfg: EmailConfig) -> ssl.SSLContext | None:
    if not (cfg.tls.cert_file and cfg.tls.key_file):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cfg.tls.cert_file, cfg.tls.key_file)
    return context


def _authenticator(cfg: EmailConfig) -> Any:
    if not (cfg.auth.username_env and cfg.auth.password_env):
        return None
    user = os.environ.get(cfg.auth.username_env)
    password = os.environ.get(cfg.auth.password_env)
    if not user or not password:
        raise RuntimeError(f"channels.email.auth: set the environment variables "
                           f"{cfg.auth.username_env} and {cfg.auth.password_env}")

    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword)
              and hmac.compare_digest(data.login, user.encode())
              and hmac.compare_digest(data.password, password.encode()))
        return AuthResult(success=ok, handled=False)

    return check


class _LenientSMTP(SMTP):
    """Data lines up to 64 KiB: RFC 5321 says 1,000, but real mail (HTML generators, long links)
    breaks that and mail servers such as Postfix accept it; refusing would lose a PQR."""

    line_length_limit = 65536


class SmtpServer:
    """An aiosmtpd SMTP server bound on the running loop (no thread: intake shares the loop)."""

    def __init__(self, handler: SmtpHandler, cfg: EmailConfig) -> None:
        self.handler = handler
        self.cfg = cfg
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    async def start(self) -> tuple[str, int]:
        """Listen on `cfg.listen`; returns the bound (host, port) (port 0 picks a free one)."""
        loop = asyncio.get_running_loop()
        tls = _tls_context(self.cfg)
        authenticator = _authenticator(self.cfg)
        hostname = self.cfg.domains[0] if self.cfg.domains else "pqrbot"

        def factory() -> SMTP:
            smtp = _LenientSMTP(self.handler, data_size_limit=self.cfg.max_message_bytes, enable_SMTPUTF8=True,
                        hostname=hostname, ident="pqrbot ESMTP", tls_context=tls,
                        require_starttls=bool(tls and self.cfg.tls.require_starttls),
                        authenticator=authenticator, auth_required=authenticator is not None,
                        auth_require_tls=tls is not None, loop=loop)
            self._sessions.add(smtp)
            return smtp

        self._server = await loop.create_server(factory, host=self.cfg.listen.host, port=self.cfg.listen.port)
        sock = self._server.sockets[0].getsockname()
        return str(sock[0]), int(sock[1])

    async def close(self) -> None:
        """Stop taking connections."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop_sessions(self) -> None:
        """Close the connections still open (their unanswered messages are not acknowledged)."""
        for smtp in list(self._sessions):
            if smtp.transport is not None:
                smtp.transport.close()
