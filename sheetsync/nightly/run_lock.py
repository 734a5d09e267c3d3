"""The run lock: one rollup at a time, across processes.

``sheetsync run`` and ``sheetsync schedule`` both hold the run lock while a rollup runs, so two
rollups never write the same targets at once. A process that finds the lock taken gets
:class:`LockHeld`, whose message names the holder and says what to do.

Design, and why:

* **An operating-system lock.** ``fcntl.flock`` (POSIX) or ``msvcrt.locking`` (Windows) on
  ``<state_dir>/run.lock.flock``, taken without waiting. The operating system frees it when the
  holder ends in any way, SIGKILL included, so a crashed run never blocks the next one and no
  guessing is needed about stale locks (is the pid alive, reused, too old?). The standard
  library is enough; ``filelock`` would add a dependency and truncates the file it locks, so it
  could not keep the holder's record there either.
* **Who holds it.** The holder then writes ``<state_dir>/run.lock``, one line of JSON::

      {"pid": 4242, "host": "office-pc", "started": "2026-03-09T07:30:00+00:00",
       "command": "sheetsync schedule"}

  through a temporary file renamed into place, so a reader sees a whole record or none. It is a
  separate file because renaming over the locked file would leave the lock on a file that no
  longer has the name (POSIX), or fail (Windows). The record only informs: one left by a crash
  is overwritten by the next holder. In the instant between locking and writing, a refused
  process may find no record (it waits a moment for one) or the crashed predecessor's.
* **Leave ``run.lock.flock`` alone.** It stays, empty. Deleting it while a run holds it would
  let the next process lock a new file of the same name.
* **Nesting.** The thread that holds the lock may take it again as a no-op: ``sheetsync
  schedule`` holds it around a run whose own ``with RunLock(...)`` must not find itself in the
  way. Other threads are refused.
* **Forked children** (process-pool workers) inherit the locked file descriptor, and a ``flock``
  lasts while any copy is open. Children close their copies at once, so the lock still ends with
  the process that took it, and a child cannot release it.
* **Network drives.** The state folder is meant to be local. Over NFS, Linux turns ``flock``
  into server-kept byte-range locks: they work across machines, but a crashed machine's lock
  lasts until the server's lease expires. Other systems, and some SMB mounts, lock only on the
  local machine, so two machines sharing a state folder could both run.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from sheetsync import errors

__all__ = ["DEFAULT_MAX_AGE", "LOCK_FILE_NAME", "LockHeld", "LockOwner", "RunLock", "read_owner"]

log = logging.getLogger(__name__)

LOCK_FILE_NAME = "run.lock"
"""The holder's record. The operating-system lock is on this name plus ``.flock``."""

DEFAULT_MAX_AGE = timedelta(hours=12)
"""A rollup takes minutes. A holder this old is reported as probably stuck (never taken over)."""

RECORD_WAIT_S = 0.5
"""How long a refused process waits for a holder that has just taken the lock to name itself."""


@dataclass(frozen=True)
class LockOwner:
    """Who holds a run lock, as written in the lock file."""

    pid: int
    host: str
    started: datetime  # aware
    command: str

    def to_json(self) -> str:
        """The lock file's content: one line of JSON."""
        return json.dumps({"pid": self.pid, "host": self.host,
                           "started": self.started.isoformat(timespec="seconds"),
                           "command": self.command}) + "\n"

    @classmethod
    def from_json(cls, raw: bytes) -> LockOwner | None:
        """Parse a lock file's content, or ``None`` when it is empty or garbled."""
        try:
            data = json.loads(raw.decode("utf-8"))
            started = datetime.fromisoformat(data["started"])
            if started.tzinfo is None:
                started = started.replace(tzinfo=UTC)
            return cls(pid=int(data["pid"]), host=str(data["host"]), started=started,
                       command=str(data.get("command", "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def describe(self, now: datetime | None = None) -> str:
        """``pid 4242 on host 'office-pc', since 2026-03-09 07:30:00 EST (3 min ago), command
        'sheetsync run'``; the age only when ``now`` is given."""
        since = self.started.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        if now is not None:
            since += f" ({_format_age(now - self.started)} ago)"
        return f"pid {self.pid} on host {self.host!r}, since {since}, command {self.command!r}"


class LockHeld(errors.LockHeld):
    """Another process (or another thread of this one) holds the run lock.

    ``transient`` is True: trying again once the other run has finished can help.
    ``summary`` is a one-line version of the message, for logs.
    """

    transient = True

    def __init__(self, path: Path, owner: LockOwner | None, *, detail: str = "",
                 max_age: timedelta | None = None, now: datetime | None = None) -> None:
        self.path = path
        self.owner = owner
        remedy = "Wait for that run to finish, then try again."
        if owner is None:
            holder = "an unknown process (the lock file does not say who)"
        else:
            now = now or datetime.now(UTC)
            age = now - owner.started
            holder = owner.describe(now)
            stop = f"stop process {owner.pid} on {owner.host!r}"
            if max_age is not None and age > max_age:
                remedy += (f" It has held the lock for longer than {_format_age(max_age)}, far "
                           f"longer than a rollup takes, so it is probably stuck: {stop}.")
            else:
                remedy += f" If it is stuck, {stop}."
        remedy += (" The lock is freed the moment that process ends, even if it crashes, "
                   "so there is no file to delete.")
        self.summary = f"another sheetsync run holds the lock: {holder}" + (
            f" ({detail})" if detail else "")
        self.message = (f"Another sheetsync run is in progress, so this one did not start.\n"
                        f"  Held by: {holder}\n"
                        + (f"  Note: {detail}\n" if detail else "")
                        + f"  Lock file: {path}\n  What to do: {remedy}")
        super().__init__(self.message, hint=remedy)


def read_owner(path: Path | str) -> LockOwner | None:
    """Who the lock file at ``path`` names (``None`` if it is absent, empty or unreadable).

    The record says who took the lock last; only a refused :meth:`RunLock.acquire` knows that
    this process still holds it.
    """
    try:
        return LockOwner.from_json(Path(path).read_bytes())
    except OSError:
        return None


@dataclass
class _Holding:
    fd: int  # the locked file; the lock lasts while it is open
    thread_id: int
    depth: int
    owner: LockOwner


# (lock path, pid) -> the lock this process holds there; makes nested acquisition a no-op.
_held: dict[tuple[str, int], _Holding] = {}
_held_guard = threading.Lock()


class RunLock:
    """The cross-process run lock; use it as a context manager.

    ``with RunLock(state_dir, command="sheetsync run"): ...`` raises :class:`LockHeld` if
    another run holds the lock.

    ``pid``, ``host`` and ``now`` exist so tests can play two processes in one (each lock
    opens its own file descriptor, and the operating system keeps them apart). By default they
    are this process, this machine and the system clock. ``max_age`` only changes the advice
    in :class:`LockHeld`.
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
    ) -> None:
        self.path = Path(state_dir) / name
        self.flock_path = self.path.with_name(name + ".flock")
        self.command = command
        self.max_age = max_age
        self.pid = os.getpid() if pid is None else pid
        self.host = socket.gethostname() if host is None else host
        self._now = now or (lambda: datetime.now(UTC))
        self._key = (str(self.path.resolve()), self.pid)
        self._holding: _Holding | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock (directly or nested)."""
        return self._holding is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`LockHeld` naming who holds it."""
        if self._holding is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock object")
        with _held_guard:
            holding = _held.get(self._key)
            if holding is None:
                holding = self._take()
                if holding is not None:
                    _held[self._key] = holding
            elif holding.thread_id != threading.get_ident():
                raise LockHeld(self.path, holding.owner, max_age=self.max_age, now=self._now(),
                               detail="held by another thread of this same process")
            if holding is not None:
                holding.depth += 1
        if holding is None:
            raise LockHeld(self.path, self._wait_for_record(), max_age=self.max_age,
                           now=self._now())
        self._holding = holding

    def release(self) -> None:
        """Give the lock back (once per acquire); a no-op for an object that does not hold it."""
        holding, self._holding = self._holding, None
        if holding is None:
            return
        with _held_guard:
            if _held.get(self._key) is not holding:
                return  # a forked child: the lock stays with the parent
            holding.depth -= 1
            if holding.depth > 0:
                return  # an outer holder in this thread still needs it
            del _held[self._key]
            try:
                self.path.unlink(missing_ok=True)  # while still locked: nobody else writes it
            except OSError as exc:  # Windows, while a refused process reads it: harmless
                log.debug("could not remove the lock record %s: %s", self.path, exc)
            _unlock_and_close(holding.fd)
        log.debug("released the run lock %s", self.path)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _take(self) -> _Holding | None:
        """Lock the OS lock file and write our record; ``None`` if another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Read access is enough to lock, so a lock file made by another user still works.
        fd = os.open(self.flock_path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                os.close(fd)
                return None
            previous = read_owner(self.path)
            owner = LockOwner(pid=self.pid, host=self.host, started=self._now(),
                              command=self.command)
            self._write_record(owner)
        except BaseException:
            _unlock_and_close(fd)
            raise
        if previous is not None:
            log.warning("the previous run (%s) ended without releasing the run lock: it crashed "
                        "or was stopped", previous.describe())
        log.debug("took the run lock %s for %r", self.path, self.command)
        return _Holding(fd, threading.get_ident(), 0, owner)

    def _write_record(self, owner: LockOwner) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")  # only the lock holder writes it
        tmp.write_text(owner.to_json(), encoding="utf-8")
        for attempt in range(5):
            try:
                os.replace(tmp, self.path)
                return
            except PermissionError:
                # Windows refuses while a refused process has the old record open to read it.
                if attempt == 4:
                    tmp.unlink(missing_ok=True)
                    raise
                time.sleep(0.02)

    def _wait_for_record(self) -> LockOwner | None:
        """The holder's record, waiting a moment for a holder that has only just locked."""
        deadline = time.monotonic() + RECORD_WAIT_S
        while (owner := read_owner(self.path)) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return owner


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` without waiting; False if another open file holds the lock."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # the first byte; locking past the end is fine
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLK):
                return False
            raise
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock_and_close(fd: int) -> None:
    """Unlock, then close: closing alone may free a Windows lock only later."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError as exc:
        log.debug("unlocking the run lock failed (closing frees it anyway): %s", exc)
    finally:
        os.close(fd)


def _close_inherited_locks() -> None:
    """In a forked child: close the copies of held locks, so they end with their own process.

    Closing (not unlocking) leaves the parent's lock in place. Only the forking thread survives a
    fork, so the guard, which another thread may have held, is replaced rather than taken.
    """
    global _held_guard
    for holding in list(_held.values()):
        with contextlib.suppress(OSError):
            os.close(holding.fd)
    _held.clear()
    _held_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)


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
