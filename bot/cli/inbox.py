"""`pqrbot inbox list|show|retry` (DESIGN.md's CLI): the durable queue of inbound mail. An item in
JSON: `id`, `source`, `account`, `received_at`, `mail_from`, `message_id`, `subject`, `status`,
`reason`, `radicado`, `attempts`; `show` adds the envelope, the size and the raw message's headers."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.cli.output import integer_arg, language, print_json, refuse
from bot.i18n import t
from domain.limits import INT32_MAX, INT64_MAX, shown
from storage.ports import InboxItem

if TYPE_CHECKING:
    from bot.bootstrap import App

STATUSES = ("pending", "filed", "joined", "duplicate", "kept_aside", "failed")


def add_parsers(sub: Any, lang: str = "es") -> None:
    """Add `inbox` to the top-level subparsers."""
    inbox = sub.add_parser("inbox", help="the durable queue of inbound mail")
    ins = inbox.add_subparsers(dest="inbox_command", required=True)
    lst = ins.add_parser("list", help="inbound mail, newest first")
    lst.add_argument("--status", choices=STATUSES)
    lst.add_argument("--limit", type=integer_arg(lang, 1, INT32_MAX), default=100)
    lst.add_argument("--json", action="store_true")
    show = ins.add_parser("show", help="one item with its envelope and the raw message's headers")
    show.add_argument("id", type=integer_arg(lang, 1, INT64_MAX))
    show.add_argument("--json", action="store_true")
    retry = ins.add_parser("retry", help="file a failed item again, now")
    retry.add_argument("id", type=integer_arg(lang, 1, INT64_MAX))


async def inbox(app: App, args: argparse.Namespace) -> None:
    """`pqrbot inbox list|show|retry`."""
    from bot.bootstrap import inbox_for, mail_reader
    queue, lang, cal = inbox_for(app), language(app.config.language), app.service.calendar

    def iso(instant: dt.datetime | None) -> str | None:
        return cal.local(instant).isoformat() if instant is not None else None

    def doc(item: InboxItem) -> dict[str, Any]:
        return {"id": item.id, "source": item.source, "account": item.account, "received_at": iso(item.received_at),
                "mail_from": item.mail_from, "message_id": item.message_id, "subject": item.subject,
                "status": item.status, "reason": item.reason, "radicado": item.radicado, "attempts": item.attempts}

    if args.inbox_command == "retry":
        if not await queue.retry(args.id):
            refuse(t(lang, "inbox.not_retryable", id=args.id))
        print(t(lang, "inbox.requeued", id=args.id))
        return
    if args.inbox_command == "list":
        items = await queue.items(status=args.status, limit=args.limit)
        if args.json:
            print_json([doc(i) for i in items])
            return
        if not items:
            print(t(lang, "inbox.none"))
        for i in items:
            source = f"{i.source}:{i.account}" if i.account else i.source
            print(f"{i.id}\t{i.status}\t{source}\t{iso(i.received_at)}\t{shown(i.mail_from or '-')}\t"
                  f"{i.radicado or shown(i.reason or '-')[:80]}\tattempts={i.attempts}\t{shown(i.subject or '')}")
        return
    found = await queue.item(args.id)
    if found is None:
        refuse(t(lang, "inbox.not_found", id=args.id))
    headers = mail_reader(app).headers(found.data)
    if args.json:
        print_json({**doc(found), "rcpt_tos": list(found.rcpt_tos), "client": found.client,
                    "next_attempt_at": iso(found.next_attempt_at), "size": len(found.data),
                    "headers": [[name, value] for name, value in headers]})
        return
    for key, value in doc(found).items():
        print(f"{key}: {shown(str(value)) if value is not None else '-'}")
    print(f"rcpt_tos: {shown(', '.join(found.rcpt_tos)) or '-'}")
    print(f"client: {found.client or '-'}")
    print(f"size: {len(found.data)}")
    print(t(lang, "inbox.headers"))
    for name, value in headers:
        print(f"  {shown(name)}: {shown(value)}")
