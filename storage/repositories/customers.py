"""Customers and the identities (`email:…`, `telegram:…`) they are known by."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.customer import Customer, identity
from storage.repositories.common import insert_ignore, utcnow
from storage.tables import customer_identities, customers


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

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def by_identity(self, ident: str) -> Customer | None:
        """The customer known by `email:…` or `telegram:…`, or None."""
        row = (await self._conn.execute(
            select(customers).join(customer_identities)
            .where(customer_identities.c.identity == canonical_identity(ident)))).first()
        return customer_from_row(row) if row else None

    async def add(self, customer: Customer) -> None:
        """Insert and register the identities nobody else holds yet; sets `customer.id`."""
        customer.id = (await self._conn.execute(
            customers.insert().values(**self._values(customer), created_at=utcnow())
            .returning(customers.c.id))).scalar_one()
        await self._register(customer)

    async def save(self, customer: Customer) -> None:
        """Write the customer's columns and register any identity it gained."""
        if customer.id is None:
            raise ValueError("customer has no id: add it first")
        await self._conn.execute(update(customers).where(customers.c.id == customer.id)
                                 .values(**self._values(customer)))
        await self._register(customer)

    async def resolve(self, customer: Customer) -> int:
        """The id of the stored customer sharing any identity with `customer` (registering its
        other identities), else of a newly inserted one. Sets `customer.id`."""
        for ident in customer.identities():
            found = await self._id_of(ident)
            if found is not None:
                customer.id = found
                await self._complete(customer)
                return found
        await self.add(customer)
        assert customer.id is not None
        idents = customer.identities()
        if idents and await self._id_of(idents[0]) != customer.id:
            # A concurrent transaction (PostgreSQL) registered the identity first: use its customer.
            await self._conn.execute(delete(customers).where(customers.c.id == customer.id))
            customer.id = None
            return await self.resolve(customer)
        return customer.id

    async def _id_of(self, ident: str) -> int | None:
        return (await self._conn.execute(select(customer_identities.c.customer_id)
                                         .where(customer_identities.c.identity == ident))).scalar()

    async def _register(self, customer: Customer) -> list[str]:
        """Register the customer's identities; returns those that were new for it."""
        added = []
        for ident in customer.identities():
            got = (await self._conn.execute(
                insert_ignore(self._conn, customer_identities, ["identity"])
                .values(identity=ident, customer_id=customer.id)
                .returning(customer_identities.c.id))).scalar()
            if got is not None:
                added.append(ident)
        return added

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
