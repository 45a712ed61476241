"""The report workbooks (XLSX): one sheet per section of a `report kpis|client|monthly` document
and a streamed detail sheet with one row per PQR.

openpyxl in write-only mode: each sheet goes to a temporary file as its rows come (strings inline,
no shared-string table), so a detail of a million PQRs keeps memory flat. The rows are written in
a worker thread batch by batch, so the event loop keeps serving while a large workbook is built.

Cells hold real values: counts and percentages as numbers (percentages 0–100 with the format
`0.0`), dates and instants as Excel dates in local time (Excel has no time zones), amounts as
`Decimal` numbers with a currency format. Text that comes from outside (customer names, subjects,
client, area and cause names) is always a string cell: openpyxl would store a value starting with
`=` as a formula and `#N/A` as an error, so such a value gets an explicit string cell, and a value
that Excel would read as a formula once edited (`=`, `+`, `-`, `@`, tab, CR, LF first) also gets
Excel's quote prefix, as Excel does when a person types `'=…`.

The figure rows (`figure_rows`) and the labels of keys (`key_label`, `kind_label`,
`target_label`) are shared with the PDF (`bot.reports.document`), so both files say the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.i18n import CATALOGUES, t, tn

KINDS = ("kpis", "client", "monthly")
BREAKDOWNS = ("type", "channel", "area", "cause", "client")
BACKLOG_BANDS = ("0-5", "6-10", "11-15", ">15")
NONE_KEY = "none"                 # the indicators' key for PQRs without an area, cause or client
NPS_FIGURES = ("nps", "sent", "responses", "response_rate_pct", "promoters", "passives", "detractors")

DATE_FORMAT = "yyyy-mm-dd"
INSTANT_FORMAT = "yyyy-mm-dd hh:mm"
PCT_FORMAT = "0.0"
MEASURE_FORMAT = "0.0"
COUNT_FORMAT = "#,##0"
DETAIL_BATCH = 2000               # rows handed to the writer thread at a time

# Excel reads a cell typed (or edited) with one of these first as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_TARGET = re.compile(r"^\s*(\d+)\s*([hd])\s*$", re.IGNORECASE)

Figure = tuple[str, Any, str]     # (label, value, format: text|int|pct|measure|date|amount:CUR)
DetailRow = tuple[Any, ...]


# -- labels shared with the PDF ----------------------------------------------------------------

def key_label(dimension: str, key: str | None, lang: str) -> str:
    """How a breakdown key reads: a PQR type or status by its catalogue name, the indicators'
    `none` key as "(sin dato)", anything else (channel, area, cause, client) as it is."""
    if key is None or key == NONE_KEY:
        return t(lang, "report.file.not_set")
    catalogue_key = {"type": f"type.{key}", "status": f"status.{key}",
                     "penalty_status": f"penalty.status.{key}",
                     "category": f"penalty.category.{key}"}.get(dimension)
    if catalogue_key is not None and catalogue_key in CATALOGUES["es"]:
        return t(lang, catalogue_key)
    return str(key)


def kind_label(kind: str, lang: str) -> str:
    """`first_response` → "Primera respuesta", `resolution` → "Resolución"."""
    key = f"report.file.kind.{kind}"
    return t(lang, key) if key in CATALOGUES["es"] else kind


def target_label(target: str, lang: str) -> str:
    """A contract target as written in the contract (`8h`, `5d`) in words: "8 horas hábiles"."""
    match = _TARGET.match(str(target))
    if match is None:
        return str(target)
    family = "report.file.target.hours" if match[2].lower() == "h" else "report.file.target.days"
    return tn(lang, family, int(match[1]))


def parse_day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def last_day(doc: Mapping[str, Any]) -> dt.date | None:
    """The last day a document covers: its `to` is exclusive (periods are [from, to))."""
    start, end = parse_day(doc.get("from")), parse_day(doc.get("to"))
    if end is None:
        return None
    return end - dt.timedelta(days=1) if start is None or end > start else end


def parse_instant(value: str | None, tz: ZoneInfo) -> dt.datetime | None:
    """An ISO 8601 instant with offset as a local wall-clock time in `tz`."""
    if not value:
        return None
    instant = dt.datetime.fromisoformat(value)
    return instant.astimezone(tz) if instant.tzinfo is not None else instant.replace(tzinfo=tz)


def amount(value: Any) -> Decimal | None:
    """A decimal string (as the documents carry money) as a `Decimal`; never a float."""
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def figure_rows(kind: str, doc: Mapping[str, Any], lang: str) -> list[Figure]:
    """The headline figures of a document, in reading order: who and when, then the KPIs, then
    NPS. `value` is None where nothing counts (shown as an empty cell or a dash)."""
    def lbl(key: str, **values: Any) -> str:
        return t(lang, f"report.file.fig.{key}", **values)

    kpis: Mapping[str, Any] = doc if kind == "kpis" else doc.get("kpis") or {}
    rows: list[Figure] = []
    if kind == "client":
        rows += [(lbl("client"), doc.get("client"), "text"), (lbl("period"), doc.get("period"), "text")]
    elif kind == "monthly":
        rows += [(lbl("month"), doc.get("month"), "text")]
    rows += [(lbl("from"), parse_day(doc.get("from") or kpis.get("from")), "date"),
             (lbl("to"), last_day(doc if doc.get("to") else kpis), "date")]
    first = kpis.get("first_response_hours") or {}
    resolution = kpis.get("resolution_business_days") or {}
    ans = doc.get("ans_compliance_pct") if kind == "client" else kpis.get("ans_compliance_pct")
    rows += [
        (lbl("filed"), kpis.get("filed"), "int"),
        (lbl("answered"), kpis.get("answered"), "int"),
        (lbl("on_time_pct"), kpis.get("on_time_pct"), "pct"),
        (lbl("ans_compliance_pct"), ans, "pct"),
        (lbl("first_response_median"), first.get("median"), "measure"),
        (lbl("first_response_p90"), first.get("p90"), "measure"),
        (lbl("resolution_median"), resolution.get("median"), "measure"),
        (lbl("resolution_p90"), resolution.get("p90"), "measure"),
        (lbl("open_at_end"), kpis.get("open_at_end"), "int"),
        (lbl("breached_open"), kpis.get("breached_open"), "int"),
    ]
    backlog = kpis.get("backlog_age") or {}
    rows += [(lbl("backlog", age=band.replace("-", "–")), backlog.get(band), "int") for band in BACKLOG_BANDS]
    rows += [(lbl("extensions"), kpis.get("extensions"), "int"), (lbl("reopened"), kpis.get("reopened"), "int")]
    rows += nps_rows(doc.get("nps") if kind != "kpis" else None, lang)
    return rows


def nps_rows(nps: Mapping[str, Any] | None, lang: str) -> list[Figure]:
    """The NPS figures a document carries (`nps` is null when no survey counted)."""
    if not nps:
        return []
    out: list[Figure] = []
    for key in NPS_FIGURES:
        if key in nps:
            label = t(lang, "report.file.fig.nps" if key == "nps" else f"report.file.fig.nps_{key}")
            fmt = "pct" if key.endswith("_pct") else ("measure" if key == "nps" else "int")
            out.append((label, nps[key], fmt))
    return out


# -- cells ---------------------------------------------------------------------------------------

class _Cells:
    """Cell factories for one write-only sheet (styles must be set on each cell there)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.bold = Font(bold=True)

    def text(self, value: Any) -> Any:
        """Outside text as a string cell that no spreadsheet reads as a formula or an error."""
        if value is None:
            return None
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
        if text.startswith(_FORMULA_START) or text in ERROR_CODES:
            cell = WriteOnlyCell(self.ws, value=text)     # openpyxl types it `f` or `e`
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
        return text

    def header(self, labels: Iterable[str]) -> list[Any]:
        out = []
        for label in labels:
            cell = WriteOnlyCell(self.ws, value=label)
            cell.font = self.bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            out.append(cell)
        return out

    def formatted(self, value: Any, number_format: str) -> Any:
        if value is None:
            return None
        cell = WriteOnlyCell(self.ws, value=value)
        cell.number_format = number_format
        return cell

    def figure(self, value: Any, fmt: str) -> Any:
        if value is None:
            return None
        if fmt == "text":
            return self.text(value)
        if fmt == "date":
            return self.formatted(value, DATE_FORMAT)
        if fmt == "pct":
            return self.formatted(value, PCT_FORMAT)
        if fmt == "measure":
            return self.formatted(value, MEASURE_FORMAT)
        if fmt == "int":
            return self.formatted(value, COUNT_FORMAT)
        if fmt.startswith("amount:"):
            return self.formatted(amount(value), money_format(fmt.split(":", 1)[1]))
        return value

    def instant(self, value: dt.datetime | None, tz: ZoneInfo) -> Any:
        return self.formatted(_local(value, tz), INSTANT_FORMAT)


def money_format(currency: str) -> str:
    code = re.sub(r"[^A-Za-z]", "", currency)[:3] or "?"
    return f'"{code}" #,##0.00'


# -- sheets --------------------------------------------------------------------------------------

class _Book:
    """A write-only workbook whose sheets are named and labelled in `lang`."""

    def __init__(self, lang: str) -> None:
        self.wb = Workbook(write_only=True)
        self.lang = lang

    def sheet(self, name_key: str, widths: Sequence[float], freeze: str = "A2") -> tuple[Any, _Cells]:
        ws = self.wb.create_sheet(t(self.lang, f"report.file.sheet.{name_key}")[:31])
        for index, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = freeze                # write-only: before the first row
        return ws, _Cells(ws)

    def col(self, key: str) -> str:
        return t(self.lang, f"report.file.col.{key}")

    def table(self, name_key: str, columns: Sequence[tuple[str, float]], rows: Iterable[Sequence[Any]],
              formats: Sequence[str]) -> None:
        """A sheet with a bold, frozen header row and one row per item, each value by `formats`."""
        ws, cells = self.sheet(name_key, [width for _, width in columns])
        ws.append(cells.header(self.col(key) for key, _ in columns))
        for row in rows:
            ws.append([cells.figure(value, fmt) for value, fmt in zip(row, formats, strict=True)])

    def summary(self, kind: str, doc: Mapping[str, Any]) -> None:
        ws, cells = self.sheet("summary", [52, 18])
        ws.append(cells.header([self.col("indicator"), self.col("value")]))
        for label, value, fmt in figure_rows(kind, doc, self.lang):
            ws.append([label, cells.figure(value, fmt)])

    def breakdowns(self, kpis: Mapping[str, Any], dimensions: Sequence[str]) -> None:
        for dim in dimensions:
            groups: Mapping[str, Mapping[str, Any]] = kpis.get(f"by_{dim}") or {}
            self.table(f"by_{dim}", [(dim, 34), ("filed", 12), ("answered", 13), ("on_time_pct", 13)],
                       ([key_label(dim, key, self.lang), g.get("filed"), g.get("answered"), g.get("on_time_pct")]
                        for key, g in groups.items()),
                       ["text", "int", "int", "pct"])

    def targets(self, doc: Mapping[str, Any]) -> None:
        self.table("targets", [("type", 30), ("kind", 20), ("target", 20), ("measured", 12), ("met", 12),
                               ("pct", 16)],
                   ([key_label("type", r.get("type"), self.lang), kind_label(str(r.get("kind")), self.lang),
                     target_label(str(r.get("target")), self.lang), r.get("measured"), r.get("met"), r.get("pct")]
                    for r in doc.get("targets") or []),
                   ["text", "text", "text", "int", "int", "pct"])

    def breaches(self, doc: Mapping[str, Any], tz: ZoneInfo) -> None:
        ws, cells = self.sheet("breaches", [20, 30, 20, 18, 18, 22, 22], freeze="B2")
        ws.append(cells.header(self.col(k) for k in ("radicado", "type", "kind", "due_at", "done_at", "area",
                                                     "cause")))
        for r in doc.get("breaches") or []:
            ws.append([cells.text(r.get("radicado")), cells.text(key_label("type", r.get("type"), self.lang)),
                       cells.text(kind_label(str(r.get("kind")), self.lang)),
                       cells.instant(parse_instant(r.get("due_at"), tz), tz),
                       cells.instant(parse_instant(r.get("done_at"), tz), tz), cells.text(r.get("area")),
                       cells.text(r.get("cause"))])

    def trend(self, doc: Mapping[str, Any]) -> None:
        """The previous periods (oldest first), then the report's own period, as the PDF draws it."""
        points = [*(doc.get("trend") or []), {"period": doc.get("period"),
                                               "ans_compliance_pct": doc.get("ans_compliance_pct")}]
        self.table("trend", [("period", 16), ("ans_compliance_pct", 22)],
                   ([r.get("period"), r.get("ans_compliance_pct")] for r in points), ["text", "pct"])

    def penalties(self, penalties: Mapping[str, Any], monthly: bool) -> None:
        ws, cells = self.sheet("penalties", [34, 12, 22])
        ws.append(cells.header([self.col("concept"), self.col("currency"), self.col("amount")]))
        ws.append([t(self.lang, "report.file.fig.penalties_count"), None,
                   cells.figure(penalties.get("count"), "int")])
        sums = ((("penalties_total", penalties.get("total")), ("penalties_accepted", penalties.get("accepted")))
                if monthly else (("penalties_amount", penalties.get("amount")),))
        for key, per_currency in sums:
            for currency, value in sorted((per_currency or {}).items()):
                ws.append([t(self.lang, f"report.file.fig.{key}"), cells.text(currency),
                           cells.figure(value, f"amount:{currency}")])
        if monthly:
            ws.append([])
            ws.append(cells.header([self.col("category"), self.col("currency"), self.col("amount")]))
            for category, per_currency in (penalties.get("by_category") or {}).items():
                for currency, value in sorted((per_currency or {}).items()):
                    ws.append([cells.text(key_label("category", category, self.lang)), cells.text(currency),
                               cells.figure(value, f"amount:{currency}")])
        ws.append([])
        ws.append(cells.header([self.col("status"), self.col("count")]))
        for status, count in (penalties.get("by_status") or {}).items():
            ws.append([cells.text(key_label("penalty_status", status, self.lang)), cells.figure(count, "int")])

    def clients(self, doc: Mapping[str, Any]) -> None:
        self.table("clients", [("client", 30), ("filed", 12), ("answered", 13), ("on_time_pct", 13),
                               ("ans_compliance_pct", 20), ("breaches", 16)],
                   ([r.get("client"), r.get("filed"), r.get("answered"), r.get("on_time_pct"),
                     r.get("ans_compliance_pct"), r.get("breaches")] for r in doc.get("clients") or []),
                   ["text", "int", "int", "pct", "pct", "int"])

    def incidences(self, doc: Mapping[str, Any]) -> None:
        self.table("incidences", [("cause", 26), ("area", 26), ("count", 12)],
                   ([key_label("cause", r.get("cause"), self.lang), key_label("area", r.get("area"), self.lang),
                     r.get("count")] for r in doc.get("incidences") or []),
                   ["text", "text", "int"])

    def sections(self, kind: str, doc: Mapping[str, Any], tz: ZoneInfo) -> None:
        """Every sheet of a document but the detail, in reading order."""
        kpis: Mapping[str, Any] = doc if kind == "kpis" else doc.get("kpis") or {}
        self.summary(kind, doc)
        if kind == "client":
            self.targets(doc)
            self.breaches(doc, tz)
            self.trend(doc)
            self.penalties(doc.get("penalties") or {}, monthly=False)
            self.breakdowns(kpis, [d for d in BREAKDOWNS if d != "client"])
        elif kind == "monthly":
            self.clients(doc)
            self.incidences(doc)
            self.penalties(doc.get("penalties") or {}, monthly=True)
            self.breakdowns(kpis, BREAKDOWNS)
        else:
            self.breakdowns(kpis, BREAKDOWNS)


# -- the detail sheet ----------------------------------------------------------------------------

DETAIL_COLUMNS: tuple[tuple[str, float], ...] = (
    ("radicado", 18), ("type", 22), ("status", 16), ("channel", 11), ("client", 22), ("area", 18),
    ("cause", 18), ("received_at", 17), ("first_response_at", 17), ("closed_at", 17), ("due_at", 17),
    ("legal_due_at", 17), ("on_time", 10), ("first_response_hours", 14), ("resolution_business_days", 14),
    ("customer_name", 28), ("subject", 50),
)


class _Detail:
    """The detail sheet: one row per PQR, written batch by batch (in the writer thread)."""

    def __init__(self, book: _Book, tz: ZoneInfo) -> None:
        self.ws, self.cells = book.sheet("detail", [width for _, width in DETAIL_COLUMNS], freeze="B2")
        self.ws.append(self.cells.header(book.col(key) for key, _ in DETAIL_COLUMNS))
        self.tz = tz
        self.lang = book.lang
        self.rows = 0
        self._labels: dict[tuple[str, str], str] = {}

    def label(self, dimension: str, key: str | None) -> Any:
        """A type or status name, looked up once per key (a million rows carry a dozen keys); an
        unknown key is shown as it is, as text."""
        if not key:
            return None
        found = self._labels.get((dimension, key))
        if found is None:
            found = self._labels[(dimension, key)] = key_label(dimension, key, self.lang)
        return self.cells.text(found)

    def write(self, batch: Sequence[DetailRow]) -> None:
        # The hot path of a million rows: plain values wherever openpyxl can take them (a styled
        # cell costs a cell object each); openpyxl gives a naive datetime its date-time format.
        text, tz, append, label = self.cells.text, self.tz, self.ws.append, self.label
        for (radicado, type_, status, channel, client, area, cause, received_at, first_response_at, closed_at,
             due_at, legal_due_at, on_time, hours, days, customer_name, subject) in batch:
            append([text(radicado), label("type", type_), label("status", status), text(channel), text(client),
                    text(area), text(cause), _local(received_at, tz), _local(first_response_at, tz),
                    _local(closed_at, tz), _local(due_at, tz), _local(legal_due_at, tz), on_time, hours, days,
                    text(customer_name), text(subject)])
        self.rows += len(batch)


def _local(instant: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    """An aware instant as the naive wall-clock time in `tz` (Excel dates have no zone)."""
    return instant.astimezone(tz).replace(tzinfo=None) if instant is not None else None


# -- the entry point -----------------------------------------------------------------------------

async def write_workbook(kind: str, doc: dict[str, Any], path: Path, *, lang: str, tz: ZoneInfo,
                         detail: AsyncIterator[DetailRow] | None = None) -> None:
    """Write the workbook of a `report kpis|client|monthly` document (`kind`) to `path`: a summary
    sheet, one sheet per breakdown and section, and, when `detail` is given, a detail sheet with
    one row per PQR it yields (DETAIL_COLUMNS order; instants timezone-aware, written in `tz`).

    Sheet names and headers are in `lang` (es by default, en). The file appears at `path` only
    when complete (written beside it, then renamed); on failure nothing is left behind."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r} (one of {', '.join(KINDS)})")
    path = Path(path)
    book = _Book(lang)
    writing: asyncio.Future[None] | None = None     # the batch the writer thread is on
    try:
        await asyncio.to_thread(book.sections, kind, doc, tz)
        if detail is not None:
            sheet = await asyncio.to_thread(_Detail, book, tz)
            batch: list[DetailRow] = []
            async for row in detail:
                batch.append(row)
                if len(batch) >= DETAIL_BATCH:
                    # Not overlapped with reading the next batch: two busy threads fight over the
                    # GIL, and the writer's many small file writes then wait for it (twice slower).
                    writing = asyncio.ensure_future(asyncio.to_thread(sheet.write, batch))
                    await writing
                    batch = []
            writing = asyncio.ensure_future(asyncio.to_thread(sheet.write, batch))
            await writing
        writing = asyncio.ensure_future(asyncio.to_thread(_save, book.wb, path))
        await writing
    except BaseException:
        if writing is not None and not writing.done():
            # A thread cannot be stopped: let it finish before its workbook is discarded.
            with contextlib.suppress(BaseException):
                await asyncio.shield(writing)
        _discard(book.wb)
        raise


def _save(wb: Any, path: Path) -> None:
    # A name of our own beside `path` (not mkstemp: the file gets the usual umask permissions).
    part = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    try:
        wb.save(part)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise


def _discard(wb: Any) -> None:
    """openpyxl keeps each write-only sheet in a temporary file until the workbook is saved; an
    abandoned workbook would leave them on disk until the process exits."""
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            ws.close()                      # ends the sheet's XML stream
        writer = getattr(ws, "_writer", None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.cleanup()            # removes its temporary file
