"""A customer in a real Chromium: files a PQR with two attachments through the form, found by its
labels, sees the radicado, then tracks it with the right email and with a wrong one."""

from __future__ import annotations

import re
from typing import Any

from tests.channels.web.conftest import WebWorld, screenshot_path

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


async def test_a_customer_files_and_tracks_a_pqr_in_the_browser(web: WebWorld, browser: Any) -> None:
    page = await browser.new_page(locale="es-CO")
    try:
        await page.goto(f"{web.base}/")
        await page.get_by_label("Tipo de solicitud").select_option("reclamo")
        await page.get_by_label("Nombre completo").fill("Ana Pérez")
        await page.get_by_label("Correo electrónico").fill("ana@example.co")
        await page.get_by_label("Teléfono (opcional)").fill("300 123 4567")
        await page.get_by_label("Asunto").fill("Cobro doble")
        await page.get_by_label("Descripción").fill("Me cobraron dos veces la factura 123.")
        await page.get_by_label("Adjuntos (opcional)").set_input_files([
            {"name": "factura.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "foto.png", "mimeType": "image/png", "buffer": PNG}])
        await page.get_by_label("Autorizo el tratamiento de mis datos personales", exact=False).check()
        await page.screenshot(path=str(screenshot_path("public-form")), full_page=True)
        await page.get_by_role("button", name="Radicar").click()
        await page.wait_for_selector("#radicado")
        rad = (await page.locator("#radicado").inner_text()).strip()
        assert re.fullmatch(r"PQR-2026-\d{6}", rad), rad
        assert "factura.pdf" in await page.content()
        await page.screenshot(path=str(screenshot_path("public-filed")), full_page=True)
        pqr = await web.app.service.show(rad)
        assert sorted(a.filename for a in pqr.messages[0].attachments) == ["factura.pdf", "foto.png"]

        await page.goto(f"{web.base}/consulta")
        await page.get_by_label("Número de radicado").fill(rad)
        await page.get_by_label("Correo electrónico").fill("ana@example.co")
        await page.get_by_role("button", name="Consultar").click()
        await page.wait_for_selector("#status")
        assert (await page.locator("#status").inner_text()).strip() == "radicada"
        assert "Me cobraron dos veces la factura 123." in await page.content()
        await page.screenshot(path=str(screenshot_path("public-tracking")), full_page=True)

        await page.goto(f"{web.base}/consulta")
        await page.get_by_label("Número de radicado").fill(rad)
        await page.get_by_label("Correo electrónico").fill("otra@example.co")
        await page.get_by_role("button", name="Consultar").click()
        await page.get_by_role("alert").wait_for()
        assert "No encontramos una PQR con ese radicado y ese correo." in await page.get_by_role("alert").inner_text()
        await page.screenshot(path=str(screenshot_path("public-tracking-not-found")), full_page=True)
    finally:
        await page.close()
