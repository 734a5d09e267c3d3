"""Staying inside Google's quota: a client-side rate limiter, bounded retries, call counts.

Google allows 60 Sheets read requests and, separately, 60 write requests per minute per user
(a service account is one user; 300 each per project). :class:`QuotaBudgets` keeps one
:class:`RateLimiter` for each, so every 60-second window stays within both quotas and a write
is never held back behind a queue of reads (a dashboard write waits for no source read).
When the server still says 429 (other programs share the account) or fails transiently,
:class:`RetryPolicy` backs off exponentially with jitter, honours ``Retry-After``, and gives up
after ``max_attempts`` tries or when the next wait would take the total past ``max_wait``
seconds, whichever comes first.
gspread's own BackOffHTTPClient never gives up, which is why sheetsync does not use it.

The retry loop is tenacity's (:meth:`RetryPolicy.retrying`). sheetsync supplies the wait (equal
jitter from an injectable ``random.Random``, with ``Retry-After`` as a floor) and the stop (a
budget of *waiting*, not of wall time), because tenacity's stock strategies express neither.
urllib3's ``Retry`` on the mounted adapter was the alternative; it was not chosen because it
retries below the adapter. Its retries would skip the call counts and the rate limiter. It
sleeps with ``time.sleep``, so tests could not use a fake clock. It bounds each wait but not
their total, and it would retry token requests as well. tenacity instead retries each gspread
request whole (token, rate-limiter slot, HTTP call) and sleeps with the ``sleep`` it is given.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateLimiter:
    """A thread-safe sliding-window limiter: at most ``per_window`` calls in any ``window``
    seconds, as the server counts them. :meth:`slot` holds one call's place, blocking (via
    ``sleep``) until the call may go.

    It remembers the last ``per_window`` calls. A small run bursts straight through (27 calls
    under a 60-a-minute quota wait for nothing), and a large one runs at the quota: no rolling
    window can exceed it, which keeps 429s away under fixed and rolling enforcement alike, while
    the run's wall time stays near the lower bound the quota imposes.

    A call is counted from its answer, not from when it was sent. The server counts a request
    somewhere between the two, so a call sent ``window`` seconds after an earlier one was
    *sent* can still reach the server inside that one's window, when the earlier call spent
    longer on the way. Sent ``window`` seconds after the earlier call's *answer*, it never can.
    The price is one call's latency per window.
    """

    def __init__(self, per_window: int, window: float = 60.0, *,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        if per_window < 1:
            raise ValueError("the quota must allow at least one request per window")
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._answered: deque[float] = deque()  # when recent calls were answered, in order
        self._open = 0  # calls sent and not answered yet
        self._lock = threading.Lock()
        self.waited = 0.0

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold a place for one call while it runs; yields the seconds waited for it."""
        waited = self._take()
        try:
            yield waited
        finally:
            with self._lock:
                self._open -= 1
                self._answered.append(self._clock())

    def acquire(self) -> float:
        """Take a place for a call answered at once; returns the seconds waited."""
        with self.slot() as waited:
            return waited

    def _take(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._answered and self._answered[0] <= now - self.window:
                    self._answered.popleft()
                if self._open + len(self._answered) < self.per_window:
                    self._open += 1
                    self.waited += waited
                    return waited
                # Every place is taken: the oldest answer frees one; with no answer yet, the
                # calls in flight do, soon.
                pause = (self._answered[0] + self.window - now if self._answered
                         else min(self.window, 0.05))
            self._sleep(max(pause, 1e-6))
            waited += pause


class QuotaBudgets:
    """Google's two per-user Sheets quotas, kept apart: reads (GET) and writes (the rest)."""

    def __init__(self, reads_per_window: int, writes_per_window: int, window: float = 60.0, *,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.read = RateLimiter(reads_per_window, window, clock=clock, sleep=sleep)
        self.write = RateLimiter(writes_per_window, window, clock=clock, sleep=sleep)

    def for_method(self, method: str) -> RateLimiter:
        """The budget a request of this HTTP method draws on."""
        return self.read if method.upper() == "GET" else self.write

    @property
    def waited(self) -> float:
        return self.read.waited + self.write.waited


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

    def retrying(self, *, retryable: Callable[[BaseException], bool],
                 retry_after: Callable[[BaseException], float | None], rng: random.Random,
                 sleep: Sleep, on_backoff: Callable[[float], None]) -> Retrying:
        """A tenacity controller for one call: retries failures that ``retryable`` accepts,
        reports each wait to ``on_backoff`` before sleeping it, and, out of attempts or
        waiting budget, re-raises the last failure itself (never a ``RetryError``)."""

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            hint = retry_after(failure) if failure is not None else None
            return self.delay(state.attempt_number, rng, hint)

        def over_budget(state: RetryCallState) -> bool:
            # tenacity works out the next wait before asking whether to stop.
            return state.idle_for + state.upcoming_sleep > self.max_wait

        return Retrying(retry=retry_if_exception(retryable), wait=wait,
                        stop=stop_after_attempt(self.max_attempts) | over_budget,
                        sleep=sleep, before_sleep=lambda state: on_backoff(state.upcoming_sleep),
                        reraise=True)


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
