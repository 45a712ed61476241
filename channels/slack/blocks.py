"""Block Kit rendering of the channel-neutral replies. Every message also carries a plain `text`
fallback (notifications, screen readers); all text that is not our own markup is escaped."""

from __future__ import annotations

import json
import math
from typing import Any

from bot.commands.handler import PAGE_SIZE, CommandHandler
from bot.i18n import t
from bot.commands.replies import Button, PqrCard, Reply
from domain.pqr import Pqr, SlaState

from channels.slack.mrkdwn import clip, escape, identity

Block = dict[str, Any]
SECTION_LIMIT = 3000
TEXT_LIMIT = 38_000
ACTION_PREFIX = "pqr."
PAGE_ACTION = "pqr.page"
FILE_ACTION = "pqr.file"         # `pqr.file.<attachment id>` buttons; `pqr.file.pick.<radicado>` select
FILE_BUTTONS = 5                 # more attachments than this get one select menu instead of buttons
FILE_OPTIONS = 100               # Slack's most options in a static select
FILES_LISTED = 20                # attachment lines on a card


def mrkdwn_text(text: str, *, verbatim: bool = True) -> dict[str, Any]:
    """A mrkdwn text object, clipped to a section's limit (the text already escaped)."""
    return {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT), "verbatim": verbatim}


def plain_text(text: str, limit: int = 150) -> dict[str, Any]:
    """A plain_text object, clipped to `limit` (Slack's limit for where it goes)."""
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn_text(text)}


def _marker(lang: str, sla: SlaState) -> str:
    if sla is SlaState.BREACHED:
        return f" :rotating_light: *{t(lang, 'sla.breached')}*"
    if sla is SlaState.NEAR_BREACH:
        return f" :alarm_clock: _{t(lang, 'sla.near_breach')}_"
    return ""


def card_blocks(card: PqrCard, commands: CommandHandler, lang: str) -> list[Block]:
    """One PQR: header, fields, subject and the last message (customer text escaped)."""
    def label(key: str) -> str:
        return t(lang, f"label.{key}")

    due = f"{commands.fmt(card.due_at)}{_marker(lang, card.sla)}"
    if card.extended:
        due += f" · _{label('extended')}_"
    fields = [
        f"*{label('customer')}*\n{escape(card.customer)}",
        f"*{label('channel')}*\n{escape(card.channel)}",
        f"*{label('status')}*\n{escape(card.status)}",
        f"*{label('due')}*\n{due}",
        f"*{label('assignee')}*\n{identity(card.assignee) if card.assignee else label('unassigned')}",
    ]
    if card.area:
        fields.append(f"*{label('area')}*\n{escape(card.area)}")
    if card.cause:
        fields.append(f"*{label('cause')}*\n{escape(card.cause)}")
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(f"{card.radicado} · {card.type}")},
        {"type": "section", "fields": [mrkdwn_text(clip(f, 1900)) for f in fields]},
        _section(f"*{label('subject')}*\n{escape(card.subject)}"),
    ]
    if card.last_message:
        quoted = "\n".join("> " + line for line in escape(clip(card.last_message, 600)).splitlines())
        blocks.append(_section(f"*{label('last_message')}*\n{quoted}"))
    if card.attachments:
        blocks += attachment_blocks(card, commands, lang)
    return blocks


def attachment_blocks(card: PqrCard, commands: CommandHandler, lang: str) -> list[Block]:
    """The card's attachments (name and type escaped: the customer chose them) and what uploads
    one into the card's thread: a button each, or one select menu when there are many."""
    files = card.attachments
    lines = [f"• `#{a.id}` {escape(clip(a.filename, 120))} · {escape(a.content_type)} · {commands.size(a.size)}"
             for a in files[:FILES_LISTED]]
    if len(files) > FILES_LISTED:
        lines.append(escape(t(lang, "slack.attachments_more", count=len(files) - FILES_LISTED)))
    blocks: list[Block] = [_section(f"*{t(lang, 'label.attachments')}*\n" + "\n".join(lines))]
    if len(files) <= FILE_BUTTONS:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"{FILE_ACTION}.{a.id}", "text": plain_text("📎 " + a.filename, 75),
             "value": file_value(card.radicado, a.id)} for a in files]})
    else:
        blocks.append({"type": "actions", "elements": [{
            "type": "static_select", "action_id": f"{FILE_ACTION}.pick.{card.radicado}",
            "placeholder": plain_text(t(lang, "slack.attachments_pick"), 150),
            "options": [{"text": plain_text(f"#{a.id} {a.filename}", 75), "value": file_value(card.radicado, a.id)}
                        for a in files[:FILE_OPTIONS]]}]})
    return blocks


def file_value(radicado: str, attachment_id: int) -> str:
    """What a file button or option carries: which attachment of which PQR."""
    return json.dumps({"radicado": radicado, "id": attachment_id}, separators=(",", ":"))


def file_choice(action: dict[str, Any]) -> tuple[str, int] | None:
    """(radicado, attachment id) from a pressed file button or a chosen option; None if unreadable."""
    raw = action.get("value") or (action.get("selected_option") or {}).get("value")
    try:
        value = json.loads(raw or "")
        radicado, attachment_id = value["radicado"], value["id"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(radicado, str) or not isinstance(attachment_id, int) or isinstance(attachment_id, bool):
        return None
    return radicado, attachment_id


def card_line(card: PqrCard, commands: CommandHandler, lang: str) -> str:
    """One PQR on one line, for lists."""
    who = identity(card.assignee) if card.assignee else t(lang, "label.unassigned")
    return (f"*{card.radicado}* · {escape(card.type)} · {escape(card.status)} · "
            f"{t(lang, 'label.due')} {commands.fmt(card.due_at)}{_marker(lang, card.sla)} · {who} · "
            f"{escape(clip(card.subject, 120))}")


def button_elements(buttons: tuple[Button, ...]) -> Block:
    """An actions block; each action id is `pqr.<action>` and the value is the radicado."""
    elements = []
    for b in buttons:
        el: dict[str, Any] = {"type": "button", "action_id": ACTION_PREFIX + b.action,
                              "text": plain_text(b.label, 75), "value": b.value}
        if b.style:
            el["style"] = b.style
        elements.append(el)
    return {"type": "actions", "elements": elements}


def _paging(reply: Reply, lang: str, list_args: str) -> list[Block]:
    total, offset = int(reply.extra.get("total", "0")), int(reply.extra.get("offset", "0"))
    if total <= PAGE_SIZE:
        return []
    page, pages = offset // PAGE_SIZE + 1, math.ceil(total / PAGE_SIZE)
    buttons = []
    if page > 1:
        buttons.append(Button(t(lang, "slack.page_prev"), "page", json.dumps({"args": list_args, "page": page - 1})))
    if page < pages:
        buttons.append(Button(t(lang, "slack.page_next"), "page", json.dumps({"args": list_args, "page": page + 1})))
    blocks: list[Block] = [{"type": "context", "elements": [mrkdwn_text(t(lang, "slack.page", page=page, pages=pages))]}]
    if buttons:
        actions = button_elements(tuple(buttons))
        for i, el in enumerate(actions["elements"]):
            el["action_id"] = f"{PAGE_ACTION}.{i}"   # action ids must be unique within a message
        blocks.append(actions)
    return blocks


def render_reply(reply: Reply, commands: CommandHandler, *, list_args: str = "") -> dict[str, Any]:
    """`{"text", "blocks"}` for a command's reply."""
    lang = reply.language
    blocks: list[Block] = []
    if reply.facts:                                  # figures: a header and a table of fields
        blocks.append({"type": "header", "text": plain_text(reply.title or reply.text.split("\n", 1)[0])})
        fields = [mrkdwn_text(f"*{escape(label)}*\n{escape(value)}") for label, value in reply.facts]
        blocks += [{"type": "section", "fields": fields[i:i + 10]} for i in range(0, len(fields), 10)]
    elif "total" in reply.extra:                     # a list
        header, *_ = reply.text.split("\n", 1)
        blocks.append(_section(f"*{escape(header)}*"))
        blocks += [_section(card_line(c, commands, lang)) for c in reply.cards]
        blocks += _paging(reply, lang, list_args)
    else:
        if not (len(reply.cards) == 1 and reply.text == commands.card_text(reply.cards[0])):
            prefix = "" if reply.ok else ":no_entry: "
            for start in range(0, len(reply.text), SECTION_LIMIT - 10):
                blocks.append(_section(prefix + escape(reply.text[start:start + SECTION_LIMIT - 10])))
                prefix = ""
        for card in reply.cards[:3]:
            blocks += card_blocks(card, commands, lang)
        if reply.buttons:
            blocks.append(button_elements(reply.buttons))
    return {"text": clip(escape(reply.text), TEXT_LIMIT), "blocks": blocks[:50]}


def triage_message(pqr: Pqr, commands: CommandHandler, now: Any, *,
                   last_action: str | None = None) -> dict[str, Any]:
    """The new-PQR notification (card + assign-to-me / open / reply), also used to refresh it."""
    lang = commands.lang
    card = commands.card(pqr, now)
    header = t(lang, "slack.triage_header", radicado=card.radicado)
    blocks: list[Block] = [_section(f":inbox_tray: *{escape(header)}*")]
    blocks += card_blocks(card, commands, lang)
    blocks.append(button_elements(commands.buttons(pqr)))
    if last_action:
        blocks.append({"type": "context", "elements": [mrkdwn_text(last_action, verbatim=False)]})
    text = f"{header}: {commands.card_line(card)}"
    return {"text": clip(escape(text), TEXT_LIMIT), "blocks": blocks}


DIGEST_ITEMS = 40   # PQR lines (one block each) a digest shows; Slack takes at most 50 blocks a message


def _share(sizes: list[int], budget: int) -> list[int]:
    """How many items of each section to show: `budget` handed out one at a time, round robin, so
    a long breached list does not crowd out the due-today and due-soon sections."""
    shown = [0] * len(sizes)
    while budget > 0 and any(s < n for s, n in zip(shown, sizes)):
        for i, n in enumerate(sizes):
            if shown[i] < n and budget > 0:
                shown[i] += 1
                budget -= 1
    return shown


def _digest_line(item: dict[str, Any]) -> str:
    who = str(item.get("assignee") or "")
    return (f"*{escape(str(item.get('radicado', '')))}* · {escape(str(item.get('due_at', ''))[:10])} · "
            f"{identity(who) if who else '-'} · {escape(clip(str(item.get('subject') or ''), 120))}")


def digest_message(payload: dict[str, Any]) -> dict[str, Any]:
    """The daily digest (bot.sla.digest.digest_payload) as Block Kit: a header; per section its count
    and groups (area · assignee: count); then each PQR, oldest due first, with an open button
    (`pqr.show`, value = radicado, as on the triage cards). At most DIGEST_ITEMS PQRs are shown,
    shared between the sections; a section with more says how many more."""
    lang = str(payload.get("language") or "es")
    sections = [s for s in payload.get("sections") or [] if isinstance(s, dict)]
    shown = _share([len(s.get("items") or []) for s in sections], DIGEST_ITEMS)
    blocks: list[Block] = [{"type": "header", "text": plain_text(str(payload.get("subject") or "Digest"))}]
    for section, n in zip(sections, shown):
        count = int(section.get("count") or 0)
        lines = [f"*{escape(str(section.get('title') or section.get('key') or ''))}: {count}*"]
        lines += [f"• {escape(str(g.get('area')))} · {identity(str(g.get('assignee')))}: {int(g.get('count') or 0)}"
                  for g in section.get("groups") or []]
        blocks.append(_section("\n".join(lines)))
        for item in (section.get("items") or [])[:n]:
            blocks.append({"type": "section", "text": mrkdwn_text(_digest_line(item)),
                           "accessory": {"type": "button", "action_id": ACTION_PREFIX + "show",
                                         "text": plain_text(t(lang, "button.open"), 75),
                                         "value": str(item.get("radicado", ""))}})
        if count > n:
            blocks.append({"type": "context", "elements": [mrkdwn_text(f"… +{count - n}")]})
    text = str(payload.get("text") or payload.get("subject") or "")
    return {"text": clip(escape(text), TEXT_LIMIT), "blocks": blocks[:50]}
