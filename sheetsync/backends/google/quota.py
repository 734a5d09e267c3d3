"""Staying inside Google's quota: a client-side rate limiter, bounded retries, call counts.

Google allows 60 Sheets requests per minute per user (a service account is one user). The
:class:`RateLimiter` is a token bucket sized so that *no* 60-second window can exceed the quota:
``burst`` tokens up front plus a refill of ``(quota - burst)`` per window. When the server still
says 429 (other programs share the account) or fails transiently, :class:`RetryPolicy` backs
off exponentially with jitter, honours ``Retry-After``, and gives up after ``max_attempts`` tries
or ``max_wait`` seconds of waiting, whichever comes first. gspread's own BackOffHTTPClient never
gives up, which is why sheetsync does not use it.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateLimiter:
    """A thread-safe sliding-window limiter: at most ``per_window`` calls in any ``window``
    seconds. :meth:`acquire` blocks (via ``sleep``) until a call may go.

    It remembers when the last ``per_window`` calls went. A small run bursts straight through
    (27 calls under a 60-a-minute quota wait for nothing), and a large one runs at exactly the
    quota: no rolling window can exceed it, which keeps 429s away under fixed and rolling
    enforcement alike, while the run's wall time stays at the lower bound the quota imposes.
    """

    def __init__(self, per_window: int, window: float = 60.0, *,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        if per_window < 1:
            raise ValueError("the quota must allow at least one request per window")
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> float:
        """Take one slot, waiting if needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                pause = (self._sent[0] + self.window - now
                         if len(self._sent) >= self.per_window else 0.0)
                if pause <= 1e-9:
                    self._sent.append(now)
                    self.waited += waited
                    return waited
            self._sleep(pause)
            waited += pause


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded, jittered exponential backoff."""

    max_attempts: int = 6
    max_wait: float = 120.0
    base_delay: float = 1.0
    max_delay: float = 32.0

    def delay(self, failures: int, rng: random.Random, retry_after: float | None = None
              ) -> float:
        """Seconds to wait after the ``failures``-th failure (1-based).

        "Equal jitter": half the exponential step is fixed, half random, so waits still grow
        while concurrent clients spread out. A server's ``Retry-After`` is a floor.
        """
        step = min(self.max_delay, self.base_delay * 2 ** (failures - 1))
        wait = step / 2 + rng.uniform(0, step / 2)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is rare from Google; it is ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class ApiStats:
    """API requests sent by this process, by kind, for ``sheetsync run --stats``."""

    calls: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    backoff_seconds: float = 0.0
    throttled_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_call(self, kind: str) -> None:
        with self._lock:
            self.calls[kind] += 1

    def record_retry(self, kind: str, waited: float) -> None:
        with self._lock:
            self.retries[kind] += 1
            self.backoff_seconds += waited

    def record_throttle(self, waited: float) -> None:
        with self._lock:
            self.throttled_seconds += waited

    def total(self, prefix: str = "") -> int:
        """Requests whose kind starts with ``prefix`` ("" for all, "sheets" is not a prefix:
        use ``"spreadsheets"``, ``"values"`` or ``"drive"``)."""
        with self._lock:
            return sum(n for kind, n in self.calls.items() if kind.startswith(prefix))

    def api_calls(self) -> dict[str, int]:
        """Sheets and Drive requests by kind (token refreshes left out)."""
        with self._lock:
            return {k: n for k, n in sorted(self.calls.items())
                    if k.startswith(("spreadsheets.", "values.", "drive."))}

    def summary(self) -> str:
        """One line per kind, for ``--stats``."""
        calls = self.api_calls()
        lines = [f"{kind:28} {count:5d}" + (f"  ({self.retries[kind]} retried)"
                                             if self.retries.get(kind) else "")
                 for kind, count in calls.items()]
        lines.append(f"{'total API calls':28} {sum(calls.values()):5d}")
        if self.backoff_seconds or self.throttled_seconds:
            lines.append(f"waited {self.throttled_seconds:.1f}s for the rate limiter and "
                         f"{self.backoff_seconds:.1f}s backing off")
        return "\n".join(lines)
