"""`pqrbot penalty …` and `pqrbot report penalties …` (DESIGN.md's CLI)."""

from __future__ import annotations

import argparse
import mimetypes
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot.penalties.service import BadMonth, NewPenalty
from bot.penalties.report import PenaltyReport, report_json, write_xlsx
from bot.cli.output import CLI_ACTOR, integer_arg, language, print_json, refuse
from bot.commands.refusals import PQR, AboutPenalty, refusal_text
from bot.i18n import t
from bot.cli.serialize import penalty_json
from domain.errors import DomainError
from domain.penalty import Penalty, PenaltyCategory, PenaltyStatus, parse_amount, parse_currency
from bot.pqrs.attachments import not_taken_line, screen
from domain.files import FileData
from domain.limits import INT32_MAX

if TYPE_CHECKING:
    from bot.bootstrap import App

def add_parsers(sub: Any, lang: str = "es") -> Any:
    """Add `penalty` and `report` to the top-level subparsers (`lang`: of the argument types'
    messages); returns `report`'s subparsers, where the other reports are added."""
    penalty_id = integer_arg(lang, 1, INT32_MAX)
    pen = sub.add_parser("penalty", help="contractual penalties")
    ps = pen.add_subparsers(dest="penalty_command", required=True)
    new = ps.add_parser("new", help="register a penalty (the area is asked for evidence)")
    new.add_argument("--client", required=True)
    new.add_argument("--category", required=True, choices=[c.value for c in PenaltyCategory])
    new.add_argument("--amount", required=True, help="a decimal, e.g. 1500000.50")
    new.add_argument("--currency", default="COP")
    new.add_argument("--area", required=True)
    new.add_argument("--pqr", help="the (breached) PQR it comes from")
    new.add_argument("--description")
    new.add_argument("--json", action="store_true")
    ev = ps.add_parser("evidence", help="attach the area's evidence (moves the case to en_evaluacion)")
    ev.add_argument("id", type=penalty_id)
    ev.add_argument("--text", required=True)
    ev.add_argument("--file", action="append", default=[], help="a file to attach (repeatable)")
    ev.add_argument("--as", dest="identity", required=True, help="e.g. slack:U0STAFF")
    lst = ps.add_parser("list", help="every penalty, oldest first")
    lst.add_argument("--status", choices=[s.value for s in PenaltyStatus])
    lst.add_argument("--json", action="store_true")
    show = ps.add_parser("show", help="one penalty with its evidence and audit trail")
    show.add_argument("id", type=penalty_id)
    show.add_argument("--json", action="store_true")
    dec = ps.add_parser("decide", help="approve or reject (managers only)")
    dec.add_argument("id", type=penalty_id)
    way = dec.add_mutually_exclusive_group(required=True)
    way.add_argument("--approve", action="store_true")
    way.add_argument("--reject", action="store_true")
    dec.add_argument("--reason", required=True)
    dec.add_argument("--as", dest="identity", required=True)
    dec.add_argument("--json", action="store_true")
    paid = ps.add_parser("paid", help="accounting has paid an authorized penalty")
    paid.add_argument("id", type=penalty_id)
    paid.add_argument("--as", dest="identity", required=True)
    paid.add_argument("--json", action="store_true")

    rep = sub.add_parser("report", help="reports")
    rs = rep.add_subparsers(dest="report_command", required=True)
    rp = rs.add_parser("penalties", help="the monthly penalty report")
    rp.add_argument("--month", required=True, help="YYYY-MM")
    rp.add_argument("--xlsx", help="also write the workbook to this file")
    rp.add_argument("--json", action="store_true")
    return rs



def _print_penalty(app: App, p: Penalty, as_json: bool) -> None:
    cal = app.penalties.calendar
    if as_json:
        print_json(penalty_json(p, cal))
        return
    print(f"{p.id}\t{p.client}\t{p.category.value}\t{p.currency} {p.amount}\t{p.area}\t{p.status.value}\t{p.pqr or '-'}")


async def penalty(app: App, args: argparse.Namespace) -> None:
    """`pqrbot penalty new|evidence|list|show|decide|paid`."""
    now, svc = app.clock(), app.penalties
    try:
        if args.penalty_command == "new":
            req = NewPenalty(client=args.client, category=PenaltyCategory(args.category),
                             amount=parse_amount(args.amount), currency=parse_currency(args.currency),
                             area=args.area, actor=CLI_ACTOR, pqr=args.pqr, description=args.description)
            _print_penalty(app, await svc.register(req, now=now), args.json)
        elif args.penalty_command == "evidence":
            files = [_read_file(name, language(app.config.language)) for name in args.file]
            _, refused = screen(files, app.config.attachment_limits())     # config `attachments`
            if refused:
                refuse(f"penalty: {not_taken_line(language(app.config.language), refused[0])}")
            p = await svc.add_evidence(args.id, args.text, actor=args.identity, now=now, files=files)
            print(f"penalty {p.id}: evidence added ({p.status.value})")
        elif args.penalty_command == "list":
            found = await svc.list(status=PenaltyStatus(args.status) if args.status else None)
            if args.json:
                print_json([penalty_json(p, svc.calendar) for p in found])
            else:
                for p in found:
                    _print_penalty(app, p, False)
        elif args.penalty_command == "show":
            p = await svc.show(args.id)
            _print_penalty(app, p, args.json)
            if not args.json:
                for e in p.events:
                    print(f"  {svc.calendar.local(e.at).isoformat()}  {e.kind:<18} {e.actor:<24} "
                          f"{e.from_ or ''} → {e.to or ''} {e.reason or ''}".rstrip())
        elif args.penalty_command == "decide":
            p = await svc.decide(args.id, bool(args.approve), args.reason, args.identity, now)
            _print_penalty(app, p, args.json)
        elif args.penalty_command == "paid":
            _print_penalty(app, await svc.mark_paid(args.id, actor=args.identity, now=now), args.json)
    except DomainError as exc:
        about = PQR if args.penalty_command == "new" else AboutPenalty(args.id)
        refuse(f"penalty: {refusal_text(exc, language(app.config.language), about=about)}")


def _read_file(name: str, lang: str) -> FileData:
    path = Path(name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        refuse(f"penalty: {t(lang, 'cli.cannot_read', name=name, error=exc.strerror)}")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileData(filename=path.name, content_type=content_type, data=data)


async def report(app: App, args: argparse.Namespace) -> None:
    """`pqrbot report penalties --month YYYY-MM [--xlsx FILE] [--json]`."""
    try:
        found = await app.penalties.month(args.month)
    except BadMonth:
        refuse(f"report: {t(language(app.config.language), 'penalty.bad_month', month=args.month)}")
    rep = PenaltyReport.of(args.month, found)
    cal = app.penalties.calendar
    if args.xlsx:
        write_xlsx(rep, args.xlsx, cal)
        print(f"workbook written to {args.xlsx}", file=sys.stderr)
    if args.json:
        print_json(report_json(rep, cal))
    else:
        from bot.penalties.report import report_text
        print(report_text(rep, app.config.language))
