"""What the email channel can say about who sent a message: the keys its acknowledgment counts
against, and what the company's own mail server found when it checked DMARC.

Only the `Authentication-Results` headers of the configured authserv-id are read (RFC 8601: the
border server removes any a sender wrote with its id); the topmost one is the border's."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from email.message import Message

import authres


def ack_quota(*, client: str | None, mail_from: str | None, author: str | None,
              exempt: Iterable[str] = ()) -> tuple[str, ...]:
    """`client:IP` (unless the connection comes from an exempt network: the company's relay
    carries everyone's mail), `envelope:ADDRESS` and `from:ADDRESS`, for those that are known."""
    keys = []
    if client and not _exempt(client, exempt):
        keys.append(f"client:{client}")
    envelope = (mail_from or "").strip().strip("<>").lower()
    if envelope:
        keys.append(f"envelope:{envelope}")
    if author:
        keys.append(f"from:{author.lower()}")
    return tuple(dict.fromkeys(keys))


def _exempt(client: str, networks: Iterable[str]) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def dmarc_passed(msg: Message, authserv_id: str | None) -> bool | None:
    """False when the trusted server's Authentication-Results say DMARC failed, True when they
    say it passed, None when there is no trusted server, no such header or no DMARC result."""
    if not authserv_id:
        return None
    wanted = authserv_id.strip().lower()
    for value in msg.get_all("Authentication-Results") or []:
        try:
            parsed = authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {value}")
        except Exception:  # a header we cannot read says nothing, whoever wrote it
            continue
        if str(parsed.authserv_id or "").lower() != wanted:
            continue
        results = [str(r.result).lower() for r in parsed.results if str(r.method).lower() == "dmarc"]
        if not results:
            return None
        return results[0] == "pass" if results[0] in ("pass", "fail") else None
    return None
