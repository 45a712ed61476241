"""Shared fixtures: an upgraded `SqlDatabase` on SQLite (a temp file) and on PostgreSQL (a fresh
database on the server in PQRBOT_TEST_PG_URL, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import SqlDatabase

PG_URL = os.environ.get("PQRBOT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'pqrbot.db'}"


async def _pg_database() -> AsyncIterator[str]:
    """Create a uniquely named database, yield its URL, drop it. Unreachable server: skip
    locally, fail under CI (CI must never silently skip the PostgreSQL tests)."""
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"pqrbot_test_{uuid.uuid4().hex[:12]}"
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except (OSError, OperationalError, DBAPIError) as exc:
        await admin.dispose()
        message = f"PostgreSQL unreachable at {PG_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


async def _upgraded(url: str) -> AsyncIterator[SqlDatabase]:
    db = SqlDatabase(url)
    try:
        await db.upgrade()
        yield db
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlDatabase]:
    """An upgraded, empty database on each backend."""
    if request.param == "sqlite":
        async for db in _upgraded(sqlite_url(tmp_path)):
            yield db
        return
    async for url in _pg_database():
        async for db in _upgraded(url):
            yield db


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[SqlDatabase]:
    """An upgraded, empty SQLite database in a temp file."""
    async for db in _upgraded(sqlite_url(tmp_path)):
        yield db
