"""Answer approval and templates in a real Chromium: a staff member closes a PQR choosing a
template in the close form (it waits for approval and offers them no decision buttons), the
manager opens the same page, reads the filled draft under "Respuesta por aprobar" and presses
Aprobar y enviar; the customer's mail carries the filled template."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.pqr_types import Status
from storage.db import SqlDatabase
from tests.channels.web.conftest import BOSS, STAFF, WebWorld, screenshot_path
from tests.channels.web.test_review import TEMPLATE, Mailed, mailed_world
from tests.channels.web.test_staff import file_pqr


@pytest.fixture
async def world(sqlite_database: SqlDatabase, tmp_path: Path) -> AsyncIterator[Mailed]:
    (tmp_path / "revision.yaml").write_text(TEMPLATE, encoding="utf-8")
    async for m in mailed_world(sqlite_database, approval={"types": ["reclamo"]},
                                templates={"dir": str(tmp_path)}):
        yield m


async def signed_in_page(web: WebWorld, browser: Any, who: str) -> tuple[Any, Any]:
    reply = await web.app.commands.handle(who, "web", web.now[0])
    found = re.search(r"https?://\S+/login/\S+", reply.text)
    assert reply.ok and found, reply.text
    context = await browser.new_context(locale="es-CO")
    page = await context.new_page()
    await page.goto(found.group(0).replace(web.app.config.web.public_url.rstrip("/"), web.base))
    assert page.url == web.base + "/staff"
    return context, page


async def test_a_templated_close_is_approved_in_the_browser(world: Mailed, browser: Any) -> None:
    web = world.web
    rad = await file_pqr(web)
    staff_ctx, staff = await signed_in_page(web, browser, STAFF)
    try:
        await staff.goto(f"{web.base}/staff/pqr/{rad}")
        await staff.get_by_role("heading", name=re.compile(rad)).wait_for()
        await staff.locator("#close-template").select_option("revision")
        await staff.get_by_label("Respuesta final").fill("Le reintegramos el valor.")
        await staff.get_by_role("button", name="Cerrar la PQR").click()
        await staff.get_by_role("status").filter(has_text="en revisión").wait_for()
        assert (await web.app.service.show(rad)).status is Status.EN_REVISION
        await staff.get_by_role("heading", name="Respuesta por aprobar").wait_for()
        assert await staff.get_by_role("button", name="Aprobar y enviar").count() == 0
    finally:
        await staff_ctx.close()

    boss_ctx, boss = await signed_in_page(web, browser, BOSS)
    try:
        await boss.goto(f"{web.base}/staff/pqr/{rad}")
        draft = boss.locator(".review .draft")
        await draft.wait_for()
        assert f"Hola Ana, revisamos su reclamo {rad}. Le reintegramos el valor." in await draft.inner_text()
        await boss.screenshot(path=str(screenshot_path("staff-pqr-review")), full_page=True)
        await boss.get_by_role("button", name="Aprobar y enviar").click()
        await boss.get_by_role("status").filter(has_text="aprobada y enviada").wait_for()
    finally:
        await boss_ctx.close()
    assert (await web.app.service.show(rad)).status is Status.CERRADA
    [body] = await world.answer_to("ana@example.co", rad)
    assert f"Hola Ana, revisamos su reclamo {rad}. Le reintegramos el valor." in body
