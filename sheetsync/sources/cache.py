"""What a run keeps for the next one: each source's last good read, and the program snapshot.

Both live in the state folder, written once per run by the main process, never by the workers
that read the sources:

**The program snapshot** (:class:`Snapshot`, ``snapshot.pkl``) keeps every source's validated
rows in one file, as the program's typed columns (text columns as integer codes into their
distinct values) plus each source's span of rows in them. The next run takes every unchanged
source (same version, same settings, an as-of date inside its validity window, same name)
straight from it, as a view of those rows. It is rewritten when it is missing or has drifted:
when the sources not served from it plus its entries this run did not use (a changed file
counts once for each) come to more than one in :data:`REWRITE_SHARE` of the sources.

**The parse cache** (:class:`ParseCache`, ``cache/*.pack``) keeps the sources read since the
snapshot was written: one *pack* per run, holding one :class:`CacheEntry` per source read in
that run (the validated result, the content version it was read at (see
:meth:`sheetsync.backends.base.Backend.versions`), the settings fingerprint and when it was
read). A newer pack's entry replaces an older one's. When the snapshot is rewritten it holds
every source of the run, so the packs are retired, and the entries of sources this run did not
see are carried into one new pack. A source's last good read is its newest pack entry, else its
snapshot entry: a source that fails to read falls back to it, marked stale.

Every file is *sealed*: a magic line and a SHA-256 of its bytes, and in a pack a SHA-256 per
entry. A file that is missing, from another version, truncated, or damaged in any way reads as
absent and is deleted; a damaged entry of a pack is dropped and the pack rewritten without it.
Nothing damaged is ever trusted, and each file's entry is invalidated on its own (by its
version). Writes go to a temporary file beside the target and are moved into place, so a reader
never sees half a file. A state file that cannot be written only costs speed next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import struct
import time
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

CACHE_MAGIC = b"sheetsync-cache-10\n"  # bump when CacheEntry or WorkbookResult changes shape
SNAPSHOT_MAGIC = b"sheetsync-snapshot-5\n"  # bump when the stored shape changes
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


def write_sealed(path: Path, magic: bytes, value: Any) -> bool:
    """Store ``value`` at ``path`` atomically; False when it cannot be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with open(tmp, "wb") as handle:
            handle.write(magic)
            handle.write(hashlib.sha256(payload).digest())
            handle.write(payload)
        os.replace(tmp, path)
        return True
    except OSError:
        tmp.unlink(missing_ok=True)
        return False


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


PACK_SUFFIX = ".pack"
_ENTRY_HEAD = struct.Struct("<Q32s")  # an entry's length and the SHA-256 of its bytes


def read_pack(path: Path) -> dict[str, CacheEntry]:
    """The entries of one pack by key. A damaged pack is deleted; a damaged entry is dropped,
    and the pack rewritten without it."""
    try:
        blob = path.read_bytes()
    except OSError:
        return {}
    if not blob.startswith(CACHE_MAGIC):
        discard(path)
        return {}
    entries: dict[str, CacheEntry] = {}
    damaged = False
    view, at = memoryview(blob), len(CACHE_MAGIC)
    while at < len(blob):
        if at + _ENTRY_HEAD.size > len(blob):
            damaged = True
            break
        length, digest = _ENTRY_HEAD.unpack_from(blob, at)
        at += _ENTRY_HEAD.size
        payload = view[at:at + length]
        at += length
        if len(payload) != length or hashlib.sha256(payload).digest() != digest:
            damaged = True  # after a damaged length, every later entry fails its check too
            continue
        try:
            entry = pickle.loads(payload)  # noqa: S301 - our own file, checksummed
        except Exception:  # noqa: BLE001 - any damage means: discard
            damaged = True
            continue
        if isinstance(entry, CacheEntry):
            entries[entry.key] = entry
        else:
            damaged = True
    if damaged:
        if entries:
            write_pack(path, entries.values())
        else:
            discard(path)
    return entries


def write_pack(path: Path, entries: Iterable[CacheEntry]) -> bool:
    """Store ``entries`` as one pack at ``path``, atomically; False when it cannot be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(CACHE_MAGIC)
            for entry in entries:
                payload = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
                handle.write(_ENTRY_HEAD.pack(len(payload), hashlib.sha256(payload).digest()))
                handle.write(payload)
        os.replace(tmp, path)
        return True
    except OSError:
        tmp.unlink(missing_ok=True)
        return False


class ParseCache:
    """The per-source parse cache under ``folder`` (see the module note): the packs are read
    on first use; :meth:`store` keeps this run's reads in memory until :meth:`flush` writes
    them as one pack, or :meth:`retire` replaces every pack once the snapshot holds them."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._entries: dict[str, CacheEntry] | None = None
        self._packs: list[Path] = []
        self._pending: dict[str, CacheEntry] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder}  # what was read or is pending stays in this process

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["folder"])  # type: ignore[misc]

    def _stored(self) -> dict[str, CacheEntry]:
        if self._entries is None:
            self._entries = {}
            try:
                self._packs = sorted(self.folder.glob("*" + PACK_SUFFIX))
            except OSError:
                self._packs = []
            for path in self._packs:  # oldest first: a newer entry replaces an older one
                self._entries.update(read_pack(path))
        return self._entries

    def load(self, source: Source) -> CacheEntry | None:
        """The newest entry for ``source``, or None. A damaged entry is deleted, never trusted."""
        key = cache_key(source)
        return self._pending.get(key) or self._stored().get(key)

    def store(self, entry: CacheEntry) -> None:
        """Keep ``entry`` for the pack this run writes (see :meth:`flush`)."""
        self._pending[entry.key] = entry

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Write this run's entries as one pack.

        When an older pack holds a source read again now, its entry there is stale: the packs
        are then merged into one of the newest entries, the old ones deleted. The same few
        workbooks often change night after night (the coaches who log every day), too few to
        move the snapshot; without the merge, a pack a night would pile up and every run would
        read all of them."""
        if not self._pending:
            return
        stored = self._stored()
        if not stored.keys().isdisjoint(self._pending):  # an older pack holds a stale read
            self._replace_packs({**stored, **self._pending})
        elif write_pack(path := self._new_pack(), self._pending.values()):
            stored.update(self._pending)
            self._packs.append(path)
        self._pending = {}

    def _new_pack(self) -> Path:
        return self.folder / f"{time.time_ns():020d}-{os.getpid()}{PACK_SUFFIX}"

    def _replace_packs(self, entries: dict[str, CacheEntry]) -> bool:
        """Replace every pack with one holding ``entries`` (with none when there are none).
        False when it cannot be written: the old packs stay, their entries still the last good
        reads."""
        path = self._new_pack()
        if entries and not write_pack(path, entries.values()):
            return False
        old, self._entries, self._packs = self._packs, entries, [path] if entries else []
        for done in old:
            discard(done)
        return True

    def retire(self, kept: Iterable[str], carried: Iterable[CacheEntry] = (),
               present: set[str] | None = None) -> None:
        """The snapshot now holds the sources keyed ``kept``: replace every pack with one
        holding only the other entries (``carried``, plus those of the packs) of the sources
        keyed ``present`` (default: every source), so a source gone from the program (a
        removed file, a renamed folder) stops costing every later run its bytes."""
        kept = set(kept)
        stored = self._stored()
        rest = {e.key: e for e in carried if e.key not in kept}
        rest.update({k: e for k, e in {**stored, **self._pending}.items() if k not in kept})
        if present is not None:
            rest = {k: e for k, e in rest.items() if k in present}
        self._pending = {}
        if not self._replace_packs(rest):
            self._entries, self._packs = {}, []


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
        return self._result(entry), entry.read_at, entry.version

    def _result(self, entry: SnapshotEntry) -> WorkbookResult:
        records = {frame: FrameSlice(self.frames[frame], start, stop)
                   for frame, (start, stop) in entry.spans.items()}
        return replace(entry.result, records=records)

    def entry(self, key: str) -> CacheEntry | None:
        """The source keyed ``key`` as a cache entry (its last good read), or None."""
        held = self.entries.get(key)
        if held is None:
            return None
        return CacheEntry(key, held.version, self.fingerprint, held.read_at, self._result(held))


@dataclass
class Stored:
    """One source's part of a run, as :func:`write_snapshot` stores it."""

    source: Source
    result: WorkbookResult | None
    version: str
    read_at: datetime | None
    storable: bool  # read now, unchanged since, or stale: a good read with a known version


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
                   frames: dict[str, pd.DataFrame]) -> list[str] | None:
    """Save ``frames`` (built from ``parts`` in order) with each storable source's spans.

    Written atomically; a snapshot that cannot be written only costs speed next time. Returns
    the keys of the sources it holds, or None when nothing was written.
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
        return None  # the frames were not built from these sources: nothing safe to store
    snapshot = Snapshot(fingerprint, entries,
                        {name: frame_columns(name, frames[name]) for name in FRAME_NAMES})
    return list(entries) if write_sealed(path, SNAPSHOT_MAGIC, snapshot) else None


def keep(cache: ParseCache, path: Path, fingerprint: str, snapshot: Snapshot | None,
         parts: list[Stored], frames: dict[str, pd.DataFrame], *, served: int) -> None:
    """Keep this run's reads for the next run, in one write: rewrite the snapshot when it is
    missing or has drifted (and retire the packs it now holds), else write one pack of the
    sources read this run."""
    storable = sum(part.storable for part in parts)
    if needs_rewrite(snapshot, storable=storable, served=served, total=len(parts)):
        held = write_snapshot(path, fingerprint, parts, frames)
        if held is not None:
            now_held = set(held)
            present = {cache_key(part.source) for part in parts}
            carried = [] if snapshot is None else [
                entry for key in snapshot.entries if key not in now_held
                if (entry := snapshot.entry(key)) is not None]
            cache.retire(now_held, carried, present)
            return
    cache.flush()
