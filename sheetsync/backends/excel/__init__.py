"""Excel mode: .xlsx, .xlsm, .xls and .ods files on a disk or a shared drive.

The folder has the shape every backend has:

* :mod:`.settings` - the ``[limits]`` section (:class:`ReadLimits`);
* :mod:`.reader` - every tab of a workbook in one pass, with python-calamine;
* :mod:`.writer` - the dashboard workbook, rebuilt atomically, keeping the user's own tabs;
* :mod:`.own_tabs` - what those tabs keep through the rebuild (cached formula results, dynamic
  arrays), and the edits people make to managed tabs, noticed before they could be lost;
* :mod:`.writeback` - a source's ``Sheetsync Flags`` tab, by a surgical package edit;
* :mod:`.atomic` - lock files, read-only checks and atomic replacement, for both writers;
* :mod:`.templates` - the blank workbooks, generated from the schemas;
* :mod:`.content_versions` - each file's content hash, remembered while its ``stat`` holds.

:class:`ExcelBackend` puts them behind the contract of :mod:`sheetsync.backends.base`. A file's
content version is a hash of its bytes, so a file that was saved again unchanged is not read
again. Many files are parsed in worker processes: calamine holds the GIL while it parses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.backends.base import Check, Listing, RawWorkbook, Source, SourceEntry
from sheetsync.backends.excel.content_versions import file_hash, file_versions
from sheetsync.backends.excel.reader import EXCEL_SUFFIXES, read_excel, shown_name
from sheetsync.backends.excel.settings import ReadLimits
from sheetsync.errors import SourceReadError, TargetWriteError
from sheetsync.findings import Finding, Severity
from sheetsync.report.model import FLAGS_TAB

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


@dataclass
class Expansion:
    """The workbook files a path, glob or folder names, each once by its real path, and what
    was noticed on the way."""

    files: list[str] = field(default_factory=list)
    loops: list[tuple[str, str]] = field(default_factory=list)  # (link, the folder it repeats)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, the one kept)
    unlisted: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)
    real_paths: dict[str, str] = field(default_factory=dict)  # each file's real path

    def real_path(self, file: str) -> str:
        real = self.real_paths.get(file)
        return real if real is not None else os.path.realpath(file)


def _is_workbook_name(name: str) -> bool:
    return Path(name).suffix.lower() in EXCEL_SUFFIXES and not name.startswith(("~$", "."))


def expand(pattern: str) -> Expansion:
    """The workbook files a path, glob or folder names (lock files and hidden files left out).

    A folder is read with everything under it; a glob has ``glob`` semantics (``**`` is any
    depth, hidden folders are skipped). Folder links are followed, but a link back into a folder
    being walked is a loop: it is walked once and reported. A file reached by two paths (a link
    to it, or a link to its folder) is counted once, by its real path.
    """
    found = Expansion()
    path = Path(pattern)
    if path.is_dir():
        root, rest = path, ("**", "*")
    elif any(ch in pattern for ch in "*?["):
        parts = path.parts
        first = next(i for i, part in enumerate(parts) if any(ch in part for ch in "*?["))
        root, rest = (Path(*parts[:first]) if first else Path(".")), parts[first:]
    else:
        if path.is_file():
            found.files.append(pattern)
        return found
    walked: list[tuple[str, str | None]] = []
    _walk(root, tuple(rest), (os.path.realpath(root),), set(), walked, found)
    kept: dict[str, str] = {}
    reals = {candidate: real or os.path.realpath(candidate) for candidate, real in walked}
    candidates = list(reals)
    # Of two paths to one file, the one that is not a link (or goes through none) is kept.
    for candidate in sorted(candidates, key=lambda c: (reals[c] != c, c)):
        real = reals[candidate]
        if real in kept:
            found.duplicates.append((candidate, kept[real]))
            continue
        kept[real] = candidate
        found.files.append(candidate)
        found.real_paths[candidate] = real
    found.files.sort()
    return found


def _walk(folder: Path, rest: tuple[str, ...], stack: tuple[str, ...], done: set,
          out: list[tuple[str, str | None]], found: Expansion) -> None:
    """Match ``rest`` (glob segments) under ``folder``; ``stack`` holds the real paths of the
    folders being walked (a link back to one of them is a loop). Each file found goes to
    ``out`` with its real path when the listing already tells it (None: still to resolve)."""
    import fnmatch

    key = (stack[-1], rest)
    if key in done:
        return  # this folder was already matched against the same segments by another route
    done.add(key)
    head, tail = rest[0], rest[1:]
    if head == "**":
        if tail:
            _walk(folder, tail, stack, done, out, found)
        subfolders = [entry for entry in _entries(folder, found) if _is_folder(entry)
                      and not entry.name.startswith(".")]
        for entry in subfolders:
            _descend(folder / entry.name, rest, stack, done, out, found)
        return
    if not any(ch in head for ch in "*?["):  # a literal name
        child = folder / head
        if not tail:
            if _is_workbook_name(head) and child.is_file():
                out.append((str(child), None))
        elif child.is_dir():
            _descend(child, tail, stack, done, out, found)
        return
    hidden_ok = head.startswith(".")
    matched = [entry for entry in _entries(folder, found)
               if (hidden_ok or not entry.name.startswith("."))
               and fnmatch.fnmatch(entry.name, head)]
    for entry in matched:
        child = folder / entry.name
        if not tail:
            if _is_workbook_name(entry.name) and _is_file(entry):
                # A file that is not a link is where its listing says: in the folder's real
                # path (resolving it again would cost a system call per path part and file).
                out.append((str(child), None if _is_link(entry)
                            else os.path.join(stack[-1], entry.name)))
        elif _is_folder(entry):
            _descend(child, tail, stack, done, out, found)


def _descend(child: Path, rest: tuple[str, ...], stack: tuple[str, ...], done: set,
             out: list[str], found: Expansion) -> None:
    real = os.path.realpath(child)
    if real in stack:
        found.loops.append((str(child), real))
        return
    _walk(child, rest, (*stack, real), done, out, found)


def _entries(folder: Path, found: Expansion) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        found.unlisted.append((str(folder), exc.strerror or str(exc)))
        return []


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows links
    except OSError:
        return False


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()  # follows links
    except OSError:
        return False


def _is_link(entry: os.DirEntry) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return True  # resolved the long way


@dataclass(frozen=True)
class ExcelBackend:
    """Workbook files on a disk (see the module docstring)."""

    limits: ReadLimits = field(default_factory=ReadLimits)
    workers: int = 0  # worker processes for parsing; 0 = one per core
    state_dir: Path | None = None  # where the files' hashes are remembered (None: nowhere)

    name = "excel"
    read_ok = "readable"

    @classmethod
    def from_config(cls, config: Config) -> ExcelBackend:
        return cls(limits=config.limits, workers=config.workers,
                   state_dir=config.output.state_dir)

    # -- reading -----------------------------------------------------------------------------
    def sources(self, entry: SourceEntry) -> Listing:
        found = expand(entry.location)
        files = found.files
        if files:
            # Located by real path, so a file reached through a link, or listed by two
            # entries, is one source (see sources.discover).
            listing = Listing([Source(entry.name if (entry.name and len(files) == 1)
                                      else Path(shown_name(f)).stem, entry.kind,
                                      found.real_path(f), self.name, entry.write_back,
                                      entry.label)
                               for f in files])
            listing.findings.extend(self._notes(entry, found))
            return listing
        missing = Finding(
            "no-sources", Severity.ERROR,
            f"{entry.label}: no spreadsheet matches {entry.location}.",
            "Check the path in the config (relative paths start at the config's folder).",
            source=entry.name or shown_name(entry.location), file=entry.location)
        listing = Listing(findings=[missing, *self._notes(entry, found)])
        if not any(ch in entry.location for ch in "*?[") and not Path(entry.location).is_dir():
            # a single named file that is missing is still a source: visibly failed
            listing.sources.append(Source(entry.name or Path(shown_name(entry.location)).stem,
                                          entry.kind, entry.location, self.name,
                                          entry.write_back, entry.label))
        return listing

    @staticmethod
    def _notes(entry: SourceEntry, found: Expansion) -> list[Finding]:
        """Findings about what a path, glob or folder led to: loops, files reached twice, folders
        that could not be listed."""
        notes = [Finding(
            "source-loop", Severity.WARNING,
            f"{entry.label}: the folder link {link} leads back to {target}, which is already "
            "being read; its workbooks were counted once.",
            "Remove the link, or point the source at a folder without links back into itself.",
            source=shown_name(entry.location), file=link) for link, target in found.loops]
        notes += [Finding(
            "duplicate-source", Severity.INFO,
            f"{entry.label}: {path} is the same file as {kept}; it was read once.",
            "Nothing to fix unless the link is a mistake.",
            source=Path(shown_name(kept)).stem, file=path) for path, kept in found.duplicates]
        notes += [Finding(
            "unreadable-source", Severity.WARNING,
            f"{entry.label}: the folder {folder} could not be listed ({why}); workbooks in it "
            "were not read.", "Check the folder's permissions.",
            source=shown_name(entry.location), file=folder) for folder, why in found.unlisted]
        return notes

    def versions(self, sources: Sequence[Source]) -> dict[str, str]:
        return file_versions([s.location for s in sources], self.state_dir)

    def unchanged(self, cached: str, current: str) -> bool:
        return cached == current

    def read(self, source: Source) -> RawWorkbook:
        try:
            # a version the listing gave is the file's as of this run: a file saved again
            # since then is read as it is now, and only read once more next time
            version = source.version or (file_hash(source.location)
                                         if Path(source.location).is_file() else None)
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

    def write_flags(self, source: Source, sheet: Sheet) -> None:
        from sheetsync.backends.excel.writeback import UnsupportedFormatError, write_flags_tab

        suffix = Path(source.location).suffix.lower()
        if suffix not in (".xlsx", ".xlsm"):
            raise UnsupportedFormatError(f"Flags cannot be written into a {suffix} file.",
                                         hint="Save the workbook as .xlsx to see flags inside it.")
        if sheet.name != FLAGS_TAB:  # a coach's My Summary: several tables
            from sheetsync.backends.excel.writeback import TableBlock, write_tables_tab

            write_tables_tab(Path(source.location), sheet.name, [
                TableBlock(t.columns, t.rows, t.title, t.intro, t.column_widths,
                           t.wrap_columns) for t in sheet.tables])
            return
        table = sheet.tables[0]
        write_flags_tab(Path(source.location), table.columns, table.rows, tab_name=sheet.name,
                        title=table.title, intro=table.intro, widths=table.column_widths,
                        wrap=table.wrap_columns,
                        severity=table.status_columns[0] if table.status_columns else None)

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
