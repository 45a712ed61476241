"""The daily indicator roll-ups (SQLite and PostgreSQL): kept in step by every write through the
service — filing, replies, closings, reopenings, causes and areas changed after the fact,
prórrogas — they hold exactly what counting every PQR again holds, and their sums over any
period and slice equal the counts made from the PQRs themselves. A database never counted (just
upgraded) or counted in another time zone is counted again once."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from bot.bootstrap import App
from bot.reports.indicators import IndicatorService
from domain.errors import DomainError
from domain.pqr_types import PqrType, Status
from storage.db import SqlDatabase
from storage.ports import IndicatorSlice
from storage.tables import indicator_days, indicator_resolution_days, indicator_rollup
from tests.integration.test_indicators import STAFF, at, build_month, file, make_app

EMAILS = ["ana@correo.co", "compras@acme.co", "ventas@acme.co", "luis@correo.co"]
CAUSES = ["facturacion", "entrega", "atencion"]
AREAS = ["Logística", "Cartera", None]


async def random_history(app: App, rng: random.Random, n: int = 30) -> None:
    """`n` PQRs filed over October–November, each taken through a random path."""
    for _ in range(n):
        t = at(10, 1, 8) + dt.timedelta(hours=rng.randrange(0, 24 * 58))
        rad = await file(app, rng.choice(list(PqrType)), rng.choice(EMAILS), t)
        for _step in range(rng.randrange(0, 6)):
            t += dt.timedelta(hours=rng.randrange(1, 60))
            try:
                await step(app, rad, rng, t)
            except DomainError:
                pass                             # a refused step (a prórroga too long…) changes nothing


async def step(app: App, rad: str, rng: random.Random, t: dt.datetime) -> None:
    """One random step of a PQR's life at `t`."""
    s = app.service
    pqr = await s.show(rad)
    move = rng.random()
    if pqr.status is Status.CERRADA:
        if move < 0.5:
            await s.reopen(rad, actor=STAFF, now=t)
        else:
            await s.set_cause(rad, rng.choice(CAUSES), actor=STAFF, now=t, area=rng.choice(AREAS))
    elif move < 0.3:
        await s.reply(rad, "Respuesta", actor=STAFF, now=t)
    elif move < 0.55:
        await s.close(rad, "Resuelto", actor=STAFF, now=t)
    elif move < 0.75:
        await s.set_cause(rad, rng.choice(CAUSES), actor=STAFF, now=t, area=rng.choice(AREAS))
    elif move < 0.85:
        await s.change_status(rad, Status.ESPERANDO_CLIENTE, actor=STAFF, now=t)
    elif not pqr.extended:
        await s.extend(rad, pqr.due_at + dt.timedelta(days=10), reason="Falta información",
                       actor=STAFF, now=t)


async def rollup_rows(db: SqlDatabase) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Every roll-up row that counts something."""
    async with db.uow(readonly=True) as uow:
        conn = uow._conn                     # noqa: SLF001  (the test reads the tables as stored)
        assert conn is not None
        days = {tuple(r) for r in (await conn.execute(select(indicator_days))).all() if any(r[5:])}
        res = {tuple(r) for r in (await conn.execute(select(indicator_resolution_days))).all() if r[4]}
    return days, res


async def history(database: SqlDatabase, tmp_path: Path) -> App:
    app = make_app(database, tmp_path)
    await build_month(app)
    await random_history(app, random.Random(7))
    return app


def nonzero(sums: dict[str, dict[str, list[int]]]) -> dict[str, dict[str, list[int]]]:
    return {d: {k: v for k, v in by.items() if any(v)} for d, by in sums.items()}


async def test_the_rollups_kept_in_step_equal_a_recount(database: SqlDatabase, tmp_path: Path) -> None:
    await history(database, tmp_path)
    kept = await rollup_rows(database)
    assert len(kept[0]) > 100 and kept[1]
    async with database.uow() as uow:
        assert await uow.indicator_days.rebuild(now=at(12, 1, 9)) == 36
        await uow.commit()
    assert await rollup_rows(database) == kept


async def test_the_rollups_sum_to_what_counting_the_pqrs_gives(database: SqlDatabase, tmp_path: Path) -> None:
    app = await history(database, tmp_path)
    ind = app.reports.indicators
    periods = [(dt.date(2026, 10, 1), dt.date(2026, 11, 1)), (dt.date(2026, 11, 1), dt.date(2026, 12, 1)),
               (dt.date(2026, 10, 1), dt.date(2027, 1, 1)), (dt.date(2026, 11, 10), dt.date(2026, 11, 17))]
    slices = [IndicatorSlice(), IndicatorSlice(client="ACME S.A.S."), IndicatorSlice(area="logística"),
              IndicatorSlice(area="Cartera")]
    checked = 0
    for start, end in periods:
        b = ind.bounds(start, end)
        for flt in slices:
            async with database.uow(readonly=True) as uow:
                rolled = await uow.indicators.sums(b.start_day, b.end_day, b.start, b.end, flt)
                counted = await uow.indicators.counted_sums(b.start, b.end, flt)
                answered = sum(v[1] for v in rolled["type"].values())
                hist, unmeasured = await uow.indicators.resolution_days(
                    b.start_day, b.end_day, b.start, b.end, flt, answered=answered)
                counted_hist = await uow.indicators.counted_resolution_days(b.start, b.end, flt)
            assert nonzero(rolled) == nonzero(counted), (start, end, flt)
            assert (hist, unmeasured) == counted_hist and sum(n for _, n in hist) == answered
            checked += sum(v[0] for v in rolled["type"].values())
    assert checked > 50


async def test_a_database_never_counted_or_counted_elsewhere_is_counted_once(database: SqlDatabase,
                                                                             tmp_path: Path) -> None:
    app = await history(database, tmp_path)
    ind = app.reports.indicators
    before = await ind.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    kept = await rollup_rows(database)
    async with database.uow() as uow:        # as a database upgraded to 0012 is: nothing counted
        conn = uow._conn                     # noqa: SLF001
        assert conn is not None
        for table in (indicator_days, indicator_resolution_days, indicator_rollup):
            await conn.execute(delete(table))
        await uow.commit()
    fresh = IndicatorService(database, ind.calendar, ind.clock)
    assert await fresh.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1)) == before
    assert await rollup_rows(database) == kept
    async with database.uow() as uow:        # counted in another zone: counted again
        conn = uow._conn                     # noqa: SLF001
        assert conn is not None
        await conn.execute(update(indicator_rollup).values(timezone="Europe/Madrid"))
        await conn.execute(delete(indicator_days))
        await uow.commit()
    again = IndicatorService(database, ind.calendar, ind.clock)
    assert await again.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1)) == before
    async with database.uow(readonly=True) as uow:
        assert await uow.indicator_days.built_for() == "America/Bogota"
