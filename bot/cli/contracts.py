"""`pqrbot contracts reload|list` (DESIGN.md's CLI): the clients, contracts (ANS) and areas."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.output import language, print_json, refuse
from bot.contracts.files import ContractsError
from bot.i18n import t, tn

if TYPE_CHECKING:
    from bot.bootstrap import App


def add_parsers(sub: Any) -> None:
    """Add `contracts` to the top-level subparsers."""
    con = sub.add_parser("contracts", help="clients, contracts (ANS) and areas")
    cs = con.add_subparsers(dest="contracts_command", required=True)
    cs.add_parser("reload", help="re-read the contract files; running instances pick them up")
    cl = cs.add_parser("list", help="the clients and contracts in force")
    cl.add_argument("--json", action="store_true")


async def contracts(app: App, args: argparse.Namespace) -> None:
    """`pqrbot contracts reload|list [--json]`."""
    if args.contracts_command == "reload":
        try:
            registry = await app.contracts.reload(now=app.clock())
        except ContractsError as exc:
            refuse(str(exc).replace("\n", "; "))
        lang = language(app.config.language)
        print(t(lang, "cli.contracts_loaded", clients=tn(lang, "count.client", len(registry.clients)),
                contracts=tn(lang, "count.contract", len(registry.contracts)),
                areas=tn(lang, "count.area", len(registry.areas))))
        return
    registry = await app.contracts.registry()
    if args.json:
        print_json({
            "clients": [{"name": c.name, "nit": c.nit, "segment": c.segment.value, "email_domains": list(c.email_domains),
                         "addresses": list(c.addresses), "telegram_users": list(c.telegram_users),
                         "contract": c.contract} for c in registry.clients],
            "contracts": [{"name": k.name, "client": k.client, "pauses_when_waiting": k.terms.pauses_when_waiting,
                           "targets": {t.value: {"first_response": k.terms.first_response[t].label()
                                                 if t in k.terms.first_response else None,
                                                 "resolution": k.terms.resolution[t].label()
                                                 if t in k.terms.resolution else None}
                                       for t in sorted(set(k.terms.resolution) | set(k.terms.first_response))},
                           "penalties": [{"category": c.category.value, "description": c.description,
                                          "amount": str(c.amount) if c.amount is not None else None,
                                          "currency": c.currency} for c in k.clauses]}
                          for k in registry.contracts],
            "areas": [{"name": a.name, "slack_channel": a.slack_channel, "slack_user": a.slack_user,
                       "emails": list(a.emails)} for a in registry.areas]})
        return
    for c in registry.clients:
        print(f"{c.name}\t{c.segment.value}\t{c.nit or '-'}\t{c.contract or '-'}\t{', '.join(c.email_domains)}")
