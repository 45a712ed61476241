"""The email channel's `RawMailReader`: a raw message from the inbox (SMTP or IMAP) parsed into
the `IncomingMessage` intake files, with the loop filter's verdict, the PQR type its subject names,
the DMARC result of the trusted relay and the keys its acknowledgment counts against.

This is the work the SMTP handler did inside the SMTP transaction before the inbox; it now runs in
the intake worker, after the sender was answered."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import replace

from bot.config import EmailChannel as EmailConfig
from bot.ports import IncomingMessage
from bot.ports.mail import ReadMail
from channels.email.loops import LoopFilter, RateLimiter
from channels.email.parse import CHANNEL, clean, parse_bytes, pqr_type_from_subject, to_incoming
from channels.email.trust import ack_quota, dmarc_passed

log = logging.getLogger(__name__)


class EmailReader:
    """Parse -> trust -> loop filter, for one raw message. `loops` holds the per-sender flood
    counter, so one reader serves every message of the process."""

    def __init__(self, loops: LoopFilter, *, trusted_authserv_id: str | None = None,
                 exempt_clients: Iterable[str] = ()) -> None:
        self.loops = loops
        self.trusted_authserv_id = trusted_authserv_id
        self.exempt_clients = tuple(exempt_clients)

    @classmethod
    def of(cls, cfg: EmailConfig, *, own_addresses: Iterable[str] = ()) -> EmailReader:
        """The reader `cfg` describes: our address (and `own_addresses`, e.g. the company
        mailboxes read over IMAP) never files; `cfg.rate_limit` bounds each sender."""
        limiter = RateLimiter(cfg.rate_limit.max_messages, dt.timedelta(minutes=cfg.rate_limit.window_minutes))
        return cls(LoopFilter([cfg.address, *own_addresses], limiter), trusted_authserv_id=cfg.trusted_authserv_id,
                   exempt_clients=cfg.rate_limit.exempt_clients)

    def read(self, data: bytes, *, mail_from: str | None, client: str | None,
             received_at: dt.datetime) -> ReadMail:
        """What `data` is; unreadable mail is kept aside with the reason, never raised."""
        try:
            parsed = parse_bytes(data)
            incoming = to_incoming(parsed, data, mail_from=mail_from, received_at=received_at)
            address = incoming.sender.partition(":")[2] or None
            incoming = replace(incoming, authenticated=dmarc_passed(parsed, self.trusted_authserv_id),
                               ack_quota=ack_quota(client=client, mail_from=mail_from, author=address,
                                                   exempt=self.exempt_clients))
            reason = self.loops.reason(parsed, mail_from=mail_from, sender=address, now=received_at)
            return ReadMail(incoming, pqr_type_from_subject(incoming.subject), reason)
        except Exception as exc:  # unreadable mail is kept aside, not refused: it is evidence too
            log.warning("email: unparseable message from %r: %s", mail_from, exc)
            incoming = IncomingMessage(channel=CHANNEL, sender="email:", text="", received_at=received_at, raw=data)
            return ReadMail(incoming, None, f"unparseable: {type(exc).__name__}: {exc}"[:500])

    def headers(self, data: bytes) -> list[tuple[str, str]]:
        """The top-level headers, decoded (RFC 2047 words included), in order."""
        parsed = parse_bytes(data)
        out = []
        for name, raw in parsed.raw_items():
            try:
                value = str(parsed.policy.header_fetch_parse(name, raw))
            except Exception:  # a header the parser gives up on is shown as it came
                value = str(raw)
            out.append((name, " ".join(clean(value).split())))
        return out
