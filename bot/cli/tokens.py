"""`pqrbot token create|list|revoke` (DESIGN.md's CLI): the REST API's tokens. A token is printed
once, when created (alone on stdout, so `TOKEN=$(pqrbot token create …)` keeps it); only its hash
is stored, and `list` never shows it."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

from bot.access.service import ROLES, TokenRefused
from bot.cli.output import CLI_ACTOR, language, print_json, refuse
from bot.i18n import t
from domain.limits import shown

if TYPE_CHECKING:
    from bot.bootstrap import App


def add_parsers(sub: Any, lang: str = "es") -> None:
    """Add `token` to the top-level subparsers."""
    tok = sub.add_parser("token", help="REST API tokens")
    ts = tok.add_subparsers(dest="token_command", required=True)
    new = ts.add_parser("create", help="a new token (printed once; only its hash is stored)")
    new.add_argument("--name", required=True, help="who uses it, e.g. crm (audited as api:NAME)")
    new.add_argument("--role", required=True, choices=ROLES)
    new.add_argument("--json", action="store_true")
    lst = ts.add_parser("list", help="every token, without its secret")
    lst.add_argument("--json", action="store_true")
    rev = ts.add_parser("revoke", help="the API stops accepting the token at once")
    rev.add_argument("name")


async def tokens(app: App, args: argparse.Namespace) -> None:
    """`pqrbot token create|list|revoke`."""
    from bot.bootstrap import access_service
    access, lang, now = access_service(app), language(app.config.language), app.clock()
    cal = app.service.calendar

    def iso(instant: dt.datetime | None) -> str | None:
        return cal.local(instant).isoformat() if instant is not None else None

    try:
        if args.token_command == "create":
            secret = await access.create_token(args.name, args.role, actor=CLI_ACTOR, now=now)
            if args.json:
                print_json({"name": args.name.strip(), "role": args.role, "token": secret, "created_at": iso(now)})
            else:
                print(t(lang, "token.created", name=shown(args.name.strip()), role=args.role), file=sys.stderr)
                print(secret)
        elif args.token_command == "list":
            found = await access.tokens()
            if args.json:
                print_json([{"name": k.name, "role": k.role, "created_at": iso(k.created_at),
                             "revoked_at": iso(k.revoked_at), "last_used_at": iso(k.last_used_at)} for k in found])
                return
            if not found:
                print(t(lang, "token.none"))
            for k in found:
                print(f"{shown(k.name)}\t{k.role}\t{iso(k.created_at)}\t{iso(k.revoked_at) or '-'}\t"
                      f"{iso(k.last_used_at) or '-'}")
        else:
            await access.revoke_token(args.name, actor=CLI_ACTOR, now=now)
            print(t(lang, "token.revoked", name=shown(args.name.strip())))
    except TokenRefused as exc:
        refuse(f"token: {t(lang, f'token.{exc.reason}', name=shown(exc.name[:100]))}")
