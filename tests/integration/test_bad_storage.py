"""A database that cannot be used is said plainly (`DatabaseUnavailable` with a reason), and a
SQLite file deleted or replaced under a running process stops every write instead of letting it
vanish into the unlinked file."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import DatabaseUnavailable, SqlDatabase
from storage.ports import OutboxItem
from tests.conftest import PG_URL
from tests.unwritable import unwritable_folder


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def refused(db_url: str) -> DatabaseUnavailable:
    db = SqlDatabase(db_url)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await db.upgrade()
        return caught.value
    finally:
        await db.dispose()


async def good_database(path: Path) -> None:
    db = SqlDatabase(url(path))
    await db.upgrade()
    await db.dispose()


async def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "pqrbot.db"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    exc = await refused(url(path))
    assert (exc.reason, exc.where, exc.detail) == ("not_sqlite", str(path), "file is not a database")


async def test_a_truncated_database(tmp_path: Path) -> None:
    path = tmp_path / "pqrbot.db"
    await good_database(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    exc = await refused(url(path))
    assert exc.reason == "not_sqlite" and "malformed" in exc.detail


async def test_another_applications_sqlite_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    exc = await refused(url(path))
    assert (exc.reason, exc.detail) == ("foreign", "moz_places")
    with sqlite3.connect(path) as conn:     # nothing of ours was created in it
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["moz_places"]


async def test_a_path_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    exc = await refused(url(tmp_path / "data" / "pqrbot.db"))
    assert (exc.reason, exc.detail) == ("not_a_directory", str(tmp_path / "data"))
    exc = await refused(url(tmp_path / "data" / "deeper" / "pqrbot.db"))
    assert (exc.reason, exc.detail) == ("not_a_directory", str(tmp_path / "data"))


async def test_a_folder_where_the_file_should_be(tmp_path: Path) -> None:
    (tmp_path / "pqrbot.db").mkdir()
    assert (await refused(url(tmp_path / "pqrbot.db"))).reason == "not_a_directory"


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A data folder pqrbot may not write in."""
    with unwritable_folder(tmp_path / "locked") as folder:
        yield folder


async def test_a_folder_pqrbot_may_not_write_in(unwritable: Path) -> None:
    exc = await refused(url(unwritable / "pqrbot.db"))
    assert exc.reason == "not_writable" and str(unwritable) in exc.detail
    exc = await refused(url(unwritable / "data" / "pqrbot.db"))
    assert exc.reason == "not_writable"


@pytest.mark.postgres
async def test_a_postgresql_server_that_does_not_answer_hides_the_password() -> None:
    exc = await refused("postgresql+asyncpg://pqrbot:s3cret@127.0.0.1:1/pqrbot")
    assert exc.reason == "unreachable" and "s3cret" not in str(exc) and "127.0.0.1:1" in exc.where


@pytest.mark.postgres
async def test_a_postgresql_database_that_does_not_exist() -> None:
    from sqlalchemy.engine import make_url
    missing = make_url(PG_URL).set(database="pqrbot_no_such_database").render_as_string(hide_password=False)
    try:
        exc = await refused(missing)
    except BaseException as other:   # pragma: no cover - the server itself is unreachable
        pytest.skip(f"PostgreSQL unreachable: {other}")
    assert exc.reason == "unreachable" and "pqrbot_no_such_database" in exc.detail + exc.where


# -- the file deleted or replaced under a running process -------------------------------------------

async def write(db: SqlDatabase, n: int) -> None:
    async with db.uow() as uow:
        await uow.outbox.put(OutboxItem(channel="email", destination="ana@x.co", payload={"kind": "t", "n": n}),
                             now=dt.datetime.now(dt.timezone.utc))
        await uow.commit()


async def test_a_deleted_file_stops_every_write_and_is_logged_once(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "pqrbot.db"
    db = SqlDatabase(url(path))
    await db.upgrade()
    try:
        await write(db, 1)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        caplog.set_level(logging.ERROR, logger="storage.db")
        for n in (2, 3, 4):
            with pytest.raises(DatabaseUnavailable) as gone:
                await write(db, n)
            assert (gone.value.reason, gone.value.detail) == ("gone", "deleted")
        errors = [r for r in caplog.records if r.name == "storage.db"]
        assert len(errors) == 1 and "deleted" in errors[0].getMessage() and "451" in errors[0].getMessage()
        async with db.uow(readonly=True) as uow:    # reads still answer (from the unlinked file)
            assert len(await uow.outbox.list(limit=10)) == 1
    finally:
        await db.dispose()


async def test_a_replaced_file_stops_writes_until_a_restart_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "pqrbot.db"
    await good_database(tmp_path / "backup.db")
    db = SqlDatabase(url(path))
    await db.upgrade()
    try:
        await write(db, 1)
        for suffix in ("", "-wal", "-shm"):            # the operator deletes the database …
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(tmp_path / "backup.db", path)      # … and restores a backup
        with pytest.raises(DatabaseUnavailable) as gone:
            await write(db, 2)
        assert gone.value.detail == "replaced by another file"
    finally:
        await db.dispose()
    restarted = SqlDatabase(url(path))                  # what a restart does
    await restarted.upgrade()
    try:
        await write(restarted, 3)
        async with restarted.uow(readonly=True) as uow:
            assert [i.payload["n"] for i in await uow.outbox.list(limit=10)] == [3]
    finally:
        await restarted.dispose()


async def test_a_database_never_upgraded_here_learns_its_file_on_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "pqrbot.db"
    await good_database(path)
    db = SqlDatabase(url(path))
    try:
        await write(db, 1)
        await write(db, 2)
        path.unlink()
        with pytest.raises(DatabaseUnavailable):
            await write(db, 3)
    finally:
        await db.dispose()
