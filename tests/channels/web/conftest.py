"""The web on loopback: the real app under uvicorn on a free port (the same `WebChannel` that
`pqrbot run` starts), a real database, an httpx client, a clock the test moves, and Debian's
Chromium through Playwright for the browser tests (skipped without it — failed under CI=true)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.bootstrap import App, build, web_channel
from bot.config import parse_config
from channels.web.server import WebChannel
from storage.db import SqlDatabase

BOG = dt.timezone(dt.timedelta(hours=-5))
T0 = dt.datetime(2026, 11, 10, 10, 0, tzinfo=BOG)     # a Tuesday
STAFF, BOSS, OUTSIDER = "slack:U0STAFF", "slack:U0BOSS", "telegram:999"
CHROMIUM = os.environ.get("PQRBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("PQRBOT_ARTIFACTS", "test-artifacts"))


@dataclass
class WebWorld:
    app: App
    web: WebChannel
    client: httpx.AsyncClient
    now: list[dt.datetime] = field(default_factory=lambda: [T0])

    @property
    def base(self) -> str:
        assert self.web.address is not None
        return f"http://{self.web.address[0]}:{self.web.address[1]}"

    def tick(self, **delta: float) -> None:
        self.now[0] += dt.timedelta(**delta)


def web_config(db: SqlDatabase, **extra: Any) -> dict[str, Any]:
    web = {"host": "127.0.0.1", "port": 0, **extra.pop("web", {})}
    return {"database": {"url": db.url}, "roles": {"staff": [STAFF], "managers": [BOSS]},
            "channels": {"console": {"enabled": False}, "email": {"enabled": False}}, "web": web, **extra}


async def make_world(db: SqlDatabase, **extra: Any) -> AsyncIterator[WebWorld]:
    now = [T0]
    app = build(parse_config(web_config(db, **extra)), db=db, clock=lambda: now[0])
    await app.db.upgrade()
    web = web_channel(app)
    await web.start()
    assert web.address is not None
    try:
        async with httpx.AsyncClient(base_url=f"http://{web.address[0]}:{web.address[1]}", timeout=30,
                                     follow_redirects=False) as client:
            yield WebWorld(app=app, web=web, client=client, now=now)
    finally:
        await web.stop()


@pytest.fixture
async def web(sqlite_database: SqlDatabase) -> AsyncIterator[WebWorld]:
    """The web on SQLite."""
    async for w in make_world(sqlite_database):
        yield w


@pytest.fixture
async def any_web(database: SqlDatabase) -> AsyncIterator[WebWorld]:
    """The web on SQLite and on PostgreSQL."""
    async for w in make_world(database):
        yield w


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (no `playwright install`: LIBRARY-NOTES.md)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield chromium
        finally:
            await chromium.close()


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot (kept as a CI artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
