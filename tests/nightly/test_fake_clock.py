"""The one FakeClock: a float reading for quota code, an aware reading for the scheduler."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sheetsync.backends.google.quota import RateLimiter
from sheetsync.testing import FakeClock
from sheetsync.testing.clock import FakeClock as FakeClockHome


def test_exported_from_sheetsync_testing() -> None:
    assert FakeClock is FakeClockHome


def test_both_readings_are_the_same_instant() -> None:
    clock = FakeClock(datetime(2026, 3, 8, 1, 59, tzinfo=ZoneInfo("America/New_York")))
    assert clock.now() == datetime(2026, 3, 8, 6, 59, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock() == clock.now().timestamp()
    clock.advance(timedelta(minutes=1))
    clock.sleep(30)
    assert clock.now() == datetime(2026, 3, 8, 7, 0, 30, tzinfo=UTC)
    assert clock() == clock.now().timestamp()


def test_default_start_keeps_the_google_tests_quota_windows() -> None:
    clock = FakeClock()
    assert clock() == 1_000.0
    assert clock.now() == datetime(1970, 1, 1, 0, 16, 40, tzinfo=UTC)


def test_time_moves_only_when_told_and_sleeps_are_recorded() -> None:
    clock = FakeClock(50.0)
    assert clock() == clock() == 50.0
    clock.sleep(2.5)
    clock.advance(1)  # a run that takes a while is not a sleep
    clock.sleep(-3)  # a limiter that is already late waits for nothing
    clock.wake()
    assert clock() == 53.5
    assert clock.slept == [2.5, -3]


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 3, 6, 12, 0))


def test_a_limiter_on_an_epoch_scale_clock_keeps_its_exact_waits() -> None:
    # Seconds are kept as floats, so odd waits at today's epoch add up and never stall.
    clock = FakeClock(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    limiter = RateLimiter(7, 1.3, clock=clock, sleep=clock.sleep)
    start = clock()
    rng = random.Random(5)
    for _ in range(200):
        limiter.acquire()
        clock.advance(rng.random() / 10)
    assert clock() - start == pytest.approx(200 / 7 * 1.3, abs=2)
