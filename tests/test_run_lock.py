"""The run lock: one rollup at a time, a clear message for the second, stale locks taken over."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheetsync.nightly.run_lock import LockHeld, LockOwner, RunLock, process_alive, read_owner

REPO_ROOT = Path(__file__).resolve().parents[1]
LIVE_PID = 4242


def live_only(*pids: int):
    """A process check that says exactly ``pids`` are running on this host."""
    return lambda pid, started: pid in pids


def write_lock(state_dir: Path, **fields: object) -> Path:
    """Put a lock file in place as if another process had taken it."""
    owner = {"pid": 31337, "host": "office-pc", "command": "sheetsync run", "token": "t0",
             "started": datetime.now(UTC).isoformat(timespec="seconds")}
    owner.update(fields)
    path = state_dir / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(owner) + "\n")
    return path


def test_lock_file_says_who_holds_it_and_is_removed_on_release(tmp_path: Path) -> None:
    with RunLock(tmp_path / "state", command="sheetsync run") as lock:
        data = json.loads(lock.path.read_text())
        assert data["pid"] == os.getpid()
        assert data["command"] == "sheetsync run"
        assert data["host"]
        started = datetime.fromisoformat(data["started"])
        assert abs((datetime.now(UTC) - started).total_seconds()) < 60
    assert not (tmp_path / "state" / "run.lock").exists()


def test_second_holder_gets_lock_held_naming_the_holder_and_the_way_out(tmp_path: Path) -> None:
    first = RunLock(tmp_path, command="sheetsync schedule", pid=LIVE_PID, host="office-pc")
    second = RunLock(tmp_path, command="sheetsync run", pid=5555, host="office-pc",
                     is_alive=live_only(LIVE_PID))
    with first, pytest.raises(LockHeld) as caught:
        second.acquire()
    message = str(caught.value)
    assert "pid 4242" in message
    assert "'office-pc'" in message
    assert "'sheetsync schedule'" in message
    assert "since " in message and " ago" in message
    assert str(tmp_path / "run.lock") in message
    assert "delete" in message and "Wait for that run to finish" in message
    assert caught.value.owner is not None and caught.value.owner.pid == LIVE_PID
    assert caught.value.transient is True
    assert "\n" not in caught.value.summary
    assert not second.held


def test_lock_is_free_again_after_the_holder_releases(tmp_path: Path) -> None:
    first = RunLock(tmp_path, command="a", pid=LIVE_PID)
    second = RunLock(tmp_path, command="b", pid=5555, is_alive=live_only(LIVE_PID))
    with first:
        pass
    with second:
        assert read_owner(second.path).command == "b"


def test_lock_of_a_dead_process_on_this_host_is_taken_over_and_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_lock(tmp_path, pid=31337, host="office-pc", command="sheetsync run")
    lock = RunLock(tmp_path, command="sheetsync schedule", pid=5555, host="office-pc",
                   is_alive=live_only())
    with caplog.at_level(logging.WARNING, logger="sheetsync"), lock:
        owner = read_owner(lock.path)
        assert (owner.pid, owner.command) == (5555, "sheetsync schedule")
    assert "took over a stale run lock" in caplog.text
    assert "pid 31337" in caplog.text and "no longer running" in caplog.text
    assert not lock.path.exists()


def test_lock_from_another_host_is_respected_until_it_is_older_than_max_age(
        tmp_path: Path) -> None:
    now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    write_lock(tmp_path, host="laptop-2", started=(now - timedelta(hours=2)).isoformat())
    lock = RunLock(tmp_path, command="sheetsync run", host="office-pc", now=lambda: now,
                   max_age=timedelta(hours=3), is_alive=live_only())
    with pytest.raises(LockHeld, match="laptop-2"):
        lock.acquire()

    later = RunLock(tmp_path, command="sheetsync run", host="office-pc",
                    now=lambda: now + timedelta(hours=1, minutes=1), max_age=timedelta(hours=3))
    with later:
        assert read_owner(later.path).host == "office-pc"


def test_live_process_older_than_max_age_is_taken_over(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    write_lock(tmp_path, pid=LIVE_PID, host="office-pc",
               started=(now - timedelta(hours=13)).isoformat())
    lock = RunLock(tmp_path, command="sheetsync run", pid=5555, host="office-pc",
                   now=lambda: now, is_alive=live_only(LIVE_PID))
    with caplog.at_level(logging.WARNING, logger="sheetsync"), lock:
        assert read_owner(lock.path).pid == 5555
    assert "older than 12 h" in caplog.text


def test_lock_bearing_this_pid_that_this_process_never_took_is_stale(tmp_path: Path) -> None:
    # After a container restart the new process often gets the same pid as the old one.
    write_lock(tmp_path, pid=os.getpid(), host="box", token="left-by-previous-process")
    with RunLock(tmp_path, command="sheetsync run", host="box") as lock:
        assert read_owner(lock.path).token != "left-by-previous-process"


def test_freshly_created_empty_lock_is_respected_but_an_old_unreadable_one_is_not(
        tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    path.write_bytes(b"")  # another process between O_EXCL create and its write
    lock = RunLock(tmp_path, command="sheetsync run")
    with pytest.raises(LockHeld, match="unknown process"):
        lock.acquire()

    path.write_bytes(b"{garbled")
    old = time.time() - 600
    os.utime(path, (old, old))
    with lock:
        assert read_owner(path).command == "sheetsync run"


def test_takeover_in_progress_elsewhere_is_not_raced(tmp_path: Path) -> None:
    write_lock(tmp_path, pid=31337, host="office-pc")
    guard = tmp_path / "run.lock.takeover"
    guard.write_text("777@office-pc\n")
    lock = RunLock(tmp_path, command="sheetsync run", pid=5555, host="office-pc",
                   is_alive=live_only())
    with pytest.raises(LockHeld, match="taking over"):
        lock.acquire()
    assert read_owner(tmp_path / "run.lock").pid == 31337  # untouched

    old = time.time() - 120  # a guard this old was left by a crash mid-takeover
    os.utime(guard, (old, old))
    with lock:
        assert read_owner(lock.path).pid == 5555
    assert not guard.exists()


def test_release_leaves_a_lock_that_someone_else_took_over(tmp_path: Path) -> None:
    lock = RunLock(tmp_path, command="slow run", pid=LIVE_PID)
    lock.acquire()
    write_lock(tmp_path, pid=5555, token="the-new-holder")
    lock.release()
    assert read_owner(tmp_path / "run.lock").token == "the-new-holder"


def test_the_holding_thread_may_nest_but_other_threads_may_not(tmp_path: Path) -> None:
    outer = RunLock(tmp_path, command="sheetsync schedule")
    inner = RunLock(tmp_path, command="sheetsync run")
    other_thread_error: list[BaseException] = []

    def take_from_other_thread() -> None:
        try:
            RunLock(tmp_path, command="sheetsync run").acquire()
        except LockHeld as exc:
            other_thread_error.append(exc)

    with outer:
        with inner:
            assert read_owner(outer.path).command == "sheetsync schedule"
        assert outer.path.exists(), "the inner release must not free the outer lock"
        worker = threading.Thread(target=take_from_other_thread)
        worker.start()
        worker.join()
    assert not outer.path.exists()
    assert len(other_thread_error) == 1
    assert "another thread of this same process" in str(other_thread_error[0])


def test_lock_owner_round_trips_and_rejects_garbage() -> None:
    owner = LockOwner(pid=1, host="h", started=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                      command="c", token="x")
    assert LockOwner.from_json(owner.to_json().encode()) == owner
    assert LockOwner.from_json(b"") is None
    assert LockOwner.from_json(b'{"pid": "not a number", "host": "h", "started": "x"}') is None


# -- real processes ----------------------------------------------------------------------------

HOLDER_SCRIPT = """
import sys
from sheetsync.nightly.run_lock import RunLock
with RunLock(sys.argv[1], command="sheetsync run"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def start_holder(state_dir: Path) -> subprocess.Popen[str]:
    """A separate process that takes the lock and holds it until its stdin closes."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER_SCRIPT, str(state_dir)],
                              cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_second_process_is_refused_while_first_holds_the_lock(tmp_path: Path) -> None:
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(LockHeld) as caught:
            RunLock(tmp_path, command="sheetsync run").acquire()
        assert caught.value.owner is not None and caught.value.owner.pid == holder.pid
        assert f"pid {holder.pid}" in str(caught.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=20) == 0
    with RunLock(tmp_path, command="sheetsync run") as lock:
        assert read_owner(lock.path).pid == os.getpid()


def test_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    holder = start_holder(tmp_path)
    holder.kill()
    holder.wait(timeout=20)
    assert read_owner(tmp_path / "run.lock").pid == holder.pid  # the crash left it behind
    assert not process_alive(holder.pid, datetime.now(UTC))
    with caplog.at_level(logging.WARNING, logger="sheetsync"), RunLock(
            tmp_path, command="sheetsync run") as lock:
        assert read_owner(lock.path).pid == os.getpid()
    assert f"pid {holder.pid}" in caplog.text


def test_process_alive_sees_this_process_and_spots_pid_reuse() -> None:
    assert process_alive(os.getpid(), datetime.now(UTC))
    if sys.platform.startswith("linux"):
        # This process started long after 2001: whoever took a lock then was someone else.
        assert not process_alive(os.getpid(), datetime(2001, 1, 1, tzinfo=UTC))


def _contend_for_stale_lock(state_dir: str, go: object, done: object, results: object) -> None:
    lock = RunLock(state_dir, command="contender")
    go.wait()  # type: ignore[attr-defined]
    try:
        lock.acquire()
    except LockHeld:
        results.put("refused")  # type: ignore[attr-defined]
        return
    results.put("won")  # type: ignore[attr-defined]
    done.wait(20)  # type: ignore[attr-defined]  # hold until every contender has tried
    lock.release()


@pytest.mark.parametrize("round_no", range(3))
def test_only_one_of_many_processes_takes_over_the_same_stale_lock(tmp_path: Path,
                                                                   round_no: int) -> None:
    write_lock(tmp_path, host="gone-laptop", started="2020-01-01T00:00:00+00:00")
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    go, done, results = ctx.Event(), ctx.Event(), ctx.Queue()
    contenders = [ctx.Process(target=_contend_for_stale_lock,
                              args=(str(tmp_path), go, done, results)) for _ in range(6)]
    for process in contenders:
        process.start()
    go.set()
    outcomes = sorted(results.get(timeout=20) for _ in contenders)
    done.set()
    for process in contenders:
        process.join(timeout=20)
    assert outcomes == ["refused"] * 5 + ["won"]
    assert not (tmp_path / "run.lock").exists()
    assert not list(tmp_path.glob("run.lock.*")), "no guard or temp file may be left behind"
