"""The report files: the XLSX read back with openpyxl, the PDF read back with pypdf and drawn by
poppler's pdftoppm, the Slack chart as a PNG. Documents are shaped as `report kpis|client|monthly
--json` prints them, with customer text that must stay text."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import resource
import shutil
import subprocess
import time
import zipfile
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from pypdf import PdfReader

from bot.reports.charts import kpi_chart_png
from bot.reports.document import render_pdf
from bot.reports.workbook import DETAIL_COLUMNS, write_workbook

BOGOTA = ZoneInfo("America/Bogota")
FORMULA = '=HYPERLINK("http://evil.example/x","Ver factura")'
SCRIPT = "<script>alert('x')</script>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def group(filed: int, answered: int, on_time: float | None) -> dict[str, Any]:
    return {"filed": filed, "answered": answered, "on_time_pct": on_time}


def kpis_doc() -> dict[str, Any]:
    return {
        "from": "2026-11-01", "to": "2026-12-01", "filed": 1284, "answered": 1190, "on_time_pct": 93.4,
        "ans_compliance_pct": 87.5, "first_response_hours": {"median": 3.5, "p90": 11.25},
        "resolution_business_days": {"median": 6.0, "p90": 13.4}, "open_at_end": 212, "breached_open": 17,
        "backlog_age": {"0-5": 120, "6-10": 58, "11-15": 21, ">15": 13}, "extensions": 9, "reopened": 4,
        "by_type": {"queja": group(610, 580, 95.2), "reclamo": group(402, 371, 90.3),
                    "peticion": group(250, 221, 96.1), "felicitacion": group(22, 18, None)},
        "by_channel": {"email": group(800, 760, 94.0), "telegram": group(300, 270, 92.2),
                       "web": group(150, 130, 91.5), "phone": group(34, 30, 100.0)},
        "by_area": {"facturacion": group(700, 650, 92.0), "logistica": group(400, 380, 95.5),
                    "none": group(184, 160, None)},
        "by_cause": {"facturacion": group(600, 570, 93.0), "entrega": group(500, 470, 94.1),
                     "none": group(184, 150, 88.0)},
        "by_client": {"Acme S.A.S.": group(900, 850, 94.4), FORMULA: group(10, 9, 88.9),
                      "none": group(374, 331, 91.0)},
    }


def client_doc() -> dict[str, Any]:
    kpis = kpis_doc()
    return {
        "client": "Acme S.A.S.", "period": "2026-11", "from": "2026-11-01", "to": "2026-12-01",
        "targets": [
            {"type": "queja", "kind": "first_response", "target": "8h", "measured": 610, "met": 560, "pct": 91.8},
            {"type": "queja", "kind": "resolution", "target": "5d", "measured": 580, "met": 498, "pct": 85.9},
            {"type": "reclamo", "kind": "resolution", "target": "1d", "measured": 0, "met": 0, "pct": None},
        ],
        "ans_compliance_pct": 87.5,
        "breaches": [
            {"radicado": "PQR-2026-004211", "type": "queja", "kind": "resolution",
             "due_at": "2026-11-12T23:59:59-05:00", "done_at": "2026-11-14T10:30:00-05:00",
             "area": "facturacion", "cause": "facturacion"},
            {"radicado": "PQR-2026-004377", "type": "reclamo", "kind": "first_response",
             "due_at": "2026-11-20T17:00:00+00:00", "done_at": None, "area": SCRIPT, "cause": FORMULA},
        ],
        "penalties": {"count": 2, "amount": {"COP": "1500000.50"}, "by_status": {"aprobada": 1, "notificada": 1}},
        "kpis": kpis,
        "nps": {"nps": 42.0, "responses": 180, "sent": 600, "response_rate_pct": 30.0, "promoters": 100,
                "passives": 56, "detractors": 24},
        "trend": [{"period": "2026-08", "ans_compliance_pct": 80.1}, {"period": "2026-09", "ans_compliance_pct": None},
                  {"period": "2026-10", "ans_compliance_pct": 84.7}],
    }


def monthly_doc() -> dict[str, Any]:
    return {
        "month": "2026-11", "from": "2026-11-01", "to": "2026-12-01", "kpis": kpis_doc(),
        "clients": [
            {"client": "Acme S.A.S.", "filed": 900, "answered": 850, "on_time_pct": 94.4, "ans_compliance_pct": 87.5,
             "breaches": 31},
            {"client": SCRIPT, "filed": 10, "answered": 9, "on_time_pct": 88.9, "ans_compliance_pct": None,
             "breaches": 0},
        ],
        "incidences": [{"cause": "facturacion", "area": "facturacion", "count": 420},
                       {"cause": "entrega", "area": "logistica", "count": 380},
                       {"cause": "facturacion", "area": "logistica", "count": 60}],
        "penalties": {"count": 5, "total": {"COP": "4250000.00", "USD": "1200.5"},
                      "accepted": {"COP": "1500000.50"},
                      "by_category": {"kpi_ans": {"COP": "3000000.00"}, "postventa": {"COP": "1250000.00"},
                                      "multas_sanciones": {"USD": "1200.5"}},
                      "by_status": {"aprobada": 2, "rechazada": 1, "en_evaluacion": 2}},
        "nps": None,
    }


DOCS = {"kpis": kpis_doc, "client": client_doc, "monthly": monthly_doc}


def detail_row(i: int) -> tuple[Any, ...]:
    received = dt.datetime(2026, 11, 3, 14, 5, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=7 * i)
    closed = received + dt.timedelta(days=4) if i % 4 else None
    subject = FORMULA if i == 1 else ("@SUM(A1:A9)" if i == 2 else f"Cobro doble en la factura {1000 + i}")
    return (f"PQR-2026-{i + 1:06d}", "queja" if i % 2 else "reclamo", "cerrada" if closed else "en_tramite",
            "email", "Acme S.A.S.", "facturacion", "facturacion", received, received + dt.timedelta(hours=2),
            closed, received + dt.timedelta(days=7), received + dt.timedelta(days=21),
            (i % 5 != 0) if closed else None, 2.5 if i % 3 else None, 4 if closed else None,
            "=cmd|' /C calc'!A0" if i == 3 else f"Cliente {i}", subject)


async def rows(n: int) -> AsyncIterator[tuple[Any, ...]]:
    for i in range(n):
        yield detail_row(i)
        if i % 5000 == 0:
            await asyncio.sleep(0)


def _local(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(BOGOTA).replace(tzinfo=None)


def flat(text: str) -> str:
    """Text without any whitespace: PDF text extraction breaks lines where the layout wrapped."""
    return "".join(text.split())


# -- the workbook --------------------------------------------------------------------------------

async def test_a_kpi_workbook_has_a_sheet_per_section_with_real_numbers_and_dates(tmp_path: Path) -> None:
    path = tmp_path / "kpis.xlsx"
    await write_workbook("kpis", kpis_doc(), path, lang="es", tz=BOGOTA)

    wb = load_workbook(path)
    assert wb.sheetnames == ["Resumen", "Por tipo", "Por canal", "Por área", "Por causa", "Por cliente"]
    summary = wb["Resumen"]
    assert summary.freeze_panes == "A2"
    assert [c.value for c in summary[1]] == ["Indicador", "Valor"]
    assert all(c.font.bold for c in summary[1])
    assert summary.column_dimensions["A"].width > 30
    figures = {row[0]: row[1] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert figures["Desde"] == dt.datetime(2026, 11, 1)
    assert figures["Hasta"] == dt.datetime(2026, 11, 30)       # `to` is exclusive
    assert figures["PQR radicadas"] == 1284
    assert figures["Cumplimiento de ANS (%)"] == 87.5
    assert figures["Primera respuesta, p90 (horas hábiles)"] == 11.25
    assert figures["Abiertas con >15 días hábiles de antigüedad"] == 13
    by_type = wb["Por tipo"]
    assert by_type.freeze_panes == "A2"
    assert [c.value for c in by_type[2]] == ["Queja", 610, 580, 95.2]
    assert by_type["D2"].number_format == "0.0"
    assert [c.value for c in by_type[5]] == ["Felicitación", 22, 18, None]
    assert [c.value for c in wb["Por área"]["A"]][-1] == "(sin dato)"


async def test_customer_text_in_a_workbook_is_text_never_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "client.xlsx"
    await write_workbook("client", client_doc(), path, lang="es", tz=BOGOTA, detail=rows(6))

    wb = load_workbook(path)
    breaches = wb["Incumplimientos"]
    assert breaches.freeze_panes == "B2"
    second = breaches[3]
    assert second[0].value == "PQR-2026-004377"
    assert second[3].value == dt.datetime(2026, 11, 20, 12, 0)       # 17:00 UTC, in Bogotá
    assert second[3].number_format == "yyyy-mm-dd hh:mm"
    assert second[4].value is None
    assert second[5].value == SCRIPT and second[5].data_type == "s"
    cause = second[6]
    assert cause.value == FORMULA and cause.data_type == "s" and cause.quotePrefix

    detail = wb["Detalle"]
    assert detail.freeze_panes == "B2"
    header = [c.value for c in detail[1]]
    assert header[0] == "Radicado" and header[-2:] == ["Solicitante", "Asunto"]
    assert len(header) == len(DETAIL_COLUMNS) == 17
    formula_subject, at_subject, dde_name = detail[3][16], detail[4][16], detail[5][15]
    for cell in (formula_subject, at_subject, dde_name):
        assert cell.data_type == "s" and cell.quotePrefix, cell.value
    assert formula_subject.value == FORMULA
    assert dde_name.value == "=cmd|' /C calc'!A0"
    assert "<f>" not in _sheet_xml(path, "Detalle") and "<f>" not in _sheet_xml(path, "Incumplimientos")
    row = [c.value for c in detail[3]]
    assert row[7] == dt.datetime(2026, 11, 3, 9, 12)                 # 14:12 UTC, local and naive
    assert row[12] is True and row[13] == 2.5 and row[14] == 4

    penalties = wb["Penalidades"]
    assert penalties["C3"].value == 1500000.5 and penalties["C3"].number_format == '"COP" #,##0.00'
    trend = [r for r in wb["Tendencia"].iter_rows(min_row=2, values_only=True)]
    assert trend == [("2026-08", 80.1), ("2026-09", None), ("2026-10", 84.7), ("2026-11", 87.5)]
    targets = [r for r in wb["Metas ANS"].iter_rows(min_row=2, values_only=True)]
    assert targets[0] == ("Queja", "Primera respuesta", "8 horas hábiles", 610, 560, 91.8)
    assert targets[2][2] == "1 día hábil"


def _sheet_xml(path: Path, title: str) -> str:
    """The XML of the sheet `title`, found as Excel finds it (workbook.xml, then its relations);
    openpyxl's read-only loader reads every row of a large sheet first."""
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(path) as archive:
        book = etree.fromstring(archive.read("xl/workbook.xml"))
        rid = next(s.get(rel) for s in book.iter("{*}sheet") if s.get("name") == title)
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels.iter("{*}Relationship") if r.get("Id") == rid)
        return archive.read("xl/" + target.lstrip("/").removeprefix("xl/")).decode("utf-8")


async def test_a_monthly_workbook_in_english(tmp_path: Path) -> None:
    path = tmp_path / "monthly.xlsx"
    await write_workbook("monthly", monthly_doc(), path, lang="en", tz=BOGOTA)

    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "Clients", "Incidences", "Penalties", "By type", "By channel", "By area",
                             "By cause", "By client"]
    assert [c.value for c in wb["Clients"][1]] == ["Client", "Filed", "Answered", "On time (%)",
                                                   "ANS compliance (%)", "Breaches"]
    assert [c.value for c in wb["Clients"][3]] == [SCRIPT, 10, 9, 88.9, None, 0]
    assert [c.value for c in wb["Incidences"][2]] == ["facturacion", "facturacion", 420]
    penalties = [r for r in wb["Penalties"].iter_rows(values_only=True)]
    assert ("Total", "USD", 1200.5) in penalties
    assert ("Total accepted", "COP", 1500000.5) in penalties
    assert ("KPI / SLA", "COP", 3000000) in penalties                # the catalogue's names
    assert ("rejected", 1, None) in penalties
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Month"] == "2026-11" and summary["PQRs filed"] == 1284
    assert "NPS" not in summary                                      # nps is null this month
    assert wb["By type"]["A2"].value == "Complaint"


@pytest.mark.slow
async def test_the_detail_sheet_streams_fifty_thousand_rows(tmp_path: Path) -> None:
    path = tmp_path / "detail.xlsx"
    n = 50_000
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    await write_workbook("kpis", kpis_doc(), path, lang="es", tz=BOGOTA, detail=rows(n))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    print(f"\n{n} detail rows: {elapsed:.1f} s ({cpu:.1f} s CPU), peak RSS grew {grown_mib:.0f} MiB, "
          f"{path.stat().st_size} bytes")

    # Counted in the sheet's XML: reading 50,000 rows back through openpyxl would take longer
    # than writing them. The last row is parsed to check what it holds.
    xml = _sheet_xml(path, "Detalle").encode("utf-8")
    assert xml.count(b"<row ") == n + 1                              # the header and every PQR
    last = etree.fromstring(xml[xml.rindex(b"<row "):xml.rindex(b"</row>") + len(b"</row>")])
    assert last.get("r") == str(n + 1)
    cells = {c.get("r"): (c.get("t"), "".join(c.itertext())) for c in last}
    assert cells[f"A{n + 1}"] == ("inlineStr", f"PQR-2026-{n:06d}")
    kind, serial = cells[f"H{n + 1}"]
    assert kind == "n" and from_excel(float(serial)) == _local(detail_row(n - 1)[7])
    assert grown_mib < 200                                           # streamed, not held
    assert not [p for p in tmp_path.iterdir() if p.name != "detail.xlsx"]


async def test_a_failing_detail_leaves_no_file(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[tuple[Any, ...]]:
        for i in range(3000):
            yield detail_row(i)
        raise RuntimeError("the database went away")

    path = tmp_path / "kpis.xlsx"
    with pytest.raises(RuntimeError, match="went away"):
        await write_workbook("kpis", kpis_doc(), path, lang="es", tz=BOGOTA, detail=broken())
    assert list(tmp_path.iterdir()) == []


async def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown report kind"):
        await write_workbook("weekly", kpis_doc(), tmp_path / "x.xlsx", lang="es", tz=BOGOTA)
    with pytest.raises(ValueError, match="unknown report kind"):
        render_pdf("weekly", kpis_doc(), lang="es", tz=BOGOTA)
    assert list(tmp_path.iterdir()) == []


# -- the PDF -------------------------------------------------------------------------------------

def need_tool(name: str) -> str:
    """A poppler tool's path; skipped where it is missing, failed under CI (apt poppler-utils)."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (Debian package poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


GENERATED = dt.datetime(2026, 12, 2, 8, 30, tzinfo=BOGOTA)


def test_a_client_pdf_in_spanish_has_cover_figures_and_page_numbers() -> None:
    pdf = render_pdf("client", client_doc(), lang="es", tz=BOGOTA, generated_at=GENERATED)

    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    assert reader.metadata is not None and reader.metadata.title == "Informe de ANS · Acme S.A.S."
    cover = flat(pages[0])
    for line in ("Informe de ANS · Acme S.A.S.", "Cliente: Acme S.A.S.", "Periodo: 2026-11",
                 "Del 2026-11-01 al 2026-11-30", "Generado el 2026-12-02 08:30"):
        assert flat(line) in cover, line
    text = flat("\n".join(pages))
    for shown in ("1.284", "87,5%", "91,8%", "8horashábiles", "1díahábil", "COP1.500.000,50", "2026-11-2012:00",
                  "Primerarespuesta", "aprobada", "Porcanal", "Queja"):
        assert shown in text, shown
    assert flat(SCRIPT) in text and flat(FORMULA) in text            # shown as text
    total = len(pages)
    assert total >= 3
    for number in range(2, total + 1):
        assert flat(pages[number - 1]).endswith(f"{number}/{total}")
    assert f"1/{total}" not in cover                                 # no number on the cover


NPS_TREND = [{"period": "2026-07", "nps": None, "responses": 0}, {"period": "2026-08", "nps": -12.5, "responses": 8},
             {"period": "2026-09", "nps": 20.0, "responses": 40}, {"period": "2026-10", "nps": 35.0, "responses": 90},
             {"period": "2026-11", "nps": 42.0, "responses": 180}]


@pytest.mark.parametrize(("kind", "lang", "title"), [("client", "es", "Tendencia del NPS"),
                                                    ("monthly", "en", "NPS trend")])
def test_the_nps_trend_chart_is_in_the_client_and_monthly_pdfs(kind: str, lang: str, title: str) -> None:
    from bot.reports.document import render_html

    doc = DOCS[kind]()
    without = render_html(kind, doc, lang=lang, tz=BOGOTA, generated_at=GENERATED)
    nps = {"nps": 42.0, "responses": 180, "sent": 600, "response_rate_pct": 30.0, "promoters": 100, "passives": 56,
           "detractors": 24}
    doc["nps"] = {**nps, "trend": NPS_TREND}
    with_trend = render_html(kind, doc, lang=lang, tz=BOGOTA, generated_at=GENERATED)
    assert title not in without and title in with_trend
    assert with_trend.count("data:image/svg+xml;base64,") == without.count("data:image/svg+xml;base64,") + 1
    pdf = render_pdf(kind, doc, lang=lang, tz=BOGOTA, generated_at=GENERATED)
    text = flat("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    assert flat(title) in text


def test_customer_text_is_escaped_in_the_html() -> None:
    from bot.reports.document import render_html

    html = render_html("monthly", monthly_doc(), lang="es", tz=BOGOTA, generated_at=GENERATED)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert html.count("data:image/svg+xml;base64,") == 3             # by type, backlog, incidences


def test_a_monthly_pdf_in_english() -> None:
    pdf = render_pdf("monthly", monthly_doc(), lang="en", tz=BOGOTA, generated_at=GENERATED)

    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    cover = flat(pages[0])
    for line in ("Monthly PQR report · November 2026", "From 2026-11-01 to 2026-11-30", "Generated on 2026-12-02 08:30"):
        assert flat(line) in cover, line
    text = flat("\n".join(pages))
    for shown in ("1,284", "87.5%", "COP4,250,000.00", "USD1,200.5", "Totalaccepted", "KPI/SLA", "Complaint",
                  "Incidencesbycauseandarea", flat(SCRIPT)):
        assert shown in text, shown
    assert "Radicadas" not in text
    assert flat(pages[-1]).endswith(f"{len(pages)}/{len(pages)}")


def test_a_title_replaces_the_default_one() -> None:
    pdf = render_pdf("kpis", kpis_doc(), lang="es", tz=BOGOTA, title="Comité de calidad — noviembre")
    assert "Comité de calidad — noviembre" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_first_page_renders_to_a_picture(tmp_path: Path) -> None:
    pdftoppm = need_tool("pdftoppm")
    source = tmp_path / "kpis.pdf"
    source.write_bytes(render_pdf("kpis", kpis_doc(), lang="es", tz=BOGOTA))
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")],
                   check=True, timeout=60)
    pictures = sorted(tmp_path.glob("page*.png"))
    assert len(pictures) == 1
    picture = pictures[0].read_bytes()
    assert picture.startswith(PNG_MAGIC) and len(picture) > 2000


def test_pdftotext_reads_the_figures_too() -> None:
    pdftotext = need_tool("pdftotext")
    pdf = render_pdf("kpis", kpis_doc(), lang="en", tz=BOGOTA)
    text = subprocess.run([pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout.decode("utf-8")
    assert "PQR indicators" in text and "1,284" in text and "93.4%" in text


# -- the Slack chart -----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_kpi_chart_is_a_png(lang: str) -> None:
    picture = kpi_chart_png(monthly_doc(), lang=lang)
    assert picture.startswith(PNG_MAGIC) and len(picture) > 10_000
    empty = kpi_chart_png({"from": "2026-11-01", "to": "2026-12-01", "by_type": {}, "backlog_age": {}}, lang=lang)
    assert empty.startswith(PNG_MAGIC)


def test_amounts_stay_decimal_until_the_cell() -> None:
    from bot.reports.workbook import amount

    assert amount("1500000.50") == Decimal("1500000.50")
    assert amount(None) is None and amount("n/a") is None


@pytest.mark.parametrize(("lang", "count", "measure", "pct", "month"), [
    ("es", "1.234.567", "12,5", "87,5%", "noviembre de 2026"),
    ("en", "1,234,567", "12.5", "87.5%", "November 2026"),
])
def test_report_numbers_and_months_follow_the_language(lang: str, count: str, measure: str, pct: str,
                                                       month: str) -> None:
    from bot.i18n.formats import format_month, format_number, format_percentage

    assert format_number(1234567, lang) == count
    assert format_number(12.5, lang, places=1) == measure
    assert format_percentage(87.5, lang) == pct
    assert format_percentage(100, lang).startswith("100")
    assert format_month(dt.date(2026, 11, 1), lang) == month
