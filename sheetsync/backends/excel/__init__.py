"""Excel mode: .xlsx, .xlsm, .xls and .ods files on a disk or a shared drive.

The folder has the shape every backend has:

* :mod:`.settings` - the ``[limits]`` section (:class:`ReadLimits`);
* :mod:`.reader` - every tab of a workbook in one pass, with python-calamine;
* :mod:`.writer` - the dashboard workbook, rebuilt atomically, keeping the user's own tabs;
* :mod:`.writeback` - a source's ``Sheetsync Flags`` tab, by a surgical package edit;
* :mod:`.atomic` - lock files, read-only checks and atomic replacement, for both writers;
* :mod:`.templates` - the blank workbooks, generated from the schemas.

:class:`ExcelBackend` puts them behind the contract of :mod:`sheetsync.backends.base`. A file's
content version is a hash of its bytes, so a file that was saved again unchanged is not read
again. Many files are parsed in worker processes: calamine holds the GIL while it parses.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.backends.base import Check, Listing, RawWorkbook, Source, SourceEntry
from sheetsync.backends.excel.reader import EXCEL_SUFFIXES, read_excel
from sheetsync.backends.excel.settings import ReadLimits
from sheetsync.errors import SourceReadError, TargetWriteError
from sheetsync.findings import Finding, Severity

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from sheetsync.config import Config
    from sheetsync.findings import Finding as _Finding
    from sheetsync.report.model import Sheet

POOL_FILES_PER_WORKER = 24
"""Starting a worker process costs about a quarter of a second, the time to parse some two
dozen workbooks: a worker is started for every this many files to parse, up to one per core,
and with fewer than two workers the files are parsed in line (a nightly re-run usually parses
only the few files that changed)."""


def file_hash(path: str) -> str:
    """The content version of a file: a BLAKE2b hash of its bytes."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def expand(pattern: str) -> list[str]:
    """The workbook files a path, glob or folder names (lock files and hidden files left out)."""
    path = Path(pattern)
    if path.is_dir():
        candidates = [str(p) for p in sorted(path.rglob("*"))]
    elif any(ch in pattern for ch in "*?["):
        candidates = sorted(glob.glob(pattern, recursive=True))
    else:
        candidates = [pattern] if path.exists() else []
    return [c for c in candidates
            if Path(c).suffix.lower() in EXCEL_SUFFIXES and not Path(c).name.startswith(("~$", "."))
            and Path(c).is_file()]


@dataclass(frozen=True)
class ExcelBackend:
    """Workbook files on a disk (see the module docstring)."""

    limits: ReadLimits = field(default_factory=ReadLimits)
    workers: int = 0  # worker processes for parsing; 0 = one per core

    name = "excel"
    read_ok = "readable"

    @classmethod
    def from_config(cls, config: Config) -> ExcelBackend:
        return cls(limits=config.limits, workers=config.workers)

    # -- reading -----------------------------------------------------------------------------
    def sources(self, entry: SourceEntry) -> Listing:
        files = expand(entry.location)
        if files:
            return Listing([Source(entry.name if (entry.name and len(files) == 1) else Path(f).stem,
                                   entry.kind, f, self.name, entry.write_back, entry.label)
                            for f in files])
        missing = Finding(
            "no-sources", Severity.ERROR,
            f"{entry.label}: no spreadsheet matches {entry.location}.",
            "Check the path in the config (relative paths start at the config's folder).",
            source=entry.name or Path(entry.location).name, file=entry.location)
        listing = Listing(findings=[missing])
        if not any(ch in entry.location for ch in "*?[") and not Path(entry.location).is_dir():
            # a single named file that is missing is still a source: visibly failed
            listing.sources.append(Source(entry.name or Path(entry.location).stem, entry.kind,
                                          entry.location, self.name, entry.write_back,
                                          entry.label))
        return listing

    def versions(self, sources: Sequence[Source]) -> dict[str, str]:
        found = {}
        for s in sources:
            try:
                found[s.location] = file_hash(s.location)
            except OSError:
                continue  # the read reports it (or falls back to the cached data as stale)
        return found

    def unchanged(self, cached: str, current: str) -> bool:
        return cached == current

    def read(self, source: Source) -> RawWorkbook:
        try:
            version = file_hash(source.location) if Path(source.location).is_file() else None
            raw = read_excel(source.location, self.limits)
        except OSError as exc:
            raise SourceReadError(str(exc), hint="Check the file.") from None
        raw.version = version
        return raw

    def pool(self, count: int) -> Executor | None:
        workers = min(self.workers or os.cpu_count() or 1, count // POOL_FILES_PER_WORKER)
        if workers < 2:
            return None
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers)

    def notices(self) -> list[_Finding]:
        return []

    def api_calls(self) -> dict[str, int]:
        return {}

    # -- writing -----------------------------------------------------------------------------
    def write_tabs(self, target: str, sheets: list[Sheet], now: datetime) -> None:
        from sheetsync.backends.excel.writer import write_workbook

        path = Path(target)
        if path.suffix.lower() != ".xlsx":
            raise TargetWriteError(f"the dashboard must be an .xlsx file, not {path.name}")
        try:
            write_workbook(path, sheets, now=now)
        except PermissionError as exc:
            raise TargetWriteError(str(exc), hint="Close the file if it is open in Excel, and "
                                   "check permissions.") from None

    def write_flags(self, source: Source, header: list[str], rows: list[list[Any]]) -> None:
        from sheetsync.backends.excel.writeback import UnsupportedFormatError, write_flags_tab
        from sheetsync.report.model import FLAGS_TAB

        suffix = Path(source.location).suffix.lower()
        if suffix not in (".xlsx", ".xlsm"):
            raise UnsupportedFormatError(f"Flags cannot be written into a {suffix} file.",
                                         hint="Save the workbook as .xlsx to see flags inside it.")
        write_flags_tab(Path(source.location), header, rows, tab_name=FLAGS_TAB)

    def check(self, target: str | None) -> list[Check]:
        if target is None:
            return []
        path = Path(target)
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not os.access(folder, os.W_OK):
            return [Check(f"target {path}", False, f"cannot write in {folder}")]
        if path.exists():
            # by the permission bits too: os.access says yes to root even for a read-only file
            if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:
                return [Check(f"target {path}", False, "the file is read-only")]
            lock = path.with_name(f"~${path.name}")
            if lock.exists():
                return [Check(f"target {path}", False, "the file is open in Excel; close it")]
        return [Check(f"target {path}", True, "writable")]
