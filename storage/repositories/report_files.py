"""`ReportFileStore`: the files of scheduled reports, and which report deliveries are queued."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import insert, select

from domain.files import FileData
from storage.repositories.common import chunks
from storage.sqlite_inline import SqlConnection
from storage.tables import outbox, report_files


class SqlReportFiles:
    """Report files on the `report_files` table; the queued deliveries read from the outbox's
    dedupe keys (a report's rows carry `report:…` keys)."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def add(self, file: FileData, *, now: dt.datetime) -> int:
        """Store `file`; its id."""
        result = await self._conn.execute(
            insert(report_files).returning(report_files.c.id),
            {"name": file.filename, "content_type": file.content_type, "data": file.data, "created_at": now})
        return int(result.scalar_one())

    async def get(self, file_id: int) -> FileData | None:
        """The stored file, or None."""
        row = (await self._conn.execute(
            select(report_files.c.name, report_files.c.content_type, report_files.c.data)
            .where(report_files.c.id == file_id))).first()
        return None if row is None else FileData(row.name, row.content_type, bytes(row.data))

    async def queued(self, keys: Collection[str]) -> set[str]:
        """The outbox dedupe keys among `keys` that a row already carries (sent or not)."""
        found: set[str] = set()
        for part in chunks(sorted(set(keys))):
            rows = await self._conn.execute(select(outbox.c.dedupe_key).where(outbox.c.dedupe_key.in_(part)))
            found.update(str(k) for (k,) in rows.all())
        return found
