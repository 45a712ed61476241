"""The one mail-loop filter: auto-replies, bounces, list mail, our own mail and floods are never
filed and never answered. `LoopFilter.reason` says why a message is kept aside, or None.

Bounces are recognised by their headers, not only by the null envelope sender: a company mailbox
forwarding to pqrbot gives every message its own envelope sender, so a plain-text bounce from
`mailer-daemon@…` or an Exchange "Undeliverable" from `postmaster@…` arrives looking like mail."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict, deque
from collections.abc import Iterable
from email.message import Message

from channels.email.parse import header

# Headers whose mere presence marks automatic mail (RFC 3834 predecessors, Microsoft, lists,
# Exim's and Postfix's bounces).
_PRESENCE = ("List-Id", "X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Auto-Response-Suppress",
             "X-Failed-Recipients")
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DSN_TYPES = {"multipart/report", "message/delivery-status", "message/disposition-notification"}
_DAEMONS = {"mailer-daemon", "mailer_daemon", "mail-daemon"}
# The subjects of delivery reports (English, Spanish and the forms the corpus shows), matched at
# the start after "Re:"/"Fwd:" prefixes; only for a `postmaster@` author, who may also be a person.
_DSN_SUBJECT = re.compile(
    r"^(?:(?:re|fw|fwd|rv)\s*:\s*)*(?:undeliverable|undelivered mail|delivery status notification"
    r"|delivery (?:has )?failed|delivery failure|delivery notification|failure notice|returned mail"
    r"|mail delivery (?:failed|failure|system)|mail system error|delayed mail|warning: could not send"
    r"|non remis|non recapitabile|no se pudo entregar|no se puede entregar|mensaje no entregado"
    r"|notificaci[oó]n de estado de (?:la )?entrega|error en la entrega)", re.IGNORECASE)
# Out-of-office subjects (Apple's vacation replies carry no Auto-Submitted).
_AUTO_REPLY_SUBJECT = re.compile(
    r"^(?:auto(?:matic)?[ -]?reply|auto[ -]?response|out of (?:the )?office|respuesta autom[aá]tica"
    r"|fuera de (?:la )?oficina)\s*:", re.IGNORECASE)


class RateLimiter:
    """At most `max_messages` per sender in a sliding window of `window` (in memory, per process)."""

    def __init__(self, max_messages: int, window: dt.timedelta) -> None:
        self.max_messages = max_messages
        self.window = window
        self._seen: dict[str, deque[dt.datetime]] = defaultdict(deque)

    def allow(self, sender: str, now: dt.datetime) -> bool:
        """Count one message from `sender` at `now`; False when it is over the limit."""
        seen = self._seen[sender]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        seen.append(now)
        if len(self._seen) > 10_000:  # forget idle senders so memory stays bounded
            for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.window]:
                del self._seen[key]
        return len(seen) <= self.max_messages


class LoopFilter:
    """Decides whether a message is automatic, ours, or part of a flood."""

    def __init__(self, own_addresses: Iterable[str], limiter: RateLimiter) -> None:
        self.own = {a.strip().lower() for a in own_addresses if a}
        self.limiter = limiter

    def reason(self, msg: Message, *, mail_from: str | None, sender: str | None,
               now: dt.datetime) -> str | None:
        """Why `msg` must be kept aside, or None to go ahead.
        `mail_from` is the envelope sender ('' for the null return path), `sender` the author's
        address."""
        static = self._static_reason(msg, mail_from=mail_from, sender=sender)
        if static is not None:
            return static
        if sender and not self.limiter.allow(sender, now):
            return (f"rate limit: more than {self.limiter.max_messages} messages from {sender} "
                    f"in {int(self.limiter.window.total_seconds() // 60)} min")
        return None

    def _static_reason(self, msg: Message, *, mail_from: str | None, sender: str | None) -> str | None:
        auto = (header(msg, "Auto-Submitted") or "").split(";")[0].strip().lower()
        if auto and auto != "no":
            return f"Auto-Submitted: {auto}"
        precedence = (header(msg, "Precedence") or "").strip().lower()
        if precedence in _AUTOMATIC_PRECEDENCE:
            return f"Precedence: {precedence}"
        for name in _PRESENCE:
            if header(msg, name) is not None:
                return f"{name} header present"
        ctype = msg.get_content_type()
        if ctype in _DSN_TYPES:
            return f"delivery report ({ctype})"
        if mail_from is not None and mail_from.strip() in ("", "<>"):
            return "null return path (MAIL FROM:<>)"
        if (header(msg, "Return-Path") or "").replace(" ", "") == "<>":
            return "null return path (Return-Path: <>)"
        envelope = (mail_from or "").strip().strip("<>").lower()
        author = (sender or "").partition("@")[0]
        if author in _DAEMONS or envelope.partition("@")[0] in _DAEMONS:
            return "delivery report (from mailer-daemon)"
        subject = header(msg, "Subject") or ""
        if author == "postmaster" and _DSN_SUBJECT.match(subject):
            return "delivery report (postmaster, delivery-report subject)"
        if _AUTO_REPLY_SUBJECT.match(subject):
            return "auto-reply subject"
        if envelope in self.own or (sender or "") in self.own:
            return "mail from our own address"
        if not sender:
            return "no usable sender address"
        return None
