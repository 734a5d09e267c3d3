"""Replacing a file atomically, the way both of sheetsync's Excel writers do it.

The new content goes to a temporary file beside the target, is flushed to disk, takes the
target's permissions, and is moved over the target in one rename, but only if the target has not
changed since it was read (someone saving it meanwhile would otherwise lose their edit). The
rename is then made durable by syncing the folder where the platform allows it.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def open_lock_file(target: Path) -> Path | None:
    """The lock file that says ``target`` is open in Excel (``~$name``) or LibreOffice."""
    for lock in (target.with_name("~$" + target.name),
                 target.with_name(".~lock." + target.name + "#")):
        if lock.exists():
            return lock
    return None


def why_unwritable(target: Path) -> str | None:
    """Why ``target`` (when it exists) or its folder cannot be replaced, or None."""
    if target.exists():
        mode = target.stat().st_mode
        # os.replace would happily swap out a read-only file, so honour the flag ourselves.
        # Checking the mode bits as well as os.access keeps this meaningful when run as root.
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(
                target, os.W_OK):
            return "it is read-only"
    if target.parent.exists() and not os.access(target.parent, os.W_OK):
        return "its folder is read-only"
    return None


class TargetChanged(Exception):
    """The target was modified between reading it and replacing it; it was left alone."""


def signature(info: os.stat_result) -> tuple[int, int]:
    """What tells that a file changed: its modification time and size."""
    return info.st_mtime_ns, info.st_size


def new_temp_beside(target: Path) -> Path:
    """An empty new file in ``target``'s folder (the folder is created when missing).

    Created with the default mode under the umask, like any new file; ``O_EXCL`` avoids races.
    Raises ``OSError``. The caller removes it if it is not moved into place.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".~sheetsync-{secrets.token_hex(6)}{target.suffix}.tmp"
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return temp


def move_into_place(temp: Path, target: Path, expected: tuple[int, int] | None) -> None:
    """Flush ``temp`` and rename it over ``target``.

    With ``expected`` (the :func:`signature` of the target as it was read), the new file takes
    the target's permissions, and :class:`TargetChanged` is raised, with the target untouched,
    when the target no longer matches it. Raises ``OSError`` as the file system does.
    """
    with open(temp, "rb") as written:
        os.fsync(written.fileno())
    if expected is not None:
        current = target.stat()
        os.chmod(temp, stat.S_IMODE(current.st_mode))
        if signature(current) != expected:
            raise TargetChanged(str(target))
    os.replace(temp, target)
    sync_folder(target.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename durable on POSIX; not possible (nor needed) on Windows."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
