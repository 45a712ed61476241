"""SQLite writes: writers of one process take turns in asyncio, writes and short reads run inline
on the loop, and waiting for another process's write lock never stalls the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import make_url

from storage.db import SqlDatabase
from storage.sql import WriteGate
from storage.sqlite_inline import InlineConnection
from storage.tables import UtcDateTime, inbound_keys
from tests.integration.test_storage import T0


def _path(db: SqlDatabase) -> str:
    path = make_url(db.url).database
    assert path
    return path


async def _count(db: SqlDatabase) -> int:
    async with db.uow(readonly=True) as uow:
        return int((await uow.connection.execute(select(func.count()).select_from(inbound_keys))).scalar_one())


async def test_writes_run_inline_and_reads_on_aiosqlite(sqlite_database: SqlDatabase) -> None:
    async with sqlite_database.uow() as uow:
        assert isinstance(uow.connection, InlineConnection)
    async with sqlite_database.uow(readonly=True) as uow:
        assert not isinstance(uow.connection, InlineConnection)


async def test_short_reads_run_inline_without_the_write_turn_or_lock(sqlite_database: SqlDatabase) -> None:
    """A short read (a page, one PQR) runs on the loop's own connection, in a plain deferred
    transaction: it neither waits for this process's writer nor holds off another process's."""
    async with sqlite_database.uow() as uow:
        await uow.inbound.remember("email", "<a@x>", now=T0)
        await uow.commit()
    async with sqlite_database.uow() as writer:              # holds this process's write turn
        await writer.inbound.remember("email", "<b@x>", now=T0)
        async with sqlite_database.uow(readonly=True, short=True) as uow:
            assert isinstance(uow.connection, InlineConnection)
            seen = (await uow.connection.execute(select(func.count()).select_from(inbound_keys))).scalar_one()
            assert seen == 1                                  # the writer's row is not committed yet
        await writer.commit()
    async with sqlite_database.uow(readonly=True, short=True) as uow:
        first = (await uow.connection.execute(select(func.count()).select_from(inbound_keys))).scalar_one()
        other = sqlite3.connect(_path(sqlite_database), timeout=0)   # another process's writer
        other.execute("INSERT INTO inbound_keys (channel, key, created_at) VALUES ('email', '<c@x>', '2026-01-01 00:00:00.000000')")
        other.commit()
        other.close()
        again = (await uow.connection.execute(select(func.count()).select_from(inbound_keys))).scalar_one()
        assert first == again == 2                            # one snapshot for the whole read
    assert await _count(sqlite_database) == 3
    with pytest.raises(ValueError):
        sqlite_database.uow(short=True)


async def test_writers_of_one_process_take_turns(sqlite_database: SqlDatabase) -> None:
    first_inside, release = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with sqlite_database.uow() as uow:
            await uow.inbound.remember("email", "<a@x>", now=T0)
            first_inside.set()
            await release.wait()          # holds the write turn across an await
            await uow.commit()
            order.append("first committed")

    async def second() -> None:
        await first_inside.wait()
        async with sqlite_database.uow() as uow:
            order.append("second inside")
            await uow.inbound.remember("email", "<b@x>", now=T0)
            await uow.commit()

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_inside.wait()
    for _ in range(20):               # the loop keeps turning; the second writer keeps waiting
        await asyncio.sleep(0)
    assert order == []
    assert await _count(sqlite_database) == 0   # a reader is not held up by the writer
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["first committed", "second inside"]
    assert await _count(sqlite_database) == 2


async def test_a_turn_not_given_in_time_says_the_database_is_locked() -> None:
    gate = WriteGate(timeout=0.05)
    async with gate.held():
        with pytest.raises(TimeoutError, match="database is locked"):
            async with gate.held():
                pass
    async with gate.held():           # released by the holder: free again
        pass


async def test_another_process_holding_the_lock_does_not_stall_the_loop(sqlite_database: SqlDatabase) -> None:
    other = sqlite3.connect(_path(sqlite_database), isolation_level=None)   # as another process would
    try:
        other.execute("BEGIN IMMEDIATE")
        ticks = 0
        waiting = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                if ticks == 50:
                    waiting.set()
                await asyncio.sleep(0.001)

        async def write() -> None:
            async with sqlite_database.uow() as uow:
                await uow.inbound.remember("email", "<c@x>", now=T0)
                await uow.commit()

        tick = asyncio.create_task(ticker())
        writer = asyncio.create_task(write())
        await asyncio.wait_for(waiting.wait(), 10)   # 50 loop turns while the lock is held elsewhere
        assert not writer.done()
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 10)
        tick.cancel()
        assert await _count(sqlite_database) == 1
    finally:
        other.close()


async def test_a_lock_held_past_the_timeout_fails_the_write(tmp_path: Path) -> None:
    db = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await db.upgrade()
    other = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        async with db.uow() as uow:
            assert isinstance(uow.connection, InlineConnection)
            uow.connection.lock_timeout = 0.2
            with pytest.raises(OperationalError, match="locked"):
                await uow.inbound.remember("email", "<d@x>", now=T0)
        other.execute("ROLLBACK")
        async with db.uow() as uow:    # the connection went back to the pool usable
            await uow.inbound.remember("email", "<d@x>", now=T0)
            await uow.commit()
        assert await _count(db) == 1
    finally:
        other.close()
        await db.dispose()


async def test_checkpoint_folds_the_log_into_the_database_file(database: SqlDatabase) -> None:
    async with database.uow() as uow:          # ~1 MB: below the size of an automatic checkpoint
        for n in range(1000):
            await uow.inbound.remember("email", f"<{n}-{'x' * 900}@x>", now=T0)
        await uow.commit()
    if database.dialect != "sqlite":
        await database.checkpoint()             # nothing to do, and says so by not failing
        return
    path = Path(_path(database))
    before = path.stat().st_size
    await database.checkpoint()
    assert path.stat().st_size > before + 500_000
    assert await _count(database) == 1000


@pytest.mark.parametrize("stored, expected", [
    ("2026-03-01 12:34:56.123456", "2026-03-01T12:34:56.123456+00:00"),   # as SQLAlchemy writes it
    ("2026-03-01 12:34:56", "2026-03-01T12:34:56+00:00"),                 # SQLite's CURRENT_TIMESTAMP
    ("2026-03-01T12:34:56", "2026-03-01T12:34:56+00:00"),
    (None, None),
])
async def test_instants_read_from_sqlite_text_are_aware_utc(sqlite_database: SqlDatabase, stored: str | None,
                                                            expected: str | None) -> None:
    conn = sqlite3.connect(_path(sqlite_database))
    conn.execute("CREATE TABLE instants (at TEXT)")
    conn.execute("INSERT INTO instants VALUES (?)", (stored,))
    conn.commit()
    conn.close()
    table = sa.table("instants", sa.column("at", UtcDateTime))
    async with sqlite_database.uow(readonly=True, short=True) as uow:
        at = (await uow.connection.execute(select(table.c.at))).scalar_one()
    assert (at.isoformat() if at is not None else None) == expected


async def test_open_listings_read_inline_and_other_states_off_the_loop(sqlite_database: SqlDatabase) -> None:
    """The queue's and the API's default (the open PQRs, bounded by the partial indexes) is a
    short read on the loop's connection; a listing of other states, which scans every PQR, runs
    on aiosqlite's thread."""
    from bot.bootstrap import build
    from bot.config import parse_config
    from bot.pqrs.listing import listing
    from storage.ports import PqrFilter

    app = build(parse_config({"database": {"url": sqlite_database.url}}), db=sqlite_database)
    threaded, inline = sqlite_database.sync_engines
    seen: list[str] = []

    def on(name: str) -> Any:
        return lambda *args: seen.append(name)

    sa.event.listen(threaded, "before_cursor_execute", on("thread"))
    sa.event.listen(inline, "before_cursor_execute", on("inline"))
    await listing(app.service, PqrFilter(limit=20))
    assert seen and set(seen) == {"inline"}
    seen.clear()
    await listing(app.service, PqrFilter(statuses=(), limit=20))
    assert seen and set(seen) == {"thread"}
