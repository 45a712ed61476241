"""Outbox payload -> MIME message -> the configured relay (aiosmtplib), over one kept-open
SMTP connection (`RelaySession`).

The Message-ID is the one chosen when the row was queued (and stored with the PQR's message), so
a retry sends the same id and the customer's answer threads to the right PQR."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from bot.config import Relay
from bot.ports.payloads import (Ack, Alert, AnswerReview, BasePayload, Closing, CustomerMessage, Digest, Extension, Followup,
                                 OutboxDead, OutboxPayload, PenaltyClientNotice, PenaltyDecision,
                                 PenaltyEvidenceRequest, PenaltyPaymentAuthorization, Reply, ReportDelivery,
                                 SurveyAlert, SurveyCsat, SurveyNps)
from bot.i18n import t
from bot.ports import ChannelError, Permanent, Retryable
from bot.ports.files import ReportFileMissing, ReportFiles, load_report_files
from domain.files import FileData

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 30.0
"""Seconds an unused relay connection stays open (relays drop idle clients after 60-300 s)."""


@dataclass(frozen=True)
class Mail:
    """What a payload puts into its MIME message."""

    subject: str
    text: str
    radicado: str | None = None
    language: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: bool = False


def build_message(payload: OutboxPayload, *, destination: str, from_address: str,
                  attachments: Sequence[FileData] = ()) -> EmailMessage:
    """The MIME message for an outbox payload, from the function `RENDERERS` has for its kind;
    Permanent for a kind it has none for (a Slack triage card has no mail form). `attachments`
    are a report's files, loaded by `build_report_message`: a report without them is Permanent
    (never a mail that says "attached" with nothing attached)."""
    mail = RENDERERS.get(type(payload), _unknown)(payload)
    if isinstance(payload, ReportDelivery) and len(attachments) != len(payload.files):
        raise Permanent(f"email: the report's {len(payload.files)} file(s) were not loaded")
    msg = EmailMessage()
    subject = mail.subject
    if mail.radicado and f"[{mail.radicado}]" not in subject:
        subject = f"[{mail.radicado}] {subject}".strip()
    msg["From"] = from_address
    msg["To"] = destination
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = from_address.rpartition("@")[2] or None
    msg["Message-ID"] = mail.message_id or make_msgid(domain=domain)
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    references = [r for r in mail.references if r]
    if references:
        msg["References"] = " ".join(references)
    if mail.auto_submitted:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # ask Exchange not to auto-answer our auto-reply
    msg.set_content(mail.text)
    if mail.language:       # after set_content, which drops every Content-* header set before it
        msg["Content-Language"] = mail.language
    for file in attachments:    # the first makes the mail multipart/mixed; Content-Language moves to the text
        maintype, _, subtype = file.content_type.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)
    return msg


async def build_report_message(payload: ReportDelivery, *, destination: str, from_address: str,
                               files: ReportFiles | None) -> EmailMessage:
    """A scheduled report's mail: its text, and its files (XLSX, PDF) attached, their bytes
    loaded through `files`. Permanent when a file is not stored."""
    try:
        loaded = await load_report_files(files, payload)
    except ReportFileMissing as exc:
        raise Permanent(f"email: {exc}") from exc
    return build_message(payload, destination=destination, from_address=from_address, attachments=loaded)


def _customer(p: CustomerMessage) -> Mail:
    """Threaded after the PQR's earlier mail with the ids chosen at queue time."""
    return Mail(subject=p.subject, text=p.text, radicado=p.radicado, language=p.language, message_id=p.message_id,
                in_reply_to=p.in_reply_to, references=tuple(p.references), auto_submitted=p.auto_submitted)


def _followup(p: Followup) -> Mail:
    return Mail(subject=p.subject, text=p.text, radicado=p.radicado, language=p.language)


def _alert(p: Alert) -> Mail:
    return Mail(subject="", text=p.text, radicado=p.radicado)


def _dead(p: OutboxDead) -> Mail:
    return Mail(subject="", text=p.text)


def _digest(p: Digest) -> Mail:
    return Mail(subject=p.subject or "", text=p.text, language=p.language, auto_submitted=p.auto_submitted)


def _penalty(p: PenaltyEvidenceRequest | PenaltyDecision | PenaltyClientNotice | PenaltyPaymentAuthorization) -> Mail:
    """A penalty notice as plain mail (a decision request's buttons are Slack's and Telegram's)."""
    return Mail(subject=p.subject, text=p.text, language=p.language, auto_submitted=p.auto_submitted)


def _answer_review(p: AnswerReview) -> Mail:
    """An answer awaiting a manager's approval, as plain mail (the buttons are Slack's and
    Telegram's; by mail the manager answers with `pqrbot pqr approve|return` or the web page)."""
    return Mail(subject=p.subject, text=p.text, language=p.language, auto_submitted=p.auto_submitted)


def _report(p: ReportDelivery) -> Mail:
    """A scheduled report: generated, so marked Auto-Submitted (no out-of-office answers back)."""
    return Mail(subject=p.subject, text=p.text, language=p.language, auto_submitted=True)


def _survey(p: SurveyCsat | SurveyNps) -> Mail:
    """The question with the link to the survey page (only its POST records an answer, so a
    scanner that follows the link answers nothing) and the opt-out link."""
    lines = [p.text, ""]
    if p.url:
        lines.append(t(p.language, "survey.email_link", url=p.url))
    if p.optout_url:
        lines += ["", t(p.language, "survey.email_optout", url=p.optout_url)]
    return Mail(subject=p.subject, text="\n".join(lines), radicado=getattr(p, "radicado", None),
                language=p.language, auto_submitted=True)


def _survey_alert(p: SurveyAlert) -> Mail:
    return Mail(subject=p.subject, text=p.text, radicado=p.radicado, language=p.language, auto_submitted=True)


def _unknown(p: BasePayload) -> Mail:
    raise Permanent(f"email: no renderer for outbox kind {p.kind!r}")


RENDERERS: dict[type[BasePayload], Callable[[Any], Mail]] = {
    Ack: _customer, Extension: _customer, Reply: _customer, Closing: _customer, Followup: _followup,
    Alert: _alert, Digest: _digest, OutboxDead: _dead, PenaltyEvidenceRequest: _penalty,
    PenaltyDecision: _penalty, PenaltyClientNotice: _penalty, PenaltyPaymentAuthorization: _penalty,
    ReportDelivery: _report, AnswerReview: _answer_review, SurveyCsat: _survey, SurveyNps: _survey,
    SurveyAlert: _survey_alert,
}


def _credentials(relay: Relay) -> tuple[str | None, str | None]:
    user = os.environ.get(relay.username_env) if relay.username_env else None
    password = os.environ.get(relay.password_env) if relay.password_env else None
    return (user, password) if user and password else (None, None)


class _TrackedSMTP(aiosmtplib.SMTP):
    """aiosmtplib's client, noting whether the current transaction has reached DATA (from then on
    the relay may have the message, so it must not be sent again on a new connection)."""

    data_started = False

    async def data(self, *args: Any, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(*args, **kwargs)


def _classify(exc: BaseException, *, channel_down: bool = False) -> ChannelError | None:
    """The channel error for a failed SMTP exchange: 5xx -> Permanent, 4xx and connection trouble ->
    Retryable. None for anything else (a bug, an unusable address): that propagates as it is."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= c < 600 for c in codes):
            return Permanent(f"recipient refused: {exc.recipients[0].code} {exc.recipients[0].message}")
        return Retryable(f"recipient deferred: {exc}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return Permanent(f"relay refused: {exc.code} {exc.message}")
        return Retryable(f"relay answered {exc.code} {exc.message}", channel_down=channel_down)
    if isinstance(exc, (aiosmtplib.SMTPException, OSError, TimeoutError)):
        return Retryable(f"relay unreachable: {type(exc).__name__}: {exc}", channel_down=channel_down)
    return None


def _closed_by_relay(exc: BaseException) -> bool:
    """The relay had dropped the connection, or answers that it is closing it (421)."""
    return isinstance(exc, aiosmtplib.SMTPServerDisconnected) or (
        isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421)


class RelaySession:
    """One SMTP connection to the relay, opened on the first send and reused for the next ones,
    closed after `idle_timeout` seconds without a send and on `close()`.

    `send` raises Retryable (relay down, 4xx) or Permanent (5xx); `channel_down` is set when the
    connection cannot be set up at all. A message is sent again on a fresh connection only when a
    reused connection turns out to be closed before DATA, so the relay cannot have it."""

    def __init__(self, relay: Relay, *, timeout: float = 30.0, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.relay = relay
        self.timeout = timeout
        self.idle_timeout = idle_timeout
        self._smtp: _TrackedSMTP | None = None
        self._lock = asyncio.Lock()   # one transaction at a time on the connection
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_close: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """A connection to the relay is open (as far as the client knows)."""
        return self._smtp is not None and self._smtp.is_connected

    async def send(self, msg: EmailMessage) -> None:
        """Hand `msg` to the relay."""
        async with self._lock:
            self._cancel_idle_timer()
            if not await self._attempt(msg, may_resend=self.connected):
                await self._attempt(msg, may_resend=False)
            self._idle_timer = asyncio.get_running_loop().call_later(self.idle_timeout, self._on_idle)

    async def close(self) -> None:
        """QUIT and close the connection, if open. A later send opens a new one."""
        task, self._idle_close = self._idle_close, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        async with self._lock:
            self._cancel_idle_timer()
            await self._quit()

    async def _connect(self) -> _TrackedSMTP:
        """A connected, greeted (EHLO), STARTTLS'd and logged-in client; failures are channel_down."""
        self._drop()
        user, password = _credentials(self.relay)
        smtp = _TrackedSMTP(hostname=self.relay.host, port=self.relay.port, start_tls=self.relay.starttls,
                            username=user, password=password, timeout=self.timeout)
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:
                try:
                    await smtp.ehlo()
                except aiosmtplib.SMTPHeloError:
                    if not smtp.is_connected:
                        raise
                    await smtp.helo()
        except BaseException as exc:
            smtp.close()
            error = _classify(exc, channel_down=True)
            if error is None:
                raise
            raise error from exc
        self._smtp = smtp
        return smtp

    async def _attempt(self, msg: EmailMessage, *, may_resend: bool) -> bool:
        """One mail transaction, on the open connection or a new one. False when `may_resend` and
        the relay turned out to have closed the connection before DATA: the caller sends again.
        Any other failure drops the connection and raises the channel error."""
        smtp = self._smtp if self._smtp is not None and self._smtp.is_connected else await self._connect()
        smtp.data_started = False
        try:
            await smtp.send_message(msg)
        except BaseException as exc:
            self._drop()
            if may_resend and not smtp.data_started and _closed_by_relay(exc):
                log.info("relay %s:%d had closed the connection (%s); reconnecting",
                         self.relay.host, self.relay.port, exc)
                return False
            error = _classify(exc)
            if error is None:
                raise
            raise error from exc
        return True

    def _drop(self) -> None:
        """Forget the connection without QUIT: after an error its state is not trusted."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    async def _quit(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if smtp.is_connected:
                await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            log.debug("relay QUIT failed: %s", exc)
        finally:
            smtp.close()

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _on_idle(self) -> None:
        self._idle_timer = None
        if self._idle_close is None or self._idle_close.done():
            self._idle_close = asyncio.get_running_loop().create_task(self._close_if_idle())

    async def _close_if_idle(self) -> None:
        async with self._lock:
            if self._idle_timer is None:   # no send since the timer fired
                await self._quit()
