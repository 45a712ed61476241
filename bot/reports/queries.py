"""The indicators asked for by plain values, for callers that may not build storage's slice
themselves: the REST API (`GET /api/v1/kpis`; channels never import storage)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.reports.indicators import IndicatorService
from storage.ports import IndicatorSlice


async def kpis(indicators: IndicatorService, start: dt.date, end: dt.date, *,
               client: str | None = None) -> dict[str, Any]:
    """The `report kpis` document for [start, end) (local dates), of one client or of all."""
    return await indicators.kpis(start, end, IndicatorSlice(client=client))
