"""The reports built on the indicators: the ANS report for one client and a period (month,
quarter, semester, year, with the trend of the periods before), and the monthly report to top
management (every client's compliance, the KPIs, incidences by cause × area, the penalty
report's totals). Each is a JSON-able document; the files (XLSX, PDF) are drawn from it."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any, Protocol

from bot.contracts.service import ContractService
from bot.penalties.report import PenaltyReport, report_json
from bot.penalties.service import PenaltyService
from bot.reports.indicators import IndicatorService, pct
from domain.calendar import BusinessCalendar
from domain.contracts import Client
from domain.errors import NotFound
from domain.periods import Period
from storage.ports import IndicatorSlice

TREND_PERIODS = 5      # how many periods before the report's own the trend shows


class NpsSource(Protocol):
    async def nps_summary(self, start: dt.date, end: dt.date, segment: str | None = None) -> dict[str, Any] | None:
        """{sent, responses, response_rate_pct, promoters, passives, detractors, nps}, or None."""


class ReportService:
    """Client and monthly reports."""

    def __init__(self, indicators: IndicatorService, contracts: ContractService, penalties: PenaltyService,
                 calendar: BusinessCalendar, *, surveys: NpsSource | None = None) -> None:
        self.indicators = indicators
        self.contracts = contracts
        self.penalties = penalties
        self.calendar = calendar
        self.surveys = surveys            # the NPS block (bot.surveys.results); None: "nps" is null

    async def nps(self, period: Period, segment: str | None = None) -> dict[str, Any] | None:
        """The NPS figures of the surveys sent in `period` (the reports' block, the web
        dashboard's figure); None when none was sent or surveys are off."""
        if self.surveys is None:
            return None
        return await self.surveys.nps_summary(period.start, period.end, segment)

    async def _nps(self, period: Period, segment: str | None = None) -> dict[str, Any] | None:
        """The reports' NPS block, with its `trend`: the NPS of the TREND_PERIODS periods before
        and this one, oldest first (null where nobody answered), for the trend chart."""
        block = await self.nps(period, segment)
        if block is None:
            return None
        trend = []
        for n in range(TREND_PERIODS, 0, -1):
            before = period.previous(n)
            found = await self.nps(before, segment)
            trend.append({"period": before.label, "nps": found["nps"] if found else None,
                          "responses": found["responses"] if found else 0})
        trend.append({"period": period.label, "nps": block["nps"], "responses": block["responses"]})
        return {**block, "trend": trend}

    def _iso(self, instant: dt.datetime | None) -> str | None:
        return self.calendar.local(instant).isoformat() if instant is not None else None

    async def client_of(self, name: str) -> Client:
        """The client named `name` in the contract files (case-insensitive); NotFound otherwise."""
        client = (await self.contracts.registry()).client(name)
        if client is None:
            raise NotFound(name)
        return client

    async def clients(self) -> list[Client]:
        return list((await self.contracts.registry()).clients)

    async def client(self, name: str, period: Period) -> dict[str, Any]:
        """The `report client` document."""
        registry = await self.contracts.registry()
        client = await self.client_of(name)
        contract = registry.contract_of(client)
        flt = IndicatorSlice(client=client.name)
        kpis = await self.indicators.kpis(period.start, period.end, flt)
        outcomes = await self.indicators.ans_targets(period.start, period.end, flt)
        counted: dict[tuple[str, str], tuple[int, int]] = {}
        for _, pqr_type, kind, measured, met in outcomes:
            old = counted.get((pqr_type, kind), (0, 0))
            counted[(pqr_type, kind)] = (old[0] + measured, old[1] + met)
        targets = []
        if contract is not None:
            for kind, by_type in (("first_response", contract.terms.first_response),
                                  ("resolution", contract.terms.resolution)):
                for pqr_type, target in sorted(by_type.items(), key=lambda kv: kv[0].value):
                    measured, met = counted.pop((pqr_type.value, kind), (0, 0))
                    targets.append({"type": pqr_type.value, "kind": kind, "target": target.label(),
                                    "measured": measured, "met": met, "pct": pct(met, measured)})
        for (pqr_type, kind), (measured, met) in sorted(counted.items()):   # targets no longer in force
            targets.append({"type": pqr_type, "kind": kind, "target": None, "measured": measured, "met": met,
                            "pct": pct(met, measured)})
        breaches = [{**b, "due_at": self._iso(b["due_at"]), "done_at": self._iso(b["done_at"])}
                    for b in await self.indicators.breaches(period.start, period.end, flt)]
        trend = []
        for n in range(TREND_PERIODS, 0, -1):
            before = period.previous(n)
            rows = await self.indicators.ans_targets(before.start, before.end, flt)
            trend.append({"period": before.label,
                          "ans_compliance_pct": pct(sum(r[4] for r in rows), sum(r[3] for r in rows))})
        return {"client": client.name, "period": period.label, "from": period.start.isoformat(),
                "to": period.end.isoformat(), "targets": targets, "ans_compliance_pct": kpis["ans_compliance_pct"],
                "breaches": breaches, "penalties": await self._client_penalties(client.name, period),
                "kpis": kpis, "nps": await self._nps(period, f"client:{client.name}"), "trend": trend}

    async def _client_penalties(self, client: str, period: Period) -> dict[str, Any]:
        """The client's penalties registered in the period: count, amount per currency, by status."""
        start = dt.datetime.combine(period.start, dt.time(0), tzinfo=self.calendar.tz)
        end = dt.datetime.combine(period.end, dt.time(0), tzinfo=self.calendar.tz)
        async with self.penalties.db.uow(readonly=True) as uow:
            found = await uow.penalties.list(registered_from=start, registered_before=end, details=False)
        mine = [p for p in found if p.client.casefold() == client.casefold()]
        amount: defaultdict[str, Decimal] = defaultdict(Decimal)
        for p in mine:
            amount[p.currency] += p.amount
        return {"count": len(mine), "amount": {c: str(v) for c, v in sorted(amount.items())},
                "by_status": dict(sorted(Counter(p.status.value for p in mine).items()))}

    async def monthly(self, period: Period) -> dict[str, Any]:
        """The `report monthly` document for top management."""
        if period.kind != "month":
            raise ValueError("the monthly report is for a month")
        kpis = await self.indicators.kpis(period.start, period.end)
        outcomes = await self.indicators.ans_targets(period.start, period.end, IndicatorSlice())
        by_client: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        for client, _, _, measured, met in outcomes:
            by_client[client or ""][0] += measured
            by_client[client or ""][1] += met
        names = {c.name for c in await self.clients()} | {k for k in kpis["by_client"] if k != "none"}
        clients = []
        for name in sorted(names, key=str.casefold):
            figures = kpis["by_client"].get(name, {"filed": 0, "answered": 0, "on_time_pct": None})
            measured, met = by_client.get(name, [0, 0])
            clients.append({"client": name, "filed": figures["filed"], "answered": figures["answered"],
                            "on_time_pct": figures["on_time_pct"], "ans_compliance_pct": pct(met, measured),
                            "breaches": measured - met})
        penalties = PenaltyReport.of(period.label, await self.penalties.month(period.label))
        summary = report_json(penalties, self.calendar)
        summary.pop("penalties")
        return {"month": period.label, "from": period.start.isoformat(), "to": period.end.isoformat(),
                "kpis": kpis, "clients": clients,
                "incidences": await self.indicators.incidences(period.start, period.end),
                "penalties": summary, "nps": await self._nps(period)}
