"""What an adapter calls to get the bytes of a stored report file: the payload names the file
(`ReportFileRef`), the bytes stay in the database, and the adapter never opens a unit of work —
bootstrap hands it a `ReportFiles` (bot.reports.files.StoredReportFiles)."""

from __future__ import annotations

from typing import Protocol

from bot.ports.payloads import ReportDelivery
from domain.files import FileData


class ReportFiles(Protocol):
    async def load(self, file_id: int) -> FileData | None:
        """The stored file (its name, content type and bytes), or None when there is none."""


class ReportFileMissing(LookupError):
    """A report's outbox row names a file that is not stored (sending again will not help)."""


async def load_report_files(files: ReportFiles | None, payload: ReportDelivery) -> list[FileData]:
    """Every file of `payload`, in order, named as the payload names it. ReportFileMissing when
    one is not stored, or when the adapter was given no loader."""
    if files is None:
        raise ReportFileMissing("no report file loader was wired for this channel")
    loaded = []
    for ref in payload.files:
        found = await files.load(ref.file_id)
        if found is None:
            raise ReportFileMissing(f"report file #{ref.file_id} ({ref.filename}) is not stored")
        loaded.append(FileData(ref.filename, ref.content_type, found.data))
    return loaded
