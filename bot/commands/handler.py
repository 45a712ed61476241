"""The /pqr command layer: one grammar, one set of answers, whichever chat the command came from.

`CommandHandler.handle(actor, text, now)` parses, checks the actor's role, runs the use case and
turns the result — or the refusal — into a channel-neutral `Reply`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from bot.commands.dates import UnreadableDate, parse_when
from bot.commands.grammar import GrammarError, ParsedCommand, fold, parse
from bot.commands.refusals import Refusal, cause_list, refusal_text
from bot.i18n import t, tn
from bot.i18n.formats import format_file_size, format_local_datetime
from bot.commands.replies import Button, PqrCard, Reply, Visibility
from bot.roles import Roles
from bot.pqrs.service import FilingRequest, PqrService
from domain.attachments import Attachment
from domain.customer import email_address
from domain.errors import CauseRefused, DomainError, ExtensionRefused, InvalidTransition
from domain.pqr import Pqr
from domain.pqr_types import PqrType, Status
from storage.ports import PqrFilter

log = logging.getLogger(__name__)

PAGE_SIZE = 20
Verb = Callable[[ParsedCommand, str, dt.datetime], Awaitable[Reply]]


class _Usage(Exception):
    """The command's arguments do not fit its verb."""

    def __init__(self, verb: str) -> None:
        super().__init__(verb)
        self.verb = verb


class AnswerTemplates(Protocol):
    """Turns `@name [extra]` typed as an answer into the template's text (bot.templates.answers)."""

    async def expand(self, radicado: str, text: str, *, actor: str, lang: str) -> str: ...


class CommandHandler:
    """Runs `/pqr …` text for an identity (`slack:U123`, `telegram:1001`, …). `causes` is config
    `causes` (key -> label); without it a cause is shown by its key. `answers` fills `reply RAD
    @template` and `close RAD @template`."""

    def __init__(self, service: PqrService, roles: Roles, *, language: str = "es",
                 extra_verbs: dict[str, Verb] | None = None, causes: Mapping[str, str] | None = None,
                 answers: AnswerTemplates | None = None) -> None:
        self.service = service
        self.answers = answers
        self.roles = roles
        self.lang = language
        self.causes: Mapping[str, str] = causes if causes is not None else {k: k for k in service.causes}
        self.verbs: dict[str, Verb] = {
            "help": self._help, "list": self._list, "show": self._show, "assign": self._assign,
            "take": self._take, "reply": self._reply, "note": self._note, "status": self._status,
            "close": self._close, "reopen": self._reopen, "due": self._due, "stats": self._stats,
            "new": self._new, "cause": self._cause,
        }
        self.verbs.update(extra_verbs or {})  # e.g. `penalty`, `contract` (bot.penalties.verbs)

    # -- entry point ----------------------------------------------------------------------------
    async def handle(self, actor: str, text: str, now: dt.datetime) -> Reply:
        """The reply to one command line; never raises for bad input."""
        try:
            cmd = parse(text)
        except GrammarError as exc:
            if exc.code == "unknown_verb":
                return self._refuse(t(self.lang, "unknown_verb", verb=exc.detail) + "\n\n" + self.help_text())
            return self._refuse(t(self.lang, "unbalanced_quotes"))
        if not self.roles.is_staff(actor):
            await self.service.record_refusal(actor=actor, action=cmd.verb, reason="not_staff", now=now)
            return self._refuse(t(self.lang, "not_staff"))
        verb = self.verbs.get(cmd.verb)
        if verb is None:
            return self._refuse(t(self.lang, "not_available", verb=cmd.verb))
        try:
            return await verb(cmd, actor, now)
        except _Usage as exc:
            return self._refuse(t(self.lang, "usage", usage=t(self.lang, f"usage.{exc.verb}",
                                                               types=", ".join(PqrType),
                                                               causes=cause_list(self.service.causes, self.causes))))
        except InvalidTransition as exc:
            await self._record(actor, cmd, f"invalid_transition:{exc.current}->{exc.wanted}", now)
            return self._refuse(self.refusal(exc))
        except ExtensionRefused as exc:
            await self._record(actor, cmd, f"extension:{exc.reason}", now)
            return self._refuse(self.refusal(exc))
        except CauseRefused as exc:
            await self._record(actor, cmd, f"cause:{exc.reason}", now)
            return self._refuse(self.refusal(exc))
        except (Refusal, DomainError) as exc:
            return self._refuse(self.refusal(exc))
        except Exception:  # the user gets a clean answer; the trace goes to the log
            log.exception("command failed: %r by %s", text, actor)
            return self._refuse(t(self.lang, "internal_error"))

    # -- helpers --------------------------------------------------------------------------------
    def _refuse(self, text: str) -> Reply:
        return Reply.refusal(text, language=self.lang)

    async def _record(self, actor: str, cmd: ParsedCommand, reason: str, now: dt.datetime) -> None:
        rad = cmd.arg(0)
        try:
            await self.service.record_refusal(actor=actor, action=cmd.verb, reason=reason, now=now,
                                              radicado=rad.upper() if rad else None)
        except Exception:  # recording must never hide the answer
            log.exception("could not record a refusal")

    def refusal(self, exc: DomainError | Refusal) -> str:
        """The catalogue answer to a refused command (bot.commands.refusals)."""
        return refusal_text(exc, self.lang, instant=self.fmt, causes=self.causes)

    def fmt(self, instant: dt.datetime) -> str:
        return format_local_datetime(self.service.calendar.local(instant), self.lang)

    def card(self, pqr: Pqr, now: dt.datetime) -> PqrCard:
        sla = pqr.sla_state(now, self.service.calendar, self.service.warn_before_days)
        return PqrCard.of(pqr, sla=sla, type_label=t(self.lang, f"type.{pqr.type.value}"),
                          status_label=t(self.lang, f"status.{pqr.status.value}"),
                          cause_label=self.causes.get(pqr.cause) if pqr.cause else None)

    def buttons(self, pqr: Pqr) -> tuple[Button, ...]:
        rad = pqr.radicado or ""
        return (Button(t(self.lang, "button.take"), "take", rad, "primary"),
                Button(t(self.lang, "button.open"), "show", rad),
                Button(t(self.lang, "button.reply"), "reply", rad))

    @staticmethod
    def _radicado(cmd: ParsedCommand) -> str:
        rad = cmd.arg(0)
        if not rad:
            raise _Usage(cmd.verb)
        return rad.strip().upper()

    def _text(self, cmd: ParsedCommand, n: int) -> str:
        """Free text after `n` arguments: to the end of the line (a `--` in a reply is text)."""
        text = cmd.rest(n, to_end=True).strip()
        if not text:
            raise _Usage(cmd.verb)
        return text

    async def _answer(self, cmd: ParsedCommand, radicado: str, actor: str) -> str:
        """An answer's text: as typed, or a template's when it starts with `@name`."""
        text = self._text(cmd, 1)
        if self.answers is None:
            return text
        return await self.answers.expand(radicado, text, actor=actor, lang=self.lang)

    # -- verbs ----------------------------------------------------------------------------------
    async def _help(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        return Reply(text=self.help_text(), language=self.lang)

    def help_text(self) -> str:
        return "\n".join(t(self.lang, key) for key in ("help", "help.cause", "help.kpis", "help.web",
                                                         "help.templates", "help.review"))

    async def _show(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        pqr = await self.service.show(self._radicado(cmd))
        card = self.card(pqr, now)
        return Reply(text=self.card_text(card), cards=(card,), buttons=self.buttons(pqr), language=self.lang)

    async def _list(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        flt, title = self._list_filter(cmd.args, actor, now)
        total = await self.service.count(flt)
        pqrs = await self.service.list(flt, details=True)
        title_text = ", ".join(title)
        if not pqrs:
            return Reply(text=t(self.lang, "list_empty", title=title_text), language=self.lang)
        cards = tuple(self.card(p, now) for p in pqrs)
        lines = [tn(self.lang, "list_header", total, title=title_text)]
        lines += [self.card_line(c) for c in cards]
        shown = flt.offset + len(cards)
        if total > shown:
            lines.append(t(self.lang, "list_more", more=total - shown))
        return Reply(text="\n".join(lines), cards=cards, language=self.lang,
                     extra={"total": str(total), "offset": str(flt.offset)})

    def list_filter(self, args: tuple[str, ...], actor: str, now: dt.datetime) -> tuple[PqrFilter, list[str]]:
        """The filter and title words of `list ARGS` (the web's queue reads the same words);
        `Refusal` for a word that is no filter (answer it with `refusal`)."""
        return self._list_filter(args, actor, now)

    def _list_filter(self, args: tuple[str, ...], actor: str, now: dt.datetime) -> tuple[PqrFilter, list[str]]:
        statuses: tuple[Status, ...] | None = None
        due_before: dt.datetime | None = None
        assignee = area = type_ = None
        page, title = 1, []
        for raw in args:
            word = raw.lower()
            key, _, value = word.partition(":")
            if word in ("mine", "mias", "mías", "mis"):
                assignee = actor
                title.append(t(self.lang, "list.mine"))
            elif word in ("open", "abiertas"):
                statuses = None
            elif word in ("all", "todas"):
                statuses = ()
                title.append(t(self.lang, "list.all"))
            elif word in ("breached", "vencidas"):
                due_before = now
                title.append(t(self.lang, "list.breached"))
            elif key in ("type", "tipo") and value:
                type_ = parse_pqr_type(value)
                title.append(word)
            elif key in ("area", "área") and value:
                area = raw.partition(":")[2]
                title.append(word)
            elif key in ("status", "estado") and value:
                statuses = (parse_status(value),)
                title.append(word)
            elif key in ("page", "pagina", "página") and value.isdigit() and int(value) > 0:
                page = int(value)
            else:
                raise Refusal("unknown_filter", filter=raw)
        if not title or statuses is None:
            title.insert(0, t(self.lang, "list.open"))
        flt = PqrFilter(statuses=statuses, due_before=due_before, assignee=assignee, area=area, type=type_,
                        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return flt, title

    async def _assign(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad, who = self._radicado(cmd), cmd.arg(1)
        if not who:
            raise _Usage("assign")
        if not self.roles.is_staff(who):
            return self._refuse(t(self.lang, "assignee_not_staff", who=who))
        pqr = await self.service.assign(rad, who, actor=actor, now=now)
        return self._changed(pqr, now, t(self.lang, "assigned", radicado=pqr.radicado, assignee=who))

    async def _take(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        pqr = await self.service.assign(self._radicado(cmd), actor, actor=actor, now=now)
        return self._changed(pqr, now, t(self.lang, "assigned", radicado=pqr.radicado, assignee=actor))

    async def _reply(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad = self._radicado(cmd)
        text = await self._answer(cmd, rad, actor)
        pqr, channel = await self.service.reply(rad, text, actor=actor, now=now)
        if channel is None:
            msg = t(self.lang, "replied_unreachable", radicado=pqr.radicado)
        else:
            msg = t(self.lang, "replied", radicado=pqr.radicado, customer=pqr.customer.name, channel=channel)
        return self._changed(pqr, now, msg)

    async def _note(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        pqr = await self.service.note(self._radicado(cmd), self._text(cmd, 1), actor=actor, now=now)
        return Reply(text=t(self.lang, "noted", radicado=pqr.radicado), language=self.lang)

    async def _status(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad, state = self._radicado(cmd), cmd.arg(1)
        if not state:
            raise _Usage("status")
        to = parse_status(state)
        pqr, before = await self.service.change_status(rad, to, actor=actor, now=now, reason=cmd.reason)
        return self._changed(pqr, now, t(self.lang, "status_changed", radicado=pqr.radicado,
                                         from_=before.value, to=pqr.status.value))

    async def _close(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad = self._radicado(cmd)
        pqr = await self.service.close(rad, await self._answer(cmd, rad, actor), actor=actor, now=now)
        if pqr.status is Status.EN_REVISION:     # config `approval`: a manager approves it first
            return self._changed(pqr, now, t(self.lang, "review.submitted", radicado=pqr.radicado))
        return self._changed(pqr, now, t(self.lang, "closed", radicado=pqr.radicado))

    async def _reopen(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        pqr = await self.service.reopen(self._radicado(cmd), actor=actor, now=now, reason=cmd.reason)
        return self._changed(pqr, now, t(self.lang, "reopened", radicado=pqr.radicado, due=self.fmt(pqr.due_at)))

    async def _due(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        rad, when_text = self._radicado(cmd), cmd.rest(1).strip()
        if not when_text:
            raise _Usage("due")
        if not (cmd.reason or "").strip():
            raise ExtensionRefused("reason_required")
        try:
            when = parse_when(when_text, now=now, calendar=self.service.calendar)
        except UnreadableDate as exc:
            if exc.understood is not None:
                return self._refuse(t(self.lang, "past_date", text=when_text, understood=exc.understood.understood))
            return self._refuse(t(self.lang, "unreadable_date", text=when_text))
        pqr, before = await self.service.extend(rad, when.at, reason=cmd.reason or "", actor=actor, now=now)
        return self._changed(pqr, now, t(self.lang, "extended", radicado=pqr.radicado, from_=self.fmt(before),
                                         to=self.fmt(pqr.due_at), reason=cmd.reason))

    async def _stats(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        s = await self.service.stats(now)
        by_status = ", ".join(f"{t(self.lang, 'status.' + k)}: {v}" for k, v in sorted(s.by_status.items())) or "—"
        by_type = ", ".join(f"{t(self.lang, 'type.' + k)}: {v}" for k, v in sorted(s.by_type.items())) or "—"
        return Reply(text=t(self.lang, "stats", open=s.open_total, breached=s.breached, by_status=by_status,
                            by_type=by_type), language=self.lang)

    async def _new(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        """`new TYPE "name" contact subject…` — a PQR taken by phone or in person. (Slack opens a
        form instead when no arguments are given.)"""
        if len(cmd.args) < 4:
            raise _Usage("new")
        pqr_type, name, contact = parse_pqr_type(cmd.args[0]), cmd.args[1], cmd.args[2]
        subject = cmd.rest(3).strip()
        email = email_address(contact) if "@" in contact else None     # InvalidInput: input.email
        phone = None if email else contact
        pqr = await self.service.file(FilingRequest(
            pqr_type=pqr_type, channel="phone", name=name, subject=subject, body=subject, received_at=now,
            actor=actor, email=email, phone=phone, language=self.lang))
        assert pqr is not None
        return self._changed(pqr, now, t(self.lang, "filed", radicado=pqr.radicado,
                                         type=t(self.lang, f"type.{pqr.type.value}"), due=self.fmt(pqr.due_at)))

    async def _cause(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        """`cause RAD CAUSE [--area AREA]`: the cause by its key or its label."""
        args, area = cmd.option("area")
        if len(args) != 2 or area == "":
            raise _Usage("cause")
        rad = args[0].strip().upper()
        pqr = await self.service.set_cause(rad, cause_key(args[1], self.causes), actor=actor, now=now, area=area)
        label = self.causes.get(pqr.cause or "", pqr.cause or "")
        text = (t(self.lang, "cause_set_area", radicado=pqr.radicado, cause=label, area=pqr.area) if area
                else t(self.lang, "cause_set", radicado=pqr.radicado, cause=label))
        return self._changed(pqr, now, text)

    def _changed(self, pqr: Pqr, now: dt.datetime, text: str) -> Reply:
        """A change others should see: posted publicly, with the PQR's card."""
        return Reply(text=text, cards=(self.card(pqr, now),), visibility=Visibility.PUBLIC, language=self.lang)

    # -- plain-text rendering shared by every channel's fallback ----------------------------------
    def card_line(self, c: PqrCard) -> str:
        marker = {"breached": " ⚠ " + t(self.lang, "sla.breached"),
                  "near_breach": " ⏰ " + t(self.lang, "sla.near_breach")}.get(c.sla.value, "")
        who = c.assignee or t(self.lang, "label.unassigned")
        return f"{c.radicado} · {c.type} · {c.status} · {t(self.lang, 'label.due')} {self.fmt(c.due_at)}{marker} · {who} · {c.subject}"

    def card_text(self, c: PqrCard) -> str:
        def L(key: str) -> str:
            return t(self.lang, f"label.{key}")

        lines = [
            f"{L('radicado')}: {c.radicado}",
            f"{L('type')}: {c.type}",
            f"{L('customer')}: {c.customer}",
            f"{L('channel')}: {c.channel}",
            f"{L('status')}: {c.status}",
            f"{L('due')}: {self.fmt(c.due_at)} ({t(self.lang, 'sla.' + c.sla.value)})"
            + (f" · {L('extended')}" if c.extended else ""),
            f"{L('assignee')}: {c.assignee or L('unassigned')}",
            f"{L('subject')}: {c.subject}",
        ]
        if c.area:
            lines.append(f"{L('area')}: {c.area}")
        if c.cause:
            lines.append(f"{L('cause')}: {c.cause}")
        if c.last_message:
            lines.append(f"{L('last_message')}: {c.last_message[:300]}")
        if c.attachments:
            lines.append(f"{L('attachments')}:")
            lines += [f"  {self.attachment_line(a)}" for a in c.attachments]
        return "\n".join(lines)

    def attachment_line(self, a: Attachment) -> str:
        """`#12 factura.pdf (application/pdf, 1,2 MB)`: the id is what `pqr attachment` takes."""
        return t(self.lang, "attachment.line", id=a.id, filename=a.filename, content_type=a.content_type,
                 size=self.size(a.size))

    def size(self, n: int) -> str:
        return format_file_size(n, self.lang)


def cause_key(text: str, causes: Mapping[str, str]) -> str:
    """The configured cause that `text` names, by its key or its label, whatever the case, accents
    or spaces (`Servicio técnico` -> `servicio_tecnico`); else `text` as typed, for the domain to
    refuse with the accepted list."""
    def slug(word: str) -> str:
        return "_".join(fold(word).replace("-", " ").replace("_", " ").split())

    wanted = slug(text)
    return next((key for key, label in causes.items() if wanted in (slug(key), slug(label))), text)


def parse_pqr_type(text: str) -> PqrType:
    try:
        return PqrType(text.strip().lower())
    except ValueError:
        raise Refusal("unknown_type", type=text, types=", ".join(PqrType)) from None


def parse_status(text: str) -> Status:
    try:
        return Status(text.strip().lower())
    except ValueError:
        raise Refusal("unknown_status", state=text, states=", ".join(Status)) from None
