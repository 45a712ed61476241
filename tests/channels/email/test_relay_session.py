"""The kept-open relay connection (`RelaySession`) against a real aiosmtpd relay on loopback: one
connection for many messages, a connection the relay dropped is reopened without sending anything
twice, and failures are classified (5xx Permanent, 4xx Retryable, relay unreachable channel_down)."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.bootstrap import build
from bot.config import Relay, parse_config
from bot.bootstrap import inbox_for
from bot.ports.payloads import Reply
from bot.ports import Permanent, Retryable
from channels.email.adapter import EmailChannel
from channels.email.outbound import RelaySession, build_message
from storage.db import SqlDatabase
from tests.channels.email.conftest import PQR_ADDRESS, T0, Sink, wait_until


class _Connection(SMTP):
    """aiosmtpd's server session, reporting its start and end to the sink."""

    def __init__(self, sink: CountingSink) -> None:
        super().__init__(sink, hostname="sink")
        self.sink = sink

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            self.sink.connections.append(self)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.sink.ended += 1


class CountingSink(Sink):
    """The recording relay, also counting connections. Recipients `unknown@…` get 550, `full@…` 452;
    `drop_at` ("MAIL" or "DATA") makes the relay close the connection once at that point, without
    answering (at DATA: after taking the message); "MAIL-421" answers 421 to MAIL, then closes."""

    def __init__(self) -> None:
        super().__init__()
        self.connections: list[_Connection] = []
        self.ended = 0
        self.quits = 0
        self.drop_at: str | None = None

    @property
    def open(self) -> int:
        return len(self.connections) - self.ended

    def message_ids(self) -> list[str]:
        return [str(email.message_from_bytes(e.original_content or b"")["Message-ID"]) for e in self.messages]

    def _drop(self, server: SMTP, point: str) -> bool:
        if self.drop_at != point:
            return False
        self.drop_at = None
        assert server.transport is not None
        server.transport.close()
        return True

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if self.drop_at == "MAIL-421":
            self.drop_at = None
            assert server.transport is not None
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.4.2 sink: idle too long, closing connection"
        if self._drop(server, "MAIL"):
            return "250 OK"   # never reaches the client: the connection is gone
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("unknown@"):
            return "550 5.1.1 No such user"
        if address.startswith("full@"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self._drop(server, "DATA")
        return answer

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"

    async def start(self, port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]


async def until(condition: Callable[[], bool]) -> None:
    async def check() -> bool:
        return condition()
    await wait_until(check)


def message(n: int, to: str = "ana@cliente.co") -> EmailMessage:
    return build_message(Reply(radicado=None, language="es", subject=f"Respuesta {n}", text="Hola, Ana.",
                               message_id=f"<m{n}@pqr.example.co>"),
                         destination=to, from_address=PQR_ADDRESS)


@pytest.fixture
async def sink() -> AsyncIterator[CountingSink]:
    s = CountingSink()
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


def session_for(port: int, **kw: Any) -> RelaySession:
    return RelaySession(Relay(host="127.0.0.1", port=port), timeout=5, **kw)


@pytest.fixture
async def relay(sink: CountingSink) -> AsyncIterator[RelaySession]:
    s = session_for(sink.port)
    try:
        yield s
    finally:
        await s.close()


async def test_twenty_messages_in_a_row_share_one_connection(sink: CountingSink, relay: RelaySession) -> None:
    for n in range(20):
        await relay.send(message(n))
    assert sink.message_ids() == [f"<m{n}@pqr.example.co>" for n in range(20)]
    assert len(sink.connections) == 1 and sink.open == 1 and relay.connected


async def test_concurrent_sends_take_turns_on_the_connection(sink: CountingSink, relay: RelaySession) -> None:
    await asyncio.gather(*(relay.send(message(n)) for n in range(10)))
    assert sorted(sink.message_ids()) == sorted(f"<m{n}@pqr.example.co>" for n in range(10))
    assert len(sink.connections) == 1


async def test_connection_the_relay_closed_while_idle_is_reopened(sink: CountingSink, relay: RelaySession) -> None:
    await relay.send(message(1))
    transport = sink.connections[0].transport
    assert transport is not None
    transport.close()                                       # the relay's idle timeout
    await until(lambda: sink.ended == 1 and not relay.connected)
    await relay.send(message(2))
    assert sink.message_ids() == ["<m1@pqr.example.co>", "<m2@pqr.example.co>"]
    assert len(sink.connections) == 2


@pytest.mark.parametrize("drop_at", ["MAIL", "MAIL-421"])
async def test_connection_found_closed_before_data_is_reopened_and_the_message_sent_once(
        sink: CountingSink, relay: RelaySession, drop_at: str) -> None:
    await relay.send(message(1))
    sink.drop_at = drop_at                                  # the client still believes it is connected
    await relay.send(message(2))
    assert sink.message_ids() == ["<m1@pqr.example.co>", "<m2@pqr.example.co>"]
    assert len(sink.connections) == 2


async def test_connection_lost_after_data_is_not_sent_again(sink: CountingSink, relay: RelaySession) -> None:
    await relay.send(message(1))
    sink.drop_at = "DATA"                                   # the relay has the message, the answer is lost
    with pytest.raises(Retryable) as err:
        await relay.send(message(2))
    assert not err.value.channel_down
    assert sink.message_ids() == ["<m1@pqr.example.co>", "<m2@pqr.example.co>"]
    assert len(sink.connections) == 1
    await relay.send(message(3))
    assert sink.message_ids()[-1] == "<m3@pqr.example.co>" and len(sink.messages) == 3


async def test_relay_port_closed_is_channel_down() -> None:
    with socket.socket() as bound:                          # bound, not listening: connect is refused
        bound.bind(("127.0.0.1", 0))
        relay = session_for(bound.getsockname()[1])
        with pytest.raises(Retryable) as err:
            await relay.send(message(1))
    assert err.value.channel_down and "unreachable" in str(err.value)
    assert not relay.connected


async def test_relay_hanging_up_before_the_greeting_is_channel_down() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    try:
        relay = session_for(server.sockets[0].getsockname()[1])
        with pytest.raises(Retryable) as err:
            await relay.send(message(1))
        assert err.value.channel_down
    finally:
        server.close()
        await server.wait_closed()


async def test_refused_recipient_is_permanent_and_the_next_message_goes_through(
        sink: CountingSink, relay: RelaySession) -> None:
    await relay.send(message(1))
    with pytest.raises(Permanent, match="550"):
        await relay.send(message(2, to="unknown@cliente.co"))
    await relay.send(message(3))
    assert sink.message_ids() == ["<m1@pqr.example.co>", "<m3@pqr.example.co>"]
    assert [e.rcpt_tos for e in sink.messages] == [["ana@cliente.co"], ["ana@cliente.co"]]


async def test_deferred_recipient_is_retryable_but_not_channel_down(sink: CountingSink, relay: RelaySession) -> None:
    with pytest.raises(Retryable, match="452") as err:
        await relay.send(message(1, to="full@cliente.co"))
    assert not err.value.channel_down
    await relay.send(message(2))
    assert sink.message_ids() == ["<m2@pqr.example.co>"]


async def test_close_ends_the_session(sink: CountingSink, relay: RelaySession) -> None:
    await relay.send(message(1))
    await relay.close()
    await until(lambda: sink.ended == 1)
    assert sink.quits == 1 and not relay.connected
    await relay.send(message(2))                            # a later send opens a new connection
    assert len(sink.connections) == 2 and len(sink.messages) == 2


async def test_idle_connection_is_closed_after_the_idle_timeout(sink: CountingSink) -> None:
    relay = session_for(sink.port, idle_timeout=0.05)
    try:
        await relay.send(message(1))
        await until(lambda: sink.ended == 1)
        assert sink.quits == 1 and not relay.connected
        await relay.send(message(2))
        assert len(sink.connections) == 2 and len(sink.messages) == 2
    finally:
        await relay.close()


async def test_email_channel_reuses_the_connection_and_stop_closes_it(sink: CountingSink,
                                                                      sqlite_database: SqlDatabase) -> None:
    cfg = parse_config({"database": {"url": sqlite_database.url},
                        "channels": {"console": {"enabled": False},
                                     "email": {"listen": {"host": "127.0.0.1", "port": 0},
                                               "relay": {"host": "127.0.0.1", "port": sink.port}}}})
    app = build(cfg, db=sqlite_database, clock=lambda: T0)
    channel = EmailChannel(cfg.channels.email, inbox_for(app), app.clock)
    await channel.start()
    try:
        for n in range(3):
            sent = await channel.send("ana@cliente.co", Reply(radicado=None, language="es", subject="Hola", text="Hola.",
                                                              message_id=f"<m{n}@pqr.example.co>"))
            assert sent == f"<m{n}@pqr.example.co>"
        assert len(sink.connections) == 1 and len(sink.messages) == 3
    finally:
        await channel.stop()
    await until(lambda: sink.ended == 1)
    assert sink.quits == 1
