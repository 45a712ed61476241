"""`pqrbot` — the command line of DESIGN.md. Exit codes: 0 ok, 1 refused or not found (one line
on stderr), 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.cli import contracts as contracts_cli
from bot.cli import doctor as doctor_cli
from bot.cli import inbox as inbox_cli
from bot.cli import penalties as penalty_cli
from bot.cli import reports as reports_cli
from bot.cli import review as review_cli
from bot.cli import surveys as surveys_cli
from bot.cli import templates as templates_cli
from bot.cli import tokens as tokens_cli
from bot.cli.output import (CLI_ACTOR, Parser, Refused, cli_log, email_arg, instant_arg, integer_arg, language,
                            log_location, not_utf8, print_json)
from bot.commands.handler import cause_key
from bot.commands.refusals import refusal_text
from bot.i18n import t, tn
from bot.i18n.formats import format_file_size
from bot.bootstrap import App, build, console_channel
from bot.clock import Clock, clock_from_env
from bot.config import Config, ConfigError, config_path, load_config
from bot.process.logs import LEVELS as LOG_LEVELS
from bot.cli.serialize import digest_json, pqr_json
from bot.pqrs.service import FilingRequest
from domain.errors import CauseRefused, DomainError, NotAllowed, NotFound
from domain.limits import (FIRST_INSTANT, IDENTITY_MAX, INT32_MAX, INT64_MAX, LAST_INSTANT, TELEGRAM_ID_MAX,
                           TELEGRAM_ID_MIN, in_range)
from domain.pqr import Pqr
from domain.pqr_types import PqrType, Status
from storage.db import DatabaseUnavailable
from storage.ports import PqrFilter

log = logging.getLogger("pqrbot.cli")


def parser(lang: str = "es") -> argparse.ArgumentParser:
    """The CLI's arguments; `lang` is the language of the messages of its argument types."""
    p = Parser(prog="pqrbot", description="PQR chat-ops bot", lang=lang)
    p.add_argument("--config", help="config file (default: $PQRBOT_CONFIG or ./config.yaml)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_cmd = sub.add_parser("run", help="every enabled channel, the scheduler and the outbox worker")
    run_cmd.add_argument("--log-level", type=str.upper, default="INFO", choices=LOG_LEVELS,
                         help="the least severe records logged (default INFO); on a terminal only "
                              "warnings and errors are shown, the rest goes to data/pqrbot.log")
    db = sub.add_parser("db", help="database maintenance")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply migrations")

    pqr = sub.add_parser("pqr", help="file, list and show PQRs")
    pqr_sub = pqr.add_subparsers(dest="pqr_command", required=True)
    new = pqr_sub.add_parser("new", help="file a PQR")
    new.add_argument("--type", required=True, choices=[t.value for t in PqrType])
    new.add_argument("--channel", default="phone")
    new.add_argument("--name", required=True)
    new.add_argument("--email", type=email_arg(lang))
    new.add_argument("--telegram-chat-id", type=integer_arg(lang, TELEGRAM_ID_MIN, TELEGRAM_ID_MAX))
    new.add_argument("--phone")
    new.add_argument("--subject", required=True)
    new.add_argument("--body", default="")
    new.add_argument("--area")
    new.add_argument("--received-at", type=instant_arg(lang))
    new.add_argument("--json", action="store_true")
    lst = pqr_sub.add_parser("list", help="list PQRs (open unless told otherwise)")
    lst.add_argument("--status", help="a state, or 'all'")
    lst.add_argument("--breached", action="store_true")
    lst.add_argument("--limit", type=integer_arg(lang, 1, INT32_MAX))
    lst.add_argument("--json", action="store_true")
    show = pqr_sub.add_parser("show", help="one PQR with its messages and audit trail")
    show.add_argument("radicado")
    show.add_argument("--json", action="store_true")
    att = pqr_sub.add_parser("attachment", help="write one stored attachment (ids in `pqr show --json`)")
    att.add_argument("radicado")
    att.add_argument("id", type=integer_arg(lang, 1, INT64_MAX), help="the attachment id")
    att.add_argument("--out", required=True, help="the file to write ('-': standard output)")
    cause = pqr_sub.add_parser("cause", help="record a PQR's cause (a key of config `causes`) and its area")
    cause.add_argument("radicado")
    cause.add_argument("cause", help="a key of config `causes` (or its label)")
    cause.add_argument("--area", help="the responsible area")
    cause.add_argument("--as", dest="identity", required=True, help="a staff or manager identity, e.g. slack:U0STAFF")
    cause.add_argument("--json", action="store_true")
    review_cli.add_parsers(pqr_sub, lang)

    digest = sub.add_parser("digest", help="the SLA digest as of a moment")
    digest.add_argument("--at", type=instant_arg(lang))
    digest.add_argument("--send", action="store_true")
    digest.add_argument("--json", action="store_true")

    outbox = sub.add_parser("outbox", help="operate the outgoing-message queue")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    ol = outbox_sub.add_parser("list", help="queued, sent and dead messages (newest last)")
    ol.add_argument("--status", choices=["pending", "sent", "dead", "cancelled"])   # cancelled: an opt-out
    ol.add_argument("--limit", type=integer_arg(lang, 1, INT32_MAX), default=100)
    ol.add_argument("--json", action="store_true")
    orr = outbox_sub.add_parser("retry", help="put a dead (or pending) message back in the queue, due now")
    orr.add_argument("id", type=integer_arg(lang, 1, INT64_MAX))

    reports_cli.add_parsers(penalty_cli.add_parsers(sub, lang), lang)
    contracts_cli.add_parsers(sub)
    tokens_cli.add_parsers(sub, lang)
    inbox_cli.add_parsers(sub, lang)
    templates_cli.add_parsers(sub)
    surveys_cli.add_parsers(sub, lang)
    doctor_cli.add_parser(sub)

    console = sub.add_parser("console", help="a local chat with the /pqr grammar")
    console.add_argument("--as", dest="identity", required=True, help="e.g. slack:U123")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code. Whatever goes wrong ends in one line on stderr: a failure
    nobody foresaw is logged with its traceback (the log file, never the terminal) and answered
    with the line that says where the details are."""
    argv = sys.argv[1:] if argv is None else list(argv)
    lang = language("es")
    try:
        path = config_path(_global_config(argv))
        try:
            config: Config | None = load_config(path)
            problem: ConfigError | None = None
        except ConfigError as exc:
            config, problem = None, exc
        if config is not None:
            lang = language(config.language)
            cli_log(config.database.data_dir())
        return _main(argv, config, problem, lang)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:    # `pqrbot pqr list | head`: the reader has had enough
        _drop_stdout()
        return 1
    except Exception as exc:   # the last resort: one line here, the traceback in the log
        log.exception("pqrbot %s failed", " ".join(argv[:3]))
        where = log_location()
        text = (t(lang, "cli.unexpected", error=type(exc).__name__, log=where) if where
                else t(lang, "cli.unexpected_no_log", error=type(exc).__name__))
        print(f"pqrbot: {text}", file=sys.stderr)
        try:
            sys.stdout.flush()
        except (OSError, ValueError):   # stdout itself failed (a full disk, a vanished terminal)
            _drop_stdout()
        return 1


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush cannot fail with a
    traceback of its own once stdout is broken."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _global_config(argv: list[str]) -> str | None:
    """The global `--config PATH` (before the command), read before the whole command line so
    that argument errors are answered in the configured language."""
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    early.add_argument("--config")
    known, _ = early.parse_known_args(argv)
    return known.config if isinstance(known.config, str) else None


def _main(argv: list[str], config: Config | None, problem: ConfigError | None, lang: str) -> int:
    bad = not_utf8(argv)
    if bad is not None:
        print(f"pqrbot: {t(lang, 'cli.not_utf8', position=bad[0], value=bad[1])}", file=sys.stderr)
        return 2
    args = parser(lang).parse_args(argv)
    if args.command == "doctor":      # a configuration that does not load is one of its findings
        return doctor_cli.doctor(config_path(args.config), config, problem, lang)
    if config is None:
        assert problem is not None
        text = t(lang, problem.key, **problem.values) if problem.key else str(problem)
        print(f"pqrbot: {text}", file=sys.stderr)
        return 1
    try:
        clock = clock_from_env()
        now = clock()
    except ValueError as exc:
        print(f"pqrbot: {exc}", file=sys.stderr)
        return 2
    if not in_range(now):
        print(f"pqrbot: PQRBOT_NOW: {t(lang, 'cli.instant_range', value=now.isoformat(), first=FIRST_INSTANT.isoformat(), last=LAST_INSTANT.isoformat())}",
              file=sys.stderr)
        return 2
    try:
        return _command(args, config, clock)
    except DatabaseUnavailable as exc:
        # The line below says it all; the driver's traceback only helps with what we could not name.
        log.log(logging.ERROR if exc.reason == "failed" else logging.DEBUG,
                "pqrbot %s: the database cannot be used: %s", args.command, exc, exc_info=exc)
        print(f"pqrbot: {t(lang, f'storage.{exc.reason}', where=exc.where, detail=exc.detail)}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    if args.command == "run":
        from bot.runner import run
        return run(config, clock=clock, log_level=args.log_level)
    app = build(config, clock=clock)
    try:
        asyncio.run(_dispatch(app, args))
    except Refused as exc:
        print(f"pqrbot: {exc}", file=sys.stderr)
        return 1
    return 0


async def _dispatch(app: App, args: argparse.Namespace) -> None:
    handlers: dict[str, Callable[[App, argparse.Namespace], Awaitable[None]]] = {
        "db": _db_upgrade, "pqr": _pqr, "digest": _digest, "console": _console, "outbox": _outbox,
        "penalty": penalty_cli.penalty, "report": reports_cli.report, "contracts": contracts_cli.contracts,
        "token": tokens_cli.tokens, "inbox": inbox_cli.inbox, "templates": templates_cli.templates,
        "survey": surveys_cli.survey,
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
    elif args.pqr_command == "attachment":
        await _write_attachment(app, args, lang)
    elif args.pqr_command in review_cli.COMMANDS:
        await review_cli.run(app, args)
    elif args.pqr_command == "cause":
        pqr = await _set_cause(app, args, lang)
        if args.json:
            print_json(pqr_json(pqr, cal, now=now, warn_before_days=warn))
        else:
            label = app.config.causes.get(pqr.cause or "", pqr.cause)
            print(t(lang, "cause_set_area", radicado=pqr.radicado, cause=label, area=pqr.area) if args.area
                  else t(lang, "cause_set", radicado=pqr.radicado, cause=label))
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


async def _set_cause(app: App, args: argparse.Namespace, lang: str) -> Pqr:
    """`pqr cause RAD CAUSE [--area AREA] --as IDENTITY`: staff and managers only; a refusal is
    written to the audit trail, as in the chat."""
    rad, now, labels = args.radicado.strip().upper(), app.clock(), app.config.causes

    async def refused(reason: str, exc: DomainError) -> Refused:
        await app.service.record_refusal(actor=args.identity[:IDENTITY_MAX], action="cause", reason=reason,
                                         now=now, radicado=rad)
        return Refused(refusal_text(exc, lang, causes=labels))

    if not app.roles.is_staff(args.identity):
        raise await refused("not_staff", NotAllowed("not_staff"))
    try:
        pqr = await app.service.set_cause(rad, cause_key(args.cause, labels), actor=args.identity, now=now,
                                          area=args.area or None)
    except CauseRefused as exc:
        raise await refused(f"cause:{exc.reason}", exc) from None
    except DomainError as exc:
        raise Refused(refusal_text(exc, lang, causes=labels)) from None
    return pqr


async def _write_attachment(app: App, args: argparse.Namespace, lang: str) -> None:
    """`pqr attachment RAD ID --out FILE`: the stored bytes, unchanged."""
    rad = args.radicado.strip().upper()
    try:
        found, data = await app.service.attachment(rad, args.id)
    except NotFound as exc:
        raise Refused(refusal_text(exc, lang)) from None
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        raise Refused(t(lang, "cli.cannot_write", path=args.out, error=exc.strerror or type(exc).__name__)) from None
    print(t(lang, "cli.attachment_written", id=found.id, filename=found.filename,
            size=format_file_size(found.size, lang), path=args.out))


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
                             ("due_soon", digest.due_soon), ("awaiting_approval", digest.awaiting_approval)):
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
