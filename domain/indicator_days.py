"""What one PQR adds to the daily indicator roll-ups: the counts of DESIGN.md "Indicators" that
are sums over the days of a period, by local day, slice and dimension.

A PQR counts on the day it was received (`filed`), on the day it was closed (`answered`,
`on_time`, `res_done`, `res_met` and its resolution time in business days, `res_days`), and on
the day of its first response (`fr_done`, `fr_met`). Each count is kept three ways — for all PQRs
(slice ""), for the PQR's client (slice "client", key the name lower-cased) and for its area
(slice "area") — and each of those by every dimension (type, channel, area, cause, client; ""
for none). A period's figures are then sums over its days, whatever the number of PQRs in it.

The roll-ups are maintained by difference: when a PQR is stored, what it added before is taken
away and what it adds now is added (`difference`), so a closing, a reopening, a new cause or
area moves its counts to where they belong now, in the same transaction. Everything here is a
pure function of the PQR's stored columns and the local time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

COUNTS = ("filed", "answered", "on_time", "fr_done", "fr_met", "res_done", "res_met")
DIMENSIONS = ("type", "channel", "area", "cause", "client")
SLICES = ("", "client", "area")
# The stored columns a PQR's contributions are computed from (those of `storage.tables.pqrs`).
FIELDS = ("type", "channel", "area", "cause", "client", "contract", "received_at", "closed_at",
          "due_at", "legal_due_at", "first_response_at", "first_response_due_at", "contract_due_at",
          "resolution_days")

# (day, slice, slice key, dimension, key) -> the counts in COUNTS order.
Key = tuple[dt.date, str, str, str, str]
# (day, slice, slice key, business days) -> PQRs closed that day in that many business days.
DaysKey = tuple[dt.date, str, str, int]


def slice_key(value: str | None) -> str:
    """How a client or area is written as a slice key (and looked up): lower-cased."""
    return (value or "").strip().lower()


def _slices(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = [("", "")]
    for name in ("client", "area"):
        if row.get(name):
            out.append((name, slice_key(row[name])))
    return out


def contributions(row: Mapping[str, Any], tz: ZoneInfo) -> tuple[dict[Key, list[int]], dict[DaysKey, int]]:
    """What the PQR whose stored columns are `row` adds to the roll-ups: the counts by key, and
    its resolution time in business days (when it is closed and measured)."""
    counts: dict[Key, list[int]] = {}
    days: dict[DaysKey, int] = {}
    slices = _slices(row)
    dims = [(d, row.get(d) or "") for d in DIMENSIONS]

    def add(at: dt.datetime, vector: list[int]) -> None:
        day = at.astimezone(tz).date()
        for s, sk in slices:
            for d, k in dims:
                key = (day, s, sk, d, k)
                have = counts.get(key)
                if have is None:
                    counts[key] = list(vector)
                else:
                    for i, v in enumerate(vector):
                        have[i] += v

    n = len(COUNTS)
    filed = [0] * n
    filed[0] = 1
    add(row["received_at"], filed)
    closed, contract = row.get("closed_at"), row.get("contract")
    if closed is not None:
        legal = row.get("legal_due_at") or row["due_at"]
        vector = [0, 1, int(closed <= legal), 0, 0, 0, 0]
        due = row.get("contract_due_at")
        if contract is not None and due is not None:
            vector[5], vector[6] = 1, int(closed <= due)
        add(closed, vector)
        if row.get("resolution_days") is not None:
            day = closed.astimezone(tz).date()
            for s, sk in slices:
                key2 = (day, s, sk, int(row["resolution_days"]))
                days[key2] = days.get(key2, 0) + 1
    first, first_due = row.get("first_response_at"), row.get("first_response_due_at")
    if first is not None and contract is not None and first_due is not None:
        add(first, [0, 0, 0, 1, int(first <= first_due), 0, 0])
    return counts, days


def accumulate(rows: Iterable[Mapping[str, Any]], tz: ZoneInfo, sign: int = 1, *,
               into: tuple[dict[Key, list[int]], dict[DaysKey, int]] | None = None,
               ) -> tuple[dict[Key, list[int]], dict[DaysKey, int]]:
    """The sum of `contributions` of `rows`, times `sign`, added `into` (a new pair by default)."""
    counts, days = into if into is not None else ({}, {})
    for row in rows:
        c, d = contributions(row, tz)
        for key, vector in c.items():
            have = counts.get(key)
            if have is None:
                counts[key] = [sign * v for v in vector]
            else:
                for i, v in enumerate(vector):
                    have[i] += sign * v
        for key2, v in d.items():
            days[key2] = days.get(key2, 0) + sign * v
    return counts, days


def difference(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]],
               tz: ZoneInfo) -> tuple[dict[Key, list[int]], dict[DaysKey, int]]:
    """What storing `after` in place of `before` changes in the roll-ups: only the keys whose
    counts moved (a status change that moves no date, cause or area changes nothing)."""
    acc = accumulate(before, tz, -1)
    counts, days = accumulate(after, tz, 1, into=acc)
    return ({k: v for k, v in counts.items() if any(v)}, {k: v for k, v in days.items() if v})
