"""A private Dovecot (Debian's dovecot-imapd) for the IMAP tests and the IMAP bench: its own folder
under /tmp (short paths: Dovecot's sockets live there), a free loopback port, one user and a
password; helpers put mail in folders and look at them with Python's imaplib (in a thread), as
another mail client would."""

from __future__ import annotations

import asyncio
import datetime as dt
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

USER, PASSWORD = "pqr@empresa.co", "s3cret-imap"
TOKEN = "token-abc"         # what the XOAUTH2 variant accepts (Dovecot checks it as the password)


class DovecotMissing(RuntimeError):
    """The dovecot binary is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dovecot_binary() -> str:
    path = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
    if path is None:
        raise DovecotMissing("dovecot is not installed (apt-get install dovecot-imapd)")
    return path


class Dovecot:
    """One private Dovecot. `capabilities` replaces what it announces once logged in (to play a
    server without MOVE or IDLE); `tls` adds an imaps port and STARTTLS with that cert/key;
    `password` is what the user logs in with (LOGIN, or XOAUTH2's token)."""

    def __init__(self, root: Path, *, capabilities: str | None = None, tls: tuple[Path, Path] | None = None,
                 password: str = PASSWORD) -> None:
        self.binary = dovecot_binary()
        self.root = root
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.user, self.password = USER, password
        self.proc: subprocess.Popen[bytes] | None = None
        mail = root / "mail"
        mail.mkdir()
        if os.geteuid() == 0:     # root: the mail belongs to dovecot (uid 0 is refused)
            owner = pwd.getpwnam("dovecot")
            os.chown(mail, owner.pw_uid, owner.pw_gid)
            users = ("default_login_user = dovenull\ndefault_internal_user = dovecot\n",
                     "uid=dovecot gid=dovecot")
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            users = (f"default_login_user = {me}\ndefault_internal_user = {me}\n", f"uid={me} gid={os.getegid()}")
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{password}::::::\n")
        ssl = (f"ssl = yes\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}\n" if tls else "ssl = no\n")
        imaps = (f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.tls_port}\n  }}\n" if tls
                 else "  inet_listener imaps {\n    port = 0\n  }\n")
        (root / "dovecot.conf").write_text(f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
first_valid_uid = 1
{users[0]}{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
mail_location = maildir:{mail}/%u
{f"imap_capability = {capabilities}" if capabilities else ""}
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = {users[1]} home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{imaps}  chroot =
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""")

    # -- process ----------------------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> None:
        """Run in the foreground (a child of the test, so stop() can wait for it) until it greets."""
        self.proc = subprocess.Popen([self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
                raise RuntimeError(f"dovecot did not start: {err} {log[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM (connections are cut), and wait until it and its port are gone."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    # -- a mail client's view (imaplib, in a thread) ---------------------------------------------
    def _client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(self.user, self.password)
        return client

    def _with(self, work: Callable[[imaplib.IMAP4], Any]) -> Any:
        client = self._client()
        try:
            return work(client)
        finally:
            try:
                client.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    async def append(self, folder: str, *messages: bytes, seen: bool = False, deleted: bool = False) -> None:
        """APPEND the messages to `folder` (created when missing), flagged \\Seen or \\Deleted
        when asked."""
        flags = " ".join(f for f, on in ((r"\Seen", seen), (r"\Deleted", deleted)) if on)

        def work(client: imaplib.IMAP4) -> None:
            client.create(folder)          # NO when it exists: fine
            for raw in messages:
                typ, data = client.append(folder, f"({flags})" if flags else None, None, raw)
                assert typ == "OK", data
        await asyncio.to_thread(self._with, work)

    async def deliver(self, folder: str, messages: Sequence[bytes]) -> None:
        """Put the messages in `folder`'s maildir as a delivery agent would (a file each in new/,
        written in tmp/ then renamed): thousands a second, where APPEND waits for an fsync each.
        Dovecot gives them UIDs when a client next looks."""
        await self.uids(folder)                       # the first login creates the user's maildir
        root = self.root / "mail" / self.user
        box = root if folder == "INBOX" else root / f".{folder}"
        owner = (box.stat().st_uid, box.stat().st_gid)

        def work() -> None:
            stamp = int(time.time())
            for n, raw in enumerate(messages):
                name = f"{stamp}.P{os.getpid()}Q{n}.pqrbench"
                tmp = box / "tmp" / name
                tmp.write_bytes(raw)
                os.chown(tmp, *owner)
                os.rename(tmp, box / "new" / name)
        await asyncio.to_thread(work)

    async def uids(self, folder: str) -> list[int]:
        """The UIDs in `folder` ([] when it does not exist)."""
        def work(client: imaplib.IMAP4) -> list[int]:
            typ, _ = client.select(folder, readonly=True)
            if typ != "OK":
                return []
            typ, data = client.uid("SEARCH", "ALL")
            return [int(x) for x in (data[0] or b"").split()]
        result: list[int] = await asyncio.to_thread(self._with, work)
        return result

    async def count(self, folder: str) -> int:
        return len(await self.uids(folder))

    async def message_ids(self, folder: str) -> list[str]:
        """The Message-ID header of each message in `folder`, in UID order."""
        def work(client: imaplib.IMAP4) -> list[str]:
            typ, _ = client.select(folder, readonly=True)
            if typ != "OK":
                return []
            typ, data = client.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            out = []
            for part in data:
                if isinstance(part, tuple):
                    out.append(part[1].decode().split(":", 1)[1].strip())
            return out
        result: list[str] = await asyncio.to_thread(self._with, work)
        return result

    async def flags(self, folder: str) -> list[str]:
        def work(client: imaplib.IMAP4) -> list[str]:
            client.select(folder, readonly=True)
            typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
            return [d.decode() for d in data if isinstance(d, bytes)]
        result: list[str] = await asyncio.to_thread(self._with, work)
        return result

    async def folders(self) -> list[str]:
        def work(client: imaplib.IMAP4) -> list[str]:
            typ, data = client.list()
            return [d.decode().rsplit(" ", 1)[1].strip('"') for d in data if isinstance(d, bytes)]
        result: list[str] = await asyncio.to_thread(self._with, work)
        return result

    async def recreate(self, folder: str) -> None:
        """DELETE and CREATE `folder`: it comes back empty, with a new UIDVALIDITY."""
        def work(client: imaplib.IMAP4) -> None:
            typ, data = client.delete(folder)
            assert typ == "OK", data
            typ, data = client.create(folder)
            assert typ == "OK", data
        await asyncio.to_thread(self._with, work)

    async def uidvalidity(self, folder: str) -> int:
        def work(client: imaplib.IMAP4) -> int:
            typ, data = client.status(folder, "(UIDVALIDITY)")
            return int(data[0].decode().rsplit("UIDVALIDITY", 1)[1].strip(" )"))
        result: int = await asyncio.to_thread(self._with, work)
        return result


def mail(n: int, *, sender: str | None = None, subject: str | None = None, body: str | None = None,
         message_id: str | None = None, size: int = 0) -> bytes:
    """Customer `n`'s message (from cliente{n}@cliente.co unless `sender`: one author's mail
    past the rate limit would be kept aside as a loop), about `size` bytes long when asked."""
    msg = EmailMessage()
    msg["From"] = f"Cliente {n} <{sender or f'cliente{n}@cliente.co'}>"
    msg["To"] = USER
    msg["Subject"] = subject or f"Reclamo número {n}"
    msg["Date"] = format_datetime(dt.datetime.now().astimezone())
    msg["Message-ID"] = message_id or make_msgid(idstring=f"m{n}", domain="cliente.co")
    text = body or f"Buenos días, el pedido {n} llegó incompleto. Solicito la devolución del dinero.\n"
    if size > len(text):
        text += ("Detalle del caso. " * (size // 18 + 1))[: size - len(text)] + "\n"
    msg.set_content(text)
    return msg.as_bytes()
