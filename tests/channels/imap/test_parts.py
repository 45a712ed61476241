"""The IMAP reader's pure parts, without a server: reading the server's answers as aioimaplib hands
them, folder names, batches, the backoff, the XOAUTH2 token's refresh (the token function and the
clock injected: there is no Microsoft tenant here) and the `channels.imap` config."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import ConfigError, parse_config
from channels.imap.oauth import Token, TokenError, TokenSource
from channels.imap.parse import fetched, headers, internaldate, mailbox_name, search_uids, sizes, uid_set, uidvalidity
from channels.imap.reader import Backoff, batches

UTC = dt.timezone.utc


def test_a_fetch_answer_gives_each_message_with_its_uid_wherever_the_server_puts_it() -> None:
    lines = [b'1 FETCH (UID 7 INTERNALDATE "01-Dec-2026 15:08:51 -0500" BODY[] {5}', bytearray(b"hola\n"), b")",
             b"2 FETCH (FLAGS (\\Seen))",                      # another client's flag change: no body
             b'3 FETCH (INTERNALDATE "02-Mar-2026 08:00:00 +0000" BODY[] {3}', bytearray(b"abc"), b" UID 9)",
             b"Fetch completed (0.001 + 0.000 secs)."]
    got = fetched(lines)
    assert [(m.uid, m.data) for m in got] == [(7, b"hola\n"), (9, b"abc")]
    assert got[0].internaldate == dt.datetime(2026, 12, 1, 20, 8, 51, tzinfo=UTC)
    assert got[1].internaldate == dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_search_sizes_and_uidvalidity_answers() -> None:
    assert search_uids([b"3 4 12", b"Search completed (0.001 + 0.000 secs)."]) == [3, 4, 12]
    assert search_uids([b"", b"Search completed (0.001 + 0.000 secs)."]) == []
    assert sizes([b"1 FETCH (UID 4 RFC822.SIZE 1200)", b"2 FETCH (RFC822.SIZE 30 UID 5)", b"Fetch completed."]) == {
        4: 1200, 5: 30}
    assert uidvalidity([b"1 EXISTS", b"OK [UIDVALIDITY 1796137731] UIDs valid", b"OK [UIDNEXT 2] x"]) == 1796137731
    assert uidvalidity([b"1 EXISTS"]) is None


def test_internaldate_in_english_whatever_the_locale_and_nonsense_refused() -> None:
    assert internaldate(" 2-Mar-2026 10:00:00 -0500") == dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert internaldate("31-Feb-2026 10:00:00 +0000") is None
    assert internaldate("02-Mzo-2026 10:00:00 +0000") is None


def test_headers_for_the_inbox_listing() -> None:
    raw = (b"Return-Path: <ana@cliente.co>\r\nMessage-ID: <a1@cliente.co>\r\n"
           b"Subject: =?utf-8?q?Reclamo_por_cobro_doble?=\r\n\r\ncuerpo\r\n")
    head = headers(raw)
    assert (head.message_id, head.subject, head.return_path) == ("<a1@cliente.co>", "Reclamo por cobro doble",
                                                                  "ana@cliente.co")
    assert headers(b"no headers at all") == headers(b"")


def test_uid_sets_and_folder_names() -> None:
    assert uid_set([10, 1, 2, 3, 7, 9]) == "1:3,7,9:10"
    assert uid_set([5]) == "5"
    assert mailbox_name("PQR-Radicados") == '"PQR-Radicados"'
    assert mailbox_name("Radicados-Atención") == '"Radicados-Atenci&APM-n"'
    assert mailbox_name("A&B \"x\"") == '"A&-B \\"x\\""'


def test_batches_keep_to_a_count_and_a_byte_budget() -> None:
    uids = list(range(1, 8))
    assert list(batches(uids, {}, most=3)) == [[1, 2, 3], [4, 5, 6], [7]]
    assert list(batches([1, 2, 3], {1: 600, 2: 600, 3: 10}, budget=1000)) == [[1], [2, 3]]
    assert list(batches([1, 2, 3], {1: 10, 2: 5000, 3: 10}, budget=1000)) == [[1], [2], [3]]


def test_backoff_doubles_from_one_second_to_sixty_and_starts_over() -> None:
    backoff = Backoff()
    assert [backoff.next() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    backoff.reset()
    assert backoff.next() == 1


async def test_a_token_is_kept_until_shortly_before_it_expires_then_fetched_again() -> None:
    clock = [1000.0]
    served: list[Token] = []

    async def fetch() -> Token:
        served.append(Token(f"t{len(served) + 1}", 3600))
        return served[-1]

    tokens = TokenSource(fetch, now=lambda: clock[0], refresh_before=300)
    assert await tokens.token() == "t1"
    clock[0] += 3600 - 301
    assert await tokens.token() == "t1"              # still more than 5 minutes to go
    clock[0] += 2
    assert await tokens.token() == "t2"              # within 5 minutes of expiry: a new one
    assert await tokens.token() == "t2"
    tokens.invalidate()                               # the server refused it
    assert await tokens.token() == "t3"
    assert len(served) == 3


async def test_a_token_that_cannot_be_had_is_a_token_error_and_nothing_is_kept() -> None:
    calls = []

    async def fetch() -> Token:
        calls.append(1)
        raise TokenError("invalid_client: AADSTS7000215")

    tokens = TokenSource(fetch)
    for _ in range(2):
        with pytest.raises(TokenError, match="AADSTS7000215"):
            await tokens.token()
    assert len(calls) == 2


def _imap(**imap: object) -> dict[str, object]:
    return {"channels": {"imap": imap}}


ACCOUNT = {"name": "pqr", "host": "outlook.office365.com", "username": "pqr@empresa.co"}


def test_the_imap_config_defaults_and_refusals() -> None:
    cfg = parse_config(_imap(enabled=True, accounts=[{**ACCOUNT, "password_env": "IMAP_PASSWORD"}]))
    imap = cfg.channels.imap
    assert (imap.idle, imap.poll_seconds) == (True, 60)
    [acc] = imap.accounts
    assert (acc.port, acc.security, acc.folder, acc.processed_folder) == (993, "tls", "INBOX", "PQR-Radicados")
    plain = parse_config(_imap(accounts=[{**ACCOUNT, "security": "starttls", "password_env": "P"}]))
    assert plain.channels.imap.accounts[0].port == 143
    oauth = parse_config(_imap(accounts=[{**ACCOUNT, "oauth2": {"tenant_id": "t", "client_id": "c",
                                                                "client_secret_env": "S"}}]))
    assert oauth.channels.imap.accounts[0].oauth2 is not None
    assert parse_config({}).channels.imap.enabled is False

    for bad, needle in [
            (_imap(accounts=[ACCOUNT]), "password_env"),
            (_imap(accounts=[{**ACCOUNT, "password_env": "P", "oauth2": {"tenant_id": "t", "client_id": "c",
                                                                          "client_secret_env": "S"}}]), "one of them"),
            (_imap(accounts=[{**ACCOUNT, "password_env": "P"}, {**ACCOUNT, "password_env": "Q"}]), "unique: pqr"),
            (_imap(enabled=True), "at least one account"),
            (_imap(accounts=[{**ACCOUNT, "password_env": "P", "security": "ssl"}]), "security"),
            (_imap(accounts=[{**ACCOUNT, "password_env": "P", "processed_folder": "INBOX"}]), "differ"),
            (_imap(accounts=[{**ACCOUNT, "password": "plain-text"}]), "unknown key")]:
        with pytest.raises(ConfigError, match=needle):
            parse_config(bad)
