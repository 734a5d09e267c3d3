"""The run lock: one rollup at a time, a clear message for the second, free when its holder ends."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheetsync.nightly.run_lock import LockHeld, LockOwner, RunLock, read_owner
from tests import REPO as REPO_ROOT

LIVE_PID = 4242


def write_lock(state_dir: Path, **fields: object) -> Path:
    """Put a lock record in place as if another process had left it (no OS lock behind it)."""
    owner = {"pid": 31337, "host": "office-pc", "command": "sheetsync run",
             "started": datetime.now(UTC).isoformat(timespec="seconds")}
    owner.update(fields)
    path = state_dir / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(owner) + "\n")
    return path


def refused(state_dir: Path) -> LockHeld:
    """The LockHeld that a newcomer (another pid) gets right now; fails if it gets the lock."""
    newcomer = RunLock(state_dir, command="newcomer", pid=9999)
    with pytest.raises(LockHeld) as caught:
        newcomer.acquire()
    assert not newcomer.held
    return caught.value


def test_lock_file_says_who_holds_it_and_is_removed_on_release(tmp_path: Path) -> None:
    with RunLock(tmp_path / "state", command="sheetsync run") as lock:
        data = json.loads(lock.path.read_text())
        assert data["pid"] == os.getpid()
        assert data["command"] == "sheetsync run"
        assert data["host"]
        started = datetime.fromisoformat(data["started"])
        assert abs((datetime.now(UTC) - started).total_seconds()) < 60
    assert not (tmp_path / "state" / "run.lock").exists()
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["run.lock.flock"]


def test_second_holder_gets_lock_held_naming_the_holder_and_the_way_out(tmp_path: Path) -> None:
    first = RunLock(tmp_path, command="sheetsync schedule", pid=LIVE_PID, host="office-pc")
    second = RunLock(tmp_path, command="sheetsync run", pid=5555, host="office-pc")
    with first, pytest.raises(LockHeld) as caught:
        second.acquire()
    message = str(caught.value)
    assert "pid 4242" in message
    assert "'office-pc'" in message
    assert "'sheetsync schedule'" in message
    assert "since " in message and " ago" in message
    assert str(tmp_path / "run.lock") in message
    assert "Wait for that run to finish" in message
    assert "If it is stuck, stop process 4242 on 'office-pc'" in message
    assert "no file to delete" in message
    assert "probably stuck" not in message
    assert caught.value.owner is not None and caught.value.owner.pid == LIVE_PID
    assert caught.value.transient is True
    assert "\n" not in caught.value.summary and "pid 4242" in caught.value.summary
    assert not second.held


def test_lock_is_free_again_after_the_holder_releases(tmp_path: Path) -> None:
    first = RunLock(tmp_path, command="a", pid=LIVE_PID)
    second = RunLock(tmp_path, command="b", pid=5555)
    with first:
        pass
    with second:
        assert read_owner(second.path).command == "b"


def test_lock_file_left_by_a_dead_process_is_taken_and_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_lock(tmp_path, pid=31337, host="office-pc", command="sheetsync run")
    lock = RunLock(tmp_path, command="sheetsync schedule", pid=5555, host="office-pc")
    with caplog.at_level(logging.WARNING, logger="sheetsync"), lock:
        owner = read_owner(lock.path)
        assert (owner.pid, owner.command) == (5555, "sheetsync schedule")
    assert "pid 31337" in caplog.text and "ended without releasing" in caplog.text
    assert not lock.path.exists()


@pytest.mark.parametrize("content", [b"", b"{garbled", b'{"pid": 1, "host": "old-laptop"}'])
def test_an_empty_or_garbled_lock_file_without_a_live_holder_never_blocks(
        tmp_path: Path, content: bytes) -> None:
    (tmp_path / "run.lock").write_bytes(content)
    with RunLock(tmp_path, command="sheetsync run") as lock:
        assert read_owner(lock.path).command == "sheetsync run"


def test_a_lock_file_naming_this_very_pid_does_not_block(tmp_path: Path) -> None:
    # After a container restart the new process often gets the same pid as the old one.
    write_lock(tmp_path, pid=os.getpid(), host="box", command="previous container")
    with RunLock(tmp_path, command="sheetsync run", host="box") as lock:
        assert read_owner(lock.path).command == "sheetsync run"


def test_a_holder_older_than_max_age_keeps_the_lock_and_is_called_stuck(tmp_path: Path) -> None:
    now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    old_holder = RunLock(tmp_path, command="sheetsync schedule", pid=LIVE_PID, host="office-pc",
                         now=lambda: now - timedelta(hours=13))
    second = RunLock(tmp_path, command="sheetsync run", pid=5555, now=lambda: now,
                     max_age=timedelta(hours=12))
    with old_holder:
        with pytest.raises(LockHeld) as caught:
            second.acquire()
        assert "13 h ago" in str(caught.value)
        assert "probably stuck: stop process 4242 on 'office-pc'" in str(caught.value)
        assert read_owner(old_holder.path).pid == LIVE_PID  # never taken over
    with second:
        assert read_owner(second.path).pid == 5555


def test_deleting_the_lock_file_by_hand_does_not_free_the_lock(tmp_path: Path) -> None:
    with RunLock(tmp_path, command="sheetsync schedule", pid=LIVE_PID) as holder:
        holder.path.unlink()
        held = refused(tmp_path)
        assert held.owner is None
        assert "unknown process" in str(held)


def test_a_holder_whose_record_is_garbled_is_still_respected(tmp_path: Path) -> None:
    with RunLock(tmp_path, command="sheetsync schedule", pid=LIVE_PID) as holder:
        holder.path.write_bytes(b"{garbled")
        started = time.monotonic()
        held = refused(tmp_path)
        assert held.owner is None and "unknown process" in held.summary
        assert time.monotonic() - started < 5, "waits only a moment for a record to appear"


def test_release_is_only_by_the_holder(tmp_path: Path) -> None:
    holder = RunLock(tmp_path, command="sheetsync schedule", pid=LIVE_PID)
    contender = RunLock(tmp_path, command="sheetsync run", pid=5555)
    holder.acquire()
    with pytest.raises(LockHeld):
        contender.acquire()
    contender.release()  # never held it: nothing to give back
    RunLock(tmp_path, command="bystander", pid=7777).release()
    assert read_owner(holder.path).pid == LIVE_PID
    assert refused(tmp_path).owner.pid == LIVE_PID
    holder.release()
    holder.release()  # a second release is a no-op
    with contender:
        assert read_owner(contender.path).pid == 5555


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
            assert inner.held
            assert read_owner(outer.path).command == "sheetsync schedule"
        assert not inner.held
        assert refused(tmp_path).owner.command == "sheetsync schedule", \
            "the inner release must not free the outer lock"
        worker = threading.Thread(target=take_from_other_thread)
        worker.start()
        worker.join()
    assert not outer.path.exists()
    assert len(other_thread_error) == 1
    assert "another thread of this same process" in str(other_thread_error[0])
    with RunLock(tmp_path, command="after", pid=9999):
        pass  # the outer release freed it for everyone


def test_the_same_object_cannot_take_the_lock_twice(tmp_path: Path) -> None:
    lock = RunLock(tmp_path, command="sheetsync run")
    with lock, pytest.raises(RuntimeError, match="already held"):
        lock.acquire()


def test_lock_owner_round_trips_and_rejects_garbage() -> None:
    owner = LockOwner(pid=1, host="h", started=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                      command="c")
    assert LockOwner.from_json(owner.to_json().encode()) == owner
    assert LockOwner.from_json(b"") is None
    assert LockOwner.from_json(b'{"pid": "not a number", "host": "h", "started": "x"}') is None


# -- real processes ----------------------------------------------------------------------------

HOLDER_SCRIPT = """
import os, sys, time
from sheetsync.nightly.run_lock import RunLock
with RunLock(sys.argv[1], command="sheetsync run"):
    if len(sys.argv) > 2:  # fork a child that outlives this process, as pool workers may
        ready, ready_w = os.pipe()
        child = os.fork()
        if child == 0:
            os.write(ready_w, b"!")  # its fork hooks have run
            time.sleep(60)
            os._exit(0)
        os.read(ready, 1)
        print(child, flush=True)
    print("held", flush=True)
    sys.stdin.readline()
"""


def start_holder(state_dir: Path, *extra: str) -> subprocess.Popen[str]:
    """A separate process that takes the lock and holds it until its stdin closes."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER_SCRIPT, str(state_dir), *extra],
                              cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout is not None
    if extra:
        holder.child_pid = int(holder.stdout.readline())  # type: ignore[attr-defined]
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
        holder.communicate(timeout=20)  # closes its stdin: it releases and exits
    assert holder.returncode == 0
    with RunLock(tmp_path, command="sheetsync run") as lock:
        assert read_owner(lock.path).pid == os.getpid()


def test_killing_the_holder_frees_the_lock_at_once(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    holder = start_holder(tmp_path)
    holder.kill()  # SIGKILL on POSIX: no cleanup runs
    holder.communicate(timeout=20)
    assert read_owner(tmp_path / "run.lock").pid == holder.pid  # the crash left its record
    with caplog.at_level(logging.WARNING, logger="sheetsync"), RunLock(
            tmp_path, command="sheetsync run") as lock:
        assert read_owner(lock.path).pid == os.getpid()
    assert f"pid {holder.pid}" in caplog.text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_forked_child_does_not_keep_the_lock_of_a_killed_holder(tmp_path: Path) -> None:
    holder = start_holder(tmp_path, "fork")
    child_pid: int = holder.child_pid  # type: ignore[attr-defined]
    try:
        assert refused(tmp_path).owner.pid == holder.pid
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=20)
        os.kill(child_pid, 0)  # the child is still running...
        with RunLock(tmp_path, command="sheetsync run") as lock:  # ...yet the lock is free
            assert read_owner(lock.path).pid == os.getpid()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child_pid, signal.SIGKILL)
        holder.kill()
        holder.communicate()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_forked_child_cannot_release_its_parents_lock(tmp_path: Path) -> None:
    with RunLock(tmp_path, command="sheetsync run") as lock:
        child = os.fork()
        if child == 0:  # the child unwinds through the with block, as an exception would make it
            code = 1
            try:
                lock.release()
                code = 0 if not lock.held else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert read_owner(lock.path).pid == os.getpid()
        assert refused(tmp_path).owner.pid == os.getpid()


def _contend(state_dir: str, go: object, done: object, results: object) -> None:
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


@pytest.mark.parametrize("round_no", range(5))
def test_exactly_one_of_many_processes_takes_a_lock_left_by_a_dead_process(
        tmp_path: Path, round_no: int) -> None:
    write_lock(tmp_path, host="gone-laptop", started="2020-01-01T00:00:00+00:00")
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    go, done, results = ctx.Event(), ctx.Event(), ctx.Queue()
    contenders = [ctx.Process(target=_contend, args=(str(tmp_path), go, done, results))
                  for _ in range(6)]
    for process in contenders:
        process.start()
    go.set()
    outcomes = sorted(results.get(timeout=20) for _ in contenders)
    done.set()
    for process in contenders:
        process.join(timeout=20)
    assert outcomes == ["refused"] * 5 + ["won"]
    assert [p.exitcode for p in contenders] == [0] * 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.lock.flock"], \
        "the record is removed and no temporary file is left behind"


def test_a_reader_never_sees_a_half_written_record(tmp_path: Path) -> None:
    stop = threading.Event()
    seen: list[bytes] = []

    def read_constantly() -> None:
        while not stop.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.append((tmp_path / "run.lock").read_bytes())

    reader = threading.Thread(target=read_constantly)
    reader.start()
    deadline = time.monotonic() + 10
    try:
        for i in itertools.count():  # until the reader has caught plenty of fresh records
            with RunLock(tmp_path, command=f"run {i}", pid=1000 + i % 50):
                pass
            if len(seen) >= 500 and i >= 300 or time.monotonic() > deadline:
                break
    finally:
        stop.set()
        reader.join()
    assert seen, "the reader found records to read"
    assert [raw for raw in seen if LockOwner.from_json(raw) is None] == []
