"""`pqrbot` — the command line of DESIGN.md. Exit codes: 0 ok, 1 refused or not found (one line
on stderr), 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bot.cli import contracts as contracts_cli
from bot.cli import penalties as penalty_cli
from bot.cli.output import CLI_ACTOR, Refused, language, print_json
from bot.commands.refusals import refusal_text
from bot.i18n import t, tn
from bot.bootstrap import App, build, console_channel
from bot.clock import clock_from_env
from bot.config import ConfigError, config_path, load_config
from bot.cli.serialize import digest_json, pqr_json
from bot.pqrs.service import FilingRequest
from domain.errors import DomainError, NotFound
from domain.pqr_types import PqrType, Status
from storage.ports import PqrFilter

def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r} (e.g. 2026-12-18T10:00:00-05:00)") from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"the instant needs an offset: {text!r} (e.g. 2026-12-18T10:00:00-05:00)")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pqrbot", description="PQR chat-ops bot")
    p.add_argument("--config", help="config file (default: $PQRBOT_CONFIG or ./config.yaml)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="every enabled channel, the scheduler and the outbox worker")
    db = sub.add_parser("db", help="database maintenance")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply migrations")

    pqr = sub.add_parser("pqr", help="file, list and show PQRs")
    pqr_sub = pqr.add_subparsers(dest="pqr_command", required=True)
    new = pqr_sub.add_parser("new", help="file a PQR")
    new.add_argument("--type", required=True, choices=[t.value for t in PqrType])
    new.add_argument("--channel", default="phone")
    new.add_argument("--name", required=True)
    new.add_argument("--email")
    new.add_argument("--telegram-chat-id", type=int)
    new.add_argument("--phone")
    new.add_argument("--subject", required=True)
    new.add_argument("--body", default="")
    new.add_argument("--area")
    new.add_argument("--received-at", type=_instant)
    new.add_argument("--json", action="store_true")
    lst = pqr_sub.add_parser("list", help="list PQRs (open unless told otherwise)")
    lst.add_argument("--status", help="a state, or 'all'")
    lst.add_argument("--breached", action="store_true")
    lst.add_argument("--limit", type=int)
    lst.add_argument("--json", action="store_true")
    show = pqr_sub.add_parser("show", help="one PQR with its messages and audit trail")
    show.add_argument("radicado")
    show.add_argument("--json", action="store_true")

    digest = sub.add_parser("digest", help="the SLA digest as of a moment")
    digest.add_argument("--at", type=_instant)
    digest.add_argument("--send", action="store_true")
    digest.add_argument("--json", action="store_true")

    outbox = sub.add_parser("outbox", help="operate the outgoing-message queue")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    ol = outbox_sub.add_parser("list", help="queued, sent and dead messages (newest last)")
    ol.add_argument("--status", choices=["pending", "sent", "dead"])
    ol.add_argument("--limit", type=int, default=100)
    ol.add_argument("--json", action="store_true")
    orr = outbox_sub.add_parser("retry", help="put a dead (or pending) message back in the queue, due now")
    orr.add_argument("id", type=int)

    penalty_cli.add_parsers(sub)
    contracts_cli.add_parsers(sub)

    console = sub.add_parser("console", help="a local chat with the /pqr grammar")
    console.add_argument("--as", dest="identity", required=True, help="e.g. slack:U123")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        print(f"pqrbot: {exc}", file=sys.stderr)
        return 1
    try:
        clock = clock_from_env()
    except ValueError as exc:
        print(f"pqrbot: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        from bot.runner import run
        return run(config, clock=clock)
    app = build(config, clock=clock)
    try:
        asyncio.run(_dispatch(app, args))
    except Refused as exc:
        print(f"pqrbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


async def _dispatch(app: App, args: argparse.Namespace) -> None:
    handlers: dict[str, Callable[[App, argparse.Namespace], Awaitable[None]]] = {
        "db": _db_upgrade, "pqr": _pqr, "digest": _digest, "console": _console, "outbox": _outbox,
        "penalty": penalty_cli.penalty, "report": penalty_cli.report, "contracts": contracts_cli.contracts,
    }
    try:
        await app.db.upgrade()
        await handlers[args.command](app, args)
    finally:
        await app.db.dispose()


async def _db_upgrade(app: App, args: argparse.Namespace) -> None:
    print(t(language(app.config.language), "cli.db_latest"))


async def _pqr(app: App, args: argparse.Namespace) -> None:
    cal, now, warn = app.service.calendar, app.clock(), app.config.sla.warn_before_days
    lang = language(app.config.language)
    if args.pqr_command == "new":
        if not (args.subject.strip() or args.body.strip()):
            raise Refused(t(lang, "input.empty_pqr"))
        req = FilingRequest(pqr_type=PqrType(args.type), channel=args.channel, name=args.name,
                            subject=args.subject, body=args.body, received_at=args.received_at or now,
                            actor=CLI_ACTOR, email=args.email, telegram_chat_id=args.telegram_chat_id,
                            phone=args.phone, area=args.area, language=app.config.language)
        try:
            pqr = await app.service.file(req)
        except DomainError as exc:
            raise Refused(refusal_text(exc, lang)) from None
        assert pqr is not None
        if args.json:
            print_json(pqr_json(pqr, cal, now=now, warn_before_days=warn))
        else:
            print(f"{pqr.radicado}\t{pqr.type.value}\tdue {cal.local(pqr.due_at).isoformat()}")
    elif args.pqr_command == "list":
        statuses: tuple[Status, ...] | None = None
        if args.status == "all":
            statuses = ()
        elif args.status:
            try:
                statuses = (Status(args.status),)
            except ValueError:
                raise Refused(t(lang, "unknown_status", state=args.status, states="all, " + ", ".join(Status))) from None
        flt = PqrFilter(statuses=statuses, due_before=now if args.breached else None, limit=args.limit)
        pqrs = await app.service.list(flt, details=args.json)
        if args.json:
            print_json([pqr_json(p, cal, now=now, warn_before_days=warn) for p in pqrs])
        else:
            for p in pqrs:
                sla = p.sla_state(now, cal, warn).value
                print(f"{p.radicado}\t{p.type.value}\t{p.status.value}\t{cal.local(p.due_at).isoformat()}\t"
                      f"{sla}\t{p.assignee or '-'}\t{p.subject}")
    elif args.pqr_command == "show":
        try:
            pqr = await app.service.show(args.radicado.strip().upper())
        except NotFound as exc:
            raise Refused(refusal_text(exc, lang)) from None
        if args.json:
            print_json(pqr_json(pqr, cal, now=now, warn_before_days=warn))
        else:
            print(app.commands.card_text(app.commands.card(pqr, now)))
            for e in pqr.events:
                print(f"  {cal.local(e.at).isoformat()}  {e.kind:<14} {e.actor:<24} "
                      f"{e.from_ or ''} → {e.to or ''} {e.reason or ''}".rstrip())


async def _digest(app: App, args: argparse.Namespace) -> None:
    at = args.at or app.clock()
    digest = await app.service.digest(at, details=args.json)
    if args.send:
        from bot.sla.digest import queue_digest
        queued = await queue_digest(app.db, app.config, app.service.calendar, digest)
        print(tn(language(app.config.language), "cli.digest_queued", queued), file=sys.stderr)
    cal = app.service.calendar
    if args.json:
        print_json(digest_json(digest, cal, warn_before_days=app.config.sla.warn_before_days))
    else:
        for title, items in (("breached", digest.breached), ("due_today", digest.due_today),
                             ("due_soon", digest.due_soon)):
            print(f"{title}: {len(items)}")
            for p in items:
                print(f"  {p.radicado}\t{cal.local(p.due_at).isoformat()}\t{p.assignee or '-'}\t{p.subject}")


async def _outbox(app: App, args: argparse.Namespace) -> None:
    if args.outbox_command == "retry":
        async with app.db.uow() as uow:
            ok = await uow.outbox.retry(args.id, now=app.clock())
            await uow.commit()
        lang = language(app.config.language)
        if not ok:
            raise Refused(t(lang, "cli.outbox_not_found", id=args.id))
        print(t(lang, "cli.outbox_requeued", id=args.id))
        return
    async with app.db.uow(readonly=True) as uow:
        items = await uow.outbox.list(status=args.status, limit=args.limit)
    if args.json:
        print_json([{"id": i.id, "channel": i.channel, "destination": i.destination, "status": i.status,
                      "attempts": i.attempts, "kind": i.payload.get("kind"), "radicado": i.payload.get("radicado"),
                      "next_attempt_at": i.next_attempt_at.isoformat() if i.next_attempt_at else None,
                      "sent_at": i.sent_at.isoformat() if i.sent_at else None, "last_error": i.last_error}
                     for i in items])
        return
    for i in items:
        print(f"{i.id}\t{i.status}\t{i.channel}:{i.destination}\t{i.payload.get('kind', '-')}\t"
              f"attempts={i.attempts}\t{i.last_error or ''}".rstrip())


async def _console(app: App, args: argparse.Namespace) -> None:
    await console_channel(app, args.identity).run()


if __name__ == "__main__":
    sys.exit(main())
