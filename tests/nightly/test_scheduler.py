"""`sheetsync schedule`: runs at the right local time, catch-up, locks, failures, graceful stop.

Every test drives a FakeClock, so days of schedule pass in milliseconds without real sleeping.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import schedule

from sheetsync.errors import SourceReadError
from sheetsync.nightly.run_lock import LockHeld, RunLock
from sheetsync.nightly.scheduler import (
    EXIT_LAST_RUN_FAILED,
    EXIT_OK,
    NightlyScheduler,
    ScheduleSettingsError,
    Timetable,
    serve,
    weekday_names,
)
from sheetsync.testing import FakeClock

NY = ZoneInfo("America/New_York")


class BoundedClock(FakeClock):
    """A FakeClock that fails the test, rather than hanging it, if a scheduler never stops."""

    LIMIT = timedelta(days=60)

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.start = self.now()

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.now() - self.start > self.LIMIT:
            raise AssertionError("the scheduler kept going for 60 fake days without stopping")


@dataclass
class Summary:
    duration_s: float = 42.0
    sources_ok: int = 5
    sources_failed: int = 1
    flags_by_severity: dict[str, int] = field(
        default_factory=lambda: {"info": 4, "error": 2, "warning": 3})


class RecordingJob:
    """A stand-in for the rollup: records each as-of time and takes ``duration`` of fake time.

    ``outcomes`` lists what successive runs do: an exception to raise, or None to succeed.
    """

    def __init__(self, clock: FakeClock, *, duration: float = 60.0,
                 outcomes: Iterable[BaseException | None] = (),
                 during: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.duration = duration
        self.outcomes = list(outcomes)
        self.during = during
        self.calls: list[datetime] = []

    def __call__(self, as_of: datetime) -> Summary:
        self.calls.append(as_of)
        if self.during is not None:
            self.during()
        self.clock.advance(self.duration)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return Summary()

    def local_times(self) -> list[str]:
        """Each run's as-of time as local wall time with its UTC offset."""
        return [c.astimezone(NY).strftime("%m-%d %H:%M %z") for c in self.calls]


def run_schedule(job: Callable[[datetime], Summary], clock: FakeClock,
                 **options: object) -> int:
    options.setdefault("at", "02:30")
    options.setdefault("tz", "America/New_York")
    options.setdefault("handle_signals", False)
    return serve(job, clock=clock, **options)  # type: ignore[arg-type]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="sheetsync")
    return caplog


# -- the right local time, across DST --------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # 2026-03-08: New York jumps from 02:00 EST to 03:00 EDT. 02:30 does not exist that
        # day, so the run happens at 03:30 EDT, still once.
        ("02:30", ["03-07 02:30 -0500", "03-08 03:30 -0400", "03-09 02:30 -0400",
                   "03-10 02:30 -0400"]),
        ("01:30", ["03-07 01:30 -0500", "03-08 01:30 -0500", "03-09 01:30 -0400",
                   "03-10 01:30 -0400"]),
    ],
)
def test_runs_at_local_time_across_spring_forward(at: str, expected: list[str]) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock)
    assert run_schedule(job, clock, at=at, max_runs=4) == EXIT_OK
    assert job.local_times() == expected


@pytest.mark.parametrize(
    ("at", "expected", "hours_between"),
    [
        # 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice; run once,
        # at the first one.
        ("01:30", ["10-31 01:30 -0400", "11-01 01:30 -0400", "11-02 01:30 -0500"], [24, 25]),
        ("02:30", ["10-31 02:30 -0400", "11-01 02:30 -0500", "11-02 02:30 -0500"], [25, 24]),
    ],
)
def test_runs_at_local_time_across_fall_back(at: str, expected: list[str],
                                             hours_between: list[int]) -> None:
    clock = BoundedClock(datetime(2026, 10, 30, 12, 0, tzinfo=NY))
    job = RecordingJob(clock, duration=0)
    run_schedule(job, clock, at=at, max_runs=3)
    assert job.local_times() == expected
    # Compare in UTC: Python subtracts two datetimes sharing a tzinfo as plain wall times.
    utc = [c.astimezone(UTC) for c in job.calls]
    gaps = [(b - a).total_seconds() / 3600 for a, b in zip(utc, utc[1:], strict=False)]
    assert gaps == hours_between


def test_program_timezone_wins_over_the_host_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
        job = RecordingJob(clock)
        run_schedule(job, clock, max_runs=2)
        assert job.local_times() == ["03-07 02:30 -0500", "03-08 03:30 -0400"]
        assert all(c.tzinfo == NY for c in job.calls), "as-of is in the program's timezone"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("after", "expected_local"),
    [
        (datetime(2026, 3, 8, 1, 59, tzinfo=NY), "2026-03-08 03:30 EDT"),
        (datetime(2026, 3, 8, 3, 30, tzinfo=NY), "2026-03-09 02:30 EDT"),
        (datetime(2026, 11, 1, 1, 0, tzinfo=NY), "2026-11-01 02:30 EST"),
    ],
)
def test_timetable_next_slot(after: datetime, expected_local: str) -> None:
    timetable = Timetable.from_settings(at="02:30", tz="America/New_York")
    assert timetable.local(timetable.next_slot(after)) == expected_local


def test_fall_back_repeated_time_gives_one_slot_not_two() -> None:
    timetable = Timetable.from_settings(at="01:30", tz="America/New_York")
    first = timetable.next_slot(datetime(2026, 11, 1, 0, 0, tzinfo=NY))
    second = timetable.next_slot(first)
    assert timetable.local(first) == "2026-11-01 01:30 EDT"
    assert timetable.local(second) == "2026-11-02 01:30 EST"


def test_extra_times_and_weekdays() -> None:
    clock = BoundedClock(datetime(2026, 3, 2, 0, 0, tzinfo=NY))  # a Monday
    job = RecordingJob(clock)
    run_schedule(job, clock, extra_times=["14:00"], weekdays=["mon", "Wednesday"], max_runs=5)
    assert job.local_times() == ["03-02 02:30 -0500", "03-02 14:00 -0500",
                                 "03-04 02:30 -0500", "03-04 14:00 -0500",
                                 "03-09 02:30 -0400"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (["monday"], ("monday",)),
        (["Mon", "WED", "fri"], ("monday", "wednesday", "friday")),
        (["tues", "Thurs", "thur", "Weds"], ("tuesday", "thursday", "wednesday")),
        ([" Saturday ", "sun."], ("saturday", "sunday")),
        (["Tues.", "tue", "Tuesday"], ("tuesday",)),  # one day, however often it is written
        ([0, 6], ("monday", "sunday")),
        ("Thu", ("thursday",)),  # a lone string is one day, not five letters
        ([], ()),
    ],
)
def test_weekday_names_reads_what_people_write(written: list[str | int] | str,
                                               expected: tuple[str, ...]) -> None:
    assert weekday_names(written) == expected


@pytest.mark.parametrize("bad", ["funday", "m", "mo", "thursd", "weekdays", 7, True, ""])
def test_weekday_names_says_which_value_is_wrong_and_what_works(bad: str | int) -> None:
    with pytest.raises(ValueError, match="is not a day of the week") as raised:
        weekday_names(["monday", bad])
    message = str(raised.value)
    assert repr(bad) in message
    assert all(form in message for form in ('"monday"', '"mon"', '"tues"', '"thurs"'))


def test_timetable_names_its_days_in_full() -> None:
    timetable = Timetable.from_settings(at="02:30", tz="America/New_York",
                                        weekdays=["wed", "Mon", "thurs"])
    assert timetable.describe() == ("daily at 02:30 on Monday, Wednesday, Thursday "
                                    "(America/New_York)")


def test_every_seconds_for_trial_runs() -> None:
    start = datetime(2026, 3, 6, 12, 0, tzinfo=NY)
    clock = BoundedClock(start)
    job = RecordingJob(clock, duration=5)
    run_schedule(job, clock, every_seconds=600, max_runs=3)
    assert [(c - start).total_seconds() for c in job.calls] == [600, 1205, 1810]


def test_run_now_runs_at_once_then_on_schedule() -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock)
    run_schedule(job, clock, run_now=True, max_runs=2)
    assert job.local_times() == ["03-06 12:00 -0500", "03-07 02:30 -0500"]


def test_slot_that_passes_during_a_run_is_covered_not_run_back_to_back(
        logs: pytest.LogCaptureFixture) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 2, 29, tzinfo=NY))
    job = RecordingJob(clock, duration=300)
    run_schedule(job, clock, run_now=True, max_runs=2)
    assert job.local_times() == ["03-06 02:29 -0500", "03-07 02:30 -0500"]
    assert "covered by the run that just finished" in logs.text


# -- catch-up ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_success", "runs_at_start"),
    [
        (None, True),  # nothing on record
        (datetime(2026, 3, 5, 2, 31, tzinfo=NY), True),  # the 03-06 02:30 slot was missed
        (datetime(2026, 3, 4, 2, 31, tzinfo=NY), True),
        (datetime(2026, 3, 6, 2, 31, tzinfo=NY), False),  # last night's run happened
        (datetime(2026, 3, 6, 2, 31), False),  # naive: read as program time
    ],
)
def test_catch_up_when_last_success_is_more_than_a_period_old(
        last_success: datetime | None, runs_at_start: bool) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 9, 0, tzinfo=NY))  # laptop was off at 02:30
    job = RecordingJob(clock)
    run_schedule(job, clock, last_success=lambda: last_success, max_runs=1)
    assert job.local_times() == (["03-06 09:00 -0500"] if runs_at_start
                                 else ["03-07 02:30 -0500"])


def test_no_catch_up_without_a_last_success_reader() -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 9, 0, tzinfo=NY))
    job = RecordingJob(clock)
    run_schedule(job, clock, max_runs=1)
    assert job.local_times() == ["03-07 02:30 -0500"]


def test_catch_up_in_interval_mode_uses_one_interval_as_the_period() -> None:
    start = datetime(2026, 3, 6, 9, 0, tzinfo=NY)
    for age_s, expected_first in ((700, 0), (500, 600)):
        clock = BoundedClock(start)
        job = RecordingJob(clock, duration=0)
        run_schedule(job, clock, every_seconds=600, max_runs=1,
                     last_success=lambda age_s=age_s: start - timedelta(seconds=age_s))
        assert [(c - start).total_seconds() for c in job.calls] == [expected_first]


def test_catch_up_and_run_now_together_run_once(logs: pytest.LogCaptureFixture) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 9, 0, tzinfo=NY))
    job = RecordingJob(clock)
    run_schedule(job, clock, run_now=True, last_success=lambda: None, max_runs=2)
    assert job.local_times() == ["03-06 09:00 -0500", "03-07 02:30 -0500"]


def test_unreadable_run_log_means_run_now_to_be_safe(logs: pytest.LogCaptureFixture) -> None:
    def broken() -> datetime | None:
        raise OSError("Run Log unreachable")

    clock = BoundedClock(datetime(2026, 3, 6, 9, 0, tzinfo=NY))
    job = RecordingJob(clock)
    run_schedule(job, clock, last_success=broken, max_runs=1)
    assert job.local_times() == ["03-06 09:00 -0500"]
    assert "Run Log unreachable" in logs.text


# -- lock contention ---------------------------------------------------------------------------


def test_lock_contention_skips_the_slot_and_the_next_slot_runs(
        tmp_path: Path, logs: pytest.LogCaptureFixture) -> None:
    manual_run = RunLock(tmp_path, command="sheetsync run", pid=4242)
    manual_run.acquire()
    lock_requests = 0

    def lock_factory() -> RunLock:
        nonlocal lock_requests
        lock_requests += 1
        if lock_requests == 2:
            manual_run.release()  # the manual run has finished by the second night
        return RunLock(tmp_path, command="sheetsync schedule")

    failures: list[str] = []
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock)
    assert run_schedule(job, clock, lock_factory=lock_factory, record_failure=failures.append,
                        max_runs=1) == EXIT_OK
    assert job.local_times() == ["03-08 03:30 -0400"]
    assert failures == [], "someone else running the rollup is not a failed run"
    skipped = [r.getMessage() for r in logs.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1
    assert "2026-03-07 02:30 EST" in skipped[0] and "pid 4242" in skipped[0]
    assert "'sheetsync run'" in skipped[0]
    assert not (tmp_path / "run.lock").exists()


def test_the_runs_own_lock_nests_inside_the_schedulers(tmp_path: Path) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    held_during_run: list[bool] = []

    def rollup(as_of: datetime) -> Summary:
        with RunLock(tmp_path, command="sheetsync run"):  # what `sheetsync run` does
            held_during_run.append((tmp_path / "run.lock").exists())
        return Summary()

    run_schedule(rollup, clock, max_runs=1,
                 lock_factory=lambda: RunLock(tmp_path, command="sheetsync schedule"))
    assert held_during_run == [True]
    assert not (tmp_path / "run.lock").exists()


def test_unwritable_lock_counts_as_a_failed_run(tmp_path: Path) -> None:
    def lock_factory() -> RunLock:
        raise PermissionError("state directory is read-only")

    failures: list[str] = []
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock)
    run_schedule(job, clock, lock_factory=lock_factory, record_failure=failures.append,
                 every_seconds=60, max_runs=1, run_now=True)
    assert job.calls == []
    assert failures and "read-only" in failures[0]


# -- failures, recovery and retries ------------------------------------------------------------


def test_failure_is_logged_and_recorded_then_the_next_slot_recovers(
        logs: pytest.LogCaptureFixture) -> None:
    failures: list[str] = []
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock, outcomes=[
        SourceReadError("Coach Rivera's workbook timed out", hint="try again later",
                        transient=True), None])
    assert run_schedule(job, clock, record_failure=failures.append, max_runs=2) == EXIT_OK
    assert job.local_times() == ["03-07 02:30 -0500", "03-08 03:30 -0400"]
    assert failures == ["SourceReadError: Coach Rivera's workbook timed out "
                        "(hint: try again later)"]
    messages = [r.getMessage() for r in logs.records]
    assert any("run FAILED (scheduled 2026-03-07 02:30 EST) after 60.0 s" in m
               and "timed out" in m for m in messages)
    assert any(m.startswith("run ok (scheduled 2026-03-08 03:30 EDT)") for m in messages)


def test_run_line_has_duration_sources_and_flags_by_severity(
        logs: pytest.LogCaptureFixture) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    run_schedule(RecordingJob(clock), clock, max_runs=1)
    assert ("run ok (scheduled 2026-03-07 02:30 EST): 42.0 s, sources 5 ok, 1 failed, "
            "flags error 2, warning 3, info 4") in logs.text


def test_exit_code_reports_a_failed_last_run_when_max_runs_ends_it() -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock, outcomes=[RuntimeError("boom")])
    assert run_schedule(job, clock, max_runs=1) == EXIT_LAST_RUN_FAILED


def test_retry_after_minutes_until_it_recovers() -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock, outcomes=[RuntimeError("quota"), RuntimeError("quota"), None])
    run_schedule(job, clock, retry_after_minutes=30, max_runs=4)
    # Each retry comes 30 min after the failed run ended (runs take 1 min); success ends them.
    assert job.local_times() == ["03-07 02:30 -0500", "03-07 03:01 -0500",
                                 "03-07 03:32 -0500", "03-08 03:30 -0400"]


@pytest.mark.parametrize(
    ("error", "retry_after_minutes"),
    [
        (RuntimeError("down"), 24 * 60),  # the next slot comes first
        (SourceReadError("not shared with sheetsync", transient=False), 30),  # retry can't help
    ],
)
def test_no_retry_when_it_would_not_help(error: Exception, retry_after_minutes: int) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock, outcomes=[error])
    run_schedule(job, clock, retry_after_minutes=retry_after_minutes, max_runs=2)
    assert job.local_times() == ["03-07 02:30 -0500", "03-08 03:30 -0400"]


def test_failure_to_record_a_failure_does_not_stop_the_scheduler(
        logs: pytest.LogCaptureFixture) -> None:
    def record_failure(reason: str) -> None:
        raise OSError("Run Log unreachable")

    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock, outcomes=[RuntimeError("boom"), None])
    assert run_schedule(job, clock, record_failure=record_failure, max_runs=2) == EXIT_OK
    assert len(job.calls) == 2
    assert "could not record the failure" in logs.text


# -- graceful stop -----------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_a_run_lets_it_finish_and_starts_no_other(
        tmp_path: Path, signum: int, logs: pytest.LogCaptureFixture) -> None:
    output = tmp_path / "Dashboard.xlsx"
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    before = signal.getsignal(signum)

    def rollup(as_of: datetime) -> Summary:
        os.kill(os.getpid(), signum)  # the coordinator presses Ctrl-C / systemd stops us
        clock.advance(120)
        partial = output.with_suffix(".tmp")
        partial.write_text("complete dashboard")
        partial.replace(output)
        return Summary()

    calls_before = len(logs.records)
    rc = run_schedule(rollup, clock, run_now=True, every_seconds=60, handle_signals=True)
    assert rc == EXIT_OK
    assert output.read_text() == "complete dashboard"
    runs = [r for r in logs.records[calls_before:] if r.getMessage().startswith("run ok")]
    assert len(runs) == 1
    assert f"stopped ({signal.Signals(signum).name})" in logs.text
    assert signal.getsignal(signum) is before, "the previous handler is restored"


def test_signal_while_waiting_stops_before_the_next_run() -> None:
    class SignallingClock(BoundedClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if len(self.slept) == 3:
                os.kill(os.getpid(), signal.SIGTERM)

    clock = SignallingClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock)
    assert run_schedule(job, clock, handle_signals=True) == EXIT_OK
    assert job.calls == []
    assert len(clock.slept) == 3


def test_stop_requested_before_a_run_starts_means_it_never_starts(tmp_path: Path) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock)
    timetable = Timetable.from_settings(at="02:30", tz="America/New_York")
    scheduler: NightlyScheduler

    def lock_factory() -> RunLock:
        scheduler.request_stop("SIGTERM")  # lands while the lock is being taken
        return RunLock(tmp_path, command="sheetsync schedule")

    scheduler = NightlyScheduler(job, timetable, clock=clock, run_now=True,
                                 lock_factory=lock_factory)
    assert scheduler.run() == EXIT_OK
    assert job.calls == []
    assert not (tmp_path / "run.lock").exists()


# -- logs, settings, plumbing ------------------------------------------------------------------


def test_log_file_gets_the_same_plain_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "schedule.log"
    package_log = logging.getLogger("sheetsync")
    handlers_before = list(package_log.handlers)
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    run_schedule(RecordingJob(clock), clock, max_runs=1, log_file=log_file)
    text = log_file.read_text(encoding="utf-8")
    assert "scheduler started: daily at 02:30 (America/New_York)" in text
    assert "run ok (scheduled 2026-03-07 02:30 EST): 42.0 s, sources 5 ok, 1 failed" in text
    first = text.splitlines()[0]
    assert first[:4].isdigit() and " INFO " in first
    assert package_log.handlers == handlers_before, "handlers are removed afterwards"


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"at": "25:00"}, "not a time of day"),
        ({"at": "2.30"}, "HH:MM"),
        ({"extra_times": ["noon"]}, "not a time of day"),
        ({"tz": "Mars/Olympus_Mons"}, "IANA"),
        ({"weekdays": ["funday"]}, "not a day of the week"),
        ({"weekdays": ["mon", "thrusday"]}, "'thrusday'"),
        ({"weekdays": []}, "at least one day"),
        ({"every_seconds": 0}, "positive"),
        ({"max_runs": 0}, "at least 1"),
        ({"retry_after_minutes": -5}, "positive"),
    ],
)
def test_invalid_settings_are_refused_before_anything_runs(options: dict[str, object],
                                                          complaint: str) -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock)
    with pytest.raises(ScheduleSettingsError, match=complaint):
        run_schedule(job, clock, **options)
    assert job.calls == []


def test_built_on_the_schedule_library() -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    scheduler = NightlyScheduler(RecordingJob(clock), Timetable.from_settings(
        at="02:30", tz="America/New_York"), clock=clock, max_runs=1)
    # The library's own classes, not subclasses: only its public API is used.
    assert type(scheduler._engine) is schedule.Scheduler
    scheduler.run()
    (slot_job,) = scheduler._engine.get_jobs()
    assert type(slot_job) is schedule.Job
    assert slot_job.next_run == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert scheduler.next_run == slot_job.next_run


def test_a_retry_is_a_one_off_job_in_the_book_beside_the_slot() -> None:
    clock = BoundedClock(datetime(2026, 3, 6, 12, 0, tzinfo=NY))
    job = RecordingJob(clock, outcomes=[RuntimeError("quota")])
    scheduler = NightlyScheduler(job, Timetable.from_settings(at="02:30", tz="America/New_York"),
                                 clock=clock, max_runs=1, retry_after_minutes=30)
    assert scheduler.run() == EXIT_LAST_RUN_FAILED
    retry, slot = sorted(scheduler._engine.get_jobs())
    assert retry.tags == {"retry"} and slot.tags == {"slot"}
    assert scheduler.next_run == retry.next_run == datetime(2026, 3, 7, 8, 1, tzinfo=UTC)
    assert slot.next_run == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_the_scheduler_does_not_load_test_doubles() -> None:
    # Production injects the real clock; the fake one lives in sheetsync.testing.
    code = ("import sys, sheetsync.nightly.scheduler as s\n"
            "assert isinstance(s.NightlyScheduler(lambda at: None, s.Timetable.from_settings("
            "at='02:30', tz='UTC')).clock, s.SystemClock)\n"
            "print(sorted(m for m in sys.modules if m.startswith('sheetsync.testing')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "[]"


def test_lock_held_is_what_contention_raises() -> None:
    # The scheduler tells contention from failure by this exception type.
    assert issubclass(LockHeld, Exception) and LockHeld.transient
