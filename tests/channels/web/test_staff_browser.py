"""A staff member's morning in a real Chromium: the link from the console's command layer, the
queue, a PQR (assign to a colleague, reply, close), an attachment downloaded, and the dashboard
showing the same figures `pqrbot report kpis` prints for the same data. No JavaScript is needed:
the pages are plain forms."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from bot.i18n.formats import format_number, format_percentage
from domain.files import FileData
from tests.channels.web.conftest import BOSS, STAFF, WebWorld, screenshot_path
from tests.channels.web.test_staff import attach, file_pqr

INVOICE = b"%PDF-1.4 factura " * 50 + bytes(range(256))


async def test_a_staff_member_works_a_pqr_and_reads_the_dashboard(web: WebWorld, browser: Any,
                                                                  tmp_path: Path) -> None:
    old = await file_pqr(web, subject="Cobro doble en noviembre", received=web.now[0] - dt.timedelta(days=2))
    await file_pqr(web, subject="Demora en la entrega")
    [aid] = await attach(web, old, [FileData("factura.pdf", "application/pdf", INVOICE)])

    reply = await web.app.commands.handle(STAFF, "web", web.now[0])
    assert reply.ok
    found = re.search(r"https?://\S+/login/\S+", reply.text)
    assert found, reply.text
    link = found.group(0).replace(web.app.config.web.public_url.rstrip("/"), web.base)   # the port is chosen at start
    assert link.startswith(web.base + "/login/")

    context = await browser.new_context(accept_downloads=True, locale="es-CO")
    page = await context.new_page()
    try:
        await page.goto(link)
        assert page.url == web.base + "/staff"
        await page.get_by_role("heading", name="Cola de PQR").wait_for()
        assert await page.get_by_role("link", name=old).count() == 1
        await page.screenshot(path=str(screenshot_path("staff-queue")), full_page=True)

        await page.get_by_role("link", name=old).click()
        await page.get_by_role("heading", name=re.compile(old)).wait_for()
        await page.get_by_label("Asignar a").select_option(BOSS)
        await page.get_by_role("button", name="Asignar", exact=True).click()
        await page.get_by_role("status").filter(has_text=f"asignada a {BOSS}").wait_for()
        assert (await web.app.service.show(old)).assignee == BOSS

        await page.get_by_label("Respuesta para el cliente").fill("Estimada Ana:\nya revisamos el cobro.")
        await page.get_by_role("button", name="Enviar respuesta").click()
        await page.get_by_role("status").filter(has_text="Respuesta enviada").wait_for()
        await page.screenshot(path=str(screenshot_path("staff-pqr-replied")), full_page=True)

        await page.get_by_label("Respuesta final").fill("Le devolvimos el valor cobrado dos veces.")
        await page.get_by_role("button", name="Cerrar la PQR").click()
        await page.get_by_role("status").filter(has_text=f"{old} cerrada").wait_for()
        pqr = await web.app.service.show(old)
        assert pqr.status.value == "cerrada"
        assert {e.actor for e in pqr.events if e.kind != "filed"} == {STAFF}

        async with page.expect_download() as info:
            await page.get_by_role("link", name="factura.pdf").click()
        download = await info.value
        assert download.suggested_filename == "factura.pdf"
        saved = tmp_path / "factura.pdf"
        await download.save_as(saved)
        assert saved.read_bytes() == INVOICE
        assert aid > 0

        await page.get_by_role("link", name="Indicadores").click()
        await page.get_by_role("heading", name="Indicadores", exact=True).wait_for()
        doc = await web.app.reports.indicators.kpis(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
        assert doc["filed"] == 2 and doc["answered"] == 1
        figures = page.locator("table.figures")

        async def this_month(label: str) -> str:
            cell = figures.locator("tr", has=page.get_by_role("rowheader", name=label)).locator("td").first
            return str(await cell.inner_text()).strip()

        assert await this_month("PQR radicadas") == format_number(doc["filed"], "es")
        assert await this_month("PQR respondidas") == format_number(doc["answered"], "es")
        assert await this_month("Respondidas a tiempo, término legal (%)") == format_percentage(
            doc["on_time_pct"], "es")
        assert await this_month("Abiertas al final del periodo") == format_number(doc["open_at_end"], "es")
        assert await page.locator("figure.chart svg").count() == 3
        await page.screenshot(path=str(screenshot_path("staff-dashboard")), full_page=True)

        await page.get_by_role("button", name="Salir").click()
        await page.get_by_role("heading", name="Sesión cerrada").wait_for()
        await page.goto(web.base + "/staff")
        assert page.url == web.base + "/staff/sign-in"
        assert "/pqr web" in await page.content()
    finally:
        await context.close()
