"""A burst of inbound mail, and the background work that gives way to it.

The SMTP sessions, the intake worker and the outbox share one event loop. A mail server answers
first and delivers later (Postfix's smtpd only writes the queue file; the queue manager delivers
when it can), and so does pqrbot: while mail keeps arriving, the intake worker files with at most
its `busy_share` of the loop and the outbox holds its deliveries (the acknowledgments among them),
so the sessions keep the loop and the durable inbox absorbs the burst. The holding is bounded:
`max_defer` seconds after a burst began, both run at full speed whatever keeps arriving, so a
sustained stream of mail delays filing and acknowledgments by seconds, never starves them.

Every inbox commit (SMTP or IMAP) calls `arrived`; arrivals closer than `quiet` seconds are one
burst. `quiet` is longer than the loop stalls a filing pass causes (a batch of 256 holds the loop
~0.35 s, during which no session commits): shorter, a steady stream would look like bursts that
keep beginning again, never reaching `max_defer`. The clock is monotonic seconds, an input (tests
move it)."""

from __future__ import annotations

import time
from collections.abc import Callable


class MailBurst:
    """When inbound mail last arrived and since when it has kept arriving."""

    def __init__(self, *, quiet: float = 0.5, max_defer: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = quiet
        self.max_defer = max_defer
        self.clock = clock
        self._last: float | None = None       # the latest arrival
        self._since = 0.0                     # the first arrival of the burst it belongs to

    def arrived(self) -> None:
        """Mail was committed to the inbox now."""
        now = self.clock()
        if self._last is None or now - self._last > self.quiet:
            self._since = now
        self._last = now

    def hold(self) -> float:
        """How long background work should still wait: 0 once no mail came for `quiet` seconds,
        or once the burst has lasted `max_defer`; otherwise until the sooner of the two (look
        again then: more mail may have come)."""
        if self._last is None:
            return 0.0
        now = self.clock()
        quiet_in = self.quiet - (now - self._last)
        defer_left = self.max_defer - (now - self._since)
        if quiet_in <= 0 or defer_left <= 0:
            return 0.0
        return min(quiet_in, defer_left)
