"""Attachments as staff see them (a stored file without its bytes), the limits a message's files
must keep, and why a file was not taken. Pure values: the limits come from the config and the
sizes from the channel, so every channel refuses the same files for the same reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import NotFound


class FileRefusal(StrEnum):
    """Why a file did not become an attachment."""

    FILE_TOO_BIG = "file_too_big"          # over `max_file_bytes`
    TOO_MANY = "too_many"                  # past `max_files` in one message
    MESSAGE_TOO_BIG = "message_too_big"    # would take the message's files past `max_message_bytes`
    PLATFORM_LIMIT = "platform_limit"      # the platform will not hand it over (Telegram bots: 20 MB)
    UNAVAILABLE = "unavailable"            # the platform could not give it (expired, removed)


@dataclass(frozen=True)
class Attachment:
    """A stored file of a PQR message, as listed (`pqr show --json`, cards): no bytes."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class NotTaken:
    """A file a message brought that was not stored: its name, size when known, and why
    (`limit` is the number the file went past: bytes, or a count for TOO_MANY)."""

    filename: str
    reason: FileRefusal
    size: int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class AttachmentLimits:
    """What one message may bring: at most `max_files` files, each at most `max_file_bytes`,
    together at most `max_message_bytes`."""

    max_files: int = 10
    max_file_bytes: int = 10 * 1024 * 1024
    max_message_bytes: int = 25 * 1024 * 1024

    def screen(self, sizes: Sequence[int | None]) -> list[tuple[FileRefusal, int] | None]:
        """For a message's files of these sizes, in order (None: not known yet): None for each
        file taken, else the reason and the limit it went past. A refused file takes nothing
        from the message's allowance, so a later smaller file may still be taken."""
        out: list[tuple[FileRefusal, int] | None] = []
        taken = total = 0
        for size in sizes:
            if size is not None and size > self.max_file_bytes:
                out.append((FileRefusal.FILE_TOO_BIG, self.max_file_bytes))
            elif taken >= self.max_files:
                out.append((FileRefusal.TOO_MANY, self.max_files))
            elif size is not None and total + size > self.max_message_bytes:
                out.append((FileRefusal.MESSAGE_TOO_BIG, self.max_message_bytes))
            else:
                taken += 1
                total += size or 0
                out.append(None)
        return out


class FileRefused(Exception):
    """Raised by a channel's file download when the platform will not hand the file over; the
    message is then taken without that file (it is told, not retried)."""

    def __init__(self, reason: FileRefusal, *, limit: int | None = None, detail: str = "") -> None:
        super().__init__(detail or reason.value)
        self.reason = reason
        self.limit = limit


class AttachmentNotFound(NotFound):
    """The PQR has no attachment with this id (an id of another PQR's file is not its)."""

    def __init__(self, radicado: str, attachment_id: int) -> None:
        super().__init__(radicado)
        self.radicado = radicado
        self.attachment_id = attachment_id
