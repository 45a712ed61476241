"""Where `now` comes from. The domain never reads the clock; the process wiring does, here."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def clock_from_env() -> Clock:
    """The system clock, or a fixed instant from PQRBOT_NOW (ISO 8601 with offset) — for
    demonstrations and end-to-end tests that must not depend on today's date."""
    fixed = os.environ.get("PQRBOT_NOW")
    if not fixed:
        return system_clock
    instant = dt.datetime.fromisoformat(fixed)
    if instant.utcoffset() is None:
        raise ValueError("PQRBOT_NOW needs an offset, e.g. 2026-12-18T10:00:00-05:00")
    return lambda: instant
