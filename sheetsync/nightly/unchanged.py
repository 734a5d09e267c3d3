"""A run whose dashboard would be exactly the last one's is not written again.

After each write of an Excel dashboard the run records, in the state folder, what the dashboard
was made from and what it holds for the terminal:

* a digest of its inputs: sheetsync's version, the whole config, the schemas and validation
  settings (the read fingerprint), the as-of date, the target, and every source in listing
  order with its name, kind and content version (a file's hash);
* the size and modification time of the dashboard file just written;
* the sources' states and the findings, for the summary line and the exit code.

The next run lists its sources and hashes them (no workbook is opened). When the digest is the
same, every source was read fine last time, no listing failed, and the dashboard file is
untouched since, every managed tab would come out the same: the run imports neither pandas nor
openpyxl, and writes nothing but its state. The one thing that would differ is the Run Log: the
run's row is kept in the state folder and written, in order and with its own time, by the next
run that writes the dashboard. The Dashboard tab's generation time stays that of the last
write: the figures are from then, and still hold.

A moving as-of date (the usual nightly run) changes the digest: such a run is always written.
So is any run after a changed, added or removed source, a changed config or a sheetsync
upgrade, and any run to a Google target (telling whether a spreadsheet is untouched costs a
call, and the write costs one more).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync import __version__

if TYPE_CHECKING:
    from sheetsync.backends import Backends
    from sheetsync.backends.base import Target
    from sheetsync.config import Config
    from sheetsync.dataset import SourceStatus
    from sheetsync.findings import Findings
    from sheetsync.report.model import Sheet
    from sheetsync.sources.discover import Discovery

LAST_WRITE_FILE = "last_write.pkl"
LAST_WRITE_MAGIC = b"sheetsync-last-write-1\n"
RUN_LOG_TAB = "Run Log"


@dataclass
class LastWrite:
    """What the last written dashboard was made from (see the module docstring)."""

    digest: str
    target: str
    signature: tuple[int, int]  # the dashboard file's (mtime_ns, size) right after the write
    sources: list[SourceStatus]
    findings: Findings
    columns: dict[str, Any]
    deferred: list[list[Any]] = field(default_factory=list)
    """Run Log rows of the runs since, which changed nothing: the next write adds them."""


def last_write_path(state_dir: Path) -> Path:
    return state_dir / LAST_WRITE_FILE


def load_last_write(state_dir: Path) -> LastWrite | None:
    from sheetsync.sources.cache import read_sealed

    found = read_sealed(last_write_path(state_dir), LAST_WRITE_MAGIC)
    return found if isinstance(found, LastWrite) else None


def save_last_write(state_dir: Path, record: LastWrite) -> None:
    from sheetsync.sources.cache import write_sealed

    write_sealed(last_write_path(state_dir), LAST_WRITE_MAGIC, record)


def forget_last_write(state_dir: Path) -> None:
    last_write_path(state_dir).unlink(missing_ok=True)


def file_signature(path: str) -> tuple[int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def with_versions(found: Discovery, backends: Backends) -> Discovery:
    """The discovery with every source's content version filled in where the backend knows it
    (the sources' files hashed, or a Drive listing); the load loop then asks for none."""
    by_backend: dict[str, list[int]] = {}
    for i, s in enumerate(found.sources):
        if s.version is None:
            by_backend.setdefault(s.backend, []).append(i)
    sources = list(found.sources)
    for name, indices in by_backend.items():
        versions = backends[name].versions([sources[i] for i in indices])
        for i in indices:
            version = versions.get(sources[i].location)
            if version:
                sources[i] = replace(sources[i], version=version)
    return replace(found, sources=sources)


def inputs_digest(config: Config, fingerprint: str, as_of: date, target: Target,
                  found: Discovery) -> str | None:
    """The digest of everything the dashboard is made from; None when a source's version is
    unknown or a listing failed (such a run is always written)."""
    if found.failures or found.findings or any(not s.version for s in found.sources):
        return None
    listing = [(s.backend, s.location, s.name, s.kind, s.write_back, s.version)
               for s in found.sources]
    blob = pickle.dumps((__version__, config, fingerprint, as_of, target, listing))
    return hashlib.sha256(blob).hexdigest()


def unchanged_since(record: LastWrite | None, digest: str | None, target: Target) -> bool:
    """Whether the dashboard would be the last one again (see the module docstring)."""
    return (record is not None and digest is not None and record.digest == digest
            and target.backend == "excel" and record.target == target.location
            and all(s.state == "ok" for s in record.sources)
            and file_signature(target.location) == record.signature)


def with_deferred_rows(sheets: Sequence[Sheet], rows: Sequence[list[Any]]) -> list[Sheet]:
    """The managed tabs with the Run Log rows of the runs that changed nothing before this
    one's own row."""
    if not rows:
        return list(sheets)
    out = []
    for sheet in sheets:
        if sheet.name == RUN_LOG_TAB and sheet.append_only and sheet.tables:
            first, *rest = sheet.tables
            sheet = replace(sheet, tables=[replace(first, rows=[*rows, *first.rows]), *rest])
        out.append(sheet)
    return out
