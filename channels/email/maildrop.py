"""Outgoing mail written as `.eml` files instead of sent: what the email channel does when no relay
is configured (`channels.email.relay: null`, the embedded default), so a newcomer can open every
acknowledgment and answer pqrbot would have sent.

Each message is one file, written whole or not at all (a temp file in the same folder, flushed to
disk, then renamed), named after the time it was written and its Message-ID:
`20261218T150000.123456Z_3f2a…@pqr.example.co.eml`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import tempfile
from email.message import EmailMessage
from pathlib import Path

from bot.clock import Clock, system_clock

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


def file_name(msg: EmailMessage, at: dt.datetime) -> str:
    """`<UTC time>_<Message-ID without brackets, unsafe characters as '-'>.eml`."""
    stamp = at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    message_id = _UNSAFE.sub("-", str(msg.get("Message-ID", "")).strip().strip("<>"))[:150].strip("-.")
    return f"{stamp}_{message_id or 'no-message-id'}.eml"


class MailDrop:
    """Writes each message into `folder` (created on the first write), named by the wall-clock
    time of `clock`. `send` raises OSError when the file cannot be written."""

    def __init__(self, folder: Path, clock: Clock = system_clock) -> None:
        self.folder = folder
        self.clock = clock

    async def send(self, msg: EmailMessage) -> Path:
        """Write `msg`; returns the file's path."""
        path = self.folder / file_name(msg, self.clock())
        await asyncio.to_thread(_write_atomically, path, msg.as_bytes())
        log.info("email: no relay; wrote %s (to %s)", path, msg["To"])
        return path

    async def close(self) -> None:
        """Nothing is held open."""


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".eml.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
