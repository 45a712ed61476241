"""The report PDFs: a Jinja2 HTML template per report (`templates/kpis.html`, `client.html`,
`monthly.html` on `base.html`, with `report.css`) rendered by WeasyPrint, with the charts of
`bot.reports.charts` inline as SVG images.

A cover page (title, client and period, the generation date), then the figures as tables and the
charts; page numbers at the bottom right. Texts in `lang` (es by default, en), numbers and dates
by Babel (`bot.i18n.formats`). Autoescape is on, so customer text (client, area, cause names) is
shown as text, never markup; and WeasyPrint may fetch `data:` URLs only (the charts), never a file
or the network, whatever a document holds.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.i18n import t
from bot.i18n.formats import (format_amount, format_local_date, format_local_datetime, format_month,
                              format_number, format_percentage)
from bot.reports import charts
from bot.reports.workbook import (BREAKDOWNS, KINDS, amount, figure_rows, key_label, kind_label, last_day,
                                  parse_day, parse_instant, target_label)

DASH = "—"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=PackageLoader("bot.reports", "templates"),
                       autoescape=select_autoescape(["html"], default_for_string=True, default=True),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


@lru_cache(maxsize=1)
def _stylesheet() -> str:
    return resources.files("bot.reports").joinpath("templates/report.css").read_text(encoding="utf-8")


class Formats:
    """What the templates call to write a value in the report's language: a dash for null."""

    def __init__(self, lang: str, tz: ZoneInfo) -> None:
        self.lang, self.tz = lang, tz

    def int(self, value: Any) -> str:
        return DASH if value is None else format_number(value, self.lang)

    def measure(self, value: Any) -> str:
        return DASH if value is None else format_number(value, self.lang, places=1)

    def pct(self, value: Any) -> str:
        return DASH if value is None else format_percentage(value, self.lang)

    def date(self, value: dt.date | str | None) -> str:
        day = parse_day(value) if isinstance(value, str) else value
        return DASH if day is None else format_local_date(day, self.lang)

    def instant(self, value: str | None) -> str:
        instant = parse_instant(value, self.tz)
        return DASH if instant is None else format_local_datetime(instant, self.lang, self.tz)

    def amount(self, value: Any, currency: str) -> str:
        number = amount(value)
        return DASH if number is None else format_amount(number, currency, self.lang)

    def figure(self, value: Any, fmt: str) -> str:
        if value is None:
            return DASH
        if fmt == "text":
            return str(value)
        if fmt == "date":
            return self.date(value)
        if fmt == "pct":
            return self.pct(value)
        if fmt == "measure":
            return self.measure(value)
        if fmt.startswith("amount:"):
            return self.amount(value, fmt.split(":", 1)[1])
        return self.int(value)

    def key(self, dimension: str, key: str | None) -> str:
        return key_label(dimension, key, self.lang)

    def kind(self, kind: str | None) -> str:
        return kind_label(str(kind), self.lang)

    def target(self, target: str | None) -> str:
        return target_label(str(target), self.lang)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def default_title(kind: str, doc: Mapping[str, Any], lang: str) -> str:
    """"Indicadores de PQR", "Informe de ANS · Acme", "Informe mensual de PQR · noviembre de 2026"."""
    if kind == "client":
        return t(lang, "report.file.title.client", client=doc.get("client") or DASH)
    if kind == "monthly":
        start = parse_day(doc.get("from"))
        month = format_month(start, lang) if start else str(doc.get("month") or DASH)
        return t(lang, "report.file.title.monthly", month=month)
    return t(lang, "report.file.title.kpis")


def _context(kind: str, doc: Mapping[str, Any], lang: str, tz: ZoneInfo, title: str,
             generated_at: dt.datetime) -> dict[str, Any]:
    f = Formats(lang, tz)
    kpis: Mapping[str, Any] = doc if kind == "kpis" else doc.get("kpis") or {}

    def tr(key: str, **values: Any) -> str:
        return t(lang, key, **values)

    cover = []
    if kind == "client":
        cover += [tr("report.file.cover.client", client=doc.get("client") or DASH),
                  tr("report.file.cover.period", period=doc.get("period") or DASH)]
    cover.append(tr("report.file.cover.range", start=f.date(doc.get("from") or kpis.get("from")),
                    end=f.date(last_day(doc if doc.get("to") else kpis))))
    ans = doc.get("ans_compliance_pct") if kind == "client" else kpis.get("ans_compliance_pct")
    headline = [(tr("report.file.fig.filed"), f.int(kpis.get("filed"))),
                (tr("report.file.fig.answered"), f.int(kpis.get("answered"))),
                (tr("report.file.fig.on_time_pct"), f.pct(kpis.get("on_time_pct"))),
                (tr("report.file.fig.ans_compliance_pct"), f.pct(ans))]
    chart_uris: dict[str, str | None] = {
        "by_type": _data_uri(charts.by_type_svg(kpis.get("by_type") or {}, lang=lang)) if kpis.get("by_type") else None,
        "backlog": _data_uri(charts.backlog_svg(kpis.get("backlog_age") or {}, lang=lang))
        if kpis.get("backlog_age") else None,
        "trend": None, "incidences": None,
    }
    if kind == "client" and (doc.get("trend") or ans is not None):
        current = {"period": doc.get("period"), "ans_compliance_pct": ans}
        chart_uris["trend"] = _data_uri(charts.trend_svg(doc.get("trend") or [], lang=lang, current=current))
    nps = doc.get("nps") if kind != "kpis" else None
    chart_uris["nps_trend"] = (_data_uri(charts.nps_trend_svg(nps["trend"], lang=lang))
                               if isinstance(nps, Mapping) and nps.get("trend") else None)
    if kind == "monthly" and doc.get("incidences"):
        chart_uris["incidences"] = _data_uri(charts.incidences_svg(doc["incidences"], lang=lang))
    return {
        "lang": lang, "title": title, "cover": cover,
        "generated": tr("report.file.cover.generated", at=format_local_datetime(generated_at, lang, tz)),
        "doc": doc, "kpis": kpis, "figures": figure_rows(kind, doc, lang), "headline": headline,
        "charts": chart_uris, "breakdowns": [d for d in BREAKDOWNS if not (kind == "client" and d == "client")],
        "f": f, "tr": tr,
    }


def render_html(kind: str, doc: dict[str, Any], *, lang: str, tz: ZoneInfo, title: str | None = None,
                generated_at: dt.datetime | None = None) -> str:
    """The HTML the PDF is made from (for `render_pdf`, and to look at in a browser)."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r} (one of {', '.join(KINDS)})")
    generated_at = generated_at or dt.datetime.now(tz)
    context = _context(kind, doc, lang, tz, title or default_title(kind, doc, lang), generated_at)
    return _environment().get_template(f"{kind}.html").render(context)


def render_pdf(kind: str, doc: dict[str, Any], *, lang: str, tz: ZoneInfo, title: str | None = None,
               generated_at: dt.datetime | None = None) -> bytes:
    """The PDF of a `report kpis|client|monthly` document (`kind`): cover, figures, charts, page
    numbers. `title` replaces the default one; `generated_at` (default now) is shown on the cover.
    CPU-bound (a few seconds for a client report with its charts): from async code, call it in
    a worker thread (`asyncio.to_thread`)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html = render_html(kind, doc, lang=lang, tz=tz, title=title, generated_at=generated_at)
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[CSS(string=_stylesheet(), url_fetcher=fetcher)])
    assert pdf is not None
    return bytes(pdf)
