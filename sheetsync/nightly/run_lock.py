"""The run lock: one rollup at a time, across processes.

``sheetsync run`` and ``sheetsync schedule`` both hold ``<state_dir>/run.lock`` while a rollup
runs, so two rollups never write the same targets at once. The lock file holds one line of JSON
saying who holds it::

    {"pid": 4242, "host": "office-pc", "started": "2026-03-09T07:30:00+00:00",
     "command": "sheetsync schedule", "token": "9f1c..."}

How the lock behaves:

* **Acquire.** The file is created with ``O_CREAT | O_EXCL``, so exactly one process can create
  it. A process that finds it already there gets :class:`LockHeld`, whose message names the
  holder and says what to do.
* **Stale locks.** A lock is stale when its process is no longer alive on this host, when its
  pid now belongs to a process started after the lock was taken (pid reuse after a reboot or a
  container restart), when it is older than ``max_age``, or when it is unreadable and more than a
  minute old. A stale lock is taken over, and the takeover is logged.
* **Safe takeover.** Two processes can find the same stale lock at the same moment. Each taker
  must first create the guard file ``run.lock.takeover`` with ``O_EXCL``, so only one takes over
  at a time. Holding the guard, it reads the lock again and checks that it is still the same
  stale lock, byte for byte (the token makes every lock unique). Only then does it
  ``os.replace`` its own, fully written lock over the stale one. Because ``run.lock`` never
  disappears during a takeover, an ordinary acquirer cannot slip in between.
* **Nesting.** The thread that already holds the lock may take it again as a no-op. So
  ``sheetsync schedule`` holds the lock around a run, and the run's own
  ``with RunLock(...)`` does not find itself in the way.
* **Release.** The lock file is deleted only while it still holds this lock's token.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["DEFAULT_MAX_AGE", "LOCK_FILE_NAME", "LockHeld", "LockOwner", "RunLock", "read_owner"]

log = logging.getLogger(__name__)

LOCK_FILE_NAME = "run.lock"
DEFAULT_MAX_AGE = timedelta(hours=12)
"""A rollup takes minutes. A lock this old belongs to a hung or forgotten process."""

UNREADABLE_GRACE = timedelta(seconds=60)
"""An empty or garbled lock file younger than this is probably still being written."""

GUARD_MAX_AGE_S = 30.0
"""A takeover holds its guard for milliseconds. An older guard was left by a crash."""

_TAKEOVER_ATTEMPTS = 3

AliveCheck = Callable[[int, datetime], bool]
"""``(pid, lock_started) -> bool``: is the process that took the lock still running?"""


@dataclass(frozen=True)
class LockOwner:
    """Who holds a run lock, as written in the lock file."""

    pid: int
    host: str
    started: datetime  # aware
    command: str
    token: str = ""

    def to_json(self) -> str:
        """The lock file's content: one line of JSON."""
        return json.dumps(
            {
                "pid": self.pid,
                "host": self.host,
                "started": self.started.isoformat(timespec="seconds"),
                "command": self.command,
                "token": self.token,
            }
        ) + "\n"

    @classmethod
    def from_json(cls, raw: bytes) -> LockOwner | None:
        """Parse a lock file's content, or ``None`` when it is empty or garbled."""
        try:
            data = json.loads(raw.decode("utf-8"))
            started = datetime.fromisoformat(data["started"])
            if started.tzinfo is None:
                started = started.replace(tzinfo=UTC)
            return cls(
                pid=int(data["pid"]),
                host=str(data["host"]),
                started=started,
                command=str(data.get("command", "")),
                token=str(data.get("token", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


class LockHeld(Exception):
    """Another process (or another thread of this one) holds the run lock.

    ``transient`` is True: trying again once the other run has finished can help.
    ``summary`` is a one-line version of the message, for logs.
    """

    transient = True

    def __init__(self, path: Path, owner: LockOwner | None, *, detail: str = "",
                 max_age: timedelta | None = None, now: datetime | None = None) -> None:
        self.path = path
        self.owner = owner
        now = now or datetime.now(UTC)
        if owner is None:
            holder = "an unknown process (the lock file is empty or unreadable)"
        else:
            age = _format_age(now - owner.started)
            since = owner.started.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()
            holder = (f"pid {owner.pid} on host {owner.host!r}, since {since} ({age} ago), "
                      f"command {owner.command!r}")
        self.summary = f"another sheetsync run holds the lock: {holder}" + (
            f" ({detail})" if detail else "")
        automatic = "a lock whose process has ended"
        if max_age is not None:
            automatic += f", or that is older than {_format_age(max_age)},"
        remedy = (
            "Wait for that run to finish, then try again. If no sheetsync is running there, "
            f"delete {path}. sheetsync also takes over {automatic} by itself."
        )
        self.message = (f"Another sheetsync run is in progress, so this one did not start.\n"
                        f"  Held by: {holder}\n"
                        + (f"  Note: {detail}\n" if detail else "")
                        + f"  Lock file: {path}\n  What to do: {remedy}")
        super().__init__(self.message)


def read_owner(path: Path | str) -> LockOwner | None:
    """Who holds the lock file at ``path`` (``None`` if it is absent, empty or unreadable)."""
    try:
        return LockOwner.from_json(Path(path).read_bytes())
    except OSError:
        return None


@dataclass
class _Holding:
    token: str
    thread_id: int
    depth: int
    owner: LockOwner


# (lock path, pid) -> the lock this process holds there; makes nested acquisition a no-op.
_held: dict[tuple[str, int], _Holding] = {}
_held_guard = threading.Lock()


class RunLock:
    """The cross-process run lock; use it as a context manager.

    ``with RunLock(state_dir, command="sheetsync run"): ...`` raises :class:`LockHeld` if
    another run holds the lock, and takes over a stale lock (see the module docstring).

    ``pid``, ``host``, ``now`` and ``is_alive`` exist so tests can play two processes in one.
    By default they are this process, this machine, the system clock and a real process check.
    """

    def __init__(
        self,
        state_dir: Path | str,
        *,
        command: str,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
        name: str = LOCK_FILE_NAME,
        pid: int | None = None,
        host: str | None = None,
        now: Callable[[], datetime] | None = None,
        is_alive: AliveCheck | None = None,
    ) -> None:
        self.path = Path(state_dir) / name
        self.command = command
        self.max_age = max_age
        self.pid = os.getpid() if pid is None else pid
        self.host = socket.gethostname() if host is None else host
        self._now = now or (lambda: datetime.now(UTC))
        self._is_alive = is_alive or process_alive
        self._key = (str(self.path.resolve()), self.pid)
        self._token: str | None = None

    # -- public API ---------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """True while this object holds the lock (directly or nested)."""
        return self._token is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`LockHeld` naming who holds it."""
        if self._token is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock object")
        if self._acquire_nested():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        owner = LockOwner(pid=self.pid, host=self.host, started=self._now(),
                          command=self.command, token=uuid.uuid4().hex)
        for _ in range(_TAKEOVER_ATTEMPTS):
            if self._create_exclusive(owner):
                break
            raw, mtime = self._read_raw()
            if raw is None:
                continue  # released between our create and our read; try to create again
            current = LockOwner.from_json(raw)
            stale_reason = self._stale_reason(current, mtime)
            if stale_reason is None:
                raise LockHeld(self.path, current, max_age=self.max_age, now=self._now())
            if self._take_over(raw, owner, current, stale_reason):
                break
        else:
            raise LockHeld(self.path, read_owner(self.path), max_age=self.max_age,
                           now=self._now(), detail="the lock kept changing hands")
        self._token = owner.token
        with _held_guard:
            _held[self._key] = _Holding(owner.token, threading.get_ident(), 1, owner)
        log.debug("took the run lock %s for %r", self.path, self.command)

    def release(self) -> None:
        """Give the lock back; the file is deleted only if it is still ours."""
        if self._token is None:
            return
        token, self._token = self._token, None
        with _held_guard:
            holding = _held.get(self._key)
            if holding is not None and holding.token == token:
                holding.depth -= 1
                if holding.depth > 0:
                    return  # another holder in this thread still needs it
                del _held[self._key]
        current = read_owner(self.path)
        if current is not None and current.token == token:
            self.path.unlink(missing_ok=True)
        else:
            # Someone judged our lock stale (older than max_age) and took it over.
            log.warning("the run lock %s was taken over while this run held it; leaving the "
                        "new holder's lock in place", self.path)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    # -- internals ------------------------------------------------------------------------------

    def _acquire_nested(self) -> bool:
        with _held_guard:
            holding = _held.get(self._key)
            if holding is None:
                return False
            if holding.thread_id != threading.get_ident():
                raise LockHeld(self.path, holding.owner, max_age=self.max_age, now=self._now(),
                               detail="held by another thread of this same process")
            holding.depth += 1
            self._token = holding.token
            return True

    def _create_exclusive(self, owner: LockOwner) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, owner.to_json().encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _read_raw(self) -> tuple[bytes | None, float]:
        try:
            with open(self.path, "rb") as f:
                return f.read(), os.fstat(f.fileno()).st_mtime
        except FileNotFoundError:
            return None, 0.0

    def _stale_reason(self, owner: LockOwner | None, mtime: float) -> str | None:
        """Why the lock at hand is stale, or ``None`` if it must be respected."""
        if owner is None:
            age_s = time.time() - mtime
            if age_s > UNREADABLE_GRACE.total_seconds():
                age = _format_age(timedelta(seconds=age_s))
                return f"the lock file is unreadable and {age} old"
            return None  # probably being written right now
        age = self._now() - owner.started
        if self.max_age is not None and age > self.max_age:
            return f"it is {_format_age(age)} old, older than {_format_age(self.max_age)}"
        if owner.host == self.host:
            if owner.pid == self.pid:
                # Not in this process's table of held locks (checked earlier), so a previous
                # process with the same pid (a restarted container, say) left it.
                return f"pid {owner.pid} is this process, which never took it"
            if not self._is_alive(owner.pid, owner.started):
                return f"process {owner.pid} is no longer running"
        return None

    def _take_over(self, stale_raw: bytes, owner: LockOwner, stale: LockOwner | None,
                   reason: str) -> bool:
        """Replace the stale lock ``stale_raw`` with ours; False if the caller should look again."""
        guard = self.path.with_name(self.path.name + ".takeover")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                guard_age = time.time() - guard.stat().st_mtime
            except FileNotFoundError:
                return False  # the other taker just finished; look again
            if guard_age > GUARD_MAX_AGE_S:
                log.warning("removing an abandoned takeover guard %s (%.0f s old)", guard,
                            guard_age)
                guard.unlink(missing_ok=True)
                return False
            raise LockHeld(self.path, stale, max_age=self.max_age, now=self._now(),
                           detail="another process is taking over this stale lock right now",
                           ) from None
        tmp = self.path.with_name(f"{self.path.name}.{owner.token}.tmp")
        try:
            os.write(fd, f"{self.pid}@{self.host}\n".encode())
            os.close(fd)
            current, _ = self._read_raw()
            if current != stale_raw:
                return False  # released or taken over meanwhile; judge afresh
            with open(tmp, "wb") as f:
                f.write(owner.to_json().encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
            guard.unlink(missing_ok=True)
        held_by = (f"pid {stale.pid} on host {stale.host!r} since "
                   f"{stale.started.isoformat(timespec='seconds')}, command {stale.command!r}"
                   if stale is not None else "an unknown process")
        log.warning("took over a stale run lock %s held by %s: %s", self.path, held_by, reason)
        return True


def process_alive(pid: int, started: datetime) -> bool:
    """Is the process that took a lock at ``started`` still running as ``pid`` on this host?

    Where the operating system tells a process's start time (Linux), a process that started
    after the lock was taken is a different one reusing the pid, so the answer is False.
    """
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    except OSError as exc:
        return exc.errno != errno.ESRCH
    process_started = _linux_process_start(pid)
    # Two seconds of slack: the lock is written a moment after the process starts, and the
    # kernel's boot time is rounded to whole seconds.
    return process_started is None or process_started <= started.timestamp() + 2.0


def _linux_process_start(pid: int) -> float | None:
    """The process's start as a Unix timestamp, from /proc; None where /proc can't tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        start_ticks = int(fields[19])  # field 22 overall
        boot_time = next(int(line.split()[1])
                         for line in Path("/proc/stat").read_text().splitlines()
                         if line.startswith("btime "))
        return boot_time + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _windows_pid_alive(pid: int) -> bool:
    """Windows process check. ``os.kill(pid, 0)`` would terminate the process there."""
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    process_query_limited_information = 0x1000
    still_active = 259
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        # Access denied means the process exists but belongs to someone else.
        return kernel32.GetLastError() == 5
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def _format_age(age: timedelta) -> str:
    """A short human duration: "40 s", "12 min", "3 h 5 min", "2 days 4 h"."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} days" + (f" {hours} h" if hours else "")
