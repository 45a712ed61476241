"""Contact hours (Ley 2300 de 2023, art. 3): when a customer may be sent a message they did not
ask for — a survey, a campaign — and how many a day.

Such a message goes Monday to Friday 07:00–19:00 or Saturday 08:00–15:00 (local time, the end
excluded), never on a Sunday or a Colombian holiday, and at most one per contact per local day.
An answer to the customer's own request (an acknowledgment, a reply, an extension notice, the
closing) is not such a message and is never held. Every function takes the instants it works on;
nothing here reads the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from domain.calendar import BusinessCalendar

UNSOLICITED_KINDS: frozenset[str] = frozenset({"survey_csat", "survey_nps"})
"""The outbox payload kinds that wait for the contact hours. Every other kind is either an answer
to the customer's own request (ack, extension, reply, closing, a penalty decision the client
asked for) or goes to staff (triage, alerts, digests, reports), which the law does not cover."""

SUNDAY, SATURDAY = 6, 5
_SEARCH_DAYS = 366    # holidays never close a whole year; this only bounds a misconfigured calendar


@dataclass(frozen=True)
class Window:
    """One day's contact window, `start` included and `end` excluded."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"a contact window must start before it ends: {self}")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @classmethod
    def parse(cls, text: str) -> Window:
        """`"07:00-19:00"` → Window(07:00, 19:00); ValueError for anything else."""
        start, sep, end = text.strip().partition("-")
        try:
            if not sep:
                raise ValueError(text)
            times = dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())
            if any(t.tzinfo is not None for t in times):    # local times: the calendar's zone
                raise ValueError(text)
        except ValueError:
            raise ValueError(f"a contact window is HH:MM-HH:MM, e.g. 07:00-19:00 (not {text!r})") from None
        return cls(*times)


@dataclass(frozen=True)
class ContactHours:
    """The contact windows on the business calendar's time zone and holidays."""

    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    weekdays: Window = Window(dt.time(7, 0), dt.time(19, 0))
    saturday: Window | None = Window(dt.time(8, 0), dt.time(15, 0))   # None: never on Saturdays

    def window(self, day: dt.date) -> Window | None:
        """The window of a local date; None on Sundays and holidays."""
        if day.weekday() == SUNDAY or self.calendar.is_holiday(day):
            return None
        return self.saturday if day.weekday() == SATURDAY else self.weekdays

    def day_of(self, instant: dt.datetime) -> dt.date:
        """The local date of an instant (the "day" of at most one message per contact)."""
        return self.calendar.local(instant).date()

    def day_span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The local day as [start, end) instants."""
        start = dt.datetime.combine(day, dt.time(0), tzinfo=self.calendar.tz)
        return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=self.calendar.tz)

    def is_open(self, instant: dt.datetime) -> bool:
        local = self.calendar.local(instant)
        w = self.window(local.date())
        return w is not None and w.start <= local.time() < w.end

    def next_open(self, instant: dt.datetime) -> dt.datetime:
        """`instant` itself when it is inside the contact hours, else the next opening."""
        local = self.calendar.local(instant)
        w = self.window(local.date())
        if w is not None:
            if local.time() < w.start:
                return dt.datetime.combine(local.date(), w.start, tzinfo=self.calendar.tz)
            if local.time() < w.end:
                return instant
        return self.opening_after(local.date())

    def opening_after(self, day: dt.date) -> dt.datetime:
        """The opening of the first local date after `day` that has a window."""
        for _ in range(_SEARCH_DAYS):
            day += dt.timedelta(days=1)
            w = self.window(day)
            if w is not None:
                return dt.datetime.combine(day, w.start, tzinfo=self.calendar.tz)
        raise ValueError(f"no contact window within {_SEARCH_DAYS} days after {day.isoformat()}")

    def schedule(self, due: dt.datetime, taken: Collection[dt.date] = ()) -> dt.datetime:
        """When a message due at `due` may go to a contact who already has one on each of the
        local dates in `taken`: the next opening, moved on a day while its day is taken."""
        at = self.next_open(due)
        for _ in range(_SEARCH_DAYS):
            day = self.day_of(at)
            if day not in taken:
                return at
            at = self.opening_after(day)
        raise ValueError(f"no free contact day within {_SEARCH_DAYS} days after {due.isoformat()}")
