"""Texts longer than their columns are refused with a clear answer before storage, on SQLite and on
PostgreSQL (which would otherwise fail with the driver's error), through the command layer every
chat uses and through the services; values at the limit are stored whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.bootstrap import App, build
from bot.config import parse_config
from bot.penalties.service import NewPenalty
from bot.pqrs.service import FilingRequest
from domain.errors import InvalidInput
from domain.limits import AREA_MAX, NAME_MAX
from domain.penalty import PenaltyCategory
from domain.pqr_types import PqrType
from storage.db import SqlDatabase
from storage.ports import PqrFilter

BOG = dt.timezone(dt.timedelta(hours=-5))
STAFF = "slack:U0STAFF"
NOW = dt.datetime(2026, 12, 21, 9, 0, tzinfo=BOG)


def make_app(db: SqlDatabase) -> App:
    cfg = parse_config({"language": "en", "roles": {"staff": [STAFF], "managers": ["slack:U0BOSS"]}})
    return build(cfg, db=db, clock=lambda: NOW)


async def stored(app: App) -> tuple[int, int]:
    async with app.db.uow(readonly=True) as uow:
        return await uow.pqrs.count(PqrFilter(statuses=())), len(await uow.penalties.list())


def request(**kw: object) -> FilingRequest:
    args: dict[str, object] = {"pqr_type": PqrType.QUEJA, "channel": "phone", "name": "Ana", "subject": "Cobro",
                               "body": "Me cobraron dos veces", "received_at": NOW, "actor": "cli:operator",
                               "email": "ana@example.co", **kw}
    return FilingRequest(**args)  # type: ignore[arg-type]


async def test_a_300_character_name_from_a_chat_is_refused_in_one_line(database: SqlDatabase) -> None:
    app = make_app(database)
    reply = await app.commands.handle(STAFF, f'new queja "{"x" * 300}" ana@example.co Cobro doble', NOW)
    assert reply.text == "The name is too long: at most 200 characters."
    reply = await app.commands.handle(STAFF, "new queja Ana ana@localhost Cobro doble", NOW)
    assert reply.text.startswith("“ana@localhost” is not an email address")
    assert await stored(app) == (0, 0)


async def test_long_name_area_and_client_through_the_services(database: SqlDatabase) -> None:
    app = make_app(database)
    for kw, code in (({"name": "x" * 300}, "name_too_long"), ({"area": "a" * 300}, "area_too_long"),
                     ({"phone": "3" * 60, "email": None}, "phone_too_long"), ({"channel": "c" * 41}, "channel_too_long")):
        with pytest.raises(InvalidInput) as refused:
            await app.service.file(request(**kw))
        assert refused.value.code == code
    with pytest.raises(InvalidInput) as refused:
        await app.penalties.register(NewPenalty(client="C" * 300, category=PenaltyCategory.KPI_ANS,
                                                amount=Decimal("1000"), area="Logística", actor="cli:operator"),
                                     now=NOW)
    assert refused.value.code == "client_too_long"
    assert await stored(app) == (0, 0)
    # At the limits everything is stored whole.
    pqr = await app.service.file(request(name="n" * NAME_MAX, area="a" * AREA_MAX))
    assert pqr is not None and pqr.radicado
    shown = await app.service.show(pqr.radicado)
    assert (len(shown.customer.name), len(shown.area or "")) == (NAME_MAX, AREA_MAX)


async def test_chat_verbs_with_long_values_answer_clearly(database: SqlDatabase) -> None:
    app = make_app(database)
    reply = await app.commands.handle(STAFF, f'penalty new "{"C" * 300}" kpi_ans 1500000 laboratorio', NOW)
    assert "at most 200 characters" in reply.text
    reply = await app.commands.handle(STAFF, f"list area:{'a' * 300}", NOW)     # a filter only reads
    assert "No PQRs" in reply.text
    assert await stored(app) == (0, 0)
