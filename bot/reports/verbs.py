"""`/pqr kpis [month|YYYY-MM]` (`indicadores`): a month's main indicators as a short table and a
chart, from the same indicators service as every report. Staff only, as every `/pqr` verb."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.commands.grammar import ParsedCommand
from bot.commands.handler import Verb
from bot.commands.refusals import Refusal
from bot.commands.replies import Reply, Visibility
from bot.i18n import t
from bot.reports.charts import kpi_chart_png
from bot.reports.indicators import IndicatorService
from bot.reports.summary import kpi_facts, kpi_lines
from domain.errors import InvalidInput
from domain.files import FileData
from domain.periods import Period


class ReportVerbs:
    """The report verbs to register in `CommandHandler`."""

    def __init__(self, indicators: IndicatorService, *, language: str = "es") -> None:
        self.indicators = indicators
        self.lang = language

    def verbs(self) -> dict[str, Verb]:
        return {"kpis": self.kpis}

    def month(self, arg: str | None, now: dt.datetime) -> Period:
        """`YYYY-MM`, or this month (nothing, `month`, `mes`)."""
        if arg is None or arg.lower() in ("month", "mes"):
            return Period.of("month", self.indicators.calendar.local(now).date())
        try:
            period = Period.parse(arg)
        except InvalidInput:
            raise Refusal("kpis.usage", value=arg) from None
        if period.kind != "month":
            raise Refusal("kpis.usage", value=arg)
        return period

    async def kpis(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        """The month's figures (text and a table) with its chart as a PNG."""
        period = self.month(cmd.arg(0), now)
        doc = await self.indicators.kpis(period.start, period.end)
        png = await asyncio.to_thread(kpi_chart_png, doc, lang=self.lang)   # matplotlib: off the loop
        title = t(self.lang, "kpis.title", month=period.label)
        return Reply(text="\n".join([title, *kpi_lines(doc, self.lang)]), language=self.lang,
                     visibility=Visibility.PUBLIC, title=title, facts=kpi_facts(doc, self.lang),
                     files=(FileData(f"kpis-{period.label}.png", "image/png", png),),
                     extra={"kpis_month": period.label})
