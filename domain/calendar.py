"""The business-day calendar: Colombian holidays, working weekdays, extra days off, local time.

Every function takes the instants it works on; nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = dt.time(23, 59, 59)


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> frozenset[dt.date]:
    # One year at a time: `date in holidays.CO(years=…)` silently expands to other years.
    return frozenset(holidays.country_holidays(country, years=year, language="es").keys())


@dataclass(frozen=True)
class BusinessCalendar:
    """Which local dates are business days, and the local timezone instants are read in."""

    timezone: str = "America/Bogota"
    country: str = "CO"
    workdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)
    business_start: dt.time = dt.time(8, 0)
    business_end: dt.time = dt.time(18, 0)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: dt.datetime) -> dt.datetime:
        """The instant in local time. Naive instants are refused: an offset is always needed."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"instant without offset: {instant.isoformat()}")
        return instant.astimezone(self.tz)

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.extra_holidays or day in _country_holidays(self.country, day.year)

    def is_business_day(self, day: dt.date) -> bool:
        return WEEKDAYS[day.weekday()] in self.workdays and not self.is_holiday(day)

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first business day strictly after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day

    def effective_filing_day(self, received_at: dt.datetime) -> dt.date:
        """The local date of receipt if a business day, else the next business day."""
        day = self.local(received_at).date()
        return day if self.is_business_day(day) else self.next_business_day(day)

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th business day after `day` (n >= 0; n == 0 returns `day`)."""
        for _ in range(n):
            day = self.next_business_day(day)
        return day

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """23:59:59 local time of `day`, as an aware datetime."""
        return dt.datetime.combine(day, END_OF_DAY, tzinfo=self.tz)

    def due_after_days(self, received_at: dt.datetime, days: int) -> dt.datetime:
        """DESIGN.md's day-term rule: end of the n-th business day after the effective filing day."""
        return self.end_of_day(self.add_business_days(self.effective_filing_day(received_at), days))

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many business days lie in (start, end]; 0 when end <= start."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return count

    def add_business_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant `hours` of business time after `start`, counting only business hours of
        business days (the clock starts at the next opening when `start` is outside them)."""
        remaining = dt.timedelta(hours=hours)
        cursor = self.local(start)
        while True:
            day = cursor.date()
            opening = dt.datetime.combine(day, self.business_start, tzinfo=self.tz)
            closing = dt.datetime.combine(day, self.business_end, tzinfo=self.tz)
            if not self.is_business_day(day) or cursor >= closing:
                cursor = dt.datetime.combine(self.next_business_day(day), self.business_start, tzinfo=self.tz)
                continue
            cursor = max(cursor, opening)
            if cursor + remaining <= closing:
                return cursor + remaining
            remaining -= closing - cursor
            cursor = closing

    def business_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """How many business hours (of business days) lie between `start` and `end`; 0 when
        end <= start. The inverse of `add_business_hours` for an `end` within business hours."""
        if end <= start:
            return 0.0
        first, last = self.local(start), self.local(end)
        total = dt.timedelta()
        day = first.date()
        while day <= last.date():
            if self.is_business_day(day):
                opening = dt.datetime.combine(day, self.business_start, tzinfo=self.tz)
                closing = dt.datetime.combine(day, self.business_end, tzinfo=self.tz)
                lo, hi = max(first, opening), min(last, closing)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total / dt.timedelta(hours=1)
