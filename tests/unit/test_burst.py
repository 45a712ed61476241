"""MailBurst: when background work gives way to inbound mail, and for how long at most."""

from __future__ import annotations

import pytest

from bot.burst import MailBurst


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def burst(clock: Clock) -> MailBurst:
    return MailBurst(quiet=0.5, max_defer=5.0, clock=clock)


def test_no_mail_holds_nothing() -> None:
    assert burst(Clock()).hold() == 0


def test_mail_holds_until_it_has_been_quiet_for_a_while() -> None:
    clock = Clock()
    b = burst(clock)
    b.arrived()
    assert b.hold() == pytest.approx(0.5)
    clock.now += 0.3
    assert b.hold() == pytest.approx(0.2)
    clock.now += 0.2
    assert b.hold() == 0


def test_a_steady_stream_is_held_for_max_defer_only() -> None:
    clock = Clock()
    b = burst(clock)
    for _ in range(49):              # a message every 0.1 s for 4.9 s: one burst
        b.arrived()
        clock.now += 0.1
        assert b.hold() > 0
    b.arrived()
    clock.now += 0.15                # over 5 s since the burst began: filing and the outbox go on
    b.arrived()
    assert b.hold() == 0
    clock.now += 0.2
    assert b.hold() == 0


def test_after_a_quiet_gap_a_new_burst_is_held_again() -> None:
    clock = Clock()
    b = burst(clock)
    for _ in range(60):
        b.arrived()
        clock.now += 0.1
    assert b.hold() == 0             # the first burst outlasted max_defer
    clock.now += 1.0                 # quiet
    b.arrived()
    assert b.hold() == pytest.approx(0.5)
