"""One IMAP connection as the reader uses it, on aioimaplib: connect (TLS, STARTTLS or plain),
log in (LOGIN or XOAUTH2), select, search, fetch, move, idle. Every command is raced against the
connection's loss: aioimaplib leaves a command waiting when the server goes away, this raises
`ConnectionLost` at once instead."""

from __future__ import annotations

import asyncio
import inspect
import ssl
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import aioimaplib

from channels.imap.oauth import TokenSource
from channels.imap.parse import Fetched, fetched, mailbox_name, search_uids, sizes, uid_set, uidvalidity

T = TypeVar("T")
Security = Literal["tls", "starttls", "none"]


class ImapError(Exception):
    """The server refused a command or answered something the reader cannot use."""


class TlsError(ImapError):
    """TLS could not be set up (no STARTTLS offered, a handshake or certificate failure)."""


class LoginRefused(ImapError):
    """The server refused the credentials."""


class ConnectionLost(ImapError):
    """The server closed the connection (or it broke) while a command was under way."""


@dataclass(frozen=True)
class Credentials:
    """How an account logs in: LOGIN with `password`, or XOAUTH2 with a token from `tokens`."""

    username: str
    password: str | None = None
    tokens: TokenSource | None = None


def _text(response: Any) -> str:
    lines = [bytes(x) for x in response.lines if not isinstance(x, bytearray)]
    return " ".join(b" ".join(lines[-1:]).decode("utf-8", "replace").split()) or str(response.result)


def _ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result} {_text(response)}")
    return response


LINES_PER_PASS = 64


class _Protocol(aioimaplib.IMAP4ClientProtocol):  # type: ignore[misc]
    """aioimaplib's protocol with two repairs. It reads what arrives one line per recursive call,
    so a chunk of a thousand short lines (sizes or flags of many messages, many EXPUNGEs) overflows
    the stack: chunks are fed to it `LINES_PER_PASS` lines at a time, as if the network had cut
    them (literals are taken whole, not line by line, so a long message costs no depth). And it
    never answers a failed XOAUTH2's challenge: the server sends its error as a `+` continuation
    and waits for an empty reply before its tagged NO (RFC 7628 3.2.3), so a refused token would
    hang until the timeout."""

    def data_received(self, d: bytes) -> None:
        start = 0
        while start < len(d):
            end = start
            for _ in range(LINES_PER_PASS):
                newline = d.find(b"\n", end)
                if newline < 0:
                    end = len(d)
                    break
                end = newline + 1
            super().data_received(d[start:end])
            start = end

    def _continuation(self, line: bytes) -> None:
        command = self.pending_sync_command
        if command is not None and command.name == "AUTHENTICATE":
            self.send("")
        super()._continuation(line)


class _Client(aioimaplib.IMAP4):  # type: ignore[misc]
    def create_client(self, host: str, port: int, loop: asyncio.AbstractEventLoop | None,
                      conn_lost_cb: Any = None, ssl_context: ssl.SSLContext | None = None) -> None:
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = _Protocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context))


class ImapSession:
    """A connection to one server. `connect`, `authenticate`, then `select` a folder; `close`
    always. `timeout` bounds each command's silence (seconds)."""

    def __init__(self, host: str, port: int, security: Security, *, timeout: float = 30.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.security = host, port, security
        self.timeout = timeout
        self._ssl = ssl_context
        self._client: aioimaplib.IMAP4 | None = None
        self._lost = asyncio.Event()
        self._lost_reason = "connection closed"

    # -- connection -----------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        return self._ssl or ssl.create_default_context()

    def _on_lost(self, exc: Exception | None) -> None:
        self._lost_reason = f"connection lost ({exc})" if exc else "the server closed the connection"
        self._lost.set()

    @property
    def client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise ImapError("not connected")
        return self._client

    async def connect(self) -> None:
        """Open the connection and read the greeting; with `starttls`, upgrade before anything
        else is said (a server that does not offer STARTTLS is refused, never used in clear)."""
        tls = self._context() if self.security == "tls" else None
        self._client = _Client(self.host, self.port, timeout=self.timeout, conn_lost_cb=self._on_lost,
                               ssl_context=tls)
        try:
            await self._run(self.client.wait_hello_from_server())
        except ssl.SSLError as exc:
            raise TlsError(f"TLS: {exc}") from exc
        if self.security == "starttls":
            await self._starttls()

    async def _starttls(self) -> None:
        protocol = self.client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise TlsError("the server does not offer STARTTLS")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        response = await self._run(asyncio.wait_for(protocol.execute(command), self.timeout))
        if response.result != "OK":
            raise TlsError(f"STARTTLS: {response.result} {_text(response)}")
        loop = asyncio.get_running_loop()
        try:
            transport = await self._run(asyncio.wait_for(
                loop.start_tls(protocol.transport, protocol, self._context(), server_hostname=self.host),
                self.timeout))
        except (ssl.SSLError, ConnectionError) as exc:
            raise TlsError(f"STARTTLS: {exc}") from exc
        protocol.transport = transport
        await self._run(asyncio.wait_for(protocol.capability(), self.timeout))   # they may differ now

    async def authenticate(self, credentials: Credentials) -> None:
        """LOGIN, or XOAUTH2 with a fresh token (a refused one is dropped so the next login
        fetches another); then the capabilities as they stand once authenticated."""
        client = self.client
        if credentials.tokens is not None:
            token = await credentials.tokens.token()
            # aioimaplib formats the token into the SASL string itself: it must be a str
            response = await self._run(client.xoauth2(credentials.username, token))
            if response.result != "OK":
                credentials.tokens.invalidate()
                raise LoginRefused(f"XOAUTH2: {response.result} {_text(response)}")
        else:
            response = await self._run(client.login(aioimaplib.quoted(credentials.username),
                                                    credentials.password or ""))
            if response.result != "OK":
                raise LoginRefused(f"LOGIN: {response.result} {_text(response)}")
        await self._run(asyncio.wait_for(client.protocol.capability(), self.timeout))

    def has(self, capability: str) -> bool:
        return capability in self.client.protocol.capabilities

    async def logout(self) -> None:
        """Say goodbye if the connection still stands, then close it."""
        try:
            if self._client is not None and not self._lost.is_set():
                await self._run(asyncio.wait_for(self._client.logout(), 5))
        except (ImapError, aioimaplib.AioImapException, asyncio.TimeoutError, OSError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        transport = self._client.protocol.transport if self._client is not None else None
        if transport is not None and not transport.is_closing():
            transport.close()

    # -- folders --------------------------------------------------------------------------------
    async def select(self, folder: str) -> tuple[int, int]:
        """Select `folder`; returns (UIDVALIDITY, messages in it)."""
        response = _ok(await self._run(self.client.select(mailbox_name(folder))), f"SELECT {folder}")
        found = uidvalidity(response.lines)
        if found is None:
            raise ImapError(f"SELECT {folder}: the server gave no UIDVALIDITY")
        return found, aioimaplib.extract_exists(response) or 0

    async def folder_exists(self, folder: str) -> bool:
        response = _ok(await self._run(self.client.list('""', mailbox_name(folder))), f"LIST {folder}")
        return len(response.lines) > 1        # one untagged LIST line, then the completion

    async def ensure_folder(self, folder: str) -> None:
        """CREATE `folder` unless it exists."""
        if await self.folder_exists(folder):
            return
        response = await self._run(self.client.create(mailbox_name(folder)))
        if response.result != "OK" and b"ALREADYEXISTS" not in b" ".join(bytes(x) for x in response.lines):
            raise ImapError(f"CREATE {folder}: {response.result} {_text(response)}")

    # -- messages -------------------------------------------------------------------------------
    async def search_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid` in the selected folder, seen or not (`n:*` always names the
        highest UID, so the answer is filtered)."""
        response = _ok(await self._run(self.client.uid_search("UID", f"{last_uid + 1}:*", charset=None)),
                       "UID SEARCH")
        return [uid for uid in search_uids(response.lines) if uid > last_uid]

    async def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        response = _ok(await self._run(self.client.uid("fetch", uid_set(uids), "(UID RFC822.SIZE)")),
                       "UID FETCH RFC822.SIZE")
        return sizes(response.lines)

    async def fetch(self, uids: Sequence[int]) -> list[Fetched]:
        """The raw messages, without setting \\Seen (BODY.PEEK), with their INTERNALDATE."""
        response = _ok(await self._run(self.client.uid("fetch", uid_set(uids), "(UID INTERNALDATE BODY.PEEK[])")),
                       "UID FETCH")
        return fetched(response.lines)

    async def move(self, uids: Sequence[int], folder: str) -> None:
        """Move to `folder` (created if the server says it is missing): MOVE where offered, else
        COPY, flag \\Deleted and expunge those UIDs (UID EXPUNGE with UIDPLUS; a plain EXPUNGE
        otherwise, which also removes what others flagged \\Deleted in this folder)."""
        which = uid_set(uids)
        target = mailbox_name(folder)
        verb = "move" if self.has("MOVE") else "copy"
        response = await self._run(self.client.uid(verb, which, target))
        if response.result != "OK" and b"TRYCREATE" in b" ".join(bytes(x) for x in response.lines):
            await self.ensure_folder(folder)
            response = await self._run(self.client.uid(verb, which, target))
        _ok(response, f"UID {verb.upper()} {folder}")
        if verb == "move":
            return
        _ok(await self._run(self.client.uid("store", which, "+FLAGS.SILENT", r"(\Deleted)")), "UID STORE \\Deleted")
        if self.has("UIDPLUS"):
            _ok(await self._run(self.client.uid("expunge", which)), "UID EXPUNGE")
        else:
            _ok(await self._run(self.client.expunge()), "EXPUNGE")

    async def idle(self, *, renew: float, stop: asyncio.Event) -> None:
        """IDLE until new mail is announced, `renew` seconds pass (servers drop an IDLE older
        than 30 minutes) or `stop` is set; then DONE."""
        client = self.client
        try:
            ended = await self._run(client.idle_start(timeout=renew))
        except aioimaplib.Abort as exc:
            raise ImapError(f"IDLE: {exc}") from exc
        try:
            while not stop.is_set():
                push = await self._run(client.wait_server_push(timeout=renew + 60), stop=stop)
                if push is None or push == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    return
                if any(b"EXISTS" in bytes(line) or b"RECENT" in bytes(line) for line in push):
                    return
        except asyncio.TimeoutError:
            return
        finally:
            if not self._lost.is_set() and client.has_pending_idle():
                client.idle_done()
                try:
                    await self._run(asyncio.wait_for(ended, self.timeout))
                except asyncio.TimeoutError:
                    raise ConnectionLost("the server did not end IDLE") from None

    async def noop(self) -> None:
        _ok(await self._run(self.client.noop()), "NOOP")

    # -- plumbing -------------------------------------------------------------------------------
    async def _run(self, aw: Awaitable[T], *, stop: asyncio.Event | None = None) -> T:
        """`aw`'s result, unless the connection is lost first (ConnectionLost) or `stop` is set
        first (None then; only callers that pass `stop` see it)."""
        if self._lost.is_set():
            if inspect.iscoroutine(aw):
                aw.close()                # never to run: say so rather than leave it unawaited
            raise ConnectionLost(self._lost_reason)
        task = asyncio.ensure_future(aw)
        lost = asyncio.ensure_future(self._lost.wait())
        stopped = asyncio.ensure_future(stop.wait()) if stop is not None else None
        waiters = {task, lost, *([stopped] if stopped is not None else [])}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()
        if task.done() and not task.cancelled():
            return task.result()
        if lost.done() and not lost.cancelled():
            raise ConnectionLost(self._lost_reason)
        return None  # type: ignore[return-value]   # stopped: documented for callers with `stop`


__all__: Sequence[str] = ["ConnectionLost", "Credentials", "ImapError", "ImapSession", "LoginRefused", "TlsError"]
