"""`/pqr nps [YYYY-MM]`: a month's NPS (by segment) and its detractors, and the month's CSAT, from
the same results as `pqrbot report nps|csat`. Staff only, as every `/pqr` verb."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.commands.grammar import ParsedCommand
from bot.commands.handler import Verb
from bot.commands.refusals import Refusal
from bot.commands.replies import Reply, Visibility
from bot.i18n import t
from bot.surveys.results import SurveyResults
from domain.errors import InvalidInput
from domain.periods import Period


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def nps_lines(doc: dict[str, Any], csat: dict[str, Any], lang: str, label: str) -> list[str]:
    """The lines of `/pqr nps`, plain text (Slack escapes them; the comment is the customer's)."""
    if not doc["sent"]:
        lines = [t(lang, "nps.none", period=label)]
    else:
        def line(b: dict[str, Any]) -> str:
            return t(lang, "nps.line", nps=_pct(b["nps"]), responses=b["responses"], sent=b["sent"],
                     rate=f"{_pct(b['response_rate_pct'])}%", promoters=b["promoters"], passives=b["passives"],
                     detractors=b["detractors"])
        lines = [line(doc)] + [f"{seg.upper()}: {line(b)}" for seg, b in doc["by_segment"].items()]
        for d in doc["detractors_list"]:
            followed = t(lang, "nps.followed", radicado=d["pqr"]) if d["pqr"] else ""
            lines.append(t(lang, "nps.detractor_line", contact=d["contact"], client=d["client"] or "B2C",
                           score=d["score"], comment=d["comment"] or t(lang, "survey.no_comment"), followed=followed))
    if csat["sent"]:
        lines.append(t(lang, "csat.line", csat=f"{_pct(csat['csat_pct'])}%", avg=_pct(csat["avg"]),
                       responses=csat["responses"], sent=csat["sent"]))
    return lines


class SurveyVerbs:
    def __init__(self, results: SurveyResults, *, language: str = "es") -> None:
        self.results = results
        self.lang = language

    def verbs(self) -> dict[str, Verb]:
        return {"nps": self.nps}

    async def nps(self, cmd: ParsedCommand, actor: str, now: dt.datetime) -> Reply:
        arg = cmd.arg(0)
        if arg is None:
            period = Period.of("month", self.results.calendar.local(now).date())
        else:
            try:
                period = Period.parse(arg)
            except InvalidInput:
                raise Refusal("usage", usage=t(self.lang, "nps.usage")) from None
            if period.kind != "month":
                raise Refusal("usage", usage=t(self.lang, "nps.usage"))
        doc = await self.results.nps(period.start, period.end)
        csat = await self.results.csat(period.start, period.end)
        title = t(self.lang, "nps.title", period=period.label)
        return Reply(text="\n".join([title, *nps_lines(doc, csat, self.lang, period.label)]), language=self.lang,
                     visibility=Visibility.PRIVATE, title=title)
