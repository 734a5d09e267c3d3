"""Each workbook file's content version, hashed once per change rather than once per run.

A file's version is a hash of its bytes (:func:`file_hash`), so a workbook saved again unchanged
is not read again. Hashing every file every night costs a read of the whole program, though,
and most nights few files changed. So the hashes are remembered in the state folder with what
``stat`` says of each file (size, modification and change times, inode, device): a file whose
``stat`` is the same as when it was hashed keeps its hash, as ``git`` trusts its index.

A file modified within :data:`RACY_SECONDS` of being hashed is not remembered: on a file system
with coarse timestamps (FAT, some network shares) a second save in the same tick would leave
its ``stat`` unchanged, so such a file is hashed again next time, once it has settled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

VERSIONS_FILE = "file_versions.json"
FORMAT = 1
RACY_SECONDS = 3.0

Stat = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def file_hash(path: str) -> str:
    """The content version of a file: a BLAKE2b hash of its bytes."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_now_ns = time.time_ns


def _stat(info: os.stat_result) -> Stat:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def file_versions(paths: Iterable[str], state_dir: Path | None) -> dict[str, str]:
    """Each readable file's version (a file that cannot be read is left out), taken from what
    ``state_dir`` remembers of a file whose ``stat`` has not changed, else hashed, and
    remembered there. A file remembered but no longer there is forgotten."""
    memo = state_dir / VERSIONS_FILE if state_dir is not None else None
    known = _load(memo) if memo is not None else {}
    changed = memo is not None and not known
    found: dict[str, str] = {}
    settled = _now_ns() - int(RACY_SECONDS * 1e9)
    for path in paths:
        try:
            stat = _stat(os.stat(path))
            held = known.get(path)
            if held is not None and held[0] == stat:
                found[path] = held[1]
                continue
            version = file_hash(path)
            after = _stat(os.stat(path))
        except OSError:
            continue  # the read reports it (or falls back to the cached data as stale)
        found[path] = version
        if after == stat and max(stat[1], stat[2]) < settled:
            known[path] = (stat, version)
            changed = True
        elif known.pop(path, None) is not None:
            changed = True
    for path in [p for p in known if p not in found and not os.path.exists(p)]:
        del known[path]
        changed = True
    if memo is not None and changed:
        _save(memo, known)
    return found


def _load(memo: Path) -> dict[str, tuple[Stat, str]]:
    try:
        stored = json.loads(memo.read_text(encoding="utf-8"))
        if stored.get("format") != FORMAT:
            return {}
        return {path: (tuple(stat), version)  # type: ignore[misc]
                for path, (stat, version) in stored["files"].items()
                if isinstance(stat, list) and len(stat) == 5 and isinstance(version, str)}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}  # missing or damaged: written afresh


def _save(memo: Path, known: dict[str, tuple[Stat, str]]) -> None:
    """Atomically; a state folder that cannot be written only costs the hashing next time."""
    tmp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"format": FORMAT, "files": {
            path: [list(stat), version] for path, (stat, version) in known.items()}},
            separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, memo)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
