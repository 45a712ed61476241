"""Customers and the identities (`email:…`, `telegram:…`) they are known by."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.customer import Customer, identity
from storage.repositories.common import chunks, insert_returning_ids, utcnow
from storage.sqlite_inline import SqlConnection
from storage.tables import customer_identities, customers

_INSERT_CUSTOMER = insert(customers).returning(customers.c.id)


_ID_OF = select(customer_identities.c.customer_id).where(
    customer_identities.c.identity == bindparam("ident"))


@cache
def _register_stmt(dialect: str) -> Any:
    """`INSERT … ON CONFLICT (identity) DO NOTHING RETURNING identity` (one or many rows)."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert_(customer_identities).on_conflict_do_nothing(index_elements=["identity"])
            .returning(customer_identities.c.identity))


def canonical_identity(value: str) -> str:
    """`Email:Ana@X.co ` -> `email:ana@x.co`; a value without a channel prefix is kept as is."""
    channel, sep, address = value.strip().partition(":")
    return identity(channel.lower(), address) if sep else value.strip()


def customer_from_row(row: Row[Any], prefix: str = "") -> Customer:
    """A `Customer` from a row whose customer columns may carry a label prefix."""
    m = row._mapping
    return Customer(name=m[f"{prefix}name"], email=m[f"{prefix}email"],
                    telegram_chat_id=m[f"{prefix}telegram_chat_id"], phone=m[f"{prefix}phone"],
                    language=m[f"{prefix}language"], id=m[f"{prefix}id"],
                    unreachable=bool(m[f"{prefix}unreachable"]))


class SqlCustomerRepository:
    """`CustomerRepository` on the `customers` and `customer_identities` tables."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def by_identity(self, ident: str) -> Customer | None:
        """The customer known by `email:…` or `telegram:…`, or None."""
        row = (await self._conn.execute(
            select(customers).join(customer_identities)
            .where(customer_identities.c.identity == canonical_identity(ident)))).first()
        return customer_from_row(row) if row else None

    async def by_identities(self, idents: Collection[str]) -> dict[str, Customer]:
        """The stored customers known by any of `idents` (canonicalized), by identity; one
        object per customer, shared by its identities."""
        wanted = list(dict.fromkeys(canonical_identity(i) for i in idents))
        found: dict[str, Customer] = {}
        by_id: dict[int, Customer] = {}
        for part in chunks(wanted):
            rows = (await self._conn.execute(
                select(customers, customer_identities.c.identity.label("ident__identity"))
                .join(customer_identities).where(customer_identities.c.identity.in_(part)))).all()
            for row in rows:
                customer = by_id.setdefault(row.id, customer_from_row(row))
                found[row.ident__identity] = customer
        return found

    async def add(self, customer: Customer) -> None:
        """Insert and register the identities nobody else holds yet; sets `customer.id`."""
        await self._insert(customer)
        await self._register(customer)

    async def _insert(self, customer: Customer) -> None:
        values = self._values(customer)
        values["created_at"] = utcnow()
        customer.id = (await self._conn.execute(_INSERT_CUSTOMER, values)).scalar_one()

    async def save(self, customer: Customer) -> None:
        """Write the customer's columns and register any identity it gained."""
        if customer.id is None:
            raise ValueError("customer has no id: add it first")
        await self._conn.execute(update(customers).where(customers.c.id == customer.id)
                                 .values(**self._values(customer)))
        await self._register(customer)

    async def resolve(self, customer: Customer, *, checked: bool = False) -> int:
        """The id of the stored customer sharing any identity with `customer` (registering its
        other identities), else of a newly inserted one. Sets `customer.id`. A customer that
        already has an id is taken as stored (`save` registers what it gained). `checked`: the
        caller looked its identities up in this transaction and found none, so the lookup is
        skipped (an identity registered meanwhile by another transaction is still caught)."""
        if customer.id is not None:
            return customer.id
        for ident in ([] if checked else customer.identities()):
            found = await self._id_of(ident)
            if found is not None:
                customer.id = found
                await self._complete(customer)
                return found
        await self._insert(customer)
        assert customer.id is not None
        if len(await self._register(customer)) < len(customer.identities()):
            # A concurrent transaction (PostgreSQL) registered an identity first: use its customer.
            await self._conn.execute(delete(customers).where(customers.c.id == customer.id))
            customer.id = None
            return await self.resolve(customer)
        return customer.id

    async def resolve_many(self, batch: Sequence[Customer], *, checked: bool = False) -> None:
        """`resolve` for several customers with few statements: one lookup of every identity
        (none when `checked`, as in `resolve`), one insert of the new customers, one insert of
        their identities. Objects sharing an identity become one customer (the first one's
        row). Sets every `id`."""
        pending: list[Customer] = []
        seen: set[int] = set()
        for c in batch:
            if c.id is None and id(c) not in seen:
                seen.add(id(c))
                pending.append(c)
        if not pending:
            return
        known = {} if checked else await self.by_identities([i for c in pending for i in c.identities()])
        fresh: list[Customer] = []
        claimed: dict[str, Customer] = {}       # identity -> the new customer that takes it
        aliases: list[tuple[Customer, Customer]] = []
        for c in pending:
            idents = c.identities()
            stored = next((known[i] for i in idents if i in known), None)
            if stored is not None:
                c.id = stored.id
                await self._complete(c)
                continue
            first = next((claimed[i] for i in idents if i in claimed), None)
            if first is not None:
                aliases.append((c, first))
                continue
            fresh.append(c)
            for ident in idents:
                claimed.setdefault(ident, c)
        if fresh:
            now = utcnow()
            ids = await insert_returning_ids(self._conn, customers,
                                             [{**self._values(c), "created_at": now} for c in fresh])
            for c, cid in zip(fresh, ids, strict=True):
                c.id = cid
            # Sorted: concurrent batches take the identities' index locks in one order (PostgreSQL).
            rows = [{"identity": i, "customer_id": c.id} for i, c in sorted(claimed.items())]
            got = set((await self._conn.execute(_register_stmt(self._conn.dialect.name), rows))
                      .scalars().all()) if rows else set()
            for c in fresh:
                if any(i not in got for i in c.identities()):
                    # Registered meanwhile by a concurrent transaction: take that customer.
                    await self._conn.execute(delete(customers).where(customers.c.id == c.id))
                    c.id = None
                    await self.resolve(c)
        for c, first in aliases:
            c.id = first.id
            await self._complete(c)

    async def _id_of(self, ident: str) -> int | None:
        return (await self._conn.execute(_ID_OF, {"ident": ident})).scalar()

    async def _register(self, customer: Customer) -> list[str]:
        """Register the customer's identities; returns those that were new for it."""
        rows = [{"identity": i, "customer_id": customer.id} for i in customer.identities()]
        if not rows:
            return []
        stmt = _register_stmt(self._conn.dialect.name)
        if len(rows) == 1:
            return list((await self._conn.execute(stmt, rows[0])).scalars().all())
        return [i for row in rows for i in (await self._conn.execute(stmt, row)).scalars().all()]

    async def _complete(self, customer: Customer) -> None:
        # Fill in an email or chat only when its identity became this customer's; never take
        # over an identity another customer holds.
        added = await self._register(customer)
        values: dict[str, Any] = {}
        if customer.email and canonical_identity(f"email:{customer.email}") in added:
            values["email"] = func.coalesce(customers.c.email, customer.email)
        if customer.telegram_chat_id is not None and f"telegram:{customer.telegram_chat_id}" in added:
            values["telegram_chat_id"] = func.coalesce(customers.c.telegram_chat_id,
                                                       customer.telegram_chat_id)
        if customer.phone:
            values["phone"] = func.coalesce(customers.c.phone, customer.phone)
        if values:
            await self._conn.execute(update(customers).where(customers.c.id == customer.id)
                                     .values(**values))

    @staticmethod
    def _values(c: Customer) -> dict[str, Any]:
        return {"name": c.name, "email": c.email, "telegram_chat_id": c.telegram_chat_id,
                "phone": c.phone, "language": c.language, "unreachable": c.unreachable}
