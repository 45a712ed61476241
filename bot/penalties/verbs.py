"""`/pqr penalty …` and `/pqr contract …`: the penalty and contract verbs of the command layer.

    penalty new "CLIENTE" CATEGORÍA MONTO ÁREA [PQR-…] [-- descripción]
    penalty evidence ID texto…          penalty list [ESTADO]      penalty show ID
    penalty approve ID -- motivo        penalty reject ID -- motivo
    penalty paid ID                     penalty notify ID          penalty report AAAA-MM
    contract list                       contract show NOMBRE

Staff register and attach evidence; only managers approve or reject. Domain refusals become
`Refusal`s, which `CommandHandler` answers from the catalogue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.commands.handler import Verb
from bot.commands.refusals import PQR, AboutPenalty, Refusal, Subject, refusal_text
from bot.contracts.service import ContractService
from bot.commands.grammar import ParsedCommand
from bot.i18n import t, tn
from bot.i18n.formats import format_amount
from bot.penalties.service import BadMonth, NewPenalty, PenaltyService
from bot.penalties.notices import evidence_summary
from bot.penalties.report import PenaltyReport, report_text
from bot.commands.replies import Button, Reply, Visibility
from domain.errors import DomainError
from domain.penalty import Penalty, PenaltyCategory, PenaltyStatus, parse_amount, parse_currency


def parse_category(text: str) -> PenaltyCategory:
    try:
        return PenaltyCategory(text.strip().lower())
    except ValueError:
        raise Refusal("penalty.unknown_category", category=text,
                      categories=", ".join(PenaltyCategory)) from None


def parse_id(text: str | None) -> int:
    raw = (text or "").strip().lstrip("#")
    if not raw.isdigit():
        raise Refusal("penalty.usage")
    return int(raw)


class PenaltyCommands:
    """The `penalty` and `contract` verbs; `verbs()` plugs them into `CommandHandler`."""

    def __init__(self, service: PenaltyService, contracts: ContractService, *, language: str = "es") -> None:
        self.service = service
        self.contracts = contracts
        self.lang = language

    def verbs(self) -> dict[str, Verb]:
        """The verbs to register in `CommandHandler`."""
        return {"penalty": self.penalty, "contract": self.contract}

    # -- penalty --------------------------------------------------------------------------------
    async def penalty(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        """Dispatch `penalty SUB …`, turning domain refusals into catalogue answers."""
        sub = (cmd.arg(0) or "").lower()
        handlers = {"new": self._new, "nueva": self._new, "evidence": self._evidence, "evidencia": self._evidence,
                    "list": self._list, "listar": self._list, "show": self._show, "ver": self._show,
                    "approve": self._approve, "aprobar": self._approve, "reject": self._reject,
                    "rechazar": self._reject, "paid": self._paid, "pagada": self._paid,
                    "notify": self._notify, "notificar": self._notify, "report": self._report,
                    "reporte": self._report}
        handler = handlers.get(sub)
        if handler is None:
            raise Refusal("penalty.usage")
        try:
            return await handler(cmd, actor, now)
        except BadMonth as exc:
            raise Refusal("penalty.bad_month", month=str(exc)) from None
        except DomainError as exc:
            about: Subject = PQR if handler == self._new else AboutPenalty(cmd.arg(1) or "?")
            return Reply.refusal(refusal_text(exc, self.lang, about=about), language=self.lang)

    def _status(self, value: str) -> str:
        return t(self.lang, f"penalty.status.{value}")

    def describe(self, p: Penalty) -> str:
        """A penalty in a few lines, for every chat's plain text."""
        lines = [t(self.lang, "penalty.card", id=p.id, client=p.client,
                   category=t(self.lang, f"penalty.category.{p.category.value}"),
                   amount=format_amount(p.amount, p.currency, self.lang), area=p.area,
                   status=self._status(p.status.value), pqr=p.pqr or "—")]
        summary = evidence_summary(p)
        if summary:
            lines.append(t(self.lang, "penalty.evidence_line", evidence=summary))
        if p.decision_reason:
            lines.append(t(self.lang, "penalty.decision_line", decision=self._status(p.decision.value)
                           if p.decision else "", by=p.decided_by or "—", reason=p.decision_reason))
        return "\n".join(lines)

    def buttons(self, p: Penalty) -> tuple[Button, ...]:
        if p.status is not PenaltyStatus.EN_EVALUACION:
            return ()
        return (Button(t(self.lang, "penalty.button.approve"), "penalty_approve", str(p.id), "primary"),
                Button(t(self.lang, "penalty.button.reject"), "penalty_reject", str(p.id), "danger"))

    async def _new(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        if len(cmd.args) < 5:
            raise Refusal("penalty.usage")
        client, category, amount_text, area = cmd.args[1], parse_category(cmd.args[2]), cmd.args[3], cmd.args[4]
        currency, pqr = "COP", None
        for extra in cmd.args[5:]:
            if len(extra) == 3 and extra.isalpha():
                currency = parse_currency(extra)
            else:
                pqr = extra
        amount: Decimal = parse_amount(amount_text)
        p = await self.service.register(NewPenalty(client=client, category=category, amount=amount, area=area,
                                                   actor=actor, currency=currency, pqr=pqr,
                                                   description=cmd.reason), now=now)
        return Reply(text=t(self.lang, "penalty.registered", id=p.id) + "\n" + self.describe(p),
                     visibility=Visibility.PUBLIC, language=self.lang)

    async def _evidence(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        penalty_id = parse_id(cmd.arg(1))
        text = cmd.rest(2, to_end=True).strip()
        if not text:
            raise Refusal("penalty.usage")
        p = await self.service.add_evidence(penalty_id, text, actor=actor, now=now)
        return Reply(text=t(self.lang, "penalty.evidence_added", id=p.id, status=self._status(p.status.value)),
                     language=self.lang)

    async def _list(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        status = None
        if cmd.arg(1):
            try:
                status = PenaltyStatus((cmd.arg(1) or "").lower())
            except ValueError:
                raise Refusal("penalty.unknown_status", status=cmd.arg(1),
                              statuses=", ".join(PenaltyStatus)) from None
        found = await self.service.list(status=status)
        if not found:
            return Reply(text=t(self.lang, "penalty.list_empty"), language=self.lang)
        lines = [tn(self.lang, "penalty.list_header", len(found))]
        lines += [f"#{p.id} · {p.client} · {p.category.value} · {format_amount(p.amount, p.currency, self.lang)}"
                  f" · {p.area} · {self._status(p.status.value)}" for p in found]
        return Reply(text="\n".join(lines), language=self.lang)

    async def _show(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        p = await self.service.show(parse_id(cmd.arg(1)))
        return Reply(text=self.describe(p), buttons=self.buttons(p), language=self.lang)

    async def _decide(self, cmd: ParsedCommand, actor: str, now: dt.datetime, approve: bool) -> Reply:
        penalty_id = parse_id(cmd.arg(1))
        reason = (cmd.reason or cmd.rest(2).strip()).strip()
        if not reason:
            raise Refusal("penalty.reason_required")
        p = await self.service.decide(penalty_id, approve, reason, actor, now)
        key = "penalty.approved" if approve else "penalty.rejected"
        return Reply(text=t(self.lang, key, id=p.id, status=self._status(p.status.value)) + "\n" + self.describe(p),
                     visibility=Visibility.PUBLIC, language=self.lang)

    async def _approve(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        return await self._decide(cmd, actor, now, True)

    async def _reject(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        return await self._decide(cmd, actor, now, False)

    async def _paid(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        p = await self.service.mark_paid(parse_id(cmd.arg(1)), actor=actor, now=now, reason=cmd.reason)
        return Reply(text=t(self.lang, "penalty.paid", id=p.id), visibility=Visibility.PUBLIC, language=self.lang)

    async def _notify(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        p = await self.service.notify_client(parse_id(cmd.arg(1)), actor=actor, now=now, reason=cmd.reason)
        return Reply(text=t(self.lang, "penalty.notified", id=p.id, status=self._status(p.status.value)),
                     language=self.lang)

    async def _report(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        month = cmd.arg(1)
        if not month:
            raise Refusal("penalty.usage")
        report = PenaltyReport.of(month, await self.service.month(month))
        # The Slack adapter posts `bot.penalties.report.chart_png(report)` with this reply.
        return Reply(text=report_text(report, self.lang), language=self.lang,
                     extra={"penalty_report_month": month})

    # -- contract -------------------------------------------------------------------------------
    async def contract(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        """`contract list` and `contract show NAME` (a contract, or a client's contract)."""
        sub = (cmd.arg(0) or "list").lower()
        registry = await self.contracts.registry()
        if sub in ("list", "listar"):
            if not registry.clients:
                return Reply(text=t(self.lang, "contract.list_empty"), language=self.lang)
            lines = [tn(self.lang, "contract.list_header", len(registry.clients))]
            for c in registry.clients:
                lines.append(f"• {c.name} ({c.segment.value}{', NIT ' + c.nit if c.nit else ''}) — "
                             f"{c.contract or t(self.lang, 'contract.none')}")
            return Reply(text="\n".join(lines), language=self.lang)
        if sub in ("show", "ver"):
            name = cmd.rest(1).strip()
            if not name:
                raise Refusal("contract.usage")
            contract = registry.contract(name) or registry.contract_of(registry.client(name))
            if contract is None:
                raise Refusal("contract.not_found", name=name)
            client = registry.client(contract.client)
            lines = [t(self.lang, "contract.card", name=contract.name, client=contract.client,
                       nit=(client.nit if client else None) or "—",
                       pauses=t(self.lang, "contract.yes" if contract.terms.pauses_when_waiting else "contract.no"))]
            for pqr_type in sorted(set(contract.terms.resolution) | set(contract.terms.first_response)):
                first = contract.terms.first_response.get(pqr_type)
                res = contract.terms.resolution.get(pqr_type)
                lines.append(t(self.lang, "contract.target", type=t(self.lang, f"type.{pqr_type.value}"),
                               first=first.label() if first else "—", resolution=res.label() if res else "—"))
            for clause in contract.clauses:
                amount = format_amount(clause.amount, clause.currency, self.lang) if clause.amount else "—"
                lines.append(f"  · {clause.category.value}: {clause.description} ({amount})")
            return Reply(text="\n".join(lines), language=self.lang)
        raise Refusal("contract.usage")
