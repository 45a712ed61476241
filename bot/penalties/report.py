"""The monthly penalty report: totals by category, client and area (per currency), counts by
status, the detail; as JSON, as an XLSX workbook (summary and detail sheets) and as a bar chart PNG.

Amounts stay `Decimal` from storage to the workbook (openpyxl writes a Decimal as a number); only
the chart converts to float, because matplotlib draws with floats."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.i18n import t
from bot.i18n.formats import format_amount, format_local_datetime
from domain.calendar import BusinessCalendar
from domain.penalty import Penalty, PenaltyCategory

Totals = dict[str, dict[str, Decimal]]   # group -> currency -> sum


def _add(totals: defaultdict[str, dict[str, Decimal]], key: str, p: Penalty) -> None:
    bucket = totals[key]
    bucket[p.currency] = bucket.get(p.currency, Decimal("0")) + p.amount


@dataclass(frozen=True)
class PenaltyReport:
    """One month's penalties, grouped."""

    month: str
    penalties: list[Penalty]
    by_category: Totals = field(default_factory=dict)
    by_client: Totals = field(default_factory=dict)
    by_area: Totals = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    total: dict[str, Decimal] = field(default_factory=dict)
    accepted: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, month: str, penalties: list[Penalty]) -> PenaltyReport:
        """Group `penalties` (already those of `month`). `accepted` sums the penalties the company
        accepted (approved, whatever step of payment they are in)."""
        cat: defaultdict[str, dict[str, Decimal]] = defaultdict(dict)
        cli: defaultdict[str, dict[str, Decimal]] = defaultdict(dict)
        area: defaultdict[str, dict[str, Decimal]] = defaultdict(dict)
        tot: defaultdict[str, dict[str, Decimal]] = defaultdict(dict)
        for p in penalties:
            _add(cat, p.category.value, p)
            _add(cli, p.client, p)
            _add(area, p.area, p)
            _add(tot, "all", p)
            if p.accepted:
                _add(tot, "accepted", p)
        return cls(month=month, penalties=list(penalties), by_category=dict(sorted(cat.items())),
                   by_client=dict(sorted(cli.items())), by_area=dict(sorted(area.items())),
                   by_status=dict(sorted(Counter(p.status.value for p in penalties).items())),
                   total=tot.get("all", {}), accepted=tot.get("accepted", {}))


def _strs(totals: Totals) -> dict[str, dict[str, str]]:
    return {k: {c: str(v) for c, v in sorted(per.items())} for k, per in totals.items()}


def report_json(r: PenaltyReport, cal: BusinessCalendar) -> dict[str, Any]:
    """The report as JSON: amounts are decimal strings."""
    return {"month": r.month, "count": len(r.penalties),
            "total": {c: str(v) for c, v in sorted(r.total.items())},
            "accepted": {c: str(v) for c, v in sorted(r.accepted.items())},
            "by_category": _strs(r.by_category), "by_client": _strs(r.by_client), "by_area": _strs(r.by_area),
            "by_status": r.by_status,
            "penalties": [{"id": p.id, "client": p.client, "category": p.category.value, "amount": str(p.amount),
                           "currency": p.currency, "status": p.status.value, "area": p.area, "pqr": p.pqr,
                           "registered_at": cal.local(p.registered_at).isoformat()} for p in r.penalties]}


def report_text(r: PenaltyReport, lang: str) -> str:
    """A plain-text summary for chats."""
    def line(title: str, totals: Totals) -> list[str]:
        out = [f"{title}:"]
        out += [f"  {k}: " + ", ".join(format_amount(v, c, lang) for c, v in sorted(per.items()))
                for k, per in totals.items()]
        return out
    head = ", ".join(format_amount(v, c, lang) for c, v in sorted(r.total.items())) or "0"
    lines = [f"{r.month} · {len(r.penalties)} · {head}"]
    lines += line(t(lang, "report.category"), r.by_category)
    lines += line(t(lang, "report.client"), r.by_client)
    lines += line(t(lang, "report.area"), r.by_area)
    lines.append(t(lang, "report.status") + ": "
                 + ", ".join(f"{k}: {n}" for k, n in r.by_status.items()))
    return "\n".join(lines)


def _money_format(currency: str) -> str:
    return f'"{currency}" #,##0.00'


def write_xlsx(r: PenaltyReport, path: Path | str, cal: BusinessCalendar) -> None:
    """The workbook: a "Resumen" sheet (totals by category, client, area; counts by status) and a
    "Detalle" sheet (one row per penalty). Amount cells are numbers with a currency format."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Resumen"
    bold = Font(bold=True)
    ws.append([f"Penalidades {r.month}"])
    ws["A1"].font = bold
    for title, totals in (("Categoría", r.by_category), ("Cliente", r.by_client), ("Área", r.by_area)):
        ws.append([])
        ws.append([title, "Moneda", "Total"])
        for cell in ws[ws.max_row]:
            cell.font = bold
        for key, per in totals.items():
            for currency, amount in sorted(per.items()):
                ws.append([key, currency, amount])
                ws.cell(ws.max_row, 3).number_format = _money_format(currency)
    ws.append([])
    ws.append(["Estado", "Cantidad"])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for status, n in r.by_status.items():
        ws.append([status, n])
    ws.append([])
    for label, totals_one in (("Total", r.total), ("Total aceptado", r.accepted)):
        for currency, amount in sorted(totals_one.items()):
            ws.append([label, currency, amount])
            ws.cell(ws.max_row, 3).number_format = _money_format(currency)
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["C"].width = 22

    detail = wb.create_sheet("Detalle")
    detail.append(["ID", "Registrada", "Cliente", "Categoría", "Área", "Estado", "PQR", "Moneda", "Monto",
                   "Decidida por", "Motivo"])
    for cell in detail[1]:
        cell.font = bold
    for p in r.penalties:
        detail.append([p.id, format_local_datetime(cal.local(p.registered_at), "es"), p.client, p.category.value,
                       p.area, p.status.value, p.pqr or "", p.currency, p.amount, p.decided_by or "",
                       p.decision_reason or ""])
        detail.cell(detail.max_row, 9).number_format = _money_format(p.currency)
    for col, width in zip("ABCDEFGHIJK", (6, 18, 28, 24, 20, 20, 18, 8, 20, 22, 40)):
        detail.column_dimensions[col].width = width
    wb.save(str(path))


def chart_png(r: PenaltyReport, *, currency: str | None = None) -> bytes:
    """A bar chart of the month's totals by category (in `currency`, default the most used one),
    as PNG bytes for the Slack adapter to upload."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    if currency is None:
        counts = Counter(p.currency for p in r.penalties)
        currency = counts.most_common(1)[0][0] if counts else "COP"
    labels = [c.value for c in PenaltyCategory]
    values = [float(r.by_category.get(c, {}).get(currency, Decimal("0"))) for c in labels]
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    ax.bar(labels, values, color="#2e6da4")
    ax.set_title(f"Penalidades {r.month} ({currency})")
    ax.set_ylabel(currency)
    ax.ticklabel_format(axis="y", style="plain")
    ax.tick_params(axis="x", labelrotation=15)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
