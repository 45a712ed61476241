"""The IMAP reader against a real Dovecot, through the application bootstrap builds (its inbox, its
intake worker filing PQRs): mail arriving while pqrbot idles, mail already read, restarts, a server
killed mid-run, a rebuilt folder, a thousand messages waiting, a server without MOVE or IDLE, TLS
and STARTTLS, XOAUTH2."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.bootstrap import inbox_for
from bot.intake.mailboxes import Mailboxes
from channels.imap import Credentials, MailboxReader
from channels.imap.oauth import Token, TokenSource
from tests.channels.imap.conftest import PROCESSED, ImapWorld, wait_until
from tests.channels.imap.dovecot import PASSWORD, TOKEN, USER, Dovecot, mail

MakeWorld = Callable[..., Awaitable[ImapWorld]]
MakeDovecot = Callable[..., Dovecot]


async def moved(server: Dovecot, count: int, *, folder: str = "INBOX", processed: str = PROCESSED) -> None:
    """Wait until `folder` is empty and the processed folder holds `count` messages."""
    async def there() -> bool:
        return await server.count(folder) == 0 and await server.count(processed) == count
    await wait_until(there, 30, f"{count} messages moved to {processed}")


async def test_mail_arriving_while_idle_is_filed_within_seconds_and_moved(
        dovecot: Dovecot, world_factory: MakeWorld) -> None:
    world = await world_factory(dovecot)
    await world.state("idle")
    assert PROCESSED in await dovecot.folders()            # created at start

    started = time.monotonic()
    raw = mail(1, subject="Reclamo por cobro doble")
    await dovecot.append("INBOX", raw)
    [item] = await world.settled(1, timeout=10)
    await moved(dovecot, 1)
    assert time.monotonic() - started < 10

    assert (item.source, item.account, item.subject) == ("imap", "empresa", "Reclamo por cobro doble")
    assert item.message_id and item.message_id in raw.decode()
    assert item.status == "filed" and item.radicado
    [pqr] = await world.pqrs()
    assert pqr.radicado == item.radicado and pqr.channel == "email"
    assert pqr.received_at == world.now[0]        # the server's clock is ahead of the test's: ours wins
    assert await dovecot.message_ids(PROCESSED) == [item.message_id]
    assert not any(r"\Seen" in f for f in await dovecot.flags(PROCESSED))     # BODY.PEEK: still unread
    assert await world.position() == (await dovecot.uidvalidity("INBOX"), 1)


async def test_mail_someone_already_opened_is_taken(dovecot: Dovecot, world_factory: MakeWorld) -> None:
    await dovecot.append("INBOX", mail(1), mail(2), seen=True)
    await dovecot.append("INBOX", mail(3))
    world = await world_factory(dovecot)
    items = await world.settled(3)
    await moved(dovecot, 3)
    assert [i.status for i in items] == ["filed"] * 3
    assert len(await world.pqrs()) == 3


async def test_idle_is_issued_again_before_the_server_would_drop_it(dovecot: Dovecot, world_factory: MakeWorld) -> None:
    """Renewed every 25 minutes in service (servers may end an IDLE after 30); here every 0.2 s."""
    world = await world_factory(dovecot, start=False)
    account = world.app.config.channels.imap.accounts[0]
    mailboxes = Mailboxes(world.db, inbox_for(world.app), world.app.clock)
    reader = MailboxReader(account, Credentials(USER, password=PASSWORD), mailboxes, world.app.clock,
                           idle_renew=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(reader.run(stop))
    try:
        await wait_until(lambda: _true(reader.idles >= 4), 20, "IDLE issued four times")
        await dovecot.append("INBOX", mail(1))
        await wait_until(lambda: _true(reader.taken == 1), 20, "the message taken")
        await moved(dovecot, 1)
    finally:
        stop.set()
        await task
        await mailboxes.stop()
    assert reader.failures == 0


async def test_a_restart_takes_nothing_twice(dovecot: Dovecot, world_factory: MakeWorld) -> None:
    await dovecot.append("INBOX", mail(1), mail(2), mail(3))
    world = await world_factory(dovecot)
    await world.settled(3)
    await moved(dovecot, 3)
    await world.state("idle")
    await world.stop()

    await dovecot.append("INBOX", mail(4), mail(5))
    await world.start()
    items = await world.settled(5)
    await moved(dovecot, 5)
    assert [i.status for i in items] == ["filed"] * 5
    assert len({i.message_id for i in items}) == 5
    assert len(await world.pqrs()) == 5
    assert await world.position() == (await dovecot.uidvalidity("INBOX"), 5)


async def test_the_position_keeps_taken_mail_that_stayed_in_the_folder_from_being_taken_again(
        dovecot: Dovecot, world_factory: MakeWorld) -> None:
    """Mail at or below the remembered UID (taken, but its move failed) is left where it is."""
    await dovecot.append("INBOX", mail(1), mail(2), mail(3))
    world = await world_factory(dovecot, start=False)
    mailboxes = Mailboxes(world.db, inbox_for(world.app), world.app.clock)
    await mailboxes.set_position("empresa", "INBOX", uidvalidity=await dovecot.uidvalidity("INBOX"), last_uid=2)
    await world.start()
    [item] = await world.settled(1)
    await world.state("idle")
    assert await dovecot.uids("INBOX") == [1, 2]
    assert await dovecot.count(PROCESSED) == 1
    assert item.subject == "Reclamo número 3"


async def test_a_server_killed_and_started_again_is_reconnected_and_logged_once_each_way(
        dovecot: Dovecot, world_factory: MakeWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="channels.imap")
    world = await world_factory(dovecot)
    await dovecot.append("INBOX", mail(1))
    await world.settled(1)
    await world.state("idle")

    dovecot.stop()
    await wait_until(lambda: _true(world.reader.failures >= 2), 20, "two failed reconnections")   # 1 s, 2 s
    dovecot.start()
    await dovecot.append("INBOX", mail(2))
    items = await world.settled(2, timeout=30)
    await moved(dovecot, 2)
    assert [i.status for i in items] == ["filed", "filed"]

    said = [r for r in caplog.records if r.name.startswith("channels.imap")]
    down = [r for r in said if r.levelno == logging.WARNING]
    back = [r for r in said if "connected again" in r.getMessage()]
    assert len(down) == 1, [r.getMessage() for r in down]
    assert len(back) == 1
    assert "empresa" in down[0].getMessage()


async def test_a_rebuilt_folder_is_read_again_and_nothing_is_filed_twice(
        dovecot: Dovecot, world_factory: MakeWorld) -> None:
    a, b, c = mail(1), mail(2), mail(3)
    await dovecot.append("Entrada", a, b)
    world = await world_factory(dovecot, folder="Entrada", idle=False, poll_seconds=1)
    await world.settled(2)
    await moved(dovecot, 2, folder="Entrada")
    before = await dovecot.uidvalidity("Entrada")

    # The mailbox is rebuilt while pqrbot polls it: the folder comes back with a new UIDVALIDITY,
    # holding copies of the two messages already filed and a new one.
    await dovecot.recreate("Entrada")
    await dovecot.append("Entrada", a, b, c)
    assert await dovecot.uidvalidity("Entrada") != before

    items = await world.settled(5)
    await moved(dovecot, 5, folder="Entrada")
    assert [i.status for i in items] == ["filed", "filed", "duplicate", "duplicate", "filed"]
    assert len(await world.pqrs()) == 3
    assert await world.position() == (await dovecot.uidvalidity("Entrada"), 3)


async def test_a_folder_rebuilt_while_pqrbot_was_stopped_is_read_again(
        dovecot: Dovecot, world_factory: MakeWorld) -> None:
    a, b = mail(1), mail(2)
    await dovecot.append("Entrada", a)
    world = await world_factory(dovecot, folder="Entrada")
    await world.settled(1)
    await world.state("idle")
    await world.stop()
    await dovecot.recreate("Entrada")
    await dovecot.append("Entrada", a, b)
    await world.start()
    items = await world.settled(3)
    assert [i.status for i in items] == ["filed", "duplicate", "filed"]
    assert len(await world.pqrs()) == 2


@pytest.mark.slow
async def test_a_thousand_messages_waiting_at_start_are_all_taken(dovecot: Dovecot, world_factory: MakeWorld) -> None:
    await dovecot.deliver("INBOX", [mail(n) for n in range(1000)])
    world = await world_factory(dovecot)
    items = await world.settled(1000, timeout=180)
    await moved(dovecot, 1000)
    assert len(items) == 1000
    assert {i.status for i in items} == {"filed"}
    assert len({i.message_id for i in items}) == 1000
    assert len(await world.pqrs()) == 1000


async def test_a_server_without_move_or_idle_is_polled_and_mail_copied_then_expunged(
        dovecot_factory: MakeDovecot, world_factory: MakeWorld) -> None:
    """COPY, \\Deleted and UID EXPUNGE of those UIDs only: a message someone else flagged
    \\Deleted in the folder is not expunged with them. The processed folder's name has an accent
    (modified UTF-7 on the wire)."""
    server = dovecot_factory(capabilities="IMAP4rev1 LITERAL+ SASL-IR UIDPLUS")
    await server.append("Entrada", mail(0), deleted=True)       # someone's, already behind the position
    world = await world_factory(server, start=False, poll_seconds=1, folder="Entrada",
                                processed_folder="Radicados-Atención")
    mailboxes = Mailboxes(world.db, inbox_for(world.app), world.app.clock)
    await mailboxes.set_position("empresa", "Entrada", uidvalidity=await server.uidvalidity("Entrada"), last_uid=1)
    await world.start()
    await world.state("polling")
    await server.append("Entrada", mail(1), mail(2))
    items = await world.settled(2)

    async def copied_and_expunged() -> bool:
        return (await server.uids("Entrada") == [1]
                and await server.count("Radicados-Atenci&APM-n") == 2)
    await wait_until(copied_and_expunged, 20, "the two messages moved, the flagged one left")
    assert [i.status for i in items] == ["filed", "filed"]
    assert "Radicados-Atenci&APM-n" in await server.folders()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls_with_a_password(
        security: str, dovecot_factory: MakeDovecot, world_factory: MakeWorld,
        certificate: tuple[Any, Any]) -> None:
    server = dovecot_factory(tls=certificate)
    port = server.tls_port if security == "tls" else server.port
    await server.append("INBOX", mail(1))
    world = await world_factory(server, security=security, port=port)
    [item] = await world.settled(1)
    await moved(server, 1)
    assert item.status == "filed"


async def test_xoauth2_with_a_token_fetched_and_fetched_again_when_refused(
        dovecot_factory: MakeDovecot, world_factory: MakeWorld, certificate: tuple[Any, Any]) -> None:
    """The token function is injected (there is no Microsoft tenant here): Dovecot checks the
    XOAUTH2 token as the user's password. The first token is refused; the reader fetches another."""
    server = dovecot_factory(tls=certificate, password=TOKEN)
    await server.append("INBOX", mail(1))
    world = await world_factory(server, start=False, security="tls", port=server.tls_port)
    given = iter(["expired-token", TOKEN])
    fetched: list[str] = []

    async def fetch() -> Token:
        fetched.append(next(given))
        return Token(fetched[-1], 3600)

    account = world.app.config.channels.imap.accounts[0]
    mailboxes = Mailboxes(world.db, inbox_for(world.app), world.app.clock)
    reader = MailboxReader(account, Credentials(USER, tokens=TokenSource(fetch)), mailboxes, world.app.clock)
    stop = asyncio.Event()
    task = asyncio.create_task(reader.run(stop))
    try:
        await wait_until(lambda: _true(reader.taken == 1), 20, "the message taken")
        await moved(server, 1)
    finally:
        stop.set()
        await task
        await mailboxes.stop()
    assert fetched == ["expired-token", TOKEN]
    assert reader.failures == 0


def _true(value: bool) -> Awaitable[bool]:
    async def check() -> bool:
        return value
    return check()
