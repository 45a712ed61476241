"""The report charts, drawn with matplotlib's Agg canvas (no display, no pyplot state): SVG
markup for the PDF (`bot.reports.document`) and one PNG of a month's figures for Slack.

Each chart is a `Figure` of its own, so charts can be drawn in worker threads. Axis numbers are
written by Babel in the report's language (`1.234` in Spanish), and labels that come from
outside (client, area and cause names) are drawn as plain text: a `$` is not mathtext.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from bot.i18n import t
from bot.i18n.formats import format_local_date, format_number, format_percentage
from bot.reports.workbook import key_label, last_day, parse_day

BLUE, GREEN, ORANGE, RED, GREY = "#2e6da4", "#3c9d5d", "#e08a1e", "#c0392b", "#8c8c8c"
BANDS = ("0-5", "6-10", "11-15", ">15")


def _plain(label: Any) -> str:
    """A label as literal text: matplotlib reads `$…$` as mathtext."""
    return str(label).replace("$", r"\$")


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue().decode("utf-8")


def _count_axis(axis: Any, lang: str) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _: format_number(value, lang)))


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="both", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)


def _no_data(ax: Any, lang: str) -> None:
    ax.text(0.5, 0.5, t(lang, "report.file.empty"), ha="center", va="center", transform=ax.transAxes,
            color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def _type_bars(ax: Any, by_type: Mapping[str, Mapping[str, Any]], lang: str) -> None:
    if not by_type:
        _no_data(ax, lang)
        return
    items = sorted(by_type.items(), key=lambda kv: kv[1].get("filed") or 0)
    labels = [_plain(key_label("type", key, lang)) for key, _ in items]
    filed = [g.get("filed") or 0 for _, g in items]
    answered = [g.get("answered") or 0 for _, g in items]
    rows = range(len(items))
    height = 0.38
    bars = ax.barh([r + height / 2 for r in rows], filed, height, color=BLUE,
                   label=t(lang, "report.file.col.filed"))
    bars2 = ax.barh([r - height / 2 for r in rows], answered, height, color=GREEN,
                    label=t(lang, "report.file.col.answered"))
    for group in (bars, bars2):
        ax.bar_label(group, labels=[format_number(v, lang) for v in group.datavalues], padding=2, fontsize=7)
    ax.set_yticks(list(rows), labels)
    _count_axis(ax.xaxis, lang)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    _style(ax)
    ax.grid(axis="y", visible=False)


def _backlog_bars(ax: Any, backlog: Mapping[str, Any], lang: str) -> None:
    values = [backlog.get(band) or 0 for band in BANDS]
    bars = ax.bar([band.replace("-", "–") for band in BANDS], values, color=[GREEN, BLUE, ORANGE, RED])
    ax.bar_label(bars, labels=[format_number(v, lang) for v in values], padding=2, fontsize=8)
    _count_axis(ax.yaxis, lang)
    _style(ax)
    ax.grid(axis="x", visible=False)


def by_type_svg(by_type: Mapping[str, Mapping[str, Any]], *, lang: str) -> str:
    """Horizontal bars of the PQRs filed and answered by type (the `by_type` of a KPI document)."""
    fig = _figure(7.2, max(2.2, 0.45 * len(by_type) + 1.0))
    ax = fig.add_subplot()
    _type_bars(ax, by_type, lang)
    ax.set_title(t(lang, "report.file.chart.by_type"), fontsize=10, loc="left")
    return _svg(fig)


def backlog_svg(backlog: Mapping[str, Any], *, lang: str) -> str:
    """Bars of the PQRs open at the end of the period by age in business days."""
    fig = _figure(7.2, 2.8)
    ax = fig.add_subplot()
    _backlog_bars(ax, backlog, lang)
    ax.set_title(t(lang, "report.file.chart.backlog"), fontsize=10, loc="left")
    return _svg(fig)


def trend_svg(trend: Sequence[Mapping[str, Any]], *, lang: str, current: Mapping[str, Any] | None = None) -> str:
    """A line of ANS compliance (%) over the periods of `trend`, oldest first, with `current`
    ({"period", "ans_compliance_pct"}) as the last point; a period with nothing measured is a gap."""
    points = list(trend) + ([current] if current else [])
    fig = _figure(7.2, 2.8)
    ax = fig.add_subplot()
    labels = [_plain(p.get("period")) for p in points]
    values = [p.get("ans_compliance_pct") for p in points]
    if not any(v is not None for v in values):
        _no_data(ax, lang)
    else:
        xs = list(range(len(points)))
        ys = [float(v) if v is not None else float("nan") for v in values]
        ax.plot(xs, ys, marker="o", color=BLUE, linewidth=1.8)
        for x, v in zip(xs, values, strict=True):
            if v is not None:
                ax.annotate(format_percentage(v, lang), (x, float(v)), textcoords="offset points", xytext=(0, 6),
                            ha="center", fontsize=7)
        ax.set_xticks(xs, labels)
        ax.set_ylim(0, 108)
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_percentage(value, lang, places=0)))
        _style(ax)
    ax.set_title(t(lang, "report.file.chart.trend"), fontsize=10, loc="left")
    return _svg(fig)


def nps_trend_svg(trend: Sequence[Mapping[str, Any]], *, lang: str) -> str:
    """Bars of the NPS (−100…100) by period (the `trend` of a report's `nps` block, oldest
    first); a period nobody answered has no bar."""
    fig = _figure(7.2, 2.8)
    ax = fig.add_subplot()
    values = [p.get("nps") for p in trend]
    if not any(v is not None for v in values):
        _no_data(ax, lang)
    else:
        xs = list(range(len(trend)))
        ys = [float(v) if v is not None else 0.0 for v in values]
        bars = ax.bar(xs, ys, color=[GREEN if y >= 0 else RED for y in ys])
        ax.bar_label(bars, labels=[format_number(v, lang, places=1) if v is not None else "" for v in values],
                     padding=2, fontsize=7)
        ax.set_xticks(xs, [_plain(p.get("period")) for p in trend])
        ax.set_ylim(-110, 110)
        ax.axhline(0, color=GREY, linewidth=0.8)
        _style(ax)
        ax.grid(axis="x", visible=False)
    ax.set_title(t(lang, "survey.chart_trend"), fontsize=10, loc="left")
    return _svg(fig)


def incidences_svg(incidences: Sequence[Mapping[str, Any]], *, lang: str, top: int = 12) -> str:
    """Horizontal bars of the incidences by cause (summed over areas), the `top` largest."""
    totals: Counter[str] = Counter()
    for row in incidences:
        totals[key_label("cause", row.get("cause"), lang)] += int(row.get("count") or 0)
    items = sorted(totals.most_common(top), key=lambda kv: kv[1])
    fig = _figure(7.2, max(2.2, 0.35 * len(items) + 1.0))
    ax = fig.add_subplot()
    if not items:
        _no_data(ax, lang)
    else:
        bars = ax.barh([_plain(k) for k, _ in items], [v for _, v in items], color=ORANGE)
        ax.bar_label(bars, labels=[format_number(v, lang) for _, v in items], padding=2, fontsize=7)
        _count_axis(ax.xaxis, lang)
        _style(ax)
        ax.grid(axis="y", visible=False)
    ax.set_title(t(lang, "report.file.chart.incidences"), fontsize=10, loc="left")
    return _svg(fig)


def kpi_chart_png(doc: dict[str, Any], *, lang: str) -> bytes:
    """One PNG of a month's main figures, for Slack: PQRs filed and answered by type beside the
    backlog by age, titled with the period, on-time and ANS percentages. `doc` is a `report
    kpis` document or a monthly report (its `kpis` are used)."""
    kpis: Mapping[str, Any] = doc.get("kpis") or doc
    start, end = parse_day(kpis.get("from") or doc.get("from")), last_day(kpis if kpis.get("to") else doc)
    fig = _figure(10, 4.6)
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    _type_bars(left, kpis.get("by_type") or {}, lang)
    left.set_title(t(lang, "report.file.chart.by_type"), fontsize=9, loc="left")
    _backlog_bars(right, kpis.get("backlog_age") or {}, lang)
    right.set_title(t(lang, "report.file.chart.backlog"), fontsize=9, loc="left")

    def pct(value: Any) -> str:
        return format_percentage(value, lang) if value is not None else "—"

    fig.suptitle(_plain(t(lang, "report.file.chart.kpi_title",
                          start=format_local_date(start, lang) if start else "—",
                          end=format_local_date(end, lang) if end else "—",
                          on_time=pct(kpis.get("on_time_pct")), ans=pct(kpis.get("ans_compliance_pct")))),
                 fontsize=11, x=0.01, ha="left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
