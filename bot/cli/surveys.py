"""`pqrbot survey nps send|optout` and `pqrbot report nps|csat` (DESIGN.md's CLI and JSON keys)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.output import email_arg, language, print_json, refuse
from bot.i18n import t
from bot.surveys.verbs import nps_lines
from domain.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from bot.bootstrap import App


def _sample(lang: str) -> Any:
    def pct(text: str) -> float:
        try:
            value = float(text.strip().rstrip("%"))
        except ValueError:
            raise argparse.ArgumentTypeError(t(lang, "survey.bad_sample", value=text[:20])) from None
        if not 0 < value <= 100:
            raise argparse.ArgumentTypeError(t(lang, "survey.bad_sample", value=text[:20]))
        return value
    return pct


def add_parsers(sub: Any, lang: str = "es") -> None:
    """`pqrbot survey …` under the top-level subparsers."""
    survey = sub.add_parser("survey", help="satisfaction surveys: NPS campaigns and opt-outs")
    ss = survey.add_subparsers(dest="survey_command", required=True)
    nps = ss.add_parser("nps", help="NPS campaigns")
    ns = nps.add_subparsers(dest="nps_command", required=True)
    send = ns.add_parser("send", help="ask a segment the 0-10 question")
    send.add_argument("--segment", required=True, help="b2b, b2c or client:NAME")
    send.add_argument("--sample", type=_sample(lang), help="a random PCT of the eligible contacts")
    send.add_argument("--dry-run", action="store_true", help="print the selection, send nothing")
    send.add_argument("--json", action="store_true")
    out = ss.add_parser("optout", help="never ask this email again")
    out.add_argument("email", type=email_arg(lang))


def add_report_parsers(reports: Any, date_arg: Any) -> None:
    """`report nps` and `report csat` under `pqrbot report`."""
    n = reports.add_parser("nps", help="NPS of the surveys sent in [from, to)")
    n.add_argument("--from", dest="start", required=True, type=date_arg, help="YYYY-MM-DD (included)")
    n.add_argument("--to", dest="end", required=True, type=date_arg, help="YYYY-MM-DD (not included)")
    n.add_argument("--segment", help="b2b, b2c or client:NAME")
    n.add_argument("--json", action="store_true")
    c = reports.add_parser("csat", help="CSAT of the surveys sent in [from, to)")
    c.add_argument("--from", dest="start", required=True, type=date_arg, help="YYYY-MM-DD (included)")
    c.add_argument("--to", dest="end", required=True, type=date_arg, help="YYYY-MM-DD (not included)")
    c.add_argument("--json", action="store_true")


async def survey(app: App, args: argparse.Namespace) -> None:
    from bot.bootstrap import nps_campaigns
    lang = language(app.config.language)
    now = app.clock()
    if args.survey_command == "optout":
        assert app.surveys is not None
        done = await app.surveys.opt_out(args.email, now)
        print(t(lang, "survey.optout_cli_done" if done else "survey.optout_cli_again", email=args.email))
        return
    try:
        result = await nps_campaigns(app).send(args.segment, now=now, sample_pct=args.sample, dry_run=args.dry_run)
    except InvalidInput:
        refuse(f"survey: {t(lang, 'survey.unknown_segment', value=args.segment[:60])}")
    except NotFound:
        refuse(f"survey: {t(lang, 'survey.unknown_client', client=args.segment[7:].strip()[:100])}")
    if args.json:
        print_json(result.json())
        return
    key = "survey.dry_line" if args.dry_run else "survey.sent_line"
    print(t(lang, key, campaign=result.campaign, selected=len(result.selected), queued=result.queued,
            recent=result.skipped_recent, consent=result.skipped_no_consent))
    for x in result.selected:
        print(f"  {x.who.contact}\t{x.client or '-'}\t{x.segment}")


async def report(app: App, args: argparse.Namespace) -> None:
    """`report nps|csat`."""
    from bot.surveys.results import SurveyResults
    lang = language(app.config.language)
    if args.end <= args.start:
        refuse(f"report: {t(lang, 'kpis.empty_range', start=args.start, end=args.end)}")
    results = SurveyResults(app.db, app.service.calendar)
    label = f"{args.start.isoformat()} – {args.end.isoformat()}"
    if args.report_command == "nps":
        segment = args.segment
        if segment and not (segment.lower() in ("b2b", "b2c") or segment.lower().startswith("client:")):
            refuse(f"report: {t(lang, 'survey.unknown_segment', value=segment[:60])}")
        doc = await results.nps(args.start, args.end, segment)
        lines = nps_lines(doc, {"sent": 0}, lang, label)
    else:
        doc = await results.csat(args.start, args.end)
        lines = [t(lang, "csat.line", csat=_num(doc["csat_pct"], "%"), avg=_num(doc["avg"]),
                   responses=doc["responses"], sent=doc["sent"])]
        lines += [f"• {x['radicado']}: {x['score']}/5 — {x['comment'] or ''}" for x in doc["low"]]
    if args.json:
        print_json(doc)
    else:
        print("\n".join(lines))


def _num(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:g}{unit}"
