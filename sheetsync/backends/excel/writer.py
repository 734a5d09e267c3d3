"""Write sheetsync's managed tabs (the leaders' dashboard workbook) to an ``.xlsx`` file.

The dashboard workbook is **sheetsync's output file**: it is rebuilt with openpyxl on every run.
Leaders may add tabs of their own to it, and those survive, but only as far as openpyxl can
carry them through a load and save.

What is kept in a leader's own tab: cell values (text, numbers, dates, their own formulas with
the results Excel last computed, dynamic arrays included: see :mod:`.own_tabs`), cell styles and
number formats, rich text, merged cells, column widths and row heights, frozen panes,
auto-filters, plain conditional formatting and data validation, cell notes, hyperlinks, defined
names and print settings.

What openpyxl would lose: charts, images, shapes and text boxes, form controls and embedded
objects, threaded comments, slicers and timelines, sparklines and other Excel 2010+ extensions
(some conditional formatting, data validation lists that point at other tabs). Rather than
drop them silently, :func:`write_workbook` looks for them in the existing file first and
refuses to write, naming the tab, when any of the leader's own tabs holds one. Such tabs belong
in a workbook of their own.

Ownership is recorded in a hidden tab, :data:`~sheetsync.report.model.MANIFEST_TAB`, that lists
the tabs sheetsync manages. Managed tabs are replaced on every write, keeping their position;
append-only tabs (the Run Log) keep their earlier rows. A tab that has a managed name but is not
in the manifest is a user's tab, and sheetsync refuses to overwrite it. A managed tab someone
added notes or text to since the last write, or a sheetsync workbook whose manifest was deleted,
is refused too, with a message that says which.

Every refusal raises :class:`~sheetsync.backends.base.TargetWriteError` before anything is
written, so the file on disk is byte-identical to what it was. The new file is written to a
temporary file in the same folder and then moved over the old one with :func:`os.replace`.

Text stays text: every ``str`` is written as an inline string, never as a formula, however it
starts. Only :class:`~sheetsync.report.model.Formula` values become formulas. Excel's
``_xHHHH_`` escapes are applied, so a cell shows exactly the text given, carriage returns
included (Excel and calamine decode them; openpyxl reads them back literally).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import time as clock
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain, compress, pairwise, repeat
from operator import itemgetter, not_
from pathlib import Path, PurePosixPath
from types import NoneType
from typing import TYPE_CHECKING, Any, NamedTuple
from xml.etree import ElementTree as ET

from sheetsync import __version__
from sheetsync.backends.excel.atomic import (
    OwnerNotKept,
    TargetChanged,
    move_into_place,
    new_temp_beside,
    open_lock_file,
    why_unwritable,
)
from sheetsync.backends.excel.ooxml import (
    FORMULA_LIKE_STARTS,
    MAX_CELL_CHARS,
    NS_MAIN,
    NS_PKG_REL,
    NS_REL,
    clean_cell_text,
    clean_label,
    escape_text,
    is_valid_tab_name,
    unescape,
    xml_text,
)
from sheetsync.backends.excel.own_tabs import (
    METADATA_PART,
    METADATA_REL,
    METADATA_TYPE,
    FormulaResults,
    Shape,
    added_cells,
    describe,
    formula_results,
    patch_formula_results,
    saved_since,
    value_metadata_in,
)
from sheetsync.errors import TargetWriteError
from sheetsync.grid import a1, column_letter
from sheetsync.report.model import (
    MANIFEST_TAB,
    STATUS_COLOURS,
    Benchmark,
    Cell,
    Chart,
    Formula,
    Link,
    SeriesStyle,
    Sheet,
    Sparkline,
    Table,
)

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["WriteResult", "write_workbook"]

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
TIME_FORMAT = "hh:mm"
DURATION_FORMAT = "[h]:mm:ss"

# ARGB with an opaque alpha: openpyxl pads plain RGB with "00", which some readers take as clear.
HEADER_FILL = "FF1F4E78"
HEADER_FONT_COLOUR = "FFFFFFFF"
DATA_BAR_COLOUR = "FF5B9BD5"
MIN_COLUMN_WIDTH = 8.0
MAX_COLUMN_WIDTH = 60.0
BULK_CELLS = 300
"""A managed tab with at least this many data cells is written in bulk (see _BulkRows): below
it openpyxl's cells cost little, above it the bulk route is faster (the Chart Data and Sources
tabs of a small program are already worth it)."""
LINK_COLOUR = "FF0563C1"
INTRO_COLOUR = "FF404040"
HEAT_COLOURS = ("FFFFFFFF", "FF63BE7B")  # a colour scale from white (none) to green (most)
BENCHMARK_FILLS = ("FFC6EFCE", "FFFFEB9C", "FFFFC7CE")  # at or above, just below, further below
LINE_HEIGHT_PT = 15.0
HIDDEN_NUMBER = ";;;"  # a number format that shows nothing (a bar drawn over it says it all)
_MODEL_VALUES = (Cell, Link, Sparkline)

MANIFEST_FORMAT = 1
"""Layout version of the manifest tab, so a later sheetsync can read an older one."""

_MAX_UNCOMPRESSED_BYTES = 1_000_000_000  # an existing output bigger than this is not ours

_REL_NS, _PKG_REL_NS, _MAIN_NS = (f"{{{ns}}}" for ns in (NS_REL, NS_PKG_REL, NS_MAIN))
# Relationship types (by their last path segment) of sheet content openpyxl does not carry over.
_DROPPED_RELATIONSHIPS = {
    "drawing": "charts, images or shapes",
    "chart": "a chart",
    "image": "an image",
    "oleObject": "embedded objects",
    "package": "embedded objects",
    "control": "form controls",
    "ctrlProp": "form controls",
    "threadedComment": "threaded comments",
    "slicer": "slicers",
    "timeline": "timelines",
}


@dataclass(frozen=True)
class WriteResult:
    """What a successful :func:`write_workbook` did."""

    path: Path
    managed_tabs: tuple[str, ...]  # every tab sheetsync manages after this write, workbook order
    preserved_tabs: tuple[str, ...]  # tabs sheetsync did not create, carried over untouched
    created: bool  # the file did not exist before
    rows_written: int  # data rows across all tables, including rows kept on append-only tabs
    rows_appended: int  # new rows on append-only tabs
    truncated_cells: int  # text cells cut to MAX_CELL_CHARS
    seconds: float  # wall time spent building and saving


def write_workbook(path: Path, sheets: list[Sheet], *, now: datetime | None = None) -> WriteResult:
    """Write ``sheets`` as sheetsync's managed tabs of the ``.xlsx`` workbook at ``path``.

    A missing file is created. An existing one keeps every tab sheetsync did not create; managed
    tabs are replaced where they stand and new ones are added in the order given. ``now`` is the
    write time recorded in the manifest and the document properties (default: the current UTC
    time), so tests and repeatable runs can fix it.

    Raises :class:`TargetWriteError`, leaving the file untouched, when the target cannot be
    written: it is open or read-only, it is not a readable workbook, a user's tab has a managed
    name, or a user's tab holds content that openpyxl would drop. Raises ``ValueError`` for a
    model that cannot be a workbook (bad or duplicate tab names, unknown chart columns).
    """
    started = clock.perf_counter()
    from openpyxl import Workbook

    _check_model(sheets)
    written_at = _utc(now or datetime.now(UTC))
    target = _resolve_target(Path(path))
    _check_writable(target)

    existing = _open_existing(target, sheets) if target.exists() else None
    if existing is None:
        workbook = Workbook()
        workbook.remove(workbook.active)
        workbook.properties.creator = "sheetsync"
        workbook.properties.created = written_at
        previously_managed: list[str] = []
    else:
        workbook, previously_managed = existing.workbook, existing.managed
        _refuse_user_tabs_with_managed_names(target, workbook, sheets, previously_managed)

    stats = _Stats()
    _place_managed_tabs(workbook, sheets, previously_managed, stats)
    managed = _managed_in_workbook(workbook, sheets, previously_managed)
    shapes, unchecked = _shapes_to_record(existing, managed, stats.shapes)
    _write_manifest(workbook, managed, written_at, shapes, unchecked)
    _open_on_first(workbook, sheets)
    _choose_visible_active_tab(workbook)
    workbook.properties.modified = written_at
    workbook.properties.lastModifiedBy = "sheetsync"

    _save_atomically(workbook, target, existing.signature if existing else None, stats.bulk,
                     existing.results if existing else None)
    preserved = tuple(
        name for name in workbook.sheetnames if name not in managed and name != MANIFEST_TAB
    )
    return WriteResult(
        path=target,
        managed_tabs=tuple(managed),
        preserved_tabs=preserved,
        created=existing is None,
        rows_written=stats.rows_written,
        rows_appended=stats.rows_appended,
        truncated_cells=stats.truncated_cells,
        seconds=clock.perf_counter() - started,
    )


# --------------------------------------------------------------------------- checks before I/O


def _check_model(sheets: Sequence[Sheet]) -> None:
    seen: set[str] = set()
    for sheet in sheets:
        name = sheet.name
        if not is_valid_tab_name(name):
            raise ValueError(f"{name!r} cannot be an Excel tab name")
        if name.casefold() == MANIFEST_TAB.casefold():
            raise ValueError(f"{MANIFEST_TAB!r} is reserved for sheetsync's manifest")
        if name.casefold() in seen:  # Excel tab names are case-insensitive
            raise ValueError(f"tab {name!r} appears twice in the output model")
        seen.add(name.casefold())
        for table in sheet.tables:
            if table.row < 1 or table.col < 1:
                raise ValueError(f"table on tab {name!r} starts outside the sheet")
        for chart in sheet.charts:
            unknown = {chart.category_column, *chart.series_columns} - set(chart.table.columns)
            if unknown:
                raise ValueError(
                    f"chart {chart.title!r} on tab {name!r} uses unknown columns {sorted(unknown)}"
                )


def _resolve_target(path: Path) -> Path:
    # Replacing a symlink would swap the link for a plain file; write to what it points at.
    return path.resolve() if path.is_symlink() else path


def _check_writable(target: Path) -> None:
    if target.suffix.lower() != ".xlsx":
        raise TargetWriteError(
            f"sheetsync writes its dashboard as an .xlsx workbook, not {target.name}.",
            hint="Choose an output path ending in .xlsx with --output.",
        )
    lock = open_lock_file(target)
    if lock is not None:
        raise TargetWriteError(
            f"{target.name} is open in a spreadsheet program (lock file {lock.name}), so "
            "sheetsync did not write it. The file was left unchanged.",
            hint="Close the workbook and run sheetsync again. If it is already closed, "
            f"delete the leftover lock file {lock.name}.",
            transient=True,
        )
    why = why_unwritable(target)
    if why is not None:
        raise _locked(target, why)


def _locked(target: Path, why: str) -> TargetWriteError:
    return TargetWriteError(
        f"sheetsync did not write {target}: {why}. The file was left unchanged.",
        hint="Close the workbook in Excel and make sure the file and its folder can be written, "
        "or choose another --output.",
        transient=True,
    )


# --------------------------------------------------------------------------- the existing file


@dataclass
class _Existing:
    workbook: Workbook
    managed: list[str]  # tab names listed in the manifest
    signature: tuple[int, int]  # (mtime_ns, size) when read, to notice concurrent edits
    results: FormulaResults = field(default_factory=FormulaResults)  # on the leader's own tabs
    manifest: _Manifest | None = None
    saved: bool = False  # someone other than sheetsync saved it since sheetsync's last write


def _open_existing(target: Path, sheets: Sequence[Sheet]) -> _Existing:
    try:
        before = target.stat()
        if not zipfile.is_zipfile(target):
            with target.open("rb") as handle:
                ole = handle.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            # Password-protected .xlsx files are OLE containers, like old .xls files.
            why = "it is password-protected or an old .xls file" if ole else (
                "it is not an .xlsx workbook"
            )
            raise _not_a_workbook(target, why)
        with zipfile.ZipFile(target) as package:
            if sum(info.file_size for info in package.infolist()) > _MAX_UNCOMPRESSED_BYTES:
                raise _not_a_workbook(target, "it unpacks to more than 1 GB")
            tabs = _package_tabs(package)
            manifest = _manifest_from_package(target, tabs)
            manifest_names = manifest.names
            if not any(t.name.casefold() == MANIFEST_TAB.casefold() for t in tabs):
                _refuse_without_manifest(target, package, tabs, sheets)
            _refuse_content_openpyxl_drops(target, package, tabs, manifest_names)
            saved = saved_since(package, manifest.written_at, "sheetsync")
            _refuse_edited_managed_tabs(target, package, tabs, manifest, sheets, saved)
            owned_or_manifest = {n.casefold() for n in manifest_names} | {
                MANIFEST_TAB.casefold()}
            results = formula_results(package, {
                t.name: t.part for t in tabs
                if t.kind == "worksheet" and t.name.casefold() not in owned_or_manifest})
            # Tabs about to be rebuilt need not be parsed: on a large dashboard that is most
            # of the load time. Append-only tabs are parsed, since their rows are kept.
            owned = {name.casefold() for name in manifest_names}
            rebuilt = {
                s.name.casefold() for s in sheets if not s.append_only
            } & owned
            workbook = _load_without(
                target, package, [t for t in tabs if t.name.casefold() in rebuilt]
            )
    except PermissionError as exc:
        raise _locked(target, "sheetsync is not allowed to read it") from exc
    except (OSError, zipfile.BadZipFile, KeyError, ET.ParseError) as exc:
        raise _not_a_workbook(target, "it is not a readable .xlsx workbook") from exc
    security = workbook.security
    if security is not None and security.lockStructure:
        raise TargetWriteError(
            f"{target} has a protected workbook structure, so sheetsync did not add or replace "
            "its tabs. The file was left unchanged.",
            hint="Unprotect the workbook structure (Review > Protect Workbook), or choose "
            "another --output for the dashboard.",
        )
    return _Existing(workbook, manifest_names, (before.st_mtime_ns, before.st_size), results,
                     manifest, saved)


_EMPTY_WORKSHEET = f'<worksheet xmlns="{NS_MAIN}"><sheetData/></worksheet>'.encode()


def _load_without(target: Path, package: zipfile.ZipFile, blanked: list[_PackageTab]) -> Workbook:
    """Load the workbook with openpyxl, reading the ``blanked`` tabs as empty sheets.

    The file on disk is not touched: the blanked copy is built in memory.
    """
    from io import BytesIO

    from openpyxl import load_workbook

    source: Path | BytesIO = target
    parts = {tab.part for tab in blanked if tab.kind == "worksheet"}
    # Their relationships go too, so the charts of a tab about to be rebuilt are not parsed.
    left_out = {_rels_part(part) for part in parts}
    if parts:
        source = BytesIO()
        # Stored, not deflated: the copy lives only for the load, so skip recompressing it.
        with zipfile.ZipFile(source, "w", zipfile.ZIP_STORED, allowZip64=True) as copy:
            for item in package.infolist():
                if item.filename in left_out:
                    continue
                data = _EMPTY_WORKSHEET if item.filename in parts else package.read(item)
                copy.writestr(item.filename, data)
        source.seek(0)
    try:
        return load_workbook(source, rich_text=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _not_a_workbook(target, "openpyxl could not read it") from exc


def _not_a_workbook(target: Path, why: str) -> TargetWriteError:
    return TargetWriteError(
        f"sheetsync did not overwrite {target}: {why}. The file was left unchanged.",
        hint="Move the file away if it can go, or choose another --output for the dashboard.",
    )


@dataclass
class _PackageTab:
    name: str
    kind: str  # "worksheet", "chartsheet", ...
    part: str  # e.g. "xl/worksheets/sheet2.xml"
    relationship_types: list[str]


def _package_tabs(package: zipfile.ZipFile) -> list[_PackageTab]:
    """Each tab's name, kind, part and relationship types, read straight from the zip."""
    workbook_part = "xl/workbook.xml"
    for rel in ET.fromstring(package.read("_rels/.rels")).iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("Type", "").endswith("/officeDocument"):
            workbook_part = rel.get("Target", workbook_part).lstrip("/")
    targets = _relationship_targets(package, workbook_part)
    tabs = []
    for element in ET.fromstring(package.read(workbook_part)).iter(f"{_MAIN_NS}sheet"):
        rel_type, part = targets.get(element.get(f"{_REL_NS}id", ""), ("", ""))
        kind = rel_type.rsplit("/", 1)[-1]
        rel_types = [t for t, _ in _relationship_targets(package, part).values()]
        tabs.append(_PackageTab(element.get("name", ""), kind, part, rel_types))
    return tabs


def _rels_part(part: str) -> str:
    """The part holding ``part``'s relationships."""
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def _relationship_targets(package: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    folder = part.rpartition("/")[0]
    rels_part = _rels_part(part)
    if rels_part not in package.namelist():
        return {}
    found = {}
    for rel in ET.fromstring(package.read(rels_part)).iter(f"{_PKG_REL_NS}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") != "External":
            joined = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
            target = _normalise_part(joined)
        found[rel.get("Id", "")] = (rel.get("Type", ""), target)
    return found


def _normalise_part(part: str) -> str:
    parts: list[str] = []
    for piece in PurePosixPath(part).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in (".", ""):
            parts.append(piece)
    return "/".join(parts)


@dataclass
class _Manifest:
    names: list[str] = field(default_factory=list)  # the managed tabs
    shapes: dict[str, Shape] = field(default_factory=dict)  # of each as last written
    written_at: str | None = None  # "2026-11-04T02:00:00Z"
    unchecked: set[str] = field(default_factory=set)  # saved by a person since, not yet checked


def _manifest_from_package(target: Path, tabs: list[_PackageTab]) -> _Manifest:
    """The manifest tab (read cheaply before the full openpyxl load)."""
    manifest = next((t for t in tabs if t.name.casefold() == MANIFEST_TAB.casefold()), None)
    if manifest is None:
        return _Manifest()
    from openpyxl import load_workbook

    # Read-only mode parses just the tab asked for, so this stays cheap on a large workbook.
    try:
        workbook = load_workbook(target, read_only=True)
        rows = list(workbook[manifest.name].iter_rows(values_only=True))
        workbook.close()
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _not_a_workbook(target, "openpyxl could not read it") from exc
    names = _parse_manifest(rows)
    if names is None:
        raise TargetWriteError(
            f"{target} has a tab named {manifest.name!r} that sheetsync did not create, so "
            "sheetsync did not write it. The file was left unchanged.",
            hint=f"Rename your tab {manifest.name!r}, or choose another --output for the "
            "dashboard.",
        )
    shapes = {unescape(str(row[1])): shape for row in rows[2:]
              if len(row) > 2 and row[0] == "managed_tab" and row[1]
              and (shape := Shape.parse(row[2])) is not None}
    written = next((str(row[1]) for row in rows[2:] if len(row) > 1 and row[0] == "last_written"),
                   None)
    unchecked = {unescape(str(row[1])) for row in rows[2:]
                 if len(row) > 3 and row[0] == "managed_tab" and row[3] == "unchecked"}
    return _Manifest(names, shapes, written, unchecked)


def _parse_manifest(rows: list[tuple[Any, ...]]) -> list[str] | None:
    if len(rows) < 2 or not rows[0] or rows[0][0] != "key" or rows[1][0] != "format":
        return None
    return [
        unescape(str(row[1]))
        for row in rows[2:]
        if len(row) > 1 and row[0] == "managed_tab" and row[1]
    ]


def _refuse_without_manifest(target: Path, package: zipfile.ZipFile, tabs: list[_PackageTab],
                             sheets: Sequence[Sheet]) -> None:
    """A workbook that sheetsync wrote but whose manifest tab was deleted: say so, rather than
    take its own tabs for a user's (whose charts it would then refuse to drop)."""
    ours = {s.name.casefold() for s in sheets}
    clashing = [t.name for t in tabs if t.name.casefold() in ours]
    if not clashing:
        return
    try:
        creator = re.search(rb"<dc:creator>([^<]*)</dc:creator>",
                            package.read("docProps/core.xml"))
    except KeyError:
        creator = None
    if creator is None or creator.group(1) != b"sheetsync":
        return  # a user's workbook: the managed-name check below says which tab clashes
    raise TargetWriteError(
        f"{target} is a dashboard sheetsync wrote, but its hidden {MANIFEST_TAB!r} tab, which "
        "lists the tabs sheetsync manages, is gone, so sheetsync cannot tell its tabs "
        f"({', '.join(clashing[:3])}{', ...' if len(clashing) > 3 else ''}) from yours and did "
        "not write it. The file was left unchanged.",
        hint="Undo the deletion of the hidden tab if you can. Otherwise move the workbook "
        "away (keep any tabs of your own in another workbook) and run again: sheetsync writes "
        "a new dashboard.",
    )


def _refuse_edited_managed_tabs(target: Path, package: zipfile.ZipFile,
                                tabs: list[_PackageTab], manifest: _Manifest,
                                sheets: Sequence[Sheet], saved: bool) -> None:
    """Refuse when someone added notes or typed into a managed tab this write would rebuild.

    ``saved``: someone other than sheetsync saved the workbook since its last write (else only
    the tabs an earlier write left unchecked are read)."""
    rebuilt = {s.name.casefold() for s in sheets} & {n.casefold() for n in manifest.names}
    for tab in tabs:
        if tab.name.casefold() not in rebuilt:
            continue
        notes = {"comments", "threadedComment"} & {t.rsplit("/", 1)[-1]
                                                    for t in tab.relationship_types}
        where: str | None = None
        if notes:
            where = "notes (comments)"
        else:
            shape = manifest.shapes.get(tab.name)
            if shape is None or tab.part not in package.namelist():
                continue
            if not saved and tab.name not in manifest.unchecked:
                continue
            added = added_cells(package.read(tab.part), shape)
            if added is None:
                continue
            where = f"text typed into {describe(added)}" if added else "text typed into cells"
        raise TargetWriteError(
            f"{target}: the tab {tab.name!r} is sheetsync's (it is rebuilt on every run), but "
            f"it now holds {where} that sheetsync did not write. Rebuilding it would lose them, "
            "so sheetsync did not write the workbook. The file was left unchanged.",
            hint=f"Move what you added to {tab.name!r} into a tab of your own (sheetsync keeps "
            "your own tabs), or delete it; then run again.",
        )


def _refuse_content_openpyxl_drops(
    target: Path, package: zipfile.ZipFile, tabs: list[_PackageTab], managed: list[str]
) -> None:
    owned = {name.casefold() for name in managed} | {MANIFEST_TAB.casefold()}
    for tab in tabs:
        if tab.name.casefold() in owned:
            continue  # rebuilt by sheetsync anyway
        losses: list[str] = []
        if tab.kind == "chartsheet":
            losses.append("it is a chart sheet")
        for rel_type in tab.relationship_types:
            what = _DROPPED_RELATIONSHIPS.get(rel_type.rsplit("/", 1)[-1])
            if what and what not in losses:
                losses.append(what)
        xml = package.read(tab.part) if tab.part in package.namelist() else b""
        if b"<extLst" in xml or b":extLst" in xml:
            losses.append("Excel 2010+ features such as sparklines or cross-tab dropdown lists")
        if value_metadata_in(xml):
            losses.append("pictures in cells or linked data types")
        if losses:
            raise TargetWriteError(
                f"{target} has a tab {tab.name!r} with {', '.join(losses)}, which would be lost "
                "when sheetsync rewrites the workbook, so sheetsync did not write it. The file "
                "was left unchanged.",
                hint="sheetsync rewrites its output workbook on every run; in your own tabs it "
                "keeps values, formulas, styles, merged cells, notes, filters and plain "
                "conditional formatting, but not charts, images, shapes, controls or sparklines. "
                f"Move {tab.name!r} to a workbook of your own, or choose another --output.",
            )


def _refuse_user_tabs_with_managed_names(
    target: Path, workbook: Workbook, sheets: Sequence[Sheet], managed: list[str]
) -> None:
    owned = {name.casefold() for name in managed}
    existing = {name.casefold(): name for name in workbook.sheetnames}
    for sheet in sheets:
        user_tab = existing.get(sheet.name.casefold())
        if user_tab is not None and sheet.name.casefold() not in owned:
            raise TargetWriteError(
                f"{target} already has a tab named {user_tab!r} that sheetsync did not create, "
                f"so sheetsync did not overwrite it. The file was left unchanged.",
                hint=f"Rename your tab {user_tab!r} (sheetsync writes its own {sheet.name!r} "
                "tab), or choose another --output for the dashboard.",
            )


# --------------------------------------------------------------------------- managed tabs


@dataclass
class _Stats:
    rows_written: int = 0
    rows_appended: int = 0
    truncated_cells: int = 0
    bulk: dict[str, _BulkRows] = field(default_factory=dict)  # tab name -> cells as XML
    shapes: dict[str, Shape] = field(default_factory=dict)  # tab name -> what was written
    dxf_ids: dict[str, int] = field(default_factory=dict)  # fill colour -> differential style


def _place_managed_tabs(
    workbook: Workbook, sheets: Sequence[Sheet], managed: list[str], stats: _Stats
) -> None:
    """Replace managed tabs where they stand; add new ones after the previous managed tab."""
    owned = {name.casefold() for name in managed}
    by_name = {name.casefold(): name for name in workbook.sheetnames}
    manifest_index = next(
        (i for i, name in enumerate(workbook.sheetnames) if name == MANIFEST_TAB), None
    )
    previous: Worksheet | None = None
    for sheet in sheets:
        old_name = by_name.get(sheet.name.casefold())
        kept_rows: list[list[Any]] = []
        if old_name is not None and sheet.name.casefold() in owned:
            old = workbook[old_name]
            if sheet.append_only and sheet.tables:
                kept_rows = _earlier_rows(old, sheet.tables[0])
            index = workbook.index(old)
            workbook.remove(old)
        elif previous is not None:
            index = workbook.index(previous) + 1
        else:
            index = manifest_index if manifest_index is not None else len(workbook.sheetnames)
        worksheet = workbook.create_sheet(sheet.name, index)
        _render_sheet(worksheet, sheet, kept_rows, stats)
        manifest_index = next(
            (i for i, name in enumerate(workbook.sheetnames) if name == MANIFEST_TAB), None
        )
        previous = worksheet


def _managed_in_workbook(
    workbook: Workbook, sheets: Sequence[Sheet], managed: list[str]
) -> list[str]:
    # Managed tabs this model no longer writes stay managed (and untouched): a run never
    # deletes a tab, so an older Run Log or a renamed model cannot lose anyone's history.
    owned = {s.name.casefold() for s in sheets} | {name.casefold() for name in managed}
    return [n for n in workbook.sheetnames if n.casefold() in owned and n != MANIFEST_TAB]


def _earlier_rows(old: Worksheet, table: Table) -> list[list[Any]]:
    """Data rows already on an append-only tab, arranged under the model's columns.

    Columns are matched by header name, so a log whose columns changed between versions keeps
    its history; an old column the model no longer has is dropped. When no header matches at
    all, the rows are kept by position rather than lost.
    """
    width = max(old.max_column - table.col + 1, len(table.columns), 1)
    header = [
        unescape(v) if isinstance(v, str) else v
        for v in next(
            old.iter_rows(
                min_row=table.header_row,
                max_row=table.header_row,
                min_col=table.col,
                max_col=table.col + width - 1,
                values_only=True,
            ),
            (),
        )
    ]
    position = {name: i for i, name in enumerate(header) if name in table.columns}
    if not position:
        position = {name: i for i, name in enumerate(table.columns)}
    rows: list[list[Any]] = []
    for cells in old.iter_rows(
        min_row=table.first_data_row, min_col=table.col, max_col=table.col + width - 1
    ):
        values = [_earlier_value(cell) for cell in cells]
        row = [values[position[c]] if c in position else None for c in table.columns]
        if any(v is not None for v in row):
            rows.append(row)
    return rows


def _earlier_value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, str):
        return unescape(value)
    if (
        isinstance(value, datetime)
        and cell.number_format == DATE_FORMAT
        and value.time() == time(0)
    ):
        return value.date()
    return value


def _render_sheet(
    worksheet: Worksheet, sheet: Sheet, kept_rows: list[list[Any]], stats: _Stats
) -> None:
    widths: dict[int, float] = {}
    written: list[Table] = []
    bulk = None
    if _renders_in_bulk(sheet, kept_rows):
        bulk = _BulkRows(worksheet, cell_by_cell=_tables_overlap(sheet.tables))
    for i, table in enumerate(sheet.tables):
        if i == 0 and kept_rows:
            stats.rows_appended += len(table.rows)
            table = replace(table, rows=[*kept_rows, *table.rows])
            # Charts must point at the table as written, not the model's shorter one.
            sheet = _with_table_replaced(sheet, sheet.tables[0], table)
        elif i == 0 and sheet.append_only:
            stats.rows_appended += len(table.rows)
        stats.rows_written += len(table.rows)
        written.append(table)
        if bulk is not None:
            _write_table_in_bulk(bulk, table, widths, stats)
        else:
            _write_table(worksheet, table, widths, stats)
        if i == 0 and sheet.auto_filter:
            worksheet.auto_filter.ref = _range(
                table.header_row, table.col, max(table.last_row, table.header_row), table.last_col
            )
    if bulk is not None:
        stats.bulk[worksheet.title] = bulk
    stats.shapes[worksheet.title] = _shape(written)
    widths.update(sheet.column_widths)
    for column, width in sorted(widths.items()):
        worksheet.column_dimensions[column_letter(column)].width = width
    heights = _row_heights(sheet.tables, widths)
    if bulk is not None:
        bulk.heights = heights  # rows written in bulk carry their own heights
    else:
        for row, height in heights.items():
            worksheet.row_dimensions[row].height = height
    for chart in sheet.charts:
        _add_chart(worksheet, chart)
    if sheet.freeze_rows > 0:
        worksheet.freeze_panes = f"A{sheet.freeze_rows + 1}"
    if sheet.hidden:
        worksheet.sheet_state = "hidden"
    # Leaders print the dashboard: landscape, one page wide, the page's own area when given.
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    if sheet.page_breaks:
        from openpyxl.worksheet.pagebreak import Break

        for row in sheet.page_breaks:
            worksheet.row_breaks.append(Break(id=row - 1))  # a break after the row above
    if sheet.print_area is not None:
        worksheet.print_area = _range(*sheet.print_area)
        worksheet.print_options.horizontalCentered = True
        worksheet.page_margins.left = worksheet.page_margins.right = 0.4
        worksheet.page_margins.top = worksheet.page_margins.bottom = 0.5


def _row_heights(tables: Sequence[Table], widths: dict[int, float]) -> dict[int, float]:
    """Rows tall enough for their text (in points, by row): a large title's, a wrapped
    header's, a wrapped column's."""
    heights: dict[int, float] = {}

    def grow(row: int, height: float) -> None:
        heights[row] = max(heights.get(row, 0.0), height)

    for table in tables:
        if table.title and table.title_size > 13:
            grow(table.row, table.title_size * 1.6)
        named = {name: widths.get(table.col + i, MIN_COLUMN_WIDTH)
                 for i, name in enumerate(table.columns)}
        header = max((_wrapped(name, named[name]) for name in table.columns), default=1)
        if header > 1:
            grow(table.header_row, LINE_HEIGHT_PT * header)
        for offset, lines in enumerate(table.row_lines(named)):
            if lines > 1:
                grow(table.first_data_row + offset, LINE_HEIGHT_PT * lines)
    return heights


def _wrapped(text: str, width: float) -> int:
    from sheetsync.report.model import wrapped_lines

    return wrapped_lines(text, max(width - 1, 4.0))


def _shape(tables: Sequence[Table]) -> Shape:
    """What the tables put on a tab: the cells that hold content (as :func:`own_tabs.
    content_cells` counts them in the saved sheet: no formulas, no empty text) and the range
    the tables span. Overlapping tables count a shared cell twice: a shape may overstate, never
    understate, what was written, so an unedited tab never looks edited."""
    if not tables:
        return Shape(0, 1, 1, 1, 1)
    count = 0
    for table in tables:
        if table.title and _excel_text(table.title)[0]:
            count += 1
        count += sum(1 for line in table.intro if line and _excel_text(line)[0])
        count += sum(1 for name in table.columns if _excel_text(name)[0])
        width = len(table.columns)
        cells = (row if len(row) <= width else row[:width] for row in table.rows)
        try:  # each distinct value judged once: a table's values repeat down its columns
            count += sum(n for raw, n in Counter(itertools.chain.from_iterable(cells)).items()
                         if _holds_content(raw))
        except TypeError:  # an unhashable value: every cell judged on its own
            count += sum(_holds_content(raw) for row in table.rows
                         for raw in (row if len(row) <= width else row[:width]))
    return Shape(count, min(t.row for t in tables), min(t.col for t in tables),
                 max(max(t.last_row, t.header_row) for t in tables),
                 max(max(t.last_col, t.col) for t in tables))


def _holds_content(raw: Any) -> bool:
    """Whether a model value leaves content in its saved cell (see :func:`_shape`)."""
    kind = type(raw)
    if kind is str:  # the usual cells first
        return bool(raw) and (raw.isprintable() or bool(_excel_text(raw)[0]))
    if kind is float:
        return math.isfinite(raw)
    if kind is int or kind is bool or kind is date or kind is datetime:
        return True
    if raw is None:
        return False
    value = _plain_value(raw)
    return value is not None and type(value) is not Formula and not (
        isinstance(value, str) and not _excel_text(value)[0])


def _with_table_replaced(sheet: Sheet, old: Table, new: Table) -> Sheet:
    """``sheet`` with table ``old`` swapped for ``new``, charts drawn from it included."""
    charts = [replace(c, table=new) if c.table is old else c for c in sheet.charts]
    return replace(sheet, tables=[new if t is old else t for t in sheet.tables], charts=charts)


def _renders_in_bulk(sheet: Sheet, kept_rows: list[list[Any]]) -> bool:
    """Large tabs are written straight to sheet XML, not as openpyxl cells.

    openpyxl spends most of a district-scale run creating and serialising cell objects; the
    bulk route writes the same cells, values and styles at a fraction of the cost. Charts,
    filters, frozen panes and conditional formats refer to ranges, so openpyxl still draws them.
    """
    if kept_rows or sheet.append_only:
        return False
    cells = sum(len(t.rows) * len(t.columns) for t in sheet.tables)
    return cells >= BULK_CELLS


def _tables_overlap(tables: Sequence[Table]) -> bool:
    """Whether any two tables share a cell (a model error, but one that must not scramble rows).

    The bulk writer joins each table row's cells into one run, and orders runs by column; that
    orders the cells too only when no table reaches into another.
    """
    boxes = [(t.row, max(t.last_row, t.header_row), t.col, max(t.last_col, t.col))
             for t in tables]
    return any(
        a[0] <= b[1] and b[0] <= a[1] and a[2] <= b[3] and b[2] <= a[3]
        for i, a in enumerate(boxes) for b in boxes[i + 1:]
    )


def _write_table_in_bulk(
    bulk: _BulkRows, table: Table, widths: dict[int, float], stats: _Stats
) -> None:
    """:func:`_write_table`, with every cell rendered by ``bulk`` instead of openpyxl.

    The data goes column by column (see :func:`_render_column`): a column usually holds values
    of one type, so it is looked over once and rendered in bulk, where a loop over the cells
    would spend most of a district-scale write deciding each value's type.
    """
    from openpyxl.styles import Alignment, Font, PatternFill

    if table.title:
        text = table.title
        bulk.text(table.row, table.col, text, stats, ("title", table.title_size),
                  font=Font(bold=True, size=table.title_size))
    for offset, line in enumerate(table.intro):
        bulk.text(table.intro_row + offset, table.col, line, stats, ("intro",),
                  font=Font(italic=True, color=INTRO_COLOUR))
    header = {
        "font": Font(bold=True, color=HEADER_FONT_COLOUR),
        "fill": PatternFill(fill_type="solid", start_color=HEADER_FILL, end_color=HEADER_FILL),
        "alignment": Alignment(vertical="center", wrap_text=True),
    }
    for offset, name in enumerate(table.columns):
        bulk.text(table.header_row, table.col + offset, name, stats, ("header",), **header)

    width = len(table.columns)
    formats = [table.number_formats.get(name) for name in table.columns]
    aligns = _alignments(table)
    for number_format, align in zip(formats, aligns, strict=True):
        bulk.number_tail(number_format, align)  # each column's number style, registered first
    measured = [_text_width(name) for name in table.columns]
    first_row, first_col = table.first_data_row, table.col
    if table.rows:
        count = len(table.rows)
        bulk.span(first_row, first_row + count - 1, first_col, first_col + width - 1)
        refs = [f'{row}"' for row in range(first_row, first_row + count)]  # ends r="A7"
        columns = [_Column.of(values) for values in _columns(table.rows, width)]
        _register_styles_row_by_row(bulk, columns, formats, aligns)
        pieces: list[list[Iterable[str]]] = []
        for offset, name in enumerate(table.columns):
            found, used, truncated = _render_column(
                bulk, column_letter(first_col + offset), refs, columns[offset], formats[offset],
                # A width is only measured where the model does not fix it.
                measure=table.column_widths.get(name) is None, align=aligns[offset],
            )
            pieces.append(found)
            stats.truncated_cells += truncated
            measured[offset] = max(measured[offset], used)
            if Link in columns[offset].kinds:
                bulk.links += _links(first_row, first_col + offset, columns[offset].values)
        bulk.block(first_row, first_col, refs, pieces)

    for offset, name in enumerate(table.columns):
        column = table.col + offset
        chosen = table.column_widths.get(name)
        if chosen is None:
            chosen = min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, measured[offset] + 2))
        widths[column] = max(widths.get(column, 0.0), chosen)

    _add_conditional_formats(bulk.worksheet, table, stats.dxf_ids)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """The first ``width`` values of every row, column by column; None where a row is short.

    Not ``zip(*rows)``: that holds an iterator per row, tens of thousands of objects that
    wake the garbage collector for nothing.
    """
    if min(map(len, rows), default=width) >= width:
        return [list(map(itemgetter(offset), rows)) for offset in range(width)]
    return [[row[offset] if len(row) > offset else None for row in rows]
            for offset in range(width)]


class _Column(NamedTuple):
    """A column of table data, looked over once for the ways it can be rendered."""

    values: Sequence[Any]
    kinds: set[type]  # the types of its values, None aside
    blanks: bool  # it holds None
    # Its distinct values, in order of first appearance, when they all have one hashable
    # type, so that equal values render alike (True == 1 across types would not). Floats are
    # left out: -0.0 and 0.0 are equal but render differently. Plain numbers need none.
    distinct: dict[Any, None] | None

    @staticmethod
    def of(values: Sequence[Any]) -> _Column:
        kinds = set(map(type, values))
        blanks = NoneType in kinds
        kinds.discard(NoneType)
        distinct = None
        kind = next(iter(kinds)) if len(kinds) == 1 else float
        if kind is not int and not issubclass(kind, float):
            with suppress(TypeError):  # unhashable values: none
                distinct = dict.fromkeys(values)
        return _Column(values, kinds, blanks, distinct)

    @property
    def numbers(self) -> bool:
        """Only ints, floats and blanks (NaN and infinities render empty, like None)."""
        return self.kinds <= {int, float}


def _register_styles_row_by_row(
    bulk: _BulkRows, columns: list[_Column], formats: list[str | None],
    aligns: Sequence[str | None] | None = None,
) -> None:
    """Register the styles of a table's data cells in the order a row-by-row write would.

    The workbook numbers styles in the order they are first used. Rendering column by column
    would number a table's styles differently from a write row by row: the same look, but
    another ``styles.xml``. Registered up front, they keep the numbers they always had.
    """
    aligns = aligns or [None] * len(columns)
    first_uses = [
        (row, offset, key, attributes)
        for offset, column in enumerate(columns)
        for row, key, attributes in _first_uses(column, formats[offset], aligns[offset])
    ]
    first_uses.sort(key=lambda use: use[:2])
    for _, _, key, attributes in first_uses:
        bulk._style(key, **attributes)


def _first_uses(column: _Column, number_format: str | None, align: str | None = None
                ) -> list[tuple[int, tuple[Any, ...], dict[str, Any]]]:
    """Each style a column's cells use (see :func:`_data_style`), with the first row using it.

    Plain numbers use the column's number style, registered before any data: they are left
    out. Distinct values are styled once each, as :func:`_render_column` renders them.
    """
    if column.numbers:
        return []
    if column.distinct is None:
        found: dict[tuple[Any, ...], tuple[int, tuple[Any, ...], dict[str, Any]]] = {}
        for row, raw in enumerate(column.values):
            if type(raw) in (int, float) or (value := _plain_value(raw)) is None:
                continue  # a number (the column's number style) or an empty cell
            key, attributes = _data_style(value, number_format, align)
            if attributes and key not in found:
                found[key] = (row, key, attributes)
        return list(found.values())
    style_of: dict[Any, tuple[tuple[Any, ...], dict[str, Any]]] = {}
    for raw in column.distinct:
        value = _plain_value(raw)
        if value is not None and (style := _data_style(value, number_format, align))[1]:
            style_of[raw] = style
    wanted = {key for key, _ in style_of.values()}
    uses: list[tuple[int, tuple[Any, ...], dict[str, Any]]] = []
    for row, raw in enumerate(column.values):  # usually over at the first row
        if not wanted:
            break
        style = style_of.get(raw)
        if style is not None and style[0] in wanted:
            wanted.discard(style[0])
            uses.append((row, *style))
    return uses


def _render_column(
    bulk: _BulkRows, letter: str, refs: list[str], column: _Column,
    number_format: str | None, *, measure: bool = True, align: str | None = None,
) -> tuple[list[Iterable[str]], float, int]:
    """One column of a table: its cells' XML, its display width and its truncated cells.

    ``refs`` ends each row's cell reference (``'7"'`` for row 7). The XML comes as "pieces":
    iterables that each yield one string per row, a row's cell being the strings they yield
    for it joined (an empty cell is ""). Most pieces are shared constants, so a row is
    assembled by one ``str.join`` rather than a string built per cell.

    Gives the cells :func:`_render_cells` gives, faster for the usual kinds of column: plain
    numbers, and values of one hashable type such as names or dates, each distinct value
    being rendered once. Anything else goes cell by cell. ``align`` is the column's alignment
    (see :func:`_alignments`).
    """
    if column.numbers:
        return _render_numbers(bulk, letter, refs, column, number_format, measure, align)
    if column.distinct is not None:
        return _render_distinct(bulk, letter, refs, column.values, column.distinct, number_format,
                                align)
    return _render_cells(bulk, letter, refs, column.values, number_format, align)


def _render_numbers(
    bulk: _BulkRows, letter: str, refs: list[str], column: _Column, number_format: str | None,
    measure: bool, align: str | None = None,
) -> tuple[list[Iterable[str]], float, int]:
    """A column of ints, floats and blanks; NaN and infinities are left empty, like None."""
    values, kinds = column.values, column.kinds
    start, tail = f'<c r="{letter}', bulk.number_tail(number_format, align)
    signed_zeros = float in kinds
    dense = not column.blanks and len(kinds) == 1 and (
        kinds == {int} or all(map(math.isfinite, values))
    )
    pieces: list[Iterable[str]]
    if dense:
        kept = values
        bodies = _number_texts(values, signed_zeros=signed_zeros, before=tail, after="</v></c>")
        pieces = [repeat(start), refs, map(bodies, values)]
    else:
        kept = [v if v is not None and (type(v) is int or math.isfinite(v)) else None
                for v in values]
        text_of = _number_texts([v for v in kept if v is not None], signed_zeros=signed_zeros)
        pieces = [[f"{start}{ref}{tail}{text_of(v)}</v></c>" if v is not None else ""
                   for ref, v in zip(refs, kept, strict=True)]]
    used = 0.0
    if measure:
        # A number's display width grows with its magnitude: the extremes are the widest.
        for kind in kinds:
            found = kept if dense else [v for v in kept if type(v) is kind]
            if found:
                used = max(used, _number_width(min(found), number_format),
                           _number_width(max(found), number_format))
    return pieces, used, 0


def _number_texts(numbers: Sequence[int | float], *, signed_zeros: bool, before: str = "",
                  after: str = "") -> Callable[[int | float], str]:
    """The text of each of ``numbers`` (between ``before`` and ``after``), formatting every
    distinct number once.

    Formatting a float is slow next to a dict lookup, and a column repeats its numbers often.
    Equal numbers format alike (1 and 1.0 both as "1"), except 0.0 and -0.0: when the numbers
    may hold both (``signed_zeros``, some are floats), a -0.0 has every number formatted.
    """
    distinct = set(numbers)
    if signed_zeros and 0 in distinct:
        zeros = compress(numbers, map(not_, numbers))
        if -1.0 in map(math.copysign, repeat(1.0), zeros):  # a -0.0
            return lambda number: f"{before}{_number_text(number)}{after}"
    return {number: f"{before}{_number_text(number)}{after}" for number in distinct}.__getitem__


def _render_distinct(
    bulk: _BulkRows, letter: str, refs: list[str], values: Sequence[Any],
    distinct: Iterable[Any], number_format: str | None, align: str | None = None,
) -> tuple[list[Iterable[str]], float, int]:
    """A column of one hashable type: each distinct value's body is rendered once."""
    found_of: dict[Any, tuple[str, float, int] | None] = {}
    used, truncations = 0.0, False
    for raw in distinct:
        value = _plain_value(raw)  # None, NaT, pd.NA, ... make an empty cell
        found = found_of[raw] = (bulk.body(value, number_format, align) if value is not None
                                 else None)
        if found is not None:
            used = max(used, found[1])
            truncations = truncations or found[2] > 0
    truncated = 0
    if truncations:
        truncated = sum(found[2] for v in values if (found := found_of[v]) is not None)
    start = f'<c r="{letter}'
    pieces: list[Iterable[str]]
    if None not in found_of.values():  # no empty cells
        bodies = {raw: found[0] for raw, found in found_of.items() if found is not None}
        pieces = [repeat(start), refs, map(bodies.__getitem__, values)]
    else:
        pieces = [[f"{start}{ref}{found[0]}" if (found := found_of[v]) is not None else ""
                   for ref, v in zip(refs, values, strict=True)]]
    return pieces, used, truncated


def _render_cells(
    bulk: _BulkRows, letter: str, refs: list[str], values: Sequence[Any],
    number_format: str | None, align: str | None = None,
) -> tuple[list[Iterable[str]], float, int]:
    """:func:`_render_column`, one cell at a time: for columns of mixed or unusual types."""
    start, tail = f'<c r="{letter}', bulk.number_tail(number_format, align)
    cells: list[str] = []
    used, truncations = 0.0, 0
    numbers: dict[type, list[Any]] = {float: [], int: []}
    memo: dict[Any, tuple[str, float, int]] = {}
    for ref, raw in zip(refs, values, strict=True):
        kind = type(raw)
        if kind is float or kind is int:
            if kind is float and not math.isfinite(raw):
                cells.append("")
                continue
            cells.append(f"{start}{ref}{tail}{_number_text(raw)}</v></c>")
            numbers[kind].append(raw)
            continue
        # Floats are not memoised: -0.0 and 0.0 are equal keys but distinct values.
        key = None if isinstance(raw, float) else (kind, raw)
        try:
            found = memo.get(key) if key is not None else None
        except TypeError:  # unhashable: render it every time
            found = key = None
        if found is None:
            value = _plain_value(raw)
            if value is None:
                cells.append("")
                continue
            found = bulk.body(value, number_format, align)
            if key is not None:
                memo[key] = found
        body, width, truncated = found
        truncations += truncated
        cells.append(f"{start}{ref}{body}")
        used = max(used, width)
    for found_numbers in numbers.values():
        if found_numbers:
            used = max(used, _number_width(min(found_numbers), number_format),
                       _number_width(max(found_numbers), number_format))
    return [cells], used, truncations


def _write_table(
    worksheet: Worksheet, table: Table, widths: dict[int, float], stats: _Stats
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    if table.title:
        title_cell = worksheet.cell(row=table.row, column=table.col)
        _set_text(title_cell, table.title, stats)
        title_cell.font = Font(bold=True, size=table.title_size)
    for offset, line in enumerate(table.intro):
        intro_cell = worksheet.cell(row=table.intro_row + offset, column=table.col)
        _set_text(intro_cell, line, stats)
        intro_cell.font = Font(italic=True, color=INTRO_COLOUR)

    header_font = Font(bold=True, color=HEADER_FONT_COLOUR)
    header_fill = PatternFill(fill_type="solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    header_alignment = Alignment(vertical="center", wrap_text=True)
    for offset, name in enumerate(table.columns):
        cell = worksheet.cell(row=table.header_row, column=table.col + offset)
        _set_text(cell, name, stats)
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = header_alignment

    formats = [table.number_formats.get(name) for name in table.columns]
    aligns = _alignments(table)
    measured = [_text_width(name) for name in table.columns]
    for r, values in enumerate(table.rows):
        row = table.first_data_row + r
        for offset, raw in enumerate(values[: len(table.columns)]):
            measured[offset] = max(
                measured[offset], _write_value(worksheet, row, table.col + offset, raw,
                                               formats[offset], stats, aligns[offset])
            )

    for offset, name in enumerate(table.columns):
        column = table.col + offset
        width = table.column_widths.get(name)
        if width is None:
            width = min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, measured[offset] + 2))
        widths[column] = max(widths.get(column, 0.0), width)

    _add_conditional_formats(worksheet, table, stats.dxf_ids)


def _write_value(
    worksheet: Worksheet, row: int, column: int, raw: Any, number_format: str | None,
    stats: _Stats, align: str | None = None,
) -> float:
    """Write one data value; return its rough display width in characters.

    A model value (:class:`Cell`, :class:`Link`, :class:`Sparkline`) is its inner value in its
    own look; ``align`` is the column's alignment (see :func:`_alignments`)."""
    value = _plain_value(raw)
    if value is None:
        return 0.0
    if type(value) in _MODEL_VALUES:
        inner, fmt = _model_inner(value), _model_format(value, number_format)
        width = _write_plain_value(worksheet, row, column, inner, fmt, stats) \
            if inner is not None else 0.0
        cell = worksheet.cell(row=row, column=column)
        if inner is None and fmt:
            cell.number_format = fmt
        for name, attribute in _model_look(value)[1].items():
            setattr(cell, name, attribute)
        if type(value) is Link:
            from openpyxl.worksheet.hyperlink import Hyperlink

            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=_link_location(value),
                                       display=value.text)
        width = _model_width(value, inner) if isinstance(inner, int | float) \
            and not isinstance(inner, bool) else width
    else:
        width = _write_plain_value(worksheet, row, column, value, number_format, stats)
    if align:
        worksheet.cell(row=row, column=column).alignment = _alignment(align)
    return width


def _write_plain_value(
    worksheet: Worksheet, row: int, column: int, value: Any, number_format: str | None,
    stats: _Stats,
) -> float:
    """Write a value :func:`_plain_value` kept (not None, not a model value)."""
    cell = worksheet.cell(row=row, column=column)
    if isinstance(value, str):
        _set_text(cell, value, stats)
        if number_format:
            cell.number_format = number_format
        return _text_width(value)
    if isinstance(value, Formula):
        text = value.text if value.text.startswith("=") else "=" + value.text
        cell.value = text  # the one route to a formula cell: sheetsync's own Formula values
        return 10.0
    cell.value = value
    if isinstance(value, bool):
        return 5.0
    if isinstance(value, datetime):
        cell.number_format = _date_like(number_format) or DATETIME_FORMAT
        return 16.0
    if isinstance(value, date):
        cell.number_format = _date_like(number_format) or DATE_FORMAT
        return 10.0
    if isinstance(value, time):
        cell.number_format = _date_like(number_format) or TIME_FORMAT
        return 5.0
    if isinstance(value, timedelta):
        cell.number_format = number_format or DURATION_FORMAT
        return 9.0
    if number_format:
        cell.number_format = number_format
    return _number_width(value, number_format)


def _set_text(cell: Any, text: str, stats: _Stats) -> None:
    """Write ``text`` as a literal string cell, whatever it starts with."""
    stored, truncated = _excel_text(text)
    stats.truncated_cells += truncated
    cell.value = stored
    # openpyxl turns "=..." into a formula and "#N/A" into an error value on assignment.
    cell.data_type = "s"
    if text.startswith(FORMULA_LIKE_STARTS):
        # Already text; quotePrefix keeps it text if someone edits the cell in Excel.
        cell.quotePrefix = True


def _excel_text(text: str) -> tuple[str, int]:
    """Text as stored in the sheet XML: XML-safe, capped, and with Excel's escapes applied."""
    if text.isprintable() and "_x" not in text and len(text) <= MAX_CELL_CHARS // 2:
        # The usual text: printable means no control characters (CR included), surrogates
        # or non-characters, so nothing to remove, escape or cut; skip the regexes.
        return text, 0
    text, truncated = clean_cell_text(text)
    return escape_text(text), truncated


def _plain_value(value: Any) -> Any:
    """A value openpyxl can store: None, bool, int, float, Decimal, str, date/time or Formula.

    NaN, NaT, pd.NA and infinities become None (empty); numpy and pandas scalars become
    Python ones; timezone-aware datetimes keep their wall-clock time (Excel has no zones).
    """
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool or kind is Formula:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is Cell or kind is Link or kind is Sparkline:
        return value  # a model value: written with its own look (see _data_style)
    module = kind.__module__
    if module.startswith(("numpy", "pandas")):
        return _plain_value(_from_numpy_or_pandas(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool | int):
        return int(value) if not isinstance(value, bool) else bool(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, date | timedelta):
        return value
    return str(value)


def _from_numpy_or_pandas(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.timedelta64):
        return None if np.isnat(value) else pd.Timedelta(value).to_pytimedelta()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Period):
        return str(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _date_like(number_format: str | None) -> str | None:
    from openpyxl.styles.numbers import is_date_format

    return number_format if number_format and is_date_format(number_format) else None


def _text_width(text: str) -> float:
    if "\n" not in text:
        return float(len(text))
    return float(max(len(line) for line in text.split("\n")))


def _number_width(value: Any, number_format: str | None) -> float:
    if number_format and "%" in number_format:
        return 6.0
    if isinstance(value, float):
        return float(min(len(f"{value:,.2f}"), 15))
    return float(len(f"{value:,}"))


def _add_conditional_formats(worksheet: Worksheet, table: Table,
                             dxf_ids: dict[str, int] | None = None) -> None:
    """The table's colours by status, data bars, benchmark fills and heat scales.

    ``dxf_ids`` holds the workbook's differential style of each fill colour used so far: a
    rule gets its style's number here, once per colour, where openpyxl would look the style up
    again for every rule while saving (comparing it with each style one attribute at a time).
    """
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule

    if not table.rows:
        return
    dxf_ids = {} if dxf_ids is None else dxf_ids

    def numbered(rule: Any, colour: str) -> Any:
        number = dxf_ids.get(colour)
        if number is None:
            number = dxf_ids[colour] = worksheet.parent._differential_styles.add(rule.dxf)
        rule.dxfId, rule.dxf = number, None
        return rule

    for name in table.status_columns:
        if name not in table.columns:
            continue
        column = table.col + table.columns.index(name)
        cells = _range(table.first_data_row, column, table.last_row, column)
        for status, rgb in STATUS_COLOURS.items():
            colour = "FF" + rgb
            worksheet.conditional_formatting.add(
                cells,
                numbered(CellIsRule(
                    operator="equal",
                    formula=[_excel_string_literal(status)],
                    # Differential fills are drawn from bgColor in Excel, fgColor elsewhere.
                    fill=_solid_fill(colour),
                ), colour),
            )
    for name in table.data_bar_columns:
        if name not in table.columns:
            continue
        column = table.col + table.columns.index(name)
        worksheet.conditional_formatting.add(
            _range(table.first_data_row, column, table.last_row, column),
            DataBarRule(
                start_type="num", start_value=0, end_type="num", end_value=1,
                color=DATA_BAR_COLOUR, showValue=True,
            ),
        )
    for name, benchmark in table.benchmarks.items():
        if name not in table.columns:
            continue
        column = table.col + table.columns.index(name)
        cells = _range(table.first_data_row, column, table.last_row, column)
        for formula, colour in zip(benchmark_formulas(a1(table.first_data_row, column),
                                                      benchmark), BENCHMARK_FILLS, strict=True):
            worksheet.conditional_formatting.add(cells,
                                                 numbered(_formula_rule(formula, colour), colour))
    heat = [table.col + table.columns.index(n) for n in table.heat_columns if n in table.columns]
    if heat:
        worksheet.conditional_formatting.add(
            _range(table.first_data_row, min(heat), table.last_row, max(heat)),
            ColorScaleRule(start_type="num", start_value=0, start_color=HEAT_COLOURS[0],
                           end_type="max", end_color=HEAT_COLOURS[1]))


def benchmark_formulas(first_cell: str, benchmark: Benchmark) -> tuple[str, str, str]:
    """Formulas (relative to the range's first cell) for at or above the target, just below it
    and further below it; each asks ISNUMBER first, so a blank cell is never coloured."""
    target, floor = _decimal(benchmark.target), _decimal(benchmark.target - benchmark.margin)
    if not benchmark.higher_is_better:
        floor = _decimal(benchmark.target + benchmark.margin)
        return (f"AND(ISNUMBER({first_cell}),{first_cell}<={target})",
                f"AND(ISNUMBER({first_cell}),{first_cell}>{target},{first_cell}<={floor})",
                f"AND(ISNUMBER({first_cell}),{first_cell}>{floor})")
    return (f"AND(ISNUMBER({first_cell}),{first_cell}>={target})",
            f"AND(ISNUMBER({first_cell}),{first_cell}<{target},{first_cell}>={floor})",
            f"AND(ISNUMBER({first_cell}),{first_cell}<{floor})")


def _decimal(number: float) -> str:
    return f"{round(number, 10):.10g}"


def _formula_rule(formula: str, colour: str) -> Any:
    from openpyxl.formatting.rule import FormulaRule

    return FormulaRule(formula=[formula], fill=_solid_fill(colour))


@functools.cache
def _solid_fill(colour: str) -> Any:
    """One solid fill per colour, shared by the conditional formats that paint with it (openpyxl
    never changes a fill in place; building one costs more than the rule around it)."""
    from openpyxl.styles import PatternFill

    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def _excel_string_literal(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


MARKER_SYMBOLS = {"circle": "circle", "diamond": "diamond", "triangle": "triangle",
                  "square": "square", "none": "none"}
EMU_PER_POINT = 12700


def _add_chart(worksheet: Worksheet, chart: Chart) -> None:
    """Draw ``chart`` from its table's cells; a chart over no rows is left out.

    Series are styled as the model says (colour, dashes, markers, labels); a series marked
    ``as_line`` in a bar or column chart becomes a line on the same axes (a reference line).
    """
    from openpyxl.chart import BarChart, LineChart, Series
    from openpyxl.chart.data_source import AxDataSource, NumRef, StrRef
    from openpyxl.chart.series import SeriesLabel
    from openpyxl.utils import quote_sheetname

    table = chart.table
    start, stop = chart.data_rows or (0, len(table.rows))
    start, stop = max(0, start), min(stop, len(table.rows))
    if stop <= start:
        return
    first, last = table.first_data_row + start, table.first_data_row + stop - 1

    drawing: LineChart | BarChart
    lines: LineChart | None = None
    if chart.kind == "line":
        drawing = LineChart()
        if chart.stacked:
            drawing.grouping = "stacked"
    else:
        drawing = BarChart()
        drawing.type = "bar" if chart.kind == "bar" else "col"
        if chart.stacked:
            drawing.grouping = "stacked"
            drawing.overlap = 100
        drawing.gapWidth = 60
        if any(chart.styles.get(n, _NO_STYLE).as_line for n in chart.series_columns):
            lines = LineChart()
    # Titles are XML outside any cell: cleaned and cut like no cell text needs to be.
    drawing.title = _chart_title(clean_label(chart.title), chart.title_colour)
    drawing.width = chart.width_cm
    drawing.height = chart.height_cm
    if chart.legend:
        drawing.legend.position = "b"
    else:
        drawing.legend = None
    if chart.span_gaps:
        drawing.display_blanks = "span"
    if chart.y_title:
        drawing.y_axis.title = clean_label(chart.y_title)
    if chart.y_min is not None:
        drawing.y_axis.scaling.min = chart.y_min
    if chart.y_max is not None:
        drawing.y_axis.scaling.max = chart.y_max
    if chart.y_step is not None:
        drawing.y_axis.majorUnit = chart.y_step
    if chart.y_format:
        drawing.y_axis.number_format = chart.y_format
        drawing.y_axis.numFmt.sourceLinked = False
    # openpyxl 3.1 marks axes as deleted unless told otherwise, which hides their labels.
    drawing.x_axis.delete = False
    drawing.y_axis.delete = False

    sheet_ref = quote_sheetname(chart.data_tab or worksheet.title)

    def cells(column: int, top: int, bottom: int) -> str:
        letter = column_letter(column)
        return f"{sheet_ref}!${letter}${top}:${letter}${bottom}"

    for name in chart.series_columns:
        column = table.col + table.columns.index(name)
        series = Series(cells(column, first, last))
        header = f"{sheet_ref}!${column_letter(column)}${table.header_row}"
        series.tx = SeriesLabel(strRef=StrRef(header))
        style = chart.styles.get(name)
        if chart.kind == "line" or (style is not None and style.as_line):
            series.smooth = False
        if style is not None:
            _style_series(series, style, line=chart.kind == "line" or style.as_line)
        (lines if lines is not None and style is not None and style.as_line
         else drawing).series.append(series)

    category_column = table.col + table.columns.index(chart.category_column)
    categories = cells(category_column, first, last)
    index = table.columns.index(chart.category_column)
    numeric = all(
        isinstance(_plain_value(row[index]), int | float | Decimal | date) and not isinstance(
            _plain_value(row[index]), bool
        )
        for row in table.rows[start:stop]
        if len(row) > index
    )
    for series in [*drawing.series, *(lines.series if lines is not None else [])]:
        series.cat = (
            AxDataSource(numRef=NumRef(f=categories))
            if numeric
            else AxDataSource(strRef=StrRef(f=categories))
        )
    if lines is not None and lines.series:
        drawing += lines  # same axes: the reference line is read against the bars' scale
    worksheet.add_chart(drawing, chart.anchor)


_NO_STYLE = SeriesStyle()


def _style_series(series: Any, style: SeriesStyle, *, line: bool) -> None:
    from openpyxl.chart.marker import Marker
    from openpyxl.chart.shapes import GraphicalProperties

    colour = style.colour[-6:]
    properties = series.graphicalProperties
    if properties is None:
        properties = series.graphicalProperties = GraphicalProperties()
    if not line:  # a bar or column: its fill
        properties.solidFill = colour
        properties.line.solidFill = colour
        return
    if style.line == "none":
        properties.line.noFill = True
    else:
        properties.line.solidFill = colour
        properties.line.width = int(style.width_pt * EMU_PER_POINT)
        if style.line == "dash":
            properties.line.prstDash = "dash"
    series.marker = Marker(symbol=MARKER_SYMBOLS[style.marker],
                           size=style.marker_size if style.marker != "none" else None)
    if style.marker != "none":
        series.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
        series.marker.graphicalProperties.line.solidFill = colour
    if style.labels:
        from openpyxl.chart.label import DataLabelList

        series.dLbls = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                                     showLegendKey=False, showPercent=False,
                                     showLeaderLines=False, dLblPos="t")


def _chart_title(text: str, colour: str | None) -> Any:
    """A chart title, in ``colour`` (RGB hex) when given."""
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import (
        CharacterProperties,
        Paragraph,
        ParagraphProperties,
        RegularTextRun,
    )

    run_properties = CharacterProperties(sz=1200, b=True,
                                         solidFill=colour[-6:] if colour else None)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=run_properties),
                          r=[RegularTextRun(rPr=run_properties, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


# --------------------------------------------------------------------------- bulk rendering

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


# openpyxl's safe_string, for identical numbers; a bound method, so map() runs it at C speed
_number_text: Callable[[Any], str] = "%.16g".__mod__


def _temporal_format(value: date | time | timedelta, number_format: str | None
                     ) -> tuple[str, float]:
    """The number format and display width of a date, datetime, time or duration cell."""
    if isinstance(value, datetime):
        return _date_like(number_format) or DATETIME_FORMAT, 16.0
    if isinstance(value, date):
        return _date_like(number_format) or DATE_FORMAT, 10.0
    if isinstance(value, time):
        return _date_like(number_format) or TIME_FORMAT, 5.0
    return number_format or DURATION_FORMAT, 9.0


def _data_style(value: Any, number_format: str | None, align: str | None = None
                ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The style :meth:`_BulkRows.body` gives a value: its key and openpyxl attributes.

    No attributes means no style at all (nothing is registered). A model value (a
    :class:`Cell`, :class:`Link` or :class:`Sparkline`) adds its own look to its inner value's
    style; ``align`` is the column's alignment (see :func:`_alignments`).
    """
    if type(value) in _MODEL_VALUES:
        inner, fmt = _model_inner(value), _model_format(value, number_format)
        if inner is None:
            key, attributes = ("data", fmt), ({"number_format": fmt} if fmt else {})
        else:
            key, attributes = _plain_style(inner, fmt)
        look_key, look = _model_look(value)
        key, attributes = (*key, *look_key), {**attributes, **look}
    else:
        key, attributes = _plain_style(value, number_format)
    if align:
        key, attributes = (*key, "align", align), {**attributes, "alignment": _alignment(align)}
    return key, attributes


def _plain_style(value: Any, number_format: str | None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """:func:`_data_style` of a plain value in a column without an alignment."""
    if isinstance(value, str):  # as text_body builds it
        quote = value.startswith(FORMULA_LIKE_STARTS)
        attributes: dict[str, Any] = {"quotePrefix": True} if quote else {}
        if number_format:
            attributes["number_format"] = number_format
        return ("data", quote, number_format), attributes
    if type(value) is Formula or type(value) is bool:
        return ("data",), {}
    if isinstance(value, datetime | date | time | timedelta):
        fmt = _temporal_format(value, number_format)[0]
        return ("data", fmt), {"number_format": fmt}
    return ("data", number_format), {"number_format": number_format} if number_format else {}


def _model_inner(value: Cell | Link | Sparkline) -> Any:
    """The plain value a model value shows (None: an empty cell, in the value's look)."""
    if type(value) is Cell:
        inner = _plain_value(value.value)
        return None if type(inner) in _MODEL_VALUES else inner
    if type(value) is Link:
        return value.text
    bar = _plain_value(value.bar)
    return bar if isinstance(bar, int | float) and not isinstance(bar, bool) else None


def _model_format(value: Cell | Link | Sparkline, number_format: str | None) -> str | None:
    if type(value) is Cell:
        return value.number_format or number_format
    if type(value) is Sparkline:
        return HIDDEN_NUMBER  # the in-cell bar stands for the line Excel cannot draw in a cell
    return number_format


def _model_look(value: Cell | Link | Sparkline) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A model value's own style: its key and openpyxl attributes."""
    from openpyxl.styles import Font, PatternFill

    if type(value) is Link:
        return ("link",), {"font": Font(color=LINK_COLOUR, underline="single")}
    if type(value) is Sparkline:
        return ("sparkline",), {}
    attributes: dict[str, Any] = {}
    if value.fill:
        colour = "FF" + value.fill[-6:]
        attributes["fill"] = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    if value.bold or value.colour:
        attributes["font"] = Font(bold=value.bold or None,
                                  color=("FF" + value.colour[-6:]) if value.colour else None)
    return ("look", value.fill, value.bold, value.colour), attributes


def _model_width(value: Cell | Link | Sparkline, inner: Any) -> float:
    """The display width of a model value's number: with the text its format adds."""
    if type(value) is Sparkline:
        return 0.0
    fmt = _model_format(value, None) or ""
    literal = sum(len(part) for part in fmt.split('"')[1::2])
    return _number_width(inner, fmt) + literal


_ALIGNMENTS: dict[str, Any] = {}


def _alignment(align: str) -> Any:
    """The openpyxl alignment of a column's cells: "top", or "wrap" (top, text wrapped)."""
    found = _ALIGNMENTS.get(align)
    if found is None:
        from openpyxl.styles import Alignment

        found = _ALIGNMENTS[align] = Alignment(vertical="top", wrap_text=align == "wrap" or None)
    return found


def _alignments(table: Table) -> list[str | None]:
    """Each column's alignment: in a table with wrapped text every cell sits at the top of its
    (taller) row, and the wrapped columns wrap; elsewhere the spreadsheet's default."""
    if not table.wrap_columns:
        return [None] * len(table.columns)
    return ["wrap" if name in table.wrap_columns else "top" for name in table.columns]


def _link_location(link: Link) -> str:
    from openpyxl.utils import quote_sheetname

    return f"{quote_sheetname(link.tab)}!{link.cell}"


def _links(first_row: int, column: int, values: Sequence[Any]) -> list[Any]:
    """The hyperlinks of a column's :class:`Link` cells (written in bulk, so not by openpyxl:
    its sheet writer gets them, see :func:`_bulk_excel_writer`)."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    letter = column_letter(column)
    return [Hyperlink(ref=f"{letter}{first_row + offset}", location=_link_location(value),
                      display=value.text)
            for offset, value in enumerate(values) if type(value) is Link]


class _Run(NamedTuple):
    """Rows of cells in one sheet's XML: a table's data rows, or a title or header cell."""

    row: int  # the first row
    col: int  # the first column
    refs: list[str]  # each row's number and a closing quote, as in r="A7"
    pieces: list[Iterable[str]]  # joined row by row, they give the cells (see _render_column)


class _BulkRows:
    """The cells of one large managed tab, rendered as ``<sheetData>`` XML.

    Each cell gets the value, type and style :func:`_write_value` and :func:`_set_text` would
    give it through openpyxl; styles are registered in the workbook through a detached
    openpyxl cell, so the saved ``styles.xml`` holds them. A cell's XML after its reference
    (its "body") depends only on its value and column, so repeated values are rendered once.
    """

    def __init__(self, worksheet: Worksheet, *, cell_by_cell: bool = False) -> None:
        self.worksheet = worksheet
        self.runs: list[_Run] = []  # in the order written
        # Tables that overlap are kept a column at a time, so cells still come out by column.
        self.cell_by_cell = cell_by_cell
        self._styles: dict[tuple[Any, ...], str] = {}
        # Data text bodies by (text, number format): tables on a tab repeat names.
        self._texts: dict[tuple[str, str | None], tuple[str, float, int]] = {}
        self.min_row = self.min_col = 1 << 30
        self.max_row = self.max_col = 0
        self.heights: dict[int, float] = {}  # rows taller than the default, in points
        self.links: list[Any] = []  # hyperlinks of Link cells

    def _style(self, key: tuple[Any, ...], **attributes: Any) -> str:
        """The ``s="N"`` attribute for a style, registering it on first use ("" for none)."""
        found = self._styles.get(key)
        if found is None:
            from openpyxl.cell.cell import Cell

            probe = Cell(self.worksheet)  # detached: never written as a cell itself
            for name, value in attributes.items():
                setattr(probe, name, value)
            found = f' s="{probe.style_id}"' if probe.has_style else ""
            self._styles[key] = found
        return found

    def span(self, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
        """Note the cells a table covers (for the sheet's dimension)."""
        self.min_row, self.max_row = min(self.min_row, first_row), max(self.max_row, last_row)
        self.min_col, self.max_col = min(self.min_col, first_col), max(self.max_col, last_col)

    def block(self, first_row: int, first_col: int, refs: list[str],
              columns: list[list[Iterable[str]]]) -> None:
        """A table's data rows, from ``first_row``, given as each column's pieces."""
        if not columns:
            self.runs.append(_Run(first_row, first_col, refs, [[""] * len(refs)]))  # no cells
        elif self.cell_by_cell:
            self.runs.extend(_Run(first_row, first_col + offset, refs, pieces)
                             for offset, pieces in enumerate(columns))
        else:
            self.runs.append(_Run(first_row, first_col, refs,
                                  [piece for pieces in columns for piece in pieces]))

    def text(self, row: int, column: int, text: str, stats: _Stats, key: tuple[Any, ...],
             **attributes: Any) -> None:
        """A title or header cell, as :func:`_set_text` writes it."""
        body, _, truncated = self.text_body(text, None, key, **attributes)
        stats.truncated_cells += truncated
        self.span(row, row, column, column)
        self.runs.append(_Run(row, column, [f'{row}"'], [[f'<c r="{a1(row, column)}"{body}']]))

    def text_body(self, text: str, number_format: str | None, key: tuple[Any, ...],
                  align: str | None = None, **attributes: Any) -> tuple[str, float, int]:
        stored, truncated = _excel_text(text)
        quote = text.startswith(FORMULA_LIKE_STARTS)
        if quote:
            attributes["quotePrefix"] = True
        if number_format:
            attributes["number_format"] = number_format
        key = (*key, quote, number_format)
        if align:
            key, attributes["alignment"] = (*key, "align", align), _alignment(align)
        style = self._style(key, **attributes)
        if not stored:
            return f'{style} t="inlineStr" />', _text_width(text), truncated
        stripped = stored.strip()
        space = ' xml:space="preserve"' if stripped and stripped != stored else ""
        return (f'{style} t="inlineStr"><is><t{space}>{xml_text(stored)}</t></is></c>',
                _text_width(text), truncated)

    def body(self, value: Any, number_format: str | None, align: str | None = None
             ) -> tuple[str, float, int]:
        """The body and display width of a data value that :func:`_plain_value` kept."""
        if isinstance(value, str):
            found = self._texts.get((value, number_format, align))
            if found is None:
                found = self._texts[value, number_format, align] = self.text_body(
                    value, number_format, ("data",), align)
            return found
        if type(value) in _MODEL_VALUES:
            return self.model_body(value, number_format, align)
        if type(value) is Formula or type(value) is bool:
            key, attributes = _data_style(value, number_format, align)
            style = self._style(key, **attributes) if attributes else ""
            if type(value) is bool:
                return f'{style} t="b"><v>{int(value)}</v></c>', 5.0, 0
            text = value.text if value.text.startswith("=") else "=" + value.text
            return f"{style}><f>{xml_text(text[1:])}</f><v /></c>", 10.0, 0
        if isinstance(value, datetime | date | time | timedelta):
            from openpyxl.utils.datetime import to_excel

            width = _temporal_format(value, number_format)[1]
            key, attributes = _data_style(value, number_format, align)
            style = self._style(key, **attributes)
            return f'{style} t="n"><v>{_number_text(to_excel(value))}</v></c>', width, 0
        return (self.number_body(value, number_format, align),
                _number_width(value, number_format), 0)

    def model_body(self, value: Cell | Link | Sparkline, number_format: str | None,
                   align: str | None) -> tuple[str, float, int]:
        """A :class:`Cell`, :class:`Link` or :class:`Sparkline`: its inner value, in its look."""
        key, attributes = _data_style(value, number_format, align)
        style = self._style(key, **attributes) if attributes else ""
        inner, fmt = _model_inner(value), _model_format(value, number_format)
        if inner is None:
            return f"{style} />", 0.0, 0
        if isinstance(inner, str):
            stored, truncated = _excel_text(inner)
            if not stored:
                return f'{style} t="inlineStr" />', 0.0, truncated
            stripped = stored.strip()
            space = ' xml:space="preserve"' if stripped and stripped != stored else ""
            return (f'{style} t="inlineStr"><is><t{space}>{xml_text(stored)}</t></is></c>',
                    _text_width(inner), truncated)
        if type(inner) is bool:
            return f'{style} t="b"><v>{int(inner)}</v></c>', 5.0, 0
        if isinstance(inner, datetime | date | time | timedelta):
            from openpyxl.utils.datetime import to_excel

            return (f'{style} t="n"><v>{_number_text(to_excel(inner))}</v></c>',
                    _temporal_format(inner, fmt)[1], 0)
        if type(inner) is Formula:  # a formula inside a Cell: sheetsync's own
            text = inner.text if inner.text.startswith("=") else "=" + inner.text
            return f"{style}><f>{xml_text(text[1:])}</f><v /></c>", 10.0, 0
        return f'{style} t="n"><v>{_number_text(inner)}</v></c>', _model_width(value, inner), 0

    def number_body(self, value: Any, number_format: str | None, align: str | None = None
                    ) -> str:
        return f"{self.number_tail(number_format, align)}{_number_text(value)}</v></c>"

    def number_tail(self, number_format: str | None, align: str | None = None) -> str:
        """A number cell's body up to its value: the same for every number of a column."""
        key, attributes = _data_style(0, number_format, align)
        style = self._style(key, **attributes) if attributes else ""
        return f'{style} t="n"><v>'

    def sheet_data(self) -> str:
        """The ``<sheetData>`` element: every row, its cells in column order. Call it once.

        Rows go in segments over which the same runs cover every row; there, the runs are
        taken by column (a stable sort, so overlapping cells keep the order they were written
        in) and each row is joined from their pieces, with no Python code per cell.
        """
        runs = sorted(self.runs, key=lambda run: run.col)
        cursors = [(run, [iter(piece) for piece in run.pieces]) for run in runs]
        edges = sorted({edge for run in runs for edge in (run.row, run.row + len(run.refs))})
        # A sweep down the rows: the runs covering a segment are those begun and not ended,
        # kept in column order (a tab of many small tables has thousands of runs).
        begins: dict[int, list[int]] = {}
        ends: dict[int, list[int]] = {}
        for i, run in enumerate(runs):
            begins.setdefault(run.row, []).append(i)
            ends.setdefault(run.row + len(run.refs), []).append(i)
        active: set[int] = set()
        parts = ["<sheetData>"]
        for start, stop in pairwise(edges):
            active.difference_update(ends.get(start, ()))
            active.update(begins.get(start, ()))
            if not active:
                continue
            covering = [cursors[i] for i in sorted(active)]
            first = covering[0][0]
            closers: Iterable[str] = repeat(">")
            if any(start <= row < stop for row in self.heights):
                closers = [f' ht="{height:g}" customHeight="1">'
                           if (height := self.heights.get(row)) else ">"
                           for row in range(start, stop)]
            rows = zip(repeat('<row r="', stop - start),
                       first.refs[start - first.row:stop - first.row], closers,
                       *[piece for _, pieces in covering for piece in pieces], repeat("</row>"))
            parts.append("".join(chain.from_iterable(rows)))
        parts.append("</sheetData>")
        return "".join(parts)

    def dimension(self) -> str:
        if not self.runs:
            return "A1:A1"
        return f"{a1(self.min_row, self.min_col)}:{a1(self.max_row, self.max_col)}"


def _bulk_excel_writer(workbook: Workbook, archive: zipfile.ZipFile,
                       bulk: dict[str, _BulkRows],
                       results: FormulaResults | None = None) -> Any:
    """openpyxl's package writer, with the bulk-rendered rows spliced into their sheets, and
    the cached formula results (and dynamic-array metadata) of a leader's own tabs kept."""
    from openpyxl.writer.excel import ExcelWriter

    results = results or FormulaResults()

    class MetadataPart:  # what openpyxl's content-type manifest needs of a part
        path = "/" + METADATA_PART
        mime_type = METADATA_TYPE

    class BulkExcelWriter(ExcelWriter):
        def write_data(self) -> None:
            if results.metadata is not None:
                self._archive.writestr(METADATA_PART, results.metadata)
                self.manifest.append(MetadataPart())
                archive_writestr = self._archive.writestr

                def writestr(name: Any, data: Any, *args: Any, **kwargs: Any) -> None:
                    if name == "xl/_rels/workbook.xml.rels":  # the metadata part's relationship
                        text = data.decode() if isinstance(data, bytes) else data
                        data = text.replace("</Relationships>", (
                            f'<Relationship Id="rIdSheetsyncMetadata" Type="{METADATA_REL}" '
                            'Target="metadata.xml"/></Relationships>'), 1)
                    archive_writestr(name, data, *args, **kwargs)

                self._archive.writestr = writestr  # type: ignore[method-assign]
            super().write_data()

        def write_worksheet(self, ws: Worksheet) -> None:
            rows = bulk.get(ws.title)
            kept = results.by_tab.get(ws.title)
            if rows is None and kept is None:
                super().write_worksheet(ws)
                return
            from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
            from openpyxl.worksheet._writer import WorksheetWriter

            # openpyxl's own steps (ExcelWriter.write_worksheet), around an empty sheetData
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            writer = WorksheetWriter(ws)
            if rows is not None:
                ws._hyperlinks.extend(rows.links)  # the writer starts the list afresh
            writer.write()
            ws._rels = writer._rels
            with open(writer.out, encoding="utf-8") as handle:
                xml = handle.read()
            if kept is not None:
                xml = patch_formula_results(xml, kept, keep_marks=results.metadata is not None)
            if rows is not None:
                for empty in ("<sheetData></sheetData>", "<sheetData />", "<sheetData/>"):
                    if empty in xml:
                        xml = xml.replace(empty, rows.sheet_data(), 1)
                        break
                else:  # pragma: no cover - openpyxl always writes an element for sheetData
                    raise RuntimeError("no sheetData element in the rendered sheet")
                xml = xml.replace('<dimension ref="A1:A1" />',
                                  f'<dimension ref="{rows.dimension()}" />', 1)
            self._archive.writestr(ws.path[1:], xml.encode("utf-8"))
            self.manifest.append(ws)
            writer.cleanup()

    return BulkExcelWriter(workbook, archive)


# --------------------------------------------------------------------------- manifest


def _shapes_to_record(existing: _Existing | None, managed: list[str],
                      written: dict[str, Shape]) -> tuple[dict[str, Shape], set[str]]:
    """Each managed tab's shape for the manifest, and the tabs still to check for edits.

    A tab this write did not rebuild keeps its earlier shape. If a person saved the workbook
    since the last write, such a tab may hold their edits, and this write's own stamp would
    hide that from the next run: it is recorded as unchecked, so the next run reads it."""
    if existing is None or existing.manifest is None:
        return dict(written), set()
    before = existing.manifest
    shapes, unchecked = dict(written), set()
    for name in managed:
        if name in written:
            continue
        if name in before.shapes:
            shapes[name] = before.shapes[name]
        if existing.saved or name in before.unchecked:
            unchecked.add(name)
    return shapes, unchecked


def _write_manifest(workbook: Workbook, managed: list[str], written_at: datetime,
                    shapes: dict[str, Shape] | None = None,
                    unchecked: set[str] | None = None) -> None:
    from openpyxl.styles import Font

    index = None
    if MANIFEST_TAB in workbook.sheetnames:
        index = workbook.index(workbook[MANIFEST_TAB])
        workbook.remove(workbook[MANIFEST_TAB])
    worksheet = workbook.create_sheet(MANIFEST_TAB, index)
    worksheet.sheet_state = "hidden"
    stats = _Stats()
    rows: list[tuple[str, Any]] = [
        ("key", "value"),
        ("format", MANIFEST_FORMAT),
        ("sheetsync_version", __version__),
        ("last_written", written_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
        *(("managed_tab", name) for name in managed),
    ]
    shapes = shapes or {}
    for r, (key, value) in enumerate(rows, start=1):
        _set_text(worksheet.cell(row=r, column=1), key, stats)
        value_cell = worksheet.cell(row=r, column=2)
        if isinstance(value, str):
            _set_text(value_cell, value, stats)
        else:
            value_cell.value = value
        if key == "managed_tab" and value in shapes:
            # what this run wrote there, so the next run notices cells someone added
            _set_text(worksheet.cell(row=r, column=3), shapes[value].text(), stats)
            if value in (unchecked or ()):
                _set_text(worksheet.cell(row=r, column=4), "unchecked", stats)
    worksheet.cell(row=1, column=1).font = Font(bold=True)
    worksheet.cell(row=1, column=2).font = Font(bold=True)
    _set_text(
        worksheet.cell(row=1, column=4),
        "sheetsync rewrites the tabs listed here on every run. Do not edit this tab.",
        stats,
    )
    worksheet.column_dimensions["A"].width = 20
    worksheet.column_dimensions["B"].width = 24


def _open_on_first(workbook: Workbook, sheets: Sequence[Sheet]) -> None:
    """The tab the model says opens first goes first, and the workbook opens on it."""
    for sheet in sheets:
        if sheet.opens_first and not sheet.hidden:
            worksheet = workbook[sheet.name]
            workbook.move_sheet(worksheet, -workbook.index(worksheet))
            workbook.active = 0
            return


def _choose_visible_active_tab(workbook: Workbook) -> None:
    visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
    if not visible:
        raise ValueError("the workbook would have no visible tab; leave at least one unhidden")
    active = workbook.active
    if active is None or active.sheet_state != "visible":
        workbook.active = workbook.worksheets.index(visible[0])
        active = visible[0]
    # Several selected tabs would open Excel in "group" mode, where edits hit every tab.
    for worksheet in workbook.worksheets:
        worksheet.sheet_view.tabSelected = worksheet is active


# --------------------------------------------------------------------------- saving


def _save_atomically(
    workbook: Workbook, target: Path, signature: tuple[int, int] | None,
    bulk: dict[str, _BulkRows] | None = None, results: FormulaResults | None = None,
) -> None:
    """Save to a temporary file beside ``target``, then move it over ``target``."""
    from openpyxl.writer.excel import ExcelWriter

    try:
        temp = new_temp_beside(target)
    except PermissionError as exc:
        raise _locked(target, "its folder is not writable") from exc
    except OSError as exc:
        raise TargetWriteError(
            f"sheetsync could not prepare {target}: {exc.strerror or exc}.",
            hint="Check that the output folder exists and can be written, or choose another "
            "--output.",
        ) from exc
    try:
        # ExcelWriter directly, not Workbook.save: save() stamps the real clock into the
        # document properties, and the write time should come from the injected ``now``.
        # Light compression: the dashboard is rewritten every night, and deflating a large
        # one at the default level costs more than writing the few extra bytes.
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                             compresslevel=1) as archive:
            if bulk or results:
                _bulk_excel_writer(workbook, archive, bulk or {}, results).save()
            else:
                ExcelWriter(workbook, archive).save()
        move_into_place(temp, target, signature)
    except TargetChanged:
        raise TargetWriteError(
            f"{target} changed while sheetsync was writing it, so sheetsync did not "
            "replace it. The file was left unchanged.",
            hint="Run sheetsync again once nobody is editing the workbook.",
            transient=True,
        ) from None
    except OwnerNotKept as exc:
        raise TargetWriteError(
            f"sheetsync did not replace {target}: {exc}. The file was left unchanged.",
            hint="Run sheetsync as the dashboard file's owner, or choose another --output.",
        ) from None
    except PermissionError as exc:
        raise _locked(target, "it is open in another program or not writable") from exc
    except OSError as exc:
        raise TargetWriteError(
            f"sheetsync could not save {target}: {exc.strerror or exc}. The file was left "
            "unchanged.",
            hint="Check free disk space and that the output folder is reachable.",
            transient=True,
        ) from exc
    finally:
        temp.unlink(missing_ok=True)  # already gone once it was moved into place


# --------------------------------------------------------------------------- small pieces


def _utc(moment: datetime) -> datetime:
    """Naive UTC, which is how openpyxl stores document times."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _range(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    return f"{a1(first_row, first_col)}:{a1(last_row, last_col)}"
