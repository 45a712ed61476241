"""A message's files against the configured limits (config `attachments`), and the texts that say
which were not taken and why. Email intake, the Telegram conversation and the CLI all go through
here, so a file is refused for the same reason, in the same words, on every channel."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import t
from bot.i18n.formats import format_file_size
from domain.attachments import AttachmentLimits, FileRefusal, NotTaken
from domain.files import FileData

BULLET = "• "
NAME_MAX = 200          # characters of a customer's file name repeated in a text


def screen(files: Sequence[FileData], limits: AttachmentLimits) -> tuple[list[FileData], list[NotTaken]]:
    """The files that are taken (in order) and those that are not, with the reason."""
    taken: list[FileData] = []
    refused: list[NotTaken] = []
    for f, verdict in zip(files, limits.screen([f.size for f in files]), strict=True):
        if verdict is None:
            taken.append(f)
        else:
            refused.append(NotTaken(f.filename, verdict[0], size=f.size, limit=verdict[1]))
    return taken, refused


def not_taken_line(lang: str, item: NotTaken) -> str:
    """`factura.pdf (12 MB): supera el máximo de 10 MB por archivo` (plain text; escape it to show)."""
    name = item.filename or "?"
    if len(name) > NAME_MAX:
        name = name[:NAME_MAX - 1] + "…"
    size = format_file_size(item.size, lang) if item.size is not None else t(lang, "files.size_unknown")
    if item.limit is None:
        limit = "?"
    elif item.reason is FileRefusal.TOO_MANY:
        limit = str(item.limit)
    else:
        limit = format_file_size(item.limit, lang)
    return t(lang, f"files.refused.{item.reason.value}", filename=name, size=size, limit=limit)


def not_taken_lines(lang: str, items: Sequence[NotTaken]) -> str:
    return "\n".join(BULLET + not_taken_line(lang, i) for i in items)


def customer_notice(lang: str, items: Sequence[NotTaken], limits: AttachmentLimits) -> str:
    """What the sender is told: which files were not taken, why, and what is accepted."""
    return t(lang, "files.refused_customer", lines=not_taken_lines(lang, items),
             max=format_file_size(limits.max_file_bytes, lang))


def staff_note(lang: str, items: Sequence[NotTaken], *, channel: str) -> str:
    """The PQR's internal note: staff see that the customer sent files that are not stored."""
    return t(lang, "files.refused_note", channel=channel, lines=not_taken_lines(lang, items))
