"""The nightly rollup: ``sheetsync schedule`` runs the rollup on a timetable until stopped.

The ``schedule`` library keeps the books, through its public API only. A ``schedule.Scheduler``
holds the jobs: the regular slot and, after a failure, a one-off retry, told apart by tag.
``get_next_run`` says when the next one is due and ``Job.run`` runs one. A retry returns
``CancelJob`` and is then cancelled, and ``clear(tag)`` drops a retry that is no longer needed.
Two things are decided here instead of inside the library.

* **Next-run times** come from :class:`Timetable`, which uses ``zoneinfo``; each job's public
  ``next_run`` is set to the slot, an aware UTC instant. ``every().day.at(time, tz)`` would not
  do. It needs ``pytz``, which sheetsync does not depend on. Its timezone arithmetic has a
  record of DST and UTC-offset bugs (dbader/schedule #579, #598, #603 and #608). And it stores
  ``next_run`` as naive system-local time, which is ambiguous for an hour each autumn.
  :class:`Timetable` computes every slot from the local date and time in the program's IANA
  timezone, then compares instants in UTC. The rules are below.

  - A time in the spring-forward gap (02:30 in New York on the day clocks jump from 02:00
    to 03:00) runs at 03:30. That is the same elapsed time after midnight, and it follows
    PEP 495 ``fold=0``.
  - A time that happens twice in the autumn (01:30 on the day clocks fall back) runs once,
    at its first occurrence.

* **"Now"**, and so which job is due and how long to sleep, comes from an injectable
  :class:`Clock`. The library's ``run_pending``, ``Job.should_run``, ``idle_seconds`` and
  ``Job.until`` all read ``datetime.datetime.now()``: naive system-local time, which cannot be
  injected and cannot be compared with aware slots. So the loop here compares ``next_run``
  with ``Clock.now()`` and calls ``Job.run`` itself. ``Job.do`` and ``Job.run`` also store a
  next run guessed from the system clock; it is replaced with the timetable's slot straight
  away, before anything compares jobs. No private method of the library is called or
  overridden. Production uses :class:`SystemClock`. Tests pass
  :class:`sheetsync.testing.FakeClock`, which drives days of schedule in milliseconds.

:class:`NightlyScheduler` adds the rest. Catch-up on start. The run lock around each run
(contention skips the slot). Failures are logged and recorded, with optional retries. It
stops gracefully on SIGINT/SIGTERM, and it writes one log line per run. :func:`serve` is what
the CLI calls. :func:`weekday_names` reads the day names people write.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import FrameType
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import schedule

from sheetsync.nightly.run_lock import LockHeld

__all__ = [
    "EXIT_LAST_RUN_FAILED",
    "EXIT_OK",
    "Clock",
    "JobFn",
    "NightlyScheduler",
    "RunSummaryLike",
    "ScheduleSettingsError",
    "SystemClock",
    "Timetable",
    "serve",
    "weekday_names",
]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_LAST_RUN_FAILED = 1

MAX_NAP_SECONDS = 60.0
"""Longest single sleep. Short naps notice a laptop waking from suspend (the monotonic sleep
does not count suspended time) and wall-clock corrections within a minute."""

LOG_FILE_MAX_BYTES = 1_000_000
LOG_FILE_BACKUPS = 5

_SEVERITY_ORDER = ("error", "warning", "info")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_FORMS = {
    **{name: name for name in _DAY_NAMES},
    **{name[:3]: name for name in _DAY_NAMES},
    "tues": "tuesday", "weds": "wednesday", "thur": "thursday", "thurs": "thursday",
}
_DAY_FORMS_HINT = ('use a full name ("monday") or its first three letters ("mon"), in any case; '
                   '"tues", "weds", "thur" and "thurs" also work')

_SLOT = "slot"  # tags of the jobs in the book
_RETRY = "retry"


class RunSummaryLike(Protocol):
    """What the scheduler reads from a finished rollup (``sheetsync run``'s summary)."""

    duration_s: float
    sources_ok: int
    sources_failed: int
    flags_by_severity: Mapping[str, int]


JobFn = Callable[[datetime], RunSummaryLike]
"""One rollup run. It takes the as-of datetime (aware, program timezone), raises on failure
and returns a summary."""


class ScheduleSettingsError(ValueError):
    """A schedule setting is invalid (time, timezone, weekday or count); the message says which."""


# -- clocks -----------------------------------------------------------------------------------


class Clock(Protocol):
    """Where the scheduler gets the time and how it waits."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``; may return early after :meth:`wake`."""
        ...

    def wake(self) -> None:
        """End the current or next sleep early (called from a signal handler)."""
        ...


class SystemClock:
    """The real clock. Its sleep can be cut short by :meth:`wake`, so a stop is prompt."""

    def __init__(self) -> None:
        self._woken = threading.Event()

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds`` or until woken."""
        self._woken.wait(max(0.0, seconds))
        # Cleared after waiting, not before, so a wake that lands just before the sleep
        # still ends it.
        self._woken.clear()

    def wake(self) -> None:
        """End the current sleep now (safe to call from a signal handler)."""
        self._woken.set()


# -- the timetable ----------------------------------------------------------------------------


def _parse_hhmm(text: str) -> time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(text))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleSettingsError(
            f"schedule time {text!r} is not a time of day: write it as HH:MM, e.g. \"02:30\"")
    return time(int(match[1]), int(match[2]))


def weekday_names(values: Iterable[str | int] | str) -> tuple[str, ...]:
    """Canonical day names ("monday") for the day names people write in config or on a CLI.

    One reader for every caller, so config and scheduler accept and suggest the same forms. It
    accepts full names and three-letter abbreviations in any case ("Monday", "MON"), the
    common "tues", "weds", "thur" and "thurs", with or without a full stop ("Tues."). Callers
    that count may pass 0 (Monday) to 6 (Sunday). A single string is one day. Repeats are
    dropped and order is kept; no values give ``()``, and the caller decides what that means.

    Raises :class:`ScheduleSettingsError`, a ``ValueError``, naming the first value that is not a
    day and the forms accepted.
    """
    if isinstance(values, str):
        values = [values]
    names: dict[str, None] = {}  # a dict keeps the order and drops repeats
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
            name = _DAY_NAMES[value]
        else:
            name = _DAY_FORMS.get(str(value).strip().lower().removesuffix("."), "")
        if not name:
            raise ScheduleSettingsError(
                f"weekday {value!r} is not a day of the week: {_DAY_FORMS_HINT}")
        names[name] = None
    return tuple(names)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    try:
        return ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleSettingsError(
            f"timezone {tz!r} is unknown: use an IANA name such as \"America/New_York\"",
        ) from None


@dataclass(frozen=True)
class Timetable:
    """When runs are due: daily times (optionally on some weekdays) or a fixed interval.

    Slots are instants in UTC. Times are wall-clock times in ``tz``. DST rules are in the
    module docstring.
    """

    tz: ZoneInfo
    times: tuple[time, ...] = ()
    weekdays: frozenset[int] | None = None  # 0 = Monday; None = every day
    every_seconds: float | None = None

    @classmethod
    def from_settings(cls, *, at: str, tz: str | ZoneInfo, extra_times: Iterable[str] = (),
                      weekdays: Iterable[str | int] | None = None,
                      every_seconds: float | None = None) -> Timetable:
        """Build and check a timetable from config/CLI values.

        ``every_seconds`` (trial runs) replaces the daily times. ``at`` is still checked, so a
        config error does not hide behind ``--every``.
        """
        zone = _zone(tz)
        times = tuple(sorted({_parse_hhmm(at), *(_parse_hhmm(t) for t in extra_times)}))
        days = None
        if weekdays is not None:
            days = frozenset(_DAY_NAMES.index(name) for name in weekday_names(weekdays))
            if not days:
                raise ScheduleSettingsError("weekdays is empty: list at least one day, or omit it")
        if every_seconds is not None:
            if every_seconds <= 0:
                raise ScheduleSettingsError(f"--every must be a positive number of seconds, "
                                            f"not {every_seconds}")
            return cls(tz=zone, every_seconds=float(every_seconds))
        return cls(tz=zone, times=times, weekdays=days)

    def describe(self) -> str:
        """E.g. ``daily at 02:30 and 14:00 on Monday, Wednesday (America/New_York)``."""
        if self.every_seconds is not None:
            return f"every {self.every_seconds:g} s"
        when = " and ".join(t.strftime("%H:%M") for t in self.times)
        days = ("" if self.weekdays is None
                else " on " + ", ".join(_DAY_NAMES[d].title() for d in sorted(self.weekdays)))
        return f"daily at {when}{days} ({self.tz.key})"

    def next_slot(self, after: datetime) -> datetime:
        """The first slot strictly after ``after`` (an aware instant), in UTC."""
        after = after.astimezone(UTC)
        if self.every_seconds is not None:
            return after + timedelta(seconds=self.every_seconds)
        local_today = after.astimezone(self.tz).date()
        # Take the minimum over a week of days rather than the first in wall-clock order:
        # on a DST day, a gap time moved forward can overtake a later wall-clock time.
        return min(slot for slot in self._slots_around(local_today, range(-1, 9)) if slot > after)

    def previous_slot(self, at_or_before: datetime) -> datetime:
        """The latest slot at or before ``at_or_before``, in UTC (for catch-up)."""
        moment = at_or_before.astimezone(UTC)
        if self.every_seconds is not None:
            return moment - timedelta(seconds=self.every_seconds)
        local_today = moment.astimezone(self.tz).date()
        return max(slot for slot in self._slots_around(local_today, range(-8, 2))
                   if slot <= moment)

    def local(self, instant: datetime) -> str:
        """An instant as local wall time with the zone's abbreviation, for log lines."""
        fmt = "%Y-%m-%d %H:%M:%S %Z" if self.every_seconds is not None else "%Y-%m-%d %H:%M %Z"
        return instant.astimezone(self.tz).strftime(fmt)

    def _slots_around(self, day: date, offsets: range) -> Iterator[datetime]:
        for offset in offsets:
            current = day + timedelta(days=offset)
            if self.weekdays is not None and current.weekday() not in self.weekdays:
                continue
            for at in self.times:
                # fold=0 (the default) picks the first of two repeated times, and moves a time
                # in a gap forward by the gap's length.
                yield datetime.combine(current, at, tzinfo=self.tz).astimezone(UTC)


# -- the nightly scheduler --------------------------------------------------------------------


@dataclass
class _Outcome:
    ok: bool
    reason: str = ""


def _failure_reason(exc: BaseException) -> str:
    """One line saying why a run failed, with the exception's hint when it has one."""
    text = str(getattr(exc, "message", "") or exc).strip().replace("\n", " ")
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    hint = getattr(exc, "hint", "")
    if hint:
        reason += f" (hint: {hint})"
    return reason


def _format_flags(flags: Mapping[str, int] | None) -> str:
    if not flags:
        return "none"

    def rank(item: tuple[str, int]) -> tuple[int, str]:
        severity = item[0].lower()
        order = _SEVERITY_ORDER.index(severity) if severity in _SEVERITY_ORDER else 99
        return order, severity

    return ", ".join(f"{severity} {count}" for severity, count in sorted(flags.items(), key=rank))


class NightlyScheduler:
    """Runs a rollup job on a :class:`Timetable` until stopped or ``max_runs`` is reached.

    The collaborators are injected. ``last_success()`` returns the time of the last
    successful run, from the Run Log or the state; it drives catch-up.
    ``record_failure(reason)`` writes a failed run to the Run Log. ``lock_factory()``
    returns a fresh run-lock context manager, which raises :class:`LockHeld` on contention.
    """

    def __init__(
        self,
        job: JobFn,
        timetable: Timetable,
        *,
        clock: Clock | None = None,
        run_now: bool = False,
        max_runs: int | None = None,
        retry_after_minutes: float | None = None,
        last_success: Callable[[], datetime | None] | None = None,
        record_failure: Callable[[str], object] | None = None,
        lock_factory: Callable[[], AbstractContextManager[object]] | None = None,
        max_nap_seconds: float = MAX_NAP_SECONDS,
    ) -> None:
        if max_runs is not None and max_runs < 1:
            raise ScheduleSettingsError(f"--max-runs must be at least 1, not {max_runs}")
        if retry_after_minutes is not None and retry_after_minutes <= 0:
            raise ScheduleSettingsError(
                f"retry_after_minutes must be a positive number, not {retry_after_minutes}")
        self.job = job
        self.timetable = timetable
        self.clock: Clock = clock or SystemClock()
        self.run_now = run_now
        self.max_runs = max_runs
        self.retry_after = (timedelta(minutes=retry_after_minutes)
                            if retry_after_minutes is not None else None)
        self.last_success = last_success
        self.record_failure = record_failure
        self.lock_factory = lock_factory
        self.max_nap_seconds = max_nap_seconds
        self.runs_started = 0
        self.skipped_slots = 0
        self.last_outcome: _Outcome | None = None
        self._engine = schedule.Scheduler()  # the book of jobs; see the module docstring
        self._slot_job: schedule.Job | None = None
        self._stop_reason: str | None = None
        self._running = False

    # -- control ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the job is executing."""
        return self._running

    @property
    def next_run(self) -> datetime | None:
        """When the next run (slot or retry) is due, in UTC."""
        return self._engine.get_next_run()

    def request_stop(self, reason: str) -> None:
        """Stop after the run in progress, if any; no new run starts.

        Safe to call from a signal handler: it only sets a flag and wakes the clock.
        """
        if self._stop_reason is None:
            self._stop_reason = reason
        self.clock.wake()

    def run(self) -> int:
        """Run until stopped or until ``max_runs``; return the exit code.

        The code is :data:`EXIT_LAST_RUN_FAILED` only when ``max_runs`` ended the scheduler
        after a failed run, else :data:`EXIT_OK`.
        """
        first_slot = self.timetable.next_slot(self.clock.now())
        self._slot_job = self._book(self._run_scheduled, _SLOT, first_slot)
        log.info("scheduler started: %s; next run %s", self.timetable.describe(),
                 self.timetable.local(first_slot))
        if self.run_now:
            self._attempt("run-now")
        elif self._catch_up_needed():
            self._attempt("catch-up")
        self._cover_due_jobs()
        while not self._should_exit():
            self._run_pending()
            if self._should_exit():
                break
            next_run = self._engine.get_next_run()
            if next_run is not None:
                idle = (next_run - self.clock.now()).total_seconds()
                if idle > 0:
                    self.clock.sleep(min(idle, self.max_nap_seconds))
        return self._finish()

    # -- internals ----------------------------------------------------------------------------

    def _should_exit(self) -> bool:
        if self._stop_reason is not None:
            return True
        return self.max_runs is not None and self.runs_started >= self.max_runs

    def _finish(self) -> int:
        if self._stop_reason is not None:
            log.info("scheduler stopped (%s) after %d run(s)", self._stop_reason,
                     self.runs_started)
            return EXIT_OK
        log.info("scheduler finished: %d run(s) done (max runs reached)", self.runs_started)
        if self.last_outcome is not None and not self.last_outcome.ok:
            return EXIT_LAST_RUN_FAILED
        return EXIT_OK

    def _book(self, run: Callable[[], object], tag: str, due: datetime) -> schedule.Job:
        """Add a job due at the aware instant ``due`` to the book.

        ``do()`` also stores the library's own guess at the next run, from the system clock.
        It is replaced on the next line, before anything compares jobs.
        """
        job: schedule.Job = self._engine.every().day.do(run).tag(tag)
        job.next_run = due
        return job

    def _due_jobs(self) -> list[schedule.Job]:
        """Jobs due by our clock, earliest first (``Job.should_run`` would read the system's)."""
        now = self.clock.now()
        return sorted(job for job in self._engine.get_jobs()
                      if job.next_run is not None and job.next_run <= now)

    def _run_pending(self) -> None:
        """Run the earliest due job. Any other job due by the time it finishes is covered by it.

        The library's rule is that run_pending never runs a missed job more than once. This
        extends it: one rollup covers every slot or retry that fell due before or during it,
        so two runs never happen back to back.
        """
        due = self._due_jobs()
        if not due:
            return
        job = due[0]
        outcome = job.run()
        job.last_run = self.clock.now()
        if outcome is schedule.CancelJob:  # a retry
            self._engine.cancel_job(job)
        else:  # the slot job: replace the library's guess at its next run, as in _book
            job.next_run = self.timetable.next_slot(self.clock.now())
        self._cover_due_jobs()

    def _cover_due_jobs(self) -> None:
        """Skip the jobs that fell due while a run was in progress: that run covered them."""
        for job in self._due_jobs():
            if _RETRY in job.tags:
                self._engine.cancel_job(job)  # a covered retry is no longer needed
                continue
            assert job.next_run is not None
            log.info("the scheduled run due %s was covered by the run that just finished",
                     self.timetable.local(job.next_run))
            job.next_run = self.timetable.next_slot(self.clock.now())

    def _catch_up_needed(self) -> bool:
        """Was a whole period missed? That is, is the last success older than the latest slot?"""
        if self.last_success is None:
            return False
        now = self.clock.now()
        try:
            last = self.last_success()
        except Exception as exc:  # the Run Log may be unreachable; a rollup is safe to repeat
            log.warning("could not read the last successful run (%s); running now to be safe",
                        _failure_reason(exc))
            return True
        if last is None:
            log.info("no successful run on record; running now (catch-up)")
            return True
        if last.tzinfo is None:
            last = last.replace(tzinfo=self.timetable.tz)
        missed = self.timetable.previous_slot(now)
        if last < missed:
            log.info("last successful run was %s, before the %s slot; running now (catch-up)",
                     self.timetable.local(last), self.timetable.local(missed))
            return True
        return False

    def _run_scheduled(self) -> None:
        assert self._slot_job is not None and self._slot_job.next_run is not None
        self._attempt(f"scheduled {self.timetable.local(self._slot_job.next_run)}")

    def _run_retry(self) -> type[schedule.CancelJob]:
        self._attempt("retry")
        return schedule.CancelJob  # one-off: the book drops it after the run

    def _attempt(self, trigger: str) -> None:
        """One run: take the lock, run the job, log and record the outcome."""
        if self._stop_reason is not None:
            return
        started = self.clock.now()
        with ExitStack() as stack:
            if self.lock_factory is not None:
                try:
                    stack.enter_context(self.lock_factory())
                except LockHeld as held:
                    self.skipped_slots += 1
                    log.warning("skipped the %s run: %s", trigger, held.summary)
                    return
                except OSError as exc:
                    # A failed run like any other: it counts towards max_runs and is recorded.
                    self.runs_started += 1
                    self._failed(trigger, started, f"could not take the run lock: {exc}", exc)
                    return
            if self._stop_reason is not None:  # a signal landed while we took the lock
                return
            self.runs_started += 1
            self._running = True
            try:
                summary = self.job(started.astimezone(self.timetable.tz))
            except Exception as exc:
                self._failed(trigger, started, _failure_reason(exc), exc)
            else:
                self._succeeded(trigger, started, summary)
            finally:
                self._running = False
        if self._stop_reason is not None:
            log.info("stop requested (%s) during the run; the run finished, so stopping now",
                     self._stop_reason)

    def _succeeded(self, trigger: str, started: datetime, summary: RunSummaryLike) -> None:
        self.last_outcome = _Outcome(ok=True)
        duration = getattr(summary, "duration_s", None)
        if duration is None:
            duration = (self.clock.now() - started).total_seconds()
        log.info("run ok (%s): %.1f s, sources %s ok, %s failed, flags %s", trigger,
                 duration, getattr(summary, "sources_ok", "?"),
                 getattr(summary, "sources_failed", "?"),
                 _format_flags(getattr(summary, "flags_by_severity", None)))
        self._engine.clear(_RETRY)

    def _failed(self, trigger: str, started: datetime, reason: str, exc: BaseException) -> None:
        self.last_outcome = _Outcome(ok=False, reason=reason)
        duration = (self.clock.now() - started).total_seconds()
        log.error("run FAILED (%s) after %.1f s: %s", trigger, duration, reason)
        log.debug("failure details", exc_info=exc)
        if self.record_failure is not None:
            try:
                self.record_failure(reason)
            except Exception as record_exc:
                log.error("could not record the failure in the Run Log: %s",
                          _failure_reason(record_exc))
        self._plan_retry(exc)

    def _plan_retry(self, exc: BaseException) -> None:
        self._engine.clear(_RETRY)
        now = self.clock.now()
        next_slot = self.timetable.next_slot(now)
        if self.retry_after is None:
            log.info("next try at the next slot, %s", self.timetable.local(next_slot))
            return
        if getattr(exc, "transient", None) is False:
            log.info("not retrying early: the error says retrying cannot help; next try at %s",
                     self.timetable.local(next_slot))
            return
        retry_at = now + self.retry_after
        if retry_at >= next_slot:
            log.info("next try at the next slot, %s (sooner than a retry)",
                     self.timetable.local(next_slot))
            return
        self._book(self._run_retry, _RETRY, retry_at)
        log.info("will retry at %s", self.timetable.local(retry_at))


# -- serve: what the CLI calls ----------------------------------------------------------------


class _ProgramTimeFormatter(logging.Formatter):
    """Plain log lines stamped in the program's timezone, which may differ from the host's."""

    def __init__(self, tz: ZoneInfo) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """The record's time as ``YYYY-MM-DD HH:MM:SS TZ`` in the program's timezone."""
        return datetime.fromtimestamp(record.created, self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")


@contextlib.contextmanager
def _log_handlers(tz: ZoneInfo, log_file: Path | str | None) -> Iterator[None]:
    """Send ``sheetsync`` log lines to stderr and, optionally, a rotating log file.

    The stderr handler is added only if nobody configured logging already, so lines are not
    printed twice.
    """
    package_log = logging.getLogger("sheetsync")
    formatter = _ProgramTimeFormatter(tz)
    added: list[logging.Handler] = []
    if not package_log.hasHandlers():
        stderr_handler = logging.StreamHandler(sys.stderr)
        stderr_handler.setFormatter(formatter)
        added.append(stderr_handler)
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")
        file_handler.setFormatter(formatter)
        added.append(file_handler)
    previous_level = package_log.level
    if package_log.getEffectiveLevel() > logging.INFO:
        package_log.setLevel(logging.INFO)
    for handler in added:
        package_log.addHandler(handler)
    try:
        yield
    finally:
        for handler in added:
            package_log.removeHandler(handler)
            handler.close()
        package_log.setLevel(previous_level)


@contextlib.contextmanager
def _stop_on_signals(scheduler: NightlyScheduler) -> Iterator[None]:
    """SIGINT/SIGTERM ask the scheduler to stop; the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield  # Python only delivers signals to the main thread
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if scheduler.running:
            # Plain os.write: logging from a signal handler can re-enter a stream mid-write.
            with contextlib.suppress(OSError):
                os.write(2, f"sheetsync: {name} received; finishing the run in progress, "
                            f"then stopping\n".encode())
        scheduler.request_stop(name)

    wanted = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):  # Ctrl-Break in a Windows console
        wanted.append(signal.SIGBREAK)
    previous = {sig: signal.signal(sig, handle) for sig in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(
    job: JobFn,
    *,
    at: str,
    tz: str | ZoneInfo,
    extra_times: Iterable[str] = (),
    weekdays: Iterable[str | int] | None = None,
    run_now: bool = False,
    max_runs: int | None = None,
    every_seconds: float | None = None,
    retry_after_minutes: float | None = None,
    last_success: Callable[[], datetime | None] | None = None,
    record_failure: Callable[[str], object] | None = None,
    lock_factory: Callable[[], AbstractContextManager[object]] | None = None,
    log_file: Path | str | None = None,
    clock: Clock | None = None,
    handle_signals: bool = True,
) -> int:
    """Run ``job`` on schedule in the foreground until SIGINT/SIGTERM or ``max_runs``.

    This is ``sheetsync schedule``. The arguments mirror ``[schedule]`` in the config and
    the CLI options. Invalid settings raise :class:`ScheduleSettingsError` before anything
    runs. Returns the process exit code: 0, or 1 when ``max_runs`` ended the scheduler
    after a failed run.
    """
    timetable = Timetable.from_settings(at=at, tz=tz, extra_times=extra_times,
                                        weekdays=weekdays, every_seconds=every_seconds)
    scheduler = NightlyScheduler(
        job, timetable, clock=clock, run_now=run_now, max_runs=max_runs,
        retry_after_minutes=retry_after_minutes, last_success=last_success,
        record_failure=record_failure, lock_factory=lock_factory,
    )
    with ExitStack() as stack:
        stack.enter_context(_log_handlers(timetable.tz, log_file))
        if handle_signals:
            stack.enter_context(_stop_on_signals(scheduler))
        return scheduler.run()
