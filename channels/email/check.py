"""`pqrbot doctor`'s look at the relay: connect, EHLO, then STARTTLS and AUTH as configured,
then QUIT — no mail is sent."""

from __future__ import annotations

import aiosmtplib

from bot.config import Relay
from bot.ports.checks import Finding


def _said(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


async def check_relay(relay: Relay, *, username: str | None, password: str | None,
                      timeout: float = 5.0) -> Finding:
    """Does the relay answer as the outbox will use it (`username`/`password`: the secrets the
    relay's *_env keys name, when both are set)?"""
    where = {"host": relay.host, "port": relay.port}
    smtp = aiosmtplib.SMTP(hostname=relay.host, port=relay.port, start_tls=False, timeout=timeout)
    steps = ["EHLO"]
    try:
        try:
            await smtp.connect()
            await smtp.ehlo()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Finding(False, "doctor.relay.unreachable", {**where, "error": _said(exc)})
        if relay.starttls:
            try:
                await smtp.starttls()
                await smtp.ehlo()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                return Finding(False, "doctor.relay.starttls", {**where, "error": _said(exc)})
            steps.append("STARTTLS")
        if username and password:
            names = {"username_env": relay.username_env, "password_env": relay.password_env}
            if not smtp.supports_extension("auth"):
                return Finding(False, "doctor.relay.no_auth", {**where, **names})
            try:
                await smtp.login(username, password)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                return Finding(False, "doctor.relay.auth", {**where, **names, "error": _said(exc)})
            steps.append("AUTH")
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass             # it answered what we asked; a rude goodbye is not a problem
        return Finding(True, "doctor.relay.ok", {**where, "steps": ", ".join(steps)})
    finally:
        smtp.close()
