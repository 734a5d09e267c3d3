"""Replacing a file atomically, the way both of sheetsync's Excel writers do it.

The new content goes to a temporary file beside the target, is flushed to disk, takes the
target's owner, group, permissions and access lists, and is moved over the target in one
rename, but only if the target has not changed since it was read (someone saving it meanwhile
would otherwise lose their edit). The rename is then made durable by syncing the folder where
the platform allows it.
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
    _clear_leftovers(target.parent)
    temp = target.parent / f".~sheetsync-{secrets.token_hex(6)}{target.suffix}.tmp"
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return temp


LEFTOVER_AGE_SECONDS = 24 * 3600
"""A temporary file this old was left by a write that was killed (no write takes a day)."""


def _clear_leftovers(folder: Path) -> None:
    """Remove the temporary files killed writes left in ``folder`` (best effort)."""
    import time

    now = time.time()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".~sheetsync-") and entry.name.endswith(".tmp"):
                    try:
                        if now - entry.stat(follow_symlinks=False).st_mtime > \
                                LEFTOVER_AGE_SECONDS:
                            os.unlink(entry.path)
                    except OSError:
                        pass
    except OSError:
        pass


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
        keep_owner(temp, current)
        os.chmod(temp, stat.S_IMODE(current.st_mode))
        _copy_access_lists(target, temp)
        if signature(current) != expected:
            raise TargetChanged(str(target))
    os.replace(temp, target)
    sync_folder(target.parent)


class OwnerNotKept(PermissionError):
    """The new file could not be given the replaced file's owner or group; nothing was replaced.

    Replacing it anyway would hand a coach's own workbook to whoever runs sheetsync, and the
    coach could no longer save it."""


def keep_owner(temp: Path, current: os.stat_result) -> None:
    """Give ``temp`` the owner and group of the file it replaces (``current``).

    Only needed, and only possible, where the file belongs to someone else: root may give a file
    away; another user may only pick one of their own groups. Raises :class:`OwnerNotKept`."""
    if not hasattr(os, "chown"):
        return  # Windows: a replaced file's owner follows the folder's inheritance rules
    mine = temp.stat()
    if (mine.st_uid, mine.st_gid) == (current.st_uid, current.st_gid):
        return
    try:
        os.chown(temp, current.st_uid, current.st_gid)
    except PermissionError:
        raise OwnerNotKept(
            f"the file belongs to user {current.st_uid}, group {current.st_gid}, and sheetsync "
            f"(user {os.geteuid()}) cannot give the new copy the same owner") from None


def _copy_access_lists(source: Path, temp: Path) -> None:
    """Copy POSIX access control lists (extended attributes of the ``system.`` namespace), where
    the platform has them; best effort, since most files carry none."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = [n for n in os.listxattr(source) if n.startswith("system.posix_acl")]
        for name in names:
            os.setxattr(temp, name, os.getxattr(source, name))
    except OSError:
        pass


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
