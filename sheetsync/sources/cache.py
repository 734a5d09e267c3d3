"""What a run keeps for the next one: each source's last good read, and the program snapshot.

Both live in the state folder as *sealed* files: a pickle behind a magic line and a SHA-256 of
its bytes. A file that is missing, from another version, truncated, or damaged in any way reads
as absent and is deleted: it is never trusted. Writes go to a temporary file beside the target
and are moved into place, so a reader never sees half a file. A state file that cannot be
written only costs speed next time.

**The parse cache** (:class:`ParseCache`) keeps one :class:`CacheEntry` per source: the
validated result, the content version it was read at (see
:meth:`sheetsync.backends.base.Backend.versions`), the settings fingerprint and when it was
read. It is the record of each source's last good read: a source that fails to read falls back
to it, marked stale.

**The program snapshot** (:class:`Snapshot`) keeps every cached source's validated rows in one
file. Loading a thousand cache entries and concatenating their rows costs more than the rest of
a re-run put together, so after a run the built frames are also saved whole, with each source's
span of rows in them. The next run takes every unchanged source (same version, same settings,
an as-of date inside its validity window, same name) straight from the snapshot as a view of
those rows. The snapshot is rewritten when it is missing or has drifted: when the sources not
served from it plus its entries this run did not use (a changed file counts once for each) come
to more than one in :data:`REWRITE_SHARE` of the sources.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.dataset import FRAME_NAMES
from sheetsync.validation.frames import FrameColumns, FrameSlice, frame_columns
from sheetsync.validation.workbook import WorkbookResult

if TYPE_CHECKING:
    import pandas as pd

    from sheetsync.backends.base import Source

CACHE_MAGIC = b"sheetsync-cache-7\n"  # bump when CacheEntry or WorkbookResult changes shape
SNAPSHOT_MAGIC = b"sheetsync-snapshot-2\n"  # bump when the stored shape changes
SNAPSHOT_FILE = "snapshot.pkl"
REWRITE_SHARE = 20
"""Rewrite the snapshot once the drift (see the module note) passes 1 in this many sources."""


# -- sealed files ---------------------------------------------------------------------------------

def read_sealed(path: Path, magic: bytes) -> Any | None:
    """The object stored at ``path``, or None (a damaged file is deleted)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        if not blob.startswith(magic):
            raise ValueError("bad magic")
        digest, payload = blob[len(magic):len(magic) + 32], memoryview(blob)[len(magic) + 32:]
        if hashlib.sha256(payload).digest() != digest:
            raise ValueError("checksum mismatch")
        return pickle.loads(payload)  # noqa: S301 - our own file, checksummed
    except Exception:  # noqa: BLE001 - any damage means: discard
        discard(path)
        return None


def write_sealed(path: Path, magic: bytes, value: Any) -> None:
    """Store ``value`` at ``path`` atomically; errors are swallowed (see the module note)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with open(tmp, "wb") as handle:
            handle.write(magic)
            handle.write(hashlib.sha256(payload).digest())
            handle.write(payload)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def discard(path: Path) -> None:
    # a file that cannot be deleted is still never trusted: it fails its checks again
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


# -- the parse cache ------------------------------------------------------------------------------

@dataclass
class CacheEntry:
    """One source's last good read."""

    key: str  # "<backend>:<location>"
    version: str
    fingerprint: str
    read_at: datetime
    result: WorkbookResult

    def holds(self, fingerprint: str, name: str, as_of: date) -> bool:
        """Made with these settings, for a source of this name, valid on this as-of date (the
        content's version is the backend's to compare)."""
        if self.fingerprint != fingerprint or self.result.source != name:
            return False
        first, last = self.result.as_of_window
        return first <= as_of <= last


def cache_key(source: Source) -> str:
    return f"{source.backend}:{source.location}"


@dataclass(frozen=True)
class ParseCache:
    """The per-source parse cache: one sealed file per source under ``folder``."""

    folder: Path

    def _path(self, key: str) -> Path:
        # A file name that is not valid UTF-8 reaches here as surrogate escapes (PEP 383).
        digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()
        return self.folder / (digest + ".pkl")

    def load(self, source: Source) -> CacheEntry | None:
        """The entry for ``source``, or None. A corrupt entry is deleted, never trusted."""
        key = cache_key(source)
        path = self._path(key)
        entry = read_sealed(path, CACHE_MAGIC)
        if entry is None:
            return None
        if not isinstance(entry, CacheEntry) or entry.key != key:
            discard(path)
            return None
        return entry

    def store(self, entry: CacheEntry) -> None:
        write_sealed(self._path(entry.key), CACHE_MAGIC, entry)


# -- the program snapshot -------------------------------------------------------------------------

@dataclass
class SnapshotEntry:
    """One source as the snapshot holds it: its last read, minus the rows (those are spans)."""

    name: str
    version: str
    read_at: datetime
    result: WorkbookResult  # records left empty; see :meth:`Snapshot.result_for`
    spans: dict[str, tuple[int, int]]


@dataclass
class Snapshot:
    fingerprint: str
    entries: dict[str, SnapshotEntry]  # by cache key
    frames: dict[str, FrameColumns]

    def holds(self, source: Source) -> bool:
        return cache_key(source) in self.entries

    def result_for(self, source: Source, version: str, as_of: date,
                   unchanged: Callable[[str, str], bool]
                   ) -> tuple[WorkbookResult, datetime, str] | None:
        """The stored result of an unchanged source, its rows viewed in place; else None."""
        entry = self.entries.get(cache_key(source))
        if (entry is None or entry.name != source.name or not version
                or not unchanged(entry.version, version)):
            return None
        first, last = entry.result.as_of_window
        if not first <= as_of <= last:
            return None
        records = {frame: FrameSlice(self.frames[frame], start, stop)
                   for frame, (start, stop) in entry.spans.items()}
        return replace(entry.result, records=records), entry.read_at, entry.version


@dataclass
class Stored:
    """One source's part of a run, as :func:`write_snapshot` stores it."""

    source: Source
    result: WorkbookResult | None
    version: str
    read_at: datetime | None
    storable: bool  # read (or unchanged) now, with a known version


def snapshot_path(state_dir: Path) -> Path:
    return state_dir / SNAPSHOT_FILE


def load_snapshot(path: Path, fingerprint: str) -> Snapshot | None:
    """The snapshot at ``path`` when it matches ``fingerprint``; a damaged one is deleted."""
    snapshot = read_sealed(path, SNAPSHOT_MAGIC)
    if snapshot is None:
        return None
    if not isinstance(snapshot, Snapshot) or set(snapshot.frames) != set(FRAME_NAMES):
        discard(path)
        return None
    return snapshot if snapshot.fingerprint == fingerprint else None


def needs_rewrite(snapshot: Snapshot | None, *, storable: int, served: int, total: int) -> bool:
    """Whether the snapshot is missing or has drifted from what this run read."""
    if snapshot is None:
        return bool(storable)
    drift = (storable - served) + (len(snapshot.entries) - served)
    return drift * REWRITE_SHARE > total


def write_snapshot(path: Path, fingerprint: str, parts: Iterable[Stored],
                   frames: dict[str, pd.DataFrame]) -> None:
    """Save ``frames`` (built from ``parts`` in order) with each storable source's spans.

    Written atomically; a snapshot that cannot be written only costs speed next time.
    """
    entries: dict[str, SnapshotEntry] = {}
    offsets = dict.fromkeys(FRAME_NAMES, 0)
    for part in parts:
        if part.result is None:
            continue
        spans = {}
        for frame, rows in part.result.records.items():
            spans[frame] = (offsets[frame], offsets[frame] + len(rows))
            offsets[frame] += len(rows)
        if part.storable and part.read_at is not None:
            entries[cache_key(part.source)] = SnapshotEntry(
                part.source.name, part.version, part.read_at, replace(part.result, records={}),
                spans)
    if any(offsets[name] != len(frames[name]) for name in FRAME_NAMES):
        return  # the frames were not built from these sources: nothing safe to store
    snapshot = Snapshot(fingerprint, entries,
                        {name: frame_columns(name, frames[name]) for name in FRAME_NAMES})
    write_sealed(path, SNAPSHOT_MAGIC, snapshot)
