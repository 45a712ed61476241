"""The indicators as a few lines of text for a chat or the terminal (`/pqr kpis`, the console,
`pqrbot report …` without --json), in the reader's language, from the same documents the files
and the web show."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from bot.i18n.formats import format_number, format_percentage


def _pct(value: float | None, lang: str) -> str:
    return "—" if value is None else format_percentage(value, lang)


def _num(value: float | None, lang: str) -> str:
    return "—" if value is None else format_number(value, lang, places=1)


def kpi_lines(doc: dict[str, Any], lang: str) -> list[str]:
    """The main figures of a `report kpis` document, one per line."""
    fr, rd = doc["first_response_hours"], doc["resolution_business_days"]
    bands = doc["backlog_age"]
    return [
        t(lang, "kpis.period", start=doc["from"], end=doc["to"]),
        t(lang, "kpis.volume", filed=doc["filed"], answered=doc["answered"]),
        t(lang, "kpis.on_time", pct=_pct(doc["on_time_pct"], lang)),
        t(lang, "kpis.ans", pct=_pct(doc["ans_compliance_pct"], lang)),
        t(lang, "kpis.first_response", median=_num(fr["median"], lang), p90=_num(fr["p90"], lang)),
        t(lang, "kpis.resolution", median=_num(rd["median"], lang), p90=_num(rd["p90"], lang)),
        t(lang, "kpis.backlog", open=doc["open_at_end"], breached=doc["breached_open"], a=bands["0-5"],
          b=bands["6-10"], c=bands["11-15"], d=bands[">15"]),
        t(lang, "kpis.events", extensions=doc["extensions"], reopened=doc["reopened"]),
    ]


def kpi_facts(doc: dict[str, Any], lang: str) -> tuple[tuple[str, str], ...]:
    """The main figures as (label, value) pairs, for a chat's table."""
    fr, rd = doc["first_response_hours"], doc["resolution_business_days"]
    return (
        (t(lang, "kpis.fact.filed"), format_number(doc["filed"], lang)),
        (t(lang, "kpis.fact.answered"), format_number(doc["answered"], lang)),
        (t(lang, "kpis.fact.on_time"), _pct(doc["on_time_pct"], lang)),
        (t(lang, "kpis.fact.ans"), _pct(doc["ans_compliance_pct"], lang)),
        (t(lang, "kpis.fact.first_response"), f"{_num(fr['median'], lang)} / {_num(fr['p90'], lang)}"),
        (t(lang, "kpis.fact.resolution"), f"{_num(rd['median'], lang)} / {_num(rd['p90'], lang)}"),
        (t(lang, "kpis.fact.open"), format_number(doc["open_at_end"], lang)),
        (t(lang, "kpis.fact.breached"), format_number(doc["breached_open"], lang)),
    )


def client_lines(doc: dict[str, Any], lang: str) -> list[str]:
    """A `report client` document: the compliance, each target, the breaches' count."""
    lines = [t(lang, "kpis.client", client=doc["client"], period=doc["period"],
               pct=_pct(doc["ans_compliance_pct"], lang))]
    for target in doc["targets"]:
        lines.append(t(lang, "kpis.target", type=t(lang, f"type.{target['type']}"),
                       kind=t(lang, f"kpis.kind.{target['kind']}"), target=target["target"] or "—",
                       met=target["met"], measured=target["measured"], pct=_pct(target["pct"], lang)))
    lines.append(t(lang, "kpis.breaches", count=len(doc["breaches"])))
    return lines + kpi_lines(doc["kpis"], lang)


def monthly_lines(doc: dict[str, Any], lang: str) -> list[str]:
    """A `report monthly` document: each client's compliance, then the KPIs."""
    lines = [t(lang, "kpis.monthly", month=doc["month"])]
    for c in doc["clients"]:
        lines.append(t(lang, "kpis.client_row", client=c["client"], filed=c["filed"],
                       on_time=_pct(c["on_time_pct"], lang), ans=_pct(c["ans_compliance_pct"], lang),
                       breaches=c["breaches"]))
    return lines + kpi_lines(doc["kpis"], lang)
