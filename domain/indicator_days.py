"""What one PQR adds to the daily indicator roll-ups: the counts of DESIGN.md "Indicators" that
are sums over the days of a period, by local day, slice and dimension.

A PQR counts on the day it was received (`filed`, and `open` while it is open: the backlog by
age is then a sum over receipt days), on its legal due day while it is open (`open_due`: those
open and late at a day's end are a sum over the days before it), on the day it was closed (`answered`, `on_time`,
`res_done`, `res_met` and its resolution time in business days), and on the day of its first
response (`fr_done`, `fr_met`); and on the day of each prórroga and reopening it had
(`extensions`, `reopened`, from its events: `event_marks`). Each count is kept three ways — for all PQRs
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

COUNTS = ("filed", "answered", "on_time", "fr_done", "fr_met", "res_done", "res_met", "open", "open_due",
          "extensions", "reopened")
DIMENSIONS = ("type", "channel", "area", "cause", "client")
SLICES = ("", "client", "area")
# The stored columns a PQR's contributions are computed from (those of `storage.tables.pqrs`);
# a row may also carry "events": its (EXTENDED | REOPENED, instant) marks.
FIELDS = ("type", "channel", "area", "cause", "client", "contract", "received_at", "closed_at",
          "due_at", "legal_due_at", "first_response_at", "first_response_due_at", "contract_due_at",
          "resolution_days")

# The events counted: a prórroga, a reopening.
EXTENDED, REOPENED = "extended", "reopened"

# (day, slice, slice key, dimension, key) -> the counts in COUNTS order.
Key = tuple[dt.date, str, str, str, str]
# (day, slice, slice key, business days) -> PQRs closed that day in that many business days.
DaysKey = tuple[dt.date, str, str, int]


def event_mark(kind: str, to_state: str | None) -> str | None:
    """EXTENDED or REOPENED for the events the roll-ups count (by their stored kind and target
    state), None for the others."""
    if kind == "extended":
        return EXTENDED
    if kind == "status_changed" and to_state == "reabierta":
        return REOPENED
    return None


def slice_key(value: str | None) -> str:
    """How a client or area is written as a slice key (and looked up): lower-cased."""
    return (value or "").strip().lower()


def _slices(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = [("", "")]
    for name in ("client", "area"):
        if row.get(name):
            out.append((name, slice_key(row[name])))
    return out


Rollups = tuple[dict[Key, list[int]], dict[DaysKey, int]]


def contributions(row: Mapping[str, Any], tz: ZoneInfo, sign: int = 1, *, into: Rollups | None = None) -> Rollups:
    """What the PQR whose stored columns are `row` adds to the roll-ups, times `sign`, added
    `into` (a new pair by default): the counts by key, and its resolution time in business days
    (when it is closed and measured) by closing day."""
    counts, days = into if into is not None else ({}, {})
    slices = _slices(row)
    dims = [(d, row.get(d) or "") for d in DIMENSIONS]
    n = len(COUNTS)

    def add(at: dt.datetime, indexes: tuple[int, ...]) -> None:
        day = at.astimezone(tz).date()
        for s, sk in slices:
            for d, k in dims:
                key = (day, s, sk, d, k)
                have = counts.get(key)
                if have is None:
                    have = counts[key] = [0] * n
                for i in indexes:
                    have[i] += sign

    closed, contract = row.get("closed_at"), row.get("contract")
    legal = row.get("legal_due_at") or row["due_at"]
    add(row["received_at"], (0,) if closed is not None else (0, 7))
    if closed is None:
        add(legal, (8,))
    else:
        indexes = [1]
        if closed <= legal:
            indexes.append(2)
        due = row.get("contract_due_at")
        if contract is not None and due is not None:
            indexes += [5, 6] if closed <= due else [5]
        add(closed, tuple(indexes))
        if row.get("resolution_days") is not None:
            day = closed.astimezone(tz).date()
            for s, sk in slices:
                key2 = (day, s, sk, int(row["resolution_days"]))
                days[key2] = days.get(key2, 0) + sign
    first, first_due = row.get("first_response_at"), row.get("first_response_due_at")
    if first is not None and contract is not None and first_due is not None:
        add(first, (3, 4) if first <= first_due else (3,))
    for mark, at in row.get("events") or ():          # (EXTENDED | REOPENED, instant)
        add(at, (9,) if mark == EXTENDED else (10,))
    return counts, days


def accumulate(rows: Iterable[Mapping[str, Any]], tz: ZoneInfo, sign: int = 1, *,
               into: Rollups | None = None) -> Rollups:
    """The sum of `contributions` of `rows`, times `sign`, added `into` (a new pair by default)."""
    acc: Rollups = into if into is not None else ({}, {})
    for row in rows:
        contributions(row, tz, sign, into=acc)
    return acc


def difference(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]],
               tz: ZoneInfo) -> Rollups:
    """What storing `after` in place of `before` changes in the roll-ups: only the keys whose
    counts moved (a status change that moves no date, cause or area changes nothing)."""
    old, new = list(before), list(after)
    if old == new:
        return {}, {}
    acc = accumulate(old, tz, -1)
    counts, days = accumulate(new, tz, 1, into=acc)
    return ({k: v for k, v in counts.items() if any(v)}, {k: v for k, v in days.items() if v})
