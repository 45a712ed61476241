"""Report periods: a month `2026-11`, a quarter `2026-Q4`, a half `2026-H2` or a year `2026`, as
local dates [start, end), and the periods of the same length before one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from domain.errors import InvalidInput

_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-[Hh]([12])$"), "semester"),
    (re.compile(r"^(\d{4})$"), "year"),
)
_MONTHS = {"month": 1, "quarter": 3, "semester": 6, "year": 12}


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """`kind` month | quarter | semester | year, from `start` (a first of month) to `end`
    (exclusive), both local dates."""

    kind: str
    start: dt.date

    @property
    def months(self) -> int:
        return _MONTHS[self.kind]

    @property
    def end(self) -> dt.date:
        return _add_months(self.start, self.months)

    @property
    def label(self) -> str:
        y, m = self.start.year, self.start.month
        if self.kind == "month":
            return f"{y}-{m:02d}"
        if self.kind == "quarter":
            return f"{y}-Q{(m - 1) // 3 + 1}"
        if self.kind == "semester":
            return f"{y}-H{(m - 1) // 6 + 1}"
        return str(y)

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2026-11`, `2026-Q4`, `2026-H2` or `2026`; InvalidInput(code="period") otherwise."""
        value = text.strip()
        for pattern, kind in _PATTERNS:
            match = pattern.match(value)
            if not match:
                continue
            year = int(match.group(1))
            n = int(match.group(2)) if match.lastindex and match.lastindex > 1 else 1
            if not 1970 <= year <= 2999 or (kind == "month" and not 1 <= n <= 12):
                break
            return cls(kind, dt.date(year, 1 + (n - 1) * (_MONTHS[kind] if kind != "month" else 1), 1))
        raise InvalidInput(f"not a period: {text!r} (YYYY-MM, YYYY-Qn, YYYY-Hn or YYYY)", code="period", value=text)

    @classmethod
    def of(cls, kind: str, day: dt.date) -> Period:
        """The period of `kind` that holds `day`."""
        months = _MONTHS[kind]
        first = (day.month - 1) // months * months + 1
        return cls(kind, dt.date(day.year, first, 1))

    def previous(self, n: int = 1) -> Period:
        """The period of the same length `n` periods before."""
        return Period(self.kind, _add_months(self.start, -n * self.months))

    def next(self) -> Period:
        return Period(self.kind, self.end)
