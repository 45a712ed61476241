"""The stored files of scheduled reports, read for the channel adapters: bootstrap hands a
`StoredReportFiles` to the email and Slack adapters as their `ReportFiles` service, so they get
the bytes a report's outbox row names without ever opening a unit of work themselves."""

from __future__ import annotations

from domain.files import FileData
from storage.ports import Database


class StoredReportFiles:
    """`ReportFiles` (bot.ports.files) on the database's `report_files`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self, file_id: int) -> FileData | None:
        if not 0 < file_id < 2 ** 63:      # no such id: a row edited by hand must not reach the database driver
            return None
        async with self.db.uow(readonly=True) as uow:
            return await uow.report_files.get(file_id)
