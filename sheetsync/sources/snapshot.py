"""The program snapshot: every cached source's validated rows in one file, for fast re-runs.

The per-file parse cache (:mod:`sheetsync.sources.load`) keeps one entry per workbook, and stays the
record of each source's last good read. Loading a thousand of those entries and concatenating
their rows costs more than the rest of a re-run put together, so after a run the built frames
are also saved whole, with each source's span of rows in them. The next run takes every
unchanged source (same content hash, same settings, an as-of date inside its validity window,
same name) straight from the snapshot as a view of those rows; only the sources that changed
come from their own cache entry or are read again.

The snapshot is rewritten when it is missing or has drifted: when the sources not served from it
plus its entries this run did not use (a changed file counts once for each) come to more than
one in :data:`REWRITE_SHARE` of the sources. A damaged snapshot is
deleted and the run goes on from the per-file cache; it is never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.dataset import FRAME_NAMES
from sheetsync.sources.sealed import discard, read_sealed, write_sealed
from sheetsync.validate.frames import FrameColumns, FrameSlice, frame_columns
from sheetsync.validate.workbook import WorkbookResult

if TYPE_CHECKING:
    import pandas as pd

    from sheetsync.sources.load import LoadedSource

SNAPSHOT_MAGIC = b"sheetsync-snapshot-1\n"  # bump when the stored shape changes
SNAPSHOT_FILE = "snapshot.pkl"
REWRITE_SHARE = 20
"""Rewrite once the drift (see the module note) passes 1 in this many sources."""


@dataclass
class SnapshotEntry:
    """One source as the snapshot holds it: its last read, minus the rows (those are spans)."""

    name: str
    digest: str
    read_at: datetime
    result: WorkbookResult  # records left empty; see :meth:`Snapshot.result_for`
    spans: dict[str, tuple[int, int]]


@dataclass
class Snapshot:
    fingerprint: str
    entries: dict[str, SnapshotEntry]  # by file location
    frames: dict[str, FrameColumns]

    def result_for(self, location: str, digest: str, name: str, as_of: date
                   ) -> tuple[WorkbookResult, datetime] | None:
        """The stored result of an unchanged source, its rows viewed in place; else None."""
        entry = self.entries.get(location)
        if entry is None or entry.digest != digest or entry.name != name or not digest:
            return None
        first, last = entry.result.as_of_window
        if not first <= as_of <= last:
            return None
        records = {frame: FrameSlice(self.frames[frame], start, stop)
                   for frame, (start, stop) in entry.spans.items()}
        return replace(entry.result, records=records), entry.read_at


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


def needs_rewrite(snapshot: Snapshot | None, loaded: list[LoadedSource]) -> bool:
    """Whether the snapshot is missing or has drifted from what this run read."""
    kept = [item for item in loaded if _storable(item)]
    if snapshot is None:
        return bool(kept)
    served = sum(item.from_snapshot for item in loaded)
    drift = (len(kept) - served) + (len(snapshot.entries) - served)
    return drift * REWRITE_SHARE > len(loaded)


def write_snapshot(path: Path, fingerprint: str, loaded: list[LoadedSource],
                   frames: dict[str, pd.DataFrame]) -> None:
    """Save ``frames`` (built from ``loaded`` in order) with each storable source's spans.

    Written atomically; a snapshot that cannot be written only costs speed next time.
    """
    entries: dict[str, SnapshotEntry] = {}
    offsets = dict.fromkeys(FRAME_NAMES, 0)
    for item in loaded:
        if item.result is None:
            continue
        spans = {}
        for frame, rows in item.result.records.items():
            spans[frame] = (offsets[frame], offsets[frame] + len(rows))
            offsets[frame] += len(rows)
        if _storable(item):
            entries[item.source.location] = SnapshotEntry(
                item.source.name, item.digest, item.status.data_as_of,  # type: ignore[arg-type]
                replace(item.result, records={}), spans)
    if any(offsets[name] != len(frames[name]) for name in FRAME_NAMES):
        return  # the frames were not built from these sources: nothing safe to store
    snapshot = Snapshot(fingerprint, entries,
                        {name: frame_columns(name, frames[name]) for name in FRAME_NAMES})
    write_sealed(path, SNAPSHOT_MAGIC, snapshot)


def _storable(item: LoadedSource) -> bool:
    """Read from a local file now (or unchanged since), with its content hash known."""
    return (item.source.backend == "excel" and item.status.state == "ok"
            and item.result is not None and bool(item.digest)
            and item.status.data_as_of is not None)


