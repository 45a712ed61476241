"""Group commit: many concurrent callers, one transaction, one commit.

Each `submit(item)` puts the item on a queue and waits. One committer task takes everything
queued (up to `max_batch`), opens one unit of work, applies each item inside its own SAVEPOINT —
an item that fails rolls back alone and its caller gets the exception — commits once, and only
then resolves every caller's future. A caller therefore learns of success only once its work is
durable, and a failed commit fails every item of the batch (nothing was written).

While one batch commits, the next one fills up, so the number of commits per second stays flat
while the items per commit grow with the load.

With `apply_many`, a batch of several items is first offered whole, as the first work of the
transaction: it returns a result for each item it handled and None for the others, which then go
one by one. If it raises, the transaction rolls back (nothing else was in it yet) and every item
goes one by one in a new one — so one bad item still fails alone. A
batch of one item runs without a savepoint (two statements fewer); if it fails, the transaction
rolls back and `recover` runs in a fresh one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from storage.ports import Database, UnitOfWork

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Apply = Callable[[UnitOfWork, T], Awaitable[R]]
Recover = Callable[[UnitOfWork, T, Exception], Awaitable["R | None"]]
ApplyMany = Callable[[UnitOfWork, Sequence[T]], Awaitable[Sequence["R | None"]]]


class GroupCommitter(Generic[T, R]):
    """Runs `apply(uow, item)` for submitted items in shared transactions."""

    def __init__(self, db: Database, apply: Apply[T, R], *, recover: Recover[T, R] | None = None,
                 apply_many: ApplyMany[T, R] | None = None, max_batch: int = 256,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        self.apply = apply
        self.recover = recover
        self.apply_many = apply_many
        self.max_batch = max_batch
        self.on_commit = on_commit
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._failing: str | None = None   # the commit failure going on, if any
        self.batches = 0          # commits done (for tests and the bench)
        self.items = 0            # items committed
        self.bulk_items = 0       # of which through `apply_many`
        self.bulk_failures = 0    # `apply_many` calls that raised (their batch went one by one)

    async def submit(self, item: T) -> R:
        """Apply `item` in the next group transaction; returns once it is committed. Raises
        what `apply` raised for this item, or the commit's error."""
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="group-commit")
        assert self._queue is not None
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await asyncio.shield(future)

    async def stop(self, *, timeout: float = 10.0) -> None:
        """Finish the items already queued (for at most `timeout` seconds), then stop the
        committer task."""
        task, queue = self._task, self._queue
        if task is None or queue is None:
            return
        deadline = asyncio.get_running_loop().time() + timeout
        while ((self._busy or not queue.empty()) and not task.done()
               and asyncio.get_running_loop().time() < deadline):
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            self._busy = True
            # Let the callers that are ready to submit do so before committing: on SQLite the
            # transaction runs without yielding (storage.sqlite_inline), so without this pause
            # a commit would usually carry one item while the others queue behind it.
            waiting = -1
            while queue.qsize() != waiting and queue.qsize() < self.max_batch:
                waiting = queue.qsize()
                await asyncio.sleep(0)
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._commit(batch)
            except asyncio.CancelledError:
                self._fail(batch, RuntimeError("intake stopping"))
                raise
            finally:
                self._busy = False

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        outcomes: list[tuple[bool, object]] = []
        bulk = 0
        try:
            async with self.db.uow() as uow:
                if len(batch) == 1:
                    outcomes.append(await self._apply_alone(uow, batch[0][0]))
                else:
                    done = await self._apply_many(uow, [item for item, _ in batch])
                    for (item, _), result in zip(batch, done, strict=True):
                        if result is not None:
                            outcomes.append((True, result))
                            bulk += 1
                            continue
                        try:
                            async with uow.savepoint():
                                outcomes.append((True, await self.apply(uow, item)))
                        except Exception as exc:  # this item fails alone...
                            outcomes.append(await self._recover(uow, item, exc))
                await uow.commit()
        except Exception as exc:
            # A failure that lasts (a database that is gone) is logged with its traceback once.
            what = f"{type(exc).__name__}: {exc}"
            log.log(logging.DEBUG if what == self._failing else logging.ERROR,
                    "group commit of %d item(s) failed", len(batch), exc_info=True)
            self._failing = what
            self._fail(batch, exc)
            return
        self._failing = None
        self.batches += 1
        self.items += sum(1 for ok, _ in outcomes if ok)
        self.bulk_items += bulk
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)  # type: ignore[arg-type]
            else:
                assert isinstance(value, BaseException)
                future.set_exception(value)
        if self.on_commit is not None:
            self.on_commit()

    async def _apply_alone(self, uow: UnitOfWork, item: T) -> tuple[bool, object]:
        """A batch of one: no savepoint; on failure roll back and recover in a new transaction."""
        try:
            return True, await self.apply(uow, item)
        except Exception as exc:
            await uow.rollback()
            return await self._recover(uow, item, exc)

    async def _apply_many(self, uow: UnitOfWork, items: list[T]) -> Sequence[R | None]:
        """`apply_many`, first in the transaction; all None (one by one) when absent or when it
        raises. It needs no savepoint (two statements fewer): on failure the whole transaction
        rolls back, which drops exactly its work, and the items go one by one in a new one."""
        if self.apply_many is None:
            return [None] * len(items)
        try:
            done = await self.apply_many(uow, items)
            if len(done) != len(items):
                raise RuntimeError(f"apply_many returned {len(done)} results for {len(items)} items")
            return done
        except Exception:
            log.exception("group commit: the bulk path failed for %d item(s); applying them one by one",
                          len(items))
            self.bulk_failures += 1
            await uow.rollback()
            return [None] * len(items)

    async def _recover(self, uow: UnitOfWork, item: T, exc: Exception) -> tuple[bool, object]:
        """...unless `recover` turns the failure into a result (recorded in its own savepoint)."""
        if self.recover is not None:
            try:
                async with uow.savepoint():
                    result = await self.recover(uow, item, exc)
                if result is not None:
                    return True, result
            except Exception:
                log.exception("group commit: recovering a failed item failed")
        log.error("group commit: item failed: %s: %s", type(exc).__name__, exc)
        return False, exc

    @staticmethod
    def _fail(batch: list[tuple[T, asyncio.Future[R]]], exc: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)
