"""The email channel's sender facts, as pure functions: acknowledgment keys, the trusted relay's
DMARC verdict, and the config that names exempt networks."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from channels.email.parse import parse_bytes
from channels.email.trust import ack_quota, dmarc_passed


def test_ack_keys_name_the_client_the_envelope_and_the_author() -> None:
    assert ack_quota(client="10.0.0.9", mail_from="<Bounce@Relay.co>", author="ana@cliente.co") == (
        "client:10.0.0.9", "envelope:bounce@relay.co", "from:ana@cliente.co")
    assert ack_quota(client="10.0.0.9", mail_from="", author=None, exempt=["10.0.0.0/24"]) == ()
    assert ack_quota(client="::1", mail_from="a@b.co", author="a@b.co", exempt=["127.0.0.1"]) == (
        "client:::1", "envelope:a@b.co", "from:a@b.co")


@pytest.mark.parametrize(("headers", "verdict"), [
    ([], None),
    (["mx.empresa.co; dmarc=fail header.from=x.co"], False),
    (["mx.empresa.co; dkim=pass header.d=x.co; dmarc=pass header.from=x.co"], True),
    (["mx.empresa.co; spf=pass smtp.mailfrom=x.co"], None),                      # no DMARC result
    (["mx.empresa.co; dmarc=temperror header.from=x.co"], None),
    (["mx.evil.co; dmarc=pass header.from=x.co"], None),                         # not trusted
    (["not a header ;;; =", "mx.empresa.co; dmarc=fail header.from=x.co"], False),  # unreadable: skipped
    (["mx.empresa.co; dmarc=fail header.from=x.co", "mx.empresa.co; dmarc=pass header.from=x.co"], False),
])
def test_only_the_trusted_servers_dmarc_verdict_counts(headers: list[str], verdict: bool | None) -> None:
    raw = "".join(f"Authentication-Results: {h}\r\n" for h in headers) + "From: a@x.co\r\n\r\nhola\r\n"
    assert dmarc_passed(parse_bytes(raw.encode()), "mx.empresa.co") is verdict
    assert dmarc_passed(parse_bytes(raw.encode()), None) is None


def test_an_exempt_client_that_is_not_a_network_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="not-an-ip"):
        parse_config({"channels": {"email": {"rate_limit": {"exempt_clients": ["not-an-ip"]}}}})
