"""The storage layer against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from sqlalchemy import event, select

from domain.calendar import BusinessCalendar
from domain.customer import Customer
from domain.events import ActionRefused, Event
from domain.pqr import Direction, Pqr
from domain.pqr_types import PqrType, Status
from domain.terms import TermPolicy
from storage.db import SqlDatabase, make_database
from storage.ports import InboxItem, OutboxItem, PqrFilter
from storage.sqlite_inline import BUSY_SLICE_MS
from storage.tables import customers

BOGOTA = dt.timezone(dt.timedelta(hours=-5))
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=BOGOTA)
POLICY = TermPolicy(BusinessCalendar())


def new_pqr(*, name: str = "Ana", email: str | None = "ana@example.co", chat: int | None = None,
            pqr_type: PqrType = PqrType.QUEJA, received_at: dt.datetime = T0, body: str = "y",
            subject: str = "x", external_id: str | None = None, area: str | None = None) -> Pqr:
    customer = Customer(name=name, email=email, telegram_chat_id=chat)
    actor = f"email:{email}" if email else f"telegram:{chat}"
    return Pqr.file(pqr_type=pqr_type, channel="email" if email else "telegram", customer=customer,
                    subject=subject, body=body, received_at=received_at, policy=POLICY, actor=actor,
                    external_id=external_id, area=area)


async def file(db: SqlDatabase, pqr: Pqr, year: int = 2026) -> Pqr:
    async with db.uow() as uow:
        await uow.pqrs.add(pqr, radicado_format="PQR-{year}-{seq:06d}", year=year)
        await uow.commit()
    return pqr


async def test_filed_pqr_round_trips(database: SqlDatabase) -> None:
    pqr = await file(database, new_pqr(external_id="<m1@example.co>"))
    assert pqr.radicado == "PQR-2026-000001" and pqr.id is not None
    assert pqr.customer.id is not None and pqr.messages[0].id is not None

    async with database.uow(readonly=True) as uow:
        got = await uow.pqrs.get("pqr-2026-000001")
    assert got is not None
    assert (got.id, got.radicado, got.type, got.status, got.subject) == (
        pqr.id, "PQR-2026-000001", PqrType.QUEJA, Status.RADICADA, "x")
    assert got.received_at == T0 and got.received_at.tzinfo == dt.timezone.utc
    assert got.due_at == pqr.due_at and got.original_due_at == pqr.due_at
    assert got.first_response_due_at == pqr.first_response_due_at
    assert got.customer == pqr.customer
    assert got.messages == pqr.messages
    assert [type(e) for e in got.events] == [Event]
    assert got.events[0] == Event(kind="filed", actor="email:ana@example.co", at=T0,
                                  to="radicada", data=dict(pqr.events[0].data))

    later = T0 + dt.timedelta(hours=2)
    async with database.uow() as uow:
        cur = await uow.pqrs.get(pqr.radicado or "")
        assert cur is not None
        cur.assign("slack:U1", actor="slack:U0", now=later)
        cur.reply("respuesta", actor="slack:U1", now=later + dt.timedelta(minutes=1), channel="email")
        cur.note("nota interna", actor="slack:U1", now=later + dt.timedelta(minutes=2))
        await uow.pqrs.save(cur)
        await uow.pqrs.save(cur)  # nothing new: inserts nothing twice
        await uow.commit()

    async with database.uow() as uow:
        again = await uow.pqrs.get(pqr.radicado or "")
    assert again is not None
    assert (again.status, again.assignee, again.first_response_at) == (
        Status.EN_TRAMITE, "slack:U1", later + dt.timedelta(minutes=1))
    assert [m.direction for m in again.messages] == [Direction.IN, Direction.OUT, Direction.NOTE]
    assert [e.kind for e in again.events] == ["filed", "assigned", "status_changed", "message",
                                              "status_changed", "message"]
    assert again.events[1].from_ is None and again.events[1].to == "slack:U1"
    assert again.events == [Event(kind=e.kind, actor=e.actor, at=e.at, from_=e.from_, to=e.to,
                                  reason=e.reason, data=e.data) for e in cur.events]


async def test_customer_reused_by_email_and_by_telegram_chat(database: SqlDatabase) -> None:
    first = await file(database, new_pqr(name="Ana", email="ana@example.co"))
    second = await file(database, new_pqr(name="Ana María", email="ANA@example.co"))
    assert second.customer.id == first.customer.id

    by_chat = await file(database, new_pqr(name="Bea", email=None, chat=1001))
    by_chat_again = await file(database, new_pqr(name="B", email=None, chat=1001))
    assert by_chat_again.customer.id == by_chat.customer.id != first.customer.id

    # Known email, new chat: the same customer, who is now known by the chat as well.
    both = await file(database, new_pqr(name="Ana", email="ana@example.co", chat=2002))
    assert both.customer.id == first.customer.id
    async with database.uow(readonly=True) as uow:
        known = await uow.customers.by_identity("telegram:2002")
        assert known is not None and known.id == first.customer.id and known.telegram_chat_id == 2002
        assert (await uow.customers.by_identity("Email:Ana@Example.co")) == known
        assert await uow.customers.by_identity("email:nobody@example.co") is None
        count = len((await uow.connection.execute(select(customers.c.id))).all())
    assert count == 2


async def test_customer_add_and_save(database: SqlDatabase) -> None:
    c = Customer(name="Carla", email="carla@example.co")
    async with database.uow() as uow:
        await uow.customers.add(c)
        c.telegram_chat_id, c.unreachable = 3003, True
        await uow.customers.save(c)
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.customers.by_identity("telegram:3003") == c


async def test_rollback_gives_the_radicado_back(database: SqlDatabase) -> None:
    async with database.uow() as uow:
        await uow.pqrs.add(new_pqr(), radicado_format="PQR-{year}-{seq:06d}", year=2026)
    assert (await file(database, new_pqr())).radicado == "PQR-2026-000001"
    assert (await file(database, new_pqr(), year=2027)).radicado == "PQR-2027-000001"
    assert (await file(database, new_pqr())).radicado == "PQR-2026-000002"


async def _seed(db: SqlDatabase) -> list[Pqr]:
    """Five PQRs filed a day apart (so due dates ascend); #1 assigned, #2 closed, #4 a petición."""
    made = []
    for i in range(5):
        p = new_pqr(name=f"C{i}", email=f"c{i}@example.co", received_at=T0 + dt.timedelta(days=i),
                    pqr_type=PqrType.PETICION if i == 4 else PqrType.QUEJA,
                    area="lab" if i in (0, 3) else None)
        made.append(await file(db, p))
    async with db.uow() as uow:
        one = await uow.pqrs.get(made[1].radicado or "")
        two = await uow.pqrs.get(made[2].radicado or "")
        assert one and two
        one.assign("slack:U1", actor="slack:U0", now=T0)
        two.close("listo", actor="slack:U0", now=T0, channel="email")
        await uow.pqrs.save(one)
        await uow.pqrs.save(two)
        await uow.commit()
    return made


async def test_list_filters_and_order(database: SqlDatabase) -> None:
    made = await _seed(database)
    rad = [p.radicado for p in made]
    async with database.uow(readonly=True) as uow:
        async def radicados(**kw: Any) -> list[str | None]:
            return [p.radicado for p in await uow.pqrs.list(PqrFilter(**kw))]

        assert await radicados() == [rad[0], rad[1], rad[3], rad[4]]
        assert await radicados(statuses=()) == rad
        assert await radicados(statuses=(Status.CERRADA,)) == [rad[2]]
        assert await radicados(assignee="slack:U1") == [rad[1]]
        assert await radicados(area="lab") == [rad[0], rad[3]]
        assert await radicados(type="peticion") == [rad[4]]
        assert await radicados(customer_id=made[3].customer.id) == [rad[3]]
        assert await radicados(due_before=made[3].due_at) == [rad[0], rad[1]]
        assert await radicados(due_from=made[3].due_at) == [rad[3], rad[4]]
        assert await radicados(limit=2, offset=1) == [rad[1], rad[3]]
        assert await uow.pqrs.count(PqrFilter()) == 4
        assert await uow.pqrs.count(PqrFilter(statuses=(), limit=1)) == 5

        detailed = await uow.pqrs.list(PqrFilter(statuses=()))
        assert [len(p.messages) for p in detailed] == [1, 1, 2, 1, 1]
        assert [len(p.events) for p in detailed] == [1, 3, 4, 1, 1]
        bare = await uow.pqrs.list(PqrFilter(), details=False)
        assert all(p.messages == [] and p.events == [] for p in bare)
        assert bare[0].customer.name == "C0"


async def test_stats(database: SqlDatabase) -> None:
    made = await _seed(database)
    async with database.uow(readonly=True) as uow:
        stats = await uow.pqrs.stats(made[3].due_at)
    assert stats.by_status == {"radicada": 3, "asignada": 1, "cerrada": 1}
    assert stats.by_type == {"queja": 4, "peticion": 1}
    assert (stats.open_total, stats.breached) == (4, 2)


async def test_find_by_message_id(database: SqlDatabase) -> None:
    pqr = await file(database, new_pqr(external_id="<abc@mail.example.co>"))
    async with database.uow(readonly=True) as uow:
        radicado = await uow.mail.radicado_for_external_ids(["<abc@mail.example.co>"])
        found = await uow.pqrs.get(radicado) if radicado else None
        assert found is not None and found.radicado == pqr.radicado and found.messages
        assert await uow.mail.radicado_for_external_ids(["<nope@x>"]) is None
        assert await uow.pqrs.get("PQR-1999-000001") is None


async def test_list_details_are_batched(database: SqlDatabase) -> None:
    n = 620  # more than one IN chunk (500)
    async with database.uow() as uow:
        for i in range(n):
            p = new_pqr(name=f"C{i}", email=f"c{i}@example.co", body=f"b{i}")
            await uow.pqrs.add(p, radicado_format="PQR-{year}-{seq:06d}", year=2026)
        await uow.commit()

    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.uow(readonly=True) as uow:
            listed = await uow.pqrs.list(PqrFilter())
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert len(listed) == n
    assert all(len(p.messages) == 1 and len(p.events) == 1 for p in listed)
    assert listed[7].messages[0].body == f"b{int(listed[7].customer.name[1:])}"
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 + 2 * 2, selects  # the PQRs, then per chunk the messages (with their attachments) and events


async def test_open_queries_use_the_partial_index(sqlite_database: SqlDatabase) -> None:
    captured: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        captured.append((statement, parameters))

    event.listen(sqlite_database.engine.sync_engine, "before_cursor_execute", record)
    async with sqlite_database.uow(readonly=True) as uow:
        await uow.pqrs.list(PqrFilter(due_before=T0), details=False)
        event.remove(sqlite_database.engine.sync_engine, "before_cursor_execute", record)
        statement, params = captured[-1]
        plan = (await uow.connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)).all()
    assert "ix_pqrs_open_due_at" in " ".join(str(r) for r in plan)


async def test_outbox_dedupe_claim_fail_dead_retry(database: SqlDatabase) -> None:
    now = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)
    async with database.uow() as uow:
        first = OutboxItem(channel="email", destination="ana@example.co", payload={"text": "hola"},
                           dedupe_key="ack:1")
        await uow.outbox.put(first, now=now)
        repeat = OutboxItem(channel="email", destination="ana@example.co", payload={}, dedupe_key="ack:1")
        await uow.outbox.put(repeat, now=now)
        for i in range(3):
            await uow.outbox.put(OutboxItem(channel="slack", destination="C1", payload={"i": i}), now=now)
        later = OutboxItem(channel="slack", destination="C1", payload={}, next_attempt_at=now + dt.timedelta(hours=1))
        await uow.outbox.put(later, now=now)
        await uow.commit()
    assert first.id is not None and repeat.id is None
    async with database.uow() as uow:
        await uow.outbox.put(OutboxItem(channel="email", destination="x", payload={}, dedupe_key="ack:1"), now=now)
        await uow.commit()
        assert len(await uow.outbox.list()) == 5

    lease = dt.timedelta(minutes=5)

    async def claim(limit: int, at: dt.datetime = now) -> list[OutboxItem]:
        async with database.uow() as uow:
            items = await uow.outbox.claim(now=at, limit=limit, lease=lease)
            await asyncio.sleep(0.05)  # hold the transaction so concurrent claimers overlap
            await uow.commit()
            return items

    a, b = await asyncio.gather(claim(2), claim(2))
    ids = [i.id for i in a + b]
    assert len(ids) == 4 and len(set(ids)) == 4 and later.id not in ids
    assert a[0].payload in ({"text": "hola"}, {"i": 0}, {"i": 1}, {"i": 2})
    assert await claim(10) == []                                  # all leased
    assert len(await claim(10, now + lease)) == 4                 # leases over
    assert {i.id for i in await claim(10, now + 2 * lease + dt.timedelta(hours=1))} == set(ids) | {later.id}

    async with database.uow() as uow:
        await uow.outbox.mark_failed(ids[0], error="timeout", retry_at=now + dt.timedelta(minutes=1))
        await uow.outbox.mark_failed(ids[1], error="550 no such user", retry_at=None)
        await uow.outbox.mark_sent(ids[2], now=now)
        await uow.commit()
        by_id = {i.id: i for i in await uow.outbox.list()}
        assert (by_id[ids[0]].status, by_id[ids[0]].attempts, by_id[ids[0]].last_error) == ("pending", 1, "timeout")
        assert (by_id[ids[1]].status, by_id[ids[1]].attempts) == ("dead", 1)
        assert (by_id[ids[2]].status, by_id[ids[2]].sent_at) == ("sent", now)
        assert [i.id for i in await uow.outbox.list(status="dead")] == [ids[1]]
        assert await uow.outbox.retry(ids[1], now=now) is True
        assert await uow.outbox.retry(ids[2], now=now) is False  # sent stays sent
        await uow.commit()
    assert ids[1] in [i.id for i in await claim(10, now + dt.timedelta(seconds=1))]


async def test_inbound_duplicate_keeps_the_transaction(database: SqlDatabase) -> None:
    now = T0
    async with database.uow() as uow:
        assert await uow.inbound.remember("telegram", "update:1", now=now) is True
        assert await uow.inbound.remember("telegram", "update:1", now=now) is False
        assert await uow.inbound.remember("email", "update:1", now=now) is True
        await uow.pqrs.add(new_pqr(), radicado_format="PQR-{year}-{seq:06d}", year=2026)
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.inbound.remember("telegram", "update:1", now=now) is False
        assert (await uow.pqrs.get("PQR-2026-000001")) is not None


async def test_audit_record_and_list(database: SqlDatabase) -> None:
    pqr = await file(database, new_pqr())
    async with database.uow() as uow:
        await uow.audit.record(ActionRefused(actor="slack:U9", at=T0, reason="not staff",
                                             data={"command": "/pqr list"}))
        await uow.audit.record(Event(kind="note", actor="slack:U1", at=T0 + dt.timedelta(seconds=1)),
                               pqr_id=pqr.id)
        await uow.commit()
    async with database.uow(readonly=True) as uow:
        refused = await uow.audit.list(kind="refused")
        assert refused == [Event(kind="refused", actor="slack:U9", at=T0, reason="not staff",
                                 data={"command": "/pqr list"})]
        assert [e.kind for e in await uow.audit.list()] == ["note", "refused", "filed"]
        assert [e.kind for e in await uow.audit.list(limit=1)] == ["note"]


async def test_200_concurrent_filings_get_consecutive_radicados(database: SqlDatabase) -> None:
    async def one(i: int) -> str:
        p = new_pqr(name=f"C{i}", email=f"c{i % 50}@example.co")
        async with database.uow() as uow:
            await uow.pqrs.add(p, radicado_format="PQR-{year}-{seq:06d}", year=2026)
            await uow.commit()
        assert p.radicado is not None
        return p.radicado

    radicados = await asyncio.gather(*(one(i) for i in range(200)))
    assert sorted(radicados) == [f"PQR-2026-{n:06d}" for n in range(1, 201)]
    async with database.uow(readonly=True) as uow:
        assert await uow.pqrs.count(PqrFilter(statuses=())) == 200
        assert len((await uow.connection.execute(select(customers.c.id))).all()) == 50


FILER = textwrap.dedent("""
    import asyncio, datetime as dt, sys
    from domain.calendar import BusinessCalendar
    from domain.customer import Customer
    from domain.pqr import Pqr
    from domain.pqr_types import PqrType
    from domain.terms import TermPolicy
    from storage.db import SqlDatabase

    async def main(url, worker, n):
        db = SqlDatabase(url)
        at = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
        out = []
        for i in range(n):
            email = f"w{worker}-{i % 3}@example.co"
            pqr = Pqr.file(pqr_type=PqrType.QUEJA, channel="email", customer=Customer(name="W", email=email),
                           subject="x", body="y", received_at=at, policy=TermPolicy(BusinessCalendar()),
                           actor=f"email:{email}")
            async with db.uow() as uow:
                await uow.pqrs.add(pqr, radicado_format="PQR-{year}-{seq:06d}", year=2026)
                await uow.commit()
            out.append(pqr.radicado)
        await db.dispose()
        print("\\n".join(out))

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
""")


@pytest.mark.slow
async def test_concurrent_filing_from_four_processes_on_sqlite(sqlite_database: SqlDatabase) -> None:
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", FILER, sqlite_database.url, str(w), "25",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for w in range(4)]
    results = await asyncio.gather(*(p.communicate() for p in procs))
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()
    radicados = [line for out, _ in results for line in out.decode().split()]
    assert sorted(radicados) == [f"PQR-2026-{n:06d}" for n in range(1, 101)]


async def test_nothing_connects_before_use() -> None:
    db = make_database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert db.dialect == "postgresql"
    await db.dispose()


async def test_sqlite_connection_settings(sqlite_database: SqlDatabase) -> None:
    """Reads (aiosqlite) wait up to 30 s in SQLite's busy handler, off the loop; writes (inline)
    block the loop at most one short busy slice, then retry after asyncio.sleep."""
    names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    seen = {}
    for readonly in (True, False):
        async with sqlite_database.uow(readonly=readonly) as uow:
            conn = uow.connection
            seen[readonly] = {p: (await conn.exec_driver_sql(f"PRAGMA {p}")).scalar() for p in names}
    assert seen[True] == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 30000, "foreign_keys": 1}
    assert seen[False] == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": BUSY_SLICE_MS,
                           "foreign_keys": 1}


# -- the bulk path (add_many and the batch helpers used by email intake) ---------------------------

async def _radicados_and_customers(db: SqlDatabase) -> tuple[list[str], int]:
    async with db.uow(readonly=True) as uow:
        listed = await uow.pqrs.list(PqrFilter(statuses=()), details=False)
        count = len((await uow.connection.execute(select(customers.c.id))).all())
    return sorted(p.radicado or "" for p in listed), count


async def test_add_many_is_gapless_in_order_and_reuses_customers(database: SqlDatabase) -> None:
    first = await file(database, new_pqr(name="Ana", email="ana@example.co"))
    batch = [new_pqr(name="Bea", email="bea@example.co", external_id="<b1@x>"),
             new_pqr(name="Ana otra vez", email="ANA@example.co"),          # stored customer
             new_pqr(name="Bea bis", email="bea@example.co"),              # new, twice in the batch
             new_pqr(name="Chat", email=None, chat=4004)]
    async with database.uow() as uow:
        await uow.pqrs.add_many(batch, radicado_format="PQR-{year}-{seq:06d}", year=2026)
        await uow.commit()
    assert [p.radicado for p in batch] == [f"PQR-2026-{n:06d}" for n in range(2, 6)]
    assert batch[1].customer.id == first.customer.id
    assert batch[0].customer.id == batch[2].customer.id != first.customer.id
    assert len({p.id for p in batch}) == 4 and all(m.id is not None for p in batch for m in p.messages)
    async with database.uow(readonly=True) as uow:
        for p in batch:
            got = await uow.pqrs.get(p.radicado or "")
            assert got is not None and got.id == p.id and got.customer.id == p.customer.id
            assert got.messages == p.messages and [e.kind for e in got.events] == ["filed"]
            assert got.due_at == p.due_at
        assert (await uow.customers.by_identity("telegram:4004")) is not None
    assert (await _radicados_and_customers(database))[1] == 3

    async with database.uow() as uow:  # rolled back: the numbers come back
        await uow.pqrs.add_many([new_pqr(), new_pqr()], radicado_format="PQR-{year}-{seq:06d}", year=2026)
    assert (await file(database, new_pqr())).radicado == "PQR-2026-000006"
    async with database.uow() as uow:  # a year without a counter row yet
        more = [new_pqr(email="z@example.co"), new_pqr(email="z@example.co")]
        await uow.pqrs.add_many(more, radicado_format="PQR-{year}-{seq:06d}", year=2027)
        await uow.commit()
    assert [p.radicado for p in more] == ["PQR-2027-000001", "PQR-2027-000002"]


async def test_concurrent_add_many_and_add_get_consecutive_radicados(database: SqlDatabase) -> None:
    async def batch(b: int) -> list[str]:
        ps = [new_pqr(name=f"B{b}-{i}", email=f"c{(b * 5 + i) % 13}@example.co") for i in range(5)]
        if b % 4 == 3:  # one by one, a transaction each, alongside the batches
            for p in ps:
                await file(database, p)
        else:
            async with database.uow() as uow:
                await uow.pqrs.add_many(ps, radicado_format="PQR-{year}-{seq:06d}", year=2026)
                await uow.commit()
        radicados = [p.radicado or "" for p in ps]
        assert radicados == sorted(radicados)
        return radicados

    results = await asyncio.gather(*(batch(b) for b in range(16)))
    everything = [r for rs in results for r in rs]
    assert sorted(everything) == [f"PQR-2026-{n:06d}" for n in range(1, 81)]
    radicados, count = await _radicados_and_customers(database)
    assert radicados == sorted(everything) and count == 13   # one customer per email, races included


async def test_bulk_inbound_keys_outbox_and_raw_messages(database: SqlDatabase) -> None:
    from storage.ports import RawMessage

    now = T0
    async with database.uow() as uow:
        assert await uow.inbound.remember("email", "<a@x>", now=now) is True
        assert await uow.inbound.remember_many([("email", "<a@x>", now), ("email", "<b@x>", now),
                                                ("email", "<b@x>", now), ("telegram", "<a@x>", now)]) == [
            False, True, False, True]
        items = [OutboxItem(channel="email", destination="a", payload={"n": 1}, dedupe_key="ack:A"),
                 OutboxItem(channel="email", destination="b", payload={"n": 2}),
                 OutboxItem(channel="email", destination="c", payload={"n": 3}, dedupe_key="ack:A"),
                 OutboxItem(channel="slack", destination="C1", payload={"n": 4}, dedupe_key="t:A")]
        await uow.outbox.put_many([(i, now) for i in items])
        assert items[0].id and items[1].id and items[3].id and items[2].id is None
        raws = [RawMessage(channel="email", external_id=f"<r{i}@x>", received_at=now, data=b"x" * i,
                           disposition="filed") for i in range(3)]
        ids = await uow.mail.keep_raw_many(raws)
        await uow.commit()
    async with database.uow(readonly=True) as uow:
        queued = await uow.outbox.list()
        assert [(i.id, i.payload) for i in queued] == sorted(
            [(items[0].id, {"n": 1}), (items[1].id, {"n": 2}), (items[3].id, {"n": 4})], key=lambda x: x[0] or 0)
        kept = {r.id: r for r in await uow.mail.list_raw()}
        assert [kept[i].data for i in ids] == [b"", b"x", b"xx"] and ids == sorted(ids)


async def test_inbox_appends_keep_every_field_and_return_ids_in_order(database: SqlDatabase) -> None:
    """SQLite appends go through the driver's executemany (storage.repositories.inbox): what is
    read back is what was appended, on both backends, and the ids are the rows' own."""
    received = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    now = T0
    first = [InboxItem(source="smtp", received_at=received, data=b"raw\x00\xff" * 10, mail_from="a@x.co",
                       rcpt_tos=("pqr@example.co", "quejas@example.co"), client="127.0.0.1",
                       message_id="<" + "m" * 1200 + ">", subject="Queja — ñandú")]
    more = [InboxItem(source="imap", account="buzon", received_at=received + dt.timedelta(seconds=n), data=b"x",
                      mail_from=None, rcpt_tos=(), message_id=None, subject=None) for n in range(3)]
    async with database.uow() as uow:
        [a] = await uow.inbox.append_many(first, now=now)
        ids = await uow.inbox.append_many(more, now=now)
        await uow.commit()
    assert ids == [a + 1, a + 2, a + 3]
    async with database.uow(readonly=True) as uow:
        got = await uow.inbox.get(a)
        others = [await uow.inbox.get(i) for i in ids]
    assert got is not None
    assert (got.source, got.data, got.mail_from, got.rcpt_tos, got.client, got.subject, got.status, got.attempts) == \
        ("smtp", b"raw\x00\xff" * 10, "a@x.co", ("pqr@example.co", "quejas@example.co"), "127.0.0.1",
         "Queja — ñandú", "pending", 0)
    assert got.message_id == ("<" + "m" * 1200 + ">")[:998]
    assert got.received_at == received and got.received_at.utcoffset() == dt.timedelta(0)
    assert got.next_attempt_at == now
    assert [(o.source, o.account, o.received_at) for o in others if o is not None] == \
        [("imap", "buzon", received + dt.timedelta(seconds=n)) for n in range(3)]
