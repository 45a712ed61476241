"""`pqrbot report kpis|client|monthly` (DESIGN.md's CLI): the indicators' documents as JSON or
text, and as XLSX and PDF files. `report penalties` stays in `bot.cli.penalties`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import language, print_json, refuse
from bot.i18n import t
from bot.reports.summary import client_lines, kpi_lines, monthly_lines
from domain.errors import InvalidInput, NotFound
from domain.periods import Period
from storage.ports import IndicatorSlice

if TYPE_CHECKING:
    from bot.bootstrap import App


def _date_arg(lang: str) -> Any:
    def day(text: str) -> dt.date:
        try:
            value = dt.date.fromisoformat(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(t(lang, "kpis.bad_date", value=text[:40])) from None
        if not 1970 <= value.year <= 2999:
            raise argparse.ArgumentTypeError(t(lang, "kpis.bad_date", value=text[:40]))
        return value
    return day


def _period_arg(lang: str, *, months_only: bool = False) -> Any:
    def period(text: str) -> Period:
        try:
            value = Period.parse(text)
        except InvalidInput:
            key, values = ("penalty.bad_month", {"month": text[:40]}) if months_only else ("kpis.bad_period",
                                                                                           {"value": text[:40]})
            raise argparse.ArgumentTypeError(t(lang, key, **values)) from None
        if months_only and value.kind != "month":
            raise argparse.ArgumentTypeError(t(lang, "penalty.bad_month", month=text[:40]))
        return value
    return period


def _files(p: argparse.ArgumentParser) -> None:
    p.add_argument("--xlsx", help="also write the workbook to this file")
    p.add_argument("--pdf", help="also write the PDF to this file")
    p.add_argument("--lang", choices=["es", "en"], help="the files' language (default: config.yaml's)")
    p.add_argument("--json", action="store_true")


def add_parsers(reports: Any, lang: str = "es") -> None:
    """Add kpis, client and monthly under `pqrbot report`."""
    k = reports.add_parser("kpis", help="the indicators for a period [from, to) and a slice")
    k.add_argument("--from", dest="start", required=True, type=_date_arg(lang), help="YYYY-MM-DD (included)")
    k.add_argument("--to", dest="end", required=True, type=_date_arg(lang), help="YYYY-MM-DD (not included)")
    for name in ("client", "area", "type", "channel", "cause", "assignee"):
        k.add_argument(f"--{name}")
    _files(k)
    c = reports.add_parser("client", help="the ANS report for one client and a period")
    c.add_argument("--client", required=True)
    c.add_argument("--period", required=True, type=_period_arg(lang), help="2026-11, 2026-Q4, 2026-H2 or 2026")
    _files(c)
    m = reports.add_parser("monthly", help="the consolidated monthly report for top management")
    m.add_argument("--month", required=True, type=_period_arg(lang, months_only=True), help="YYYY-MM")
    _files(m)
    from bot.cli.surveys import add_report_parsers
    add_report_parsers(reports, _date_arg(lang))          # report nps | csat


async def report(app: App, args: argparse.Namespace) -> None:
    """`pqrbot report kpis|client|monthly|penalties …`."""
    if args.report_command == "penalties":
        from bot.cli.penalties import report as penalties
        await penalties(app, args)
        return
    if args.report_command in ("nps", "csat"):
        from bot.cli.surveys import report as surveys
        await surveys(app, args)
        return
    lang = language(app.config.language)
    reports = app.reports
    flt = IndicatorSlice()
    if args.report_command == "kpis":
        if args.end <= args.start:
            refuse(f"report: {t(lang, 'kpis.empty_range', start=args.start, end=args.end)}")
        flt = IndicatorSlice(client=args.client, area=args.area, type=args.type, channel=args.channel,
                             cause=args.cause, assignee=args.assignee)
        doc = await reports.indicators.kpis(args.start, args.end, flt)
        start, end, lines = args.start, args.end, kpi_lines(doc, lang)
    elif args.report_command == "client":
        try:
            doc = await reports.client(args.client, args.period)
        except NotFound:
            known = ", ".join(c.name for c in await reports.clients()) or "—"
            refuse(f"report: {t(lang, 'kpis.unknown_client', client=args.client, known=known)}")
        flt = IndicatorSlice(client=doc["client"])
        start, end, lines = args.period.start, args.period.end, client_lines(doc, lang)
    else:
        doc = await reports.monthly(args.month)
        start, end, lines = args.month.start, args.month.end, monthly_lines(doc, lang)
    await _write_files(app, args, doc, start, end, flt, lang)
    if args.json:
        print_json(doc)
    else:
        print("\n".join(lines))


async def _write_files(app: App, args: argparse.Namespace, doc: dict[str, Any], start: dt.date, end: dt.date,
                       flt: IndicatorSlice, lang: str) -> None:
    """The XLSX (its detail sheet streamed from the database) and the PDF, when asked for."""
    files_lang = args.lang or app.config.language
    tz = app.service.calendar.tz
    if args.xlsx:
        from bot.reports.workbook import write_workbook
        detail = app.reports.indicators.detail(start, end, flt)
        await write_workbook(args.report_command, doc, Path(args.xlsx), lang=files_lang, tz=tz, detail=detail)
        print(t(lang, "kpis.written", what="XLSX", path=args.xlsx), file=sys.stderr)
    if args.pdf:
        from bot.reports.document import render_pdf
        Path(args.pdf).write_bytes(render_pdf(args.report_command, doc, lang=files_lang, tz=tz))
        print(t(lang, "kpis.written", what="PDF", path=args.pdf), file=sys.stderr)
