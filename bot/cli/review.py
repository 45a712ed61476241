"""`pqrbot pqr close RAD --text TEXT --as IDENTITY` (to `en_revision` where config `approval`
applies), `pqrbot pqr approve RAD --as IDENTITY` and `pqrbot pqr return RAD --reason TEXT --as
IDENTITY` (managers only). A refusal exits 1 with one line and is written to the audit trail."""

from __future__ import annotations

import argparse
from typing import Any

from bot.bootstrap import App
from bot.cli.output import Refused, language, print_json
from bot.cli.serialize import pqr_json
from bot.commands.refusals import refusal_text
from bot.i18n import t
from domain.errors import DomainError, NotAllowed
from domain.limits import IDENTITY_MAX
from domain.pqr import Pqr
from domain.pqr_types import Status

COMMANDS = ("close", "approve", "return")


def add_parsers(pqr_sub: Any, lang: str) -> None:
    """The three verbs under `pqrbot pqr`."""
    close = pqr_sub.add_parser("close", help="send the final answer and close (to en_revision where approval applies)")
    close.add_argument("radicado")
    close.add_argument("--text", required=True, help="the final answer to the customer")
    close.add_argument("--as", dest="identity", required=True, help="a staff or manager identity, e.g. slack:U0STAFF")
    close.add_argument("--json", action="store_true")
    approve = pqr_sub.add_parser("approve", help="a manager approves the answer in en_revision: sent, closed")
    approve.add_argument("radicado")
    approve.add_argument("--as", dest="identity", required=True, help="a manager identity, e.g. slack:U0BOSS")
    approve.add_argument("--json", action="store_true")
    ret = pqr_sub.add_parser("return", help="a manager returns the answer in en_revision with a comment")
    ret.add_argument("radicado")
    ret.add_argument("--reason", required=True, help="the comment for whoever drafted the answer")
    ret.add_argument("--as", dest="identity", required=True, help="a manager identity, e.g. slack:U0BOSS")
    ret.add_argument("--json", action="store_true")


async def run(app: App, args: argparse.Namespace) -> None:
    lang = language(app.config.language)
    rad, who, now = args.radicado.strip().upper(), args.identity, app.clock()
    try:
        if args.pqr_command == "close":
            if not app.roles.is_staff(who):
                await app.service.record_refusal(actor=who[:IDENTITY_MAX], action="close", reason="not_staff",
                                                 now=now, radicado=rad)
                raise Refused(refusal_text(NotAllowed("not_staff"), lang))
            pqr = await app.service.close(rad, args.text, actor=who, now=now)
            key = "review.submitted" if pqr.status is Status.EN_REVISION else "closed"
        else:
            assert app.review is not None
            if args.pqr_command == "approve":
                pqr = await app.review.approve(rad, actor=who, now=now)
                key = "review.approved"
            else:
                pqr = await app.review.send_back(rad, args.reason, actor=who, now=now)
                key = "review.returned"
    except DomainError as exc:
        raise Refused(refusal_text(exc, lang, causes=app.config.causes)) from None
    _print(app, args, pqr, t(lang, key, radicado=pqr.radicado))


def _print(app: App, args: argparse.Namespace, pqr: Pqr, line: str) -> None:
    if args.json:
        print_json(pqr_json(pqr, app.service.calendar, now=app.clock(), warn_before_days=app.config.sla.warn_before_days))
    else:
        print(line)
