"""One fake clock for every test that would otherwise wait: quota storms, backoffs, nightly runs.

Time stands still until :meth:`FakeClock.sleep` or :meth:`FakeClock.advance` moves it, so
minutes of quota windows or days of schedule pass in milliseconds. One clock reads two ways,
because its users do:

* called, ``clock()`` gives seconds as a float, like ``time.monotonic``. The fake Google API's
  quota windows and call records, and the client's rate limiter and backoff, take a callable.
* ``clock.now()`` gives an aware UTC datetime, which the nightly scheduler's ``Clock`` needs
  (with ``sleep`` and ``wake``).

Both readings are the same instant: the float is seconds since the Unix epoch.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]


class FakeClock:
    """A manual clock shared by fakes and the code under test; thread-safe.

    ``start`` is an aware datetime, or seconds since the epoch. The default, 1000 s, keeps the
    fake Google API's quota windows where the Google tests expect them.
    """

    def __init__(self, start: datetime | float = 1_000.0) -> None:
        if isinstance(start, datetime):
            if start.tzinfo is None:
                raise ValueError("FakeClock needs a timezone-aware start time")
            start = start.timestamp()
        # Float seconds, not a datetime, so waits a limiter computes are added exactly:
        # rounding them to whole microseconds could leave it sleeping forever on a remainder.
        self._seconds = float(start)
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def __call__(self) -> float:
        """Seconds since the epoch (use it where code takes ``time.monotonic``)."""
        with self._lock:
            return self._seconds

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        with self._lock:
            return datetime.fromtimestamp(self._seconds, UTC)

    def sleep(self, seconds: float) -> None:
        """Record the wait and move time forward by it at once (a negative wait is none)."""
        with self._lock:
            self.slept.append(seconds)
            self._seconds += max(0.0, seconds)

    def advance(self, by: float | timedelta) -> None:
        """Move time forward without recording a sleep, e.g. for a run that takes a while."""
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        with self._lock:
            self._seconds += seconds

    def wake(self) -> None:
        """Nothing to wake: fake sleeps return at once (part of the scheduler's ``Clock``)."""
