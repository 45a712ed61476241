"""GroupCommitter on a real SQLite database: callers that become ready while a batch gathers
share its commit, even though SQLite transactions run without yielding to the loop."""

from __future__ import annotations

import asyncio

from bot.intake.group_commit import GroupCommitter
from storage.db import SqlDatabase
from storage.ports import UnitOfWork
from tests.integration.test_storage import T0


async def test_callers_ready_a_few_loop_turns_apart_share_one_commit(sqlite_database: SqlDatabase) -> None:
    async def apply(uow: UnitOfWork, key: str) -> bool:
        return await uow.inbound.remember("email", key, now=T0)

    committer: GroupCommitter[str, bool] = GroupCommitter(sqlite_database, apply)

    async def caller(n: int) -> bool:
        for _ in range(n % 3):          # as SMTP sessions whose DATA completes a turn or two later
            await asyncio.sleep(0)
        return await committer.submit(f"<{n}@x>")

    try:
        assert all(await asyncio.gather(*(caller(n) for n in range(9))))
    finally:
        await committer.stop()
    assert committer.items == 9
    assert committer.batches == 1
