"""Write the managed ``Sheetsync Flags`` tab back into a coach's own Excel workbook, losslessly.

Offline coaches keep their data in ``.xlsx`` / ``.xlsm`` files on a shared drive; with
``write_back = true`` sheetsync puts their flags where they work. Loading and saving such a file
with openpyxl would silently drop pivot tables, images, macros and more, so this module edits the
OOXML zip package *surgically* instead. Afterwards every part is byte-identical except:

* the workbook index (``xl/workbook.xml``) and its relationships, only when a tab is added;
* ``[Content_Types].xml``, only when a tab is added;
* ``xl/styles.xml``, only ever appended to (the fonts, fills and cell formats the tab uses: bold
  headers, severity colours, links, wrapped text; each found again and reused on later writes),
  so every existing style index keeps its meaning;
* the managed sheet part itself, which is replaced in place on later writes.

Document properties (``docProps/*``) are allowed to change but are left alone.

Ownership: a tab counts as sheetsync's when the workbook holds a hidden, sheet-scoped defined
name :data:`MANAGED_MARKER` on it. Excel keeps sheet-scoped names attached to their sheet when
tabs are moved or renamed and deletes them with the sheet, and the marker lives in the workbook
index, which may change anyway. A same-named tab without the marker is the user's: sheetsync
refuses to touch it.

Exceptions (all subclasses of :class:`sheetsync.errors.WritebackError`). Each has a
finding ``code`` (see :mod:`sheetsync.findings`), a finer stable ``reason``, a coach-facing
``message`` and a ``hint``; :meth:`WritebackError.as_finding` turns one into a single finding::

    class                       code                     reason
    WritebackError              writeback-failed         writeback-failed
    ├── UnsupportedFormatError  writeback-unsupported    unsupported-format  (.xls, .ods, .xlsb)
    ├── WorkbookLockedError     writeback-failed         workbook-locked     (transient)
    ├── WorkbookTooLargeError   writeback-failed         workbook-too-large  (zip bomb guard)
    ├── DamagedWorkbookError    writeback-failed         workbook-unreadable
    ├── ProtectedWorkbookError  writeback-failed         workbook-protected  (structure locked)
    └── TabNotOwnedError        writeback-failed         tab-not-ours

Whenever one of them is raised the source file is byte-identical to what it was.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from numbers import Integral, Real
from pathlib import Path
from xml.etree import ElementTree as ET

from sheetsync import errors
from sheetsync.backends.excel.atomic import (
    OwnerNotKept,
    TargetChanged,
    move_into_place,
    new_temp_beside,
    open_lock_file,
    signature,
    why_unwritable,
)
from sheetsync.backends.excel.ooxml import (
    CT_WORKBOOK,
    CT_WORKSHEET,
    FORMULA_LIKE_STARTS,
    MAX_COLUMNS,
    MAX_ROWS,
    NS_CONTENT_TYPES,
    NS_MAIN,
    NS_PKG_REL,
    NS_REL,
    NS_STRICT_MAIN,
    REL_OFFICE_DOCUMENT,
    REL_WORKSHEET,
    RESERVED_TAB_NAME,
    XML_DECLARATION,
    clean_cell_text,
    is_valid_tab_name,
    protect_escapes,
    xml_attr,
    xml_text,
)
from sheetsync.grid import a1
from sheetsync.report.model import FLAGS_TAB

__all__ = [
    "DEFAULT_MAX_PARTS",
    "DEFAULT_MAX_UNCOMPRESSED_BYTES",
    "DEFAULT_TAB_NAME",
    "MANAGED_MARKER",
    "WRITABLE_SUFFIXES",
    "DamagedWorkbookError",
    "ProtectedWorkbookError",
    "TabNotOwnedError",
    "TableBlock",
    "UnsupportedFormatError",
    "WorkbookLockedError",
    "WorkbookTooLargeError",
    "WritebackError",
    "WritebackResult",
    "supports_write_back",
    "write_flags_tab",
    "write_tables_tab",
]

DEFAULT_TAB_NAME = FLAGS_TAB
MANAGED_MARKER = "_sheetsync_managed"
"""Hidden sheet-scoped defined name that marks a tab as written by sheetsync."""

DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_PARTS = 20_000

WRITABLE_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
_KNOWN_UNWRITABLE = {
    ".xls": "the old Excel 97-2003 format (.xls)",
    ".xlsb": "the Excel binary format (.xlsb)",
    ".ods": "the OpenDocument format (.ods)",
    ".csv": "a CSV file",
}

# Excel keeps 15 significant digits; larger integers (IDs, phone numbers) are written as text.
_EXACT_INT_LIMIT = 10**15

_EDITABLE_MAIN_CONTENT_TYPES = {
    CT_WORKBOOK,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}

# Elements that follow <definedNames> in CT_Workbook; a new <definedNames> goes before the first.
_AFTER_DEFINED_NAMES = (
    "calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
    "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
)
_ATTRS = r"""(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*"""


class WritebackError(errors.WritebackError):
    """The flags tab could not be written back; the workbook was left exactly as it was."""

    reason = "writeback-failed"


class UnsupportedFormatError(WritebackError):
    """The file's format cannot take a write-back (.xls, .ods, .xlsb, ...)."""

    code = "writeback-unsupported"
    severity = "info"
    reason = "unsupported-format"


class WorkbookLockedError(WritebackError):
    """The file is open in Excel/LibreOffice, read-only, or could not be replaced."""

    reason = "workbook-locked"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint, transient=True)


class WorkbookTooLargeError(WritebackError):
    """The package unpacks to more than the configured limit (a zip bomb guard)."""

    reason = "workbook-too-large"


class DamagedWorkbookError(WritebackError):
    """The file is not a workbook package sheetsync can edit safely."""

    reason = "workbook-unreadable"


class ProtectedWorkbookError(WritebackError):
    """The workbook's structure is protected, so no tab may be added."""

    reason = "workbook-protected"


class TabNotOwnedError(WritebackError):
    """A tab with the managed name exists but was not created by sheetsync."""

    reason = "tab-not-ours"


@dataclass(frozen=True)
class WritebackResult:
    """What a successful write-back did."""

    path: Path
    tab_name: str
    sheet_part: str  # e.g. "xl/worksheets/sheet4.xml"
    replaced: bool  # True when an earlier sheetsync tab was replaced in place
    rows_written: int  # data rows, not counting the header
    changed_parts: tuple[str, ...]  # every part whose bytes differ from before (or are new)
    truncated_cells: int = 0  # cells cut to MAX_CELL_CHARS


def supports_write_back(path: Path | str) -> bool:
    """Whether a file of this kind can take a flags write-back (judged by its extension)."""
    return Path(path).suffix.lower() in WRITABLE_SUFFIXES


def write_flags_tab(
    path: Path | str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    tab_name: str = DEFAULT_TAB_NAME,
    title: str | None = None,
    intro: Sequence[str] = (),
    widths: Mapping[str, float] | None = None,
    wrap: Sequence[str] = (),
    severity: str | None = None,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> WritebackResult:
    """Write (or replace) sheetsync's managed tab inside the Excel workbook at ``path``.

    An optional bold ``title`` and ``intro`` lines come first; then ``header``, a bold, frozen
    row with a filter; then ``rows``. Strings are always written as literal text (never
    formulas), numbers and booleans as such, dates as ISO text, ``None`` as an empty cell, and
    a :class:`~sheetsync.report.model.Link` as its text with a hyperlink to its cell (no
    formula). ``widths`` fixes columns' widths (by header), ``wrap`` names columns whose text
    wraps, and the ``severity`` column is coloured by :data:`~sheetsync.report.model.
    STATUS_COLOURS`. The file is replaced atomically; on any :class:`WritebackError` it is
    untouched.
    """
    source = Path(path)
    _check_format(source)
    _check_tab_name(tab_name)
    above = (1 if title else 0) + len(intro)
    if len(rows) + 1 + above > MAX_ROWS or max((len(r) for r in [header, *rows]),
                                               default=0) > MAX_COLUMNS:
        raise WritebackError(
            f"{len(rows)} flags do not fit on one Excel tab.",
            hint="Fix the most common problems first; the full list is in the Flags output.",
        )
    layout = _Layout(title, list(intro), dict(widths or {}), list(wrap), severity)
    return _write_managed_tab(source, tab_name, len(rows),
                              lambda styles: _render_sheet(header, rows, styles, layout),
                              max_uncompressed_bytes, max_parts)


@dataclass(frozen=True)
class TableBlock:
    """One table of a tab with several (see :func:`write_tables_tab`)."""

    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    title: str | None = None
    intro: Sequence[str] = ()
    widths: Mapping[str, float] | None = None
    wrap: Sequence[str] = ()


def write_tables_tab(
    path: Path | str,
    tab_name: str,
    blocks: Sequence[TableBlock],
    *,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> WritebackResult:
    """Write (or replace) a managed tab holding several tables one below the other, each with
    its bold title, intro lines and bold header (a coach's ``My Summary``). Cells are written
    as :func:`write_flags_tab` writes them, with the same guarantees: every other part is
    unchanged, a user's own tab of that name is refused, and the file is replaced atomically
    or not at all."""
    source = Path(path)
    _check_format(source)
    _check_tab_name(tab_name)
    height = sum((1 if b.title else 0) + len(b.intro) + 1 + len(b.rows) + 1 for b in blocks)
    if height > MAX_ROWS or max((len(r) for b in blocks for r in [b.header, *b.rows]),
                                default=0) > MAX_COLUMNS:
        raise WritebackError(f"The {tab_name} tab does not fit on one Excel tab.")
    return _write_managed_tab(source, tab_name, sum(len(b.rows) for b in blocks),
                              lambda styles: _render_blocks(blocks, styles),
                              max_uncompressed_bytes, max_parts)


def _write_managed_tab(source: Path, tab_name: str, rows_written: int,
                       render: Callable[[_StyleBook], tuple[str, int]],
                       max_uncompressed_bytes: int, max_parts: int) -> WritebackResult:
    target = _resolve_target(source)
    _check_not_locked(target)
    try:
        before = target.stat()
        original = target.read_bytes()
    except PermissionError as exc:
        raise _locked(target, "sheetsync is not allowed to read it") from exc
    except OSError as exc:
        raise WritebackError(f"Could not read {target.name}: {exc.strerror or exc}.") from exc

    package = _Package.open(original, target.name, max_uncompressed_bytes, max_parts)
    plan = _plan_sheet(package, tab_name)
    styles = _StyleBook(package)
    sheet_xml, truncated = render(styles)
    styles.save()
    package.set(plan.sheet_part, sheet_xml)
    new_bytes = package.to_bytes()

    _replace_atomically(target, new_bytes, before)
    return WritebackResult(
        path=target,
        tab_name=tab_name,
        sheet_part=plan.sheet_part,
        replaced=plan.replaced,
        rows_written=rows_written,
        changed_parts=tuple(package.changed_parts()),
        truncated_cells=truncated,
    )


# --------------------------------------------------------------------------- checks before I/O


def _check_format(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in WRITABLE_SUFFIXES:
        return
    kind = _KNOWN_UNWRITABLE.get(suffix, f"a '{suffix or 'no extension'}' file")
    raise UnsupportedFormatError(
        f"Flags cannot be written into {path.name}: it is {kind}, which sheetsync can read but "
        "not write back into.",
        hint="Save the workbook as .xlsx (File > Save As > Excel Workbook) to see flags in it, "
        "or turn write_back off for this source.",
    )


def _check_tab_name(name: str) -> None:
    if not is_valid_tab_name(name) or name.lower() == RESERVED_TAB_NAME.lower():
        raise WritebackError(
            f"'{name}' cannot be used as an Excel tab name.",
            hint="Tab names have 1 to 31 characters, none of [ ] : * ? / \\, and do not start "
            "or end with an apostrophe.",
        )


def _resolve_target(path: Path) -> Path:
    # Replace the real file, not a symlink pointing at it.
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError as exc:
        raise WritebackError(
            f"{path.name} was not found, so no flags were written into it.",
            hint="Check the source path in the config.",
        ) from exc
    except OSError as exc:
        raise WritebackError(f"Could not open {path.name}: {exc.strerror or exc}.") from exc
    if not target.is_file():
        raise WritebackError(f"{path.name} is not a file, so no flags were written into it.")
    return target


def _check_not_locked(path: Path) -> None:
    lock = open_lock_file(path)
    if lock is not None:
        raise WorkbookLockedError(
            f"{path.name} is open in a spreadsheet program (lock file {lock.name}), so "
            "sheetsync did not write its tab (flags or a summary) into it.",
            hint="Close the workbook and run sheetsync again. If it is already closed, "
            f"delete the leftover lock file {lock.name}.",
        )
    why = why_unwritable(path)
    if why is not None:
        raise _locked(path, why)


def _locked(path: Path, why: str) -> WorkbookLockedError:
    return WorkbookLockedError(
        f"sheetsync did not write into {path.name}: {why}. The file was left unchanged.",
        hint="Close the workbook in Excel and make sure the file and its folder can be written, "
        "or turn write_back off for this source.",
    )


# --------------------------------------------------------------------------- the zip package


class _Package:
    """The parts of an OOXML zip, with the edits made so far."""

    def __init__(self, zf: zipfile.ZipFile, parts: dict[str, bytes], filename: str) -> None:
        self._zip = zf
        self._original = parts
        self._parts = dict(parts)
        self._by_lower = {name.lower(): name for name in parts}
        self.filename = filename

    @classmethod
    def open(cls, data: bytes, filename: str, max_bytes: int, max_parts: int) -> _Package:
        damaged = DamagedWorkbookError(
            f"{filename} is not an Excel workbook sheetsync can open.",
            hint="Check that it opens in Excel and is not password-protected; save it again as "
            ".xlsx if needed.",
        )
        if data[:4] == b"\xd0\xcf\x11\xe0":
            # Compound File: an encrypted (password-protected) workbook or a renamed .xls.
            raise DamagedWorkbookError(
                f"{filename} is password-protected or in the old .xls format, so flags cannot be "
                "written into it.",
                hint="Remove the password (or save as .xlsx) to see flags in the workbook.",
            )
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise damaged from exc
        if len(infos) > max_parts:
            raise WorkbookTooLargeError(
                f"{filename} holds {len(infos)} parts, more than the limit of {max_parts}.",
                hint="This does not look like a normal workbook; check the file.",
            )
        # Each member is read with a bound of its declared size: ZipFile.read would inflate a
        # liar's whole stream before noticing, while a bounded read fails its CRC check at once.
        # So the declared sizes bound what reading can cost.
        declared = sum(info.file_size for info in infos)
        if declared > max_bytes:
            raise WorkbookTooLargeError(
                f"{filename} unpacks to {declared:,} bytes, more than the limit of "
                f"{max_bytes:,}, so sheetsync did not open it.",
                hint="Raise the limit in the config if this really is a coach's workbook.",
            )
        names = [info.filename for info in infos]
        if len({name.lower() for name in names}) != len(names):
            raise damaged
        parts: dict[str, bytes] = {}
        try:
            for info in infos:
                if not info.is_dir():
                    with zf.open(info) as member:
                        parts[info.filename] = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError,
                EOFError, RuntimeError) as exc:
            # RuntimeError: a member needs a password.
            raise damaged from exc
        return cls(zf, parts, filename)

    def find(self, name: str) -> str | None:
        """The stored spelling of part ``name`` (OPC part names are case-insensitive)."""
        return self._by_lower.get(name.lstrip("/").lower())

    def xml(self, name: str) -> str:
        stored = self.find(name)
        if stored is None:
            raise self.damaged(f"part {name} is missing")
        data = self._parts[stored]
        if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data[:4096].upper():
            # OOXML never uses DTDs; refusing them rules out entity-expansion tricks.
            raise self.damaged(f"part {name} declares a DTD")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.damaged(f"part {name} is not UTF-8") from exc

    def tree(self, name: str) -> ET.Element:
        try:
            return ET.fromstring(self.xml(name).lstrip("\ufeff"))
        except ET.ParseError as exc:
            raise self.damaged(f"part {name} is not well-formed XML") from exc

    def set(self, name: str, data: bytes | str) -> None:
        stored = self.find(name) or name
        self._parts[stored] = data.encode("utf-8") if isinstance(data, str) else data
        self._by_lower[stored.lower()] = stored

    def changed_parts(self) -> list[str]:
        return [n for n, d in self._parts.items() if self._original.get(n) != d]

    def damaged(self, detail: str) -> DamagedWorkbookError:
        return DamagedWorkbookError(
            f"{self.filename} could not be edited safely ({detail}); flags were not written.",
            hint="Open and save the workbook in Excel, then run sheetsync again.",
        )

    def to_bytes(self) -> bytes:
        """Re-pack: unchanged parts keep their bytes and zip metadata; new parts go at the end."""
        for name in self.changed_parts():
            if name.endswith((".xml", ".rels")):
                self.tree(name)  # never write a part we cannot parse back
        out = io.BytesIO()
        original_infos = [i for i in self._zip.infolist() if not i.is_dir()]
        stamp = next((i.date_time for i in original_infos), (1980, 1, 1, 0, 0, 0))
        with zipfile.ZipFile(out, "w") as zout:
            zout.comment = self._zip.comment
            for info in original_infos:
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                entry.compress_type = (
                    info.compress_type if info.compress_type == zipfile.ZIP_STORED
                    else zipfile.ZIP_DEFLATED
                )
                entry.external_attr = info.external_attr
                entry.create_system = info.create_system
                entry.comment = info.comment
                zout.writestr(entry, self._parts[info.filename])
            for name, data in self._parts.items():
                if name not in self._original:
                    entry = zipfile.ZipInfo(name, stamp)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    zout.writestr(entry, data)
        return out.getvalue()


# --------------------------------------------------------------------------- workbook index


@dataclass(frozen=True)
class _SheetPlan:
    sheet_part: str
    replaced: bool


def _plan_sheet(package: _Package, tab_name: str) -> _SheetPlan:
    """Find sheetsync's tab to replace, or register a new one in the workbook index."""
    workbook_part = _workbook_part(package)
    rels_part = posixpath.join(
        posixpath.dirname(workbook_part), "_rels", posixpath.basename(workbook_part) + ".rels"
    )
    workbook = package.tree(workbook_part)
    if workbook.tag != f"{{{NS_MAIN}}}workbook":
        if workbook.tag == f"{{{NS_STRICT_MAIN}}}workbook":
            raise UnsupportedFormatError(
                f"{package.filename} is saved as 'Strict Open XML', which sheetsync cannot "
                "write flags into.",
                hint="Save it as a regular Excel Workbook (.xlsx).",
            )
        raise package.damaged("the workbook index is not a SpreadsheetML workbook")
    rels = package.tree(rels_part) if package.find(rels_part) else ET.Element("none")
    targets = {
        rel.get("Id"): (rel.get("Type"), _resolve(workbook_part, rel.get("Target", "")))
        for rel in rels.iter(f"{{{NS_PKG_REL}}}Relationship")
        if rel.get("TargetMode") != "External"
    }
    sheets = workbook.findall(f"{{{NS_MAIN}}}sheets/{{{NS_MAIN}}}sheet")
    marked = {
        dn.get("localSheetId")
        for dn in workbook.iter(f"{{{NS_MAIN}}}definedName")
        if (dn.get("name") or "").lower() == MANAGED_MARKER.lower()
    }
    for index, sheet in enumerate(sheets):
        if (sheet.get("name") or "").casefold() != tab_name.casefold():
            continue
        rel_type, part = targets.get(sheet.get(f"{{{NS_REL}}}id"), (None, None))
        if str(index) not in marked or rel_type != REL_WORKSHEET or part is None:
            flags = tab_name == DEFAULT_TAB_NAME
            raise TabNotOwnedError(
                f"{package.filename} already has a tab named '{sheet.get('name')}' that "
                "sheetsync did not create, so sheetsync left it alone and wrote no "
                + ("flags." if flags else "summary."),
                hint=f"Rename your tab '{sheet.get('name')}' (for example to "
                + ("'My Flags'" if flags else "'My Notes'") + ") so "
                "sheetsync can add its own, or turn "
                + ("write_back" if flags else "my_summary") + " off for this source.",
            )
        stored = package.find(part)
        if stored is None:
            raise package.damaged(f"the part behind tab '{sheet.get('name')}' is missing")
        return _SheetPlan(sheet_part=stored, replaced=True)

    protection = workbook.find(f"{{{NS_MAIN}}}workbookProtection")
    if protection is not None and protection.get("lockStructure") in ("1", "true"):
        raise ProtectedWorkbookError(
            f"{package.filename} has a protected structure, so sheetsync cannot add its "
            f"'{tab_name}' tab.",
            hint="Unprotect the workbook (Review > Protect Workbook) or turn write_back off for "
            "this source.",
        )
    sheet_part = _free_sheet_part(package, posixpath.dirname(workbook_part))
    rel_id = _free_rel_id(set(targets) | {r.get("Id") for r in rels.iter()})
    sheet_id = 1 + max((_int(s.get("sheetId")) for s in sheets), default=0)

    text = package.xml(workbook_part)
    prefix = _root_prefix(text, "workbook")
    r_prefix = _declared_prefix(text, NS_REL)
    r_attr = f'{r_prefix}:id="{rel_id}"' if r_prefix else f'xmlns:r="{NS_REL}" r:id="{rel_id}"'
    sheet_el = f'<{prefix}sheet name="{xml_attr(tab_name)}" sheetId="{sheet_id}" {r_attr}/>'
    text = _append_child(text, prefix + "sheets", sheet_el) or _fail(package, "no <sheets>")
    marker = (
        f'<{prefix}definedName name="{MANAGED_MARKER}" localSheetId="{len(sheets)}" hidden="1">'
        f"{xml_text(_quote_sheet(tab_name))}!$A$1</{prefix}definedName>"
    )
    text = _add_defined_name(text, prefix, marker) or _fail(package, "no place for names")
    package.set(workbook_part, text)

    rel_target = posixpath.relpath(sheet_part, posixpath.dirname(workbook_part) or ".")
    rel_el = f'<Relationship Id="{rel_id}" Type="{REL_WORKSHEET}" Target="{xml_attr(rel_target)}"/>'
    if package.find(rels_part):
        rels_text = package.xml(rels_part)
        rel_prefix = _root_prefix(rels_text, "Relationships")
        rel_el = rel_el.replace("<Relationship ", f"<{rel_prefix}Relationship ")
        rels_text = _append_child(rels_text, rel_prefix + "Relationships", rel_el)
        package.set(rels_part, rels_text or _fail(package, "bad workbook relationships"))
    else:
        package.set(rels_part, XML_DECLARATION + f'<Relationships xmlns="{NS_PKG_REL}">{rel_el}'
                    "</Relationships>")

    types_text = package.xml("[Content_Types].xml")
    types_prefix = _root_prefix(types_text, "Types")
    override = (f'<{types_prefix}Override PartName="/{xml_attr(sheet_part)}" '
                f'ContentType="{CT_WORKSHEET}"/>')
    types_text = _append_child(types_text, types_prefix + "Types", override)
    package.set("[Content_Types].xml", types_text or _fail(package, "bad content types"))
    return _SheetPlan(sheet_part=sheet_part, replaced=False)


def _workbook_part(package: _Package) -> str:
    if package.find("[Content_Types].xml") is None or package.find("_rels/.rels") is None:
        raise package.damaged("it is not an Office Open XML package")
    root_rels = package.tree("_rels/.rels")
    for rel in root_rels.iter(f"{{{NS_PKG_REL}}}Relationship"):
        if rel.get("Type") == REL_OFFICE_DOCUMENT:
            part = _resolve("", rel.get("Target", ""))
            break
    else:
        raise package.damaged("it has no main document")
    stored = package.find(part)
    if stored is None:
        raise package.damaged("its main document is missing")
    content_type = None
    for override in package.tree("[Content_Types].xml").iter(f"{{{NS_CONTENT_TYPES}}}Override"):
        if (override.get("PartName") or "").lstrip("/").lower() == stored.lower():
            content_type = override.get("ContentType")
    if content_type not in _EDITABLE_MAIN_CONTENT_TYPES:
        raise UnsupportedFormatError(
            f"{package.filename} is not a regular Excel workbook "
            f"({content_type or 'unknown content'}), so flags cannot be written into it.",
            hint="Save it as an Excel Workbook (.xlsx) or turn write_back off for this source.",
        )
    return stored


def _free_sheet_part(package: _Package, workbook_dir: str) -> str:
    # A leftover content-type override for a deleted part would clash with a new one.
    declared = {
        (o.get("PartName") or "").lstrip("/").lower()
        for o in package.tree("[Content_Types].xml").iter(f"{{{NS_CONTENT_TYPES}}}Override")
    }
    number = 1
    while True:
        part = posixpath.join(workbook_dir, "worksheets", f"sheet{number}.xml")
        rels = posixpath.join(workbook_dir, "worksheets", "_rels", f"sheet{number}.xml.rels")
        if package.find(part) is None and package.find(rels) is None and (
            part.lower() not in declared
        ):
            return part
        number += 1


def _free_rel_id(taken: set[str | None]) -> str:
    number = len(taken) + 1
    while f"rId{number}" in taken:
        number += 1
    return f"rId{number}"


def _add_defined_name(text: str, prefix: str, marker: str) -> str | None:
    appended = _append_child(text, prefix + "definedNames", marker)
    if appended is not None:
        return appended
    # No <definedNames> yet: it belongs after <sheets> (and functionGroups/externalReferences),
    # before the first of the elements that CT_Workbook puts after it.
    sheets_end = re.compile(rf"</{re.escape(prefix)}sheets\s*>").search(text)
    if sheets_end is None:
        return None
    following = re.compile(
        rf"<{re.escape(prefix)}(?:{'|'.join(_AFTER_DEFINED_NAMES)})(?=[\s/>])"
        rf"|</{re.escape(prefix)}workbook\s*>"
    ).search(text, sheets_end.end())
    if following is None:
        return None
    at = following.start()
    return f"{text[:at]}<{prefix}definedNames>{marker}</{prefix}definedNames>{text[at:]}"


# --------------------------------------------------------------------------- styles (append-only)


_XF_NEUTRAL = {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0",
               "quotePrefix": "0", "pivotButton": "0"}


class _StyleBook:
    """The workbook's styles part, to which fonts, fills and cell formats are only appended.

    Each format the flags tab needs is looked for first (a later write finds what an earlier
    one appended) and appended only when missing, so every existing style index keeps its
    meaning. The fonts copy the workbook's default font (so they match its theme).
    """

    def __init__(self, package: _Package) -> None:
        self.package = package
        self.part = _related_part(package, "/styles")
        self.text: str | None = None
        if self.part is None:
            return
        root = package.tree(self.part)
        fonts = root.find(f"{{{NS_MAIN}}}fonts")
        fills = root.find(f"{{{NS_MAIN}}}fills")
        cell_xfs = root.find(f"{{{NS_MAIN}}}cellXfs")
        if fonts is None or cell_xfs is None or len(fonts) == 0 or len(cell_xfs) == 0:
            self.part = None
            return
        self.text = package.xml(self.part)
        self.prefix = _root_prefix(self.text, "styleSheet")
        self.has_style_xf = len(root.findall(f"{{{NS_MAIN}}}cellStyleXfs/{{{NS_MAIN}}}xf")) > 0
        self.default_font = [
            (_local(c.tag), tuple(sorted(c.attrib.items()))) for c in fonts[0]
            if c.tag.startswith(f"{{{NS_MAIN}}}")
            and all(not k.startswith("{") for k in c.attrib)]
        self.fonts = [sorted((_local(c.tag), tuple(sorted(c.attrib.items()))) for c in f)
                      for f in fonts]
        self.fills = [_fill_key(f) for f in (fills if fills is not None else [])]
        self.has_fills = fills is not None
        self.xfs = [_xf_key(xf) for xf in cell_xfs]
        self.changed = False

    @property
    def enabled(self) -> bool:
        return self.part is not None

    def font(self, *, bold: bool = False, colour: str | None = None,
             underline: bool = False) -> int:
        children = [(n, a) for n, a in self.default_font
                    if n not in ("b", "u") and not (colour and n == "color")]
        if underline:
            children.insert(0, ("u", ()))
        if bold:
            children.insert(0, ("b", ()))
        if colour:
            children.append(("color", (("rgb", colour),)))
        key = sorted(children)
        if key in self.fonts:
            return self.fonts.index(key)
        body = "".join(f"<{self.prefix}{name}" + "".join(f' {k}="{xml_attr(v)}"' for k, v in attrs)
                       + "/>" for name, attrs in children)
        self._append("fonts", f"<{self.prefix}font>{body}</{self.prefix}font>", len(self.fonts))
        self.fonts.append(key)
        return len(self.fonts) - 1

    def fill(self, rgb: str) -> int:
        key = ("solid", "FF" + rgb[-6:].upper())
        if key in self.fills:
            return self.fills.index(key)
        if not self.has_fills:
            return 0
        p = self.prefix
        self._append("fills", f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor '
                     f'rgb="{key[1]}"/><{p}bgColor indexed="64"/></{p}patternFill></{p}fill>',
                     len(self.fills))
        self.fills.append(key)
        return len(self.fills) - 1

    def xf(self, *, font: int = 0, fill: int = 0, quote: bool = False,
           align: tuple[str, bool] | None = None) -> int | None:
        """A cell format: ``align`` is (vertical alignment, wrap text)."""
        if not self.enabled:
            return None
        attrs = {"numFmtId": "0", "fontId": str(font), "fillId": str(fill), "borderId": "0",
                 "xfId": "0", "quotePrefix": "1" if quote else "0", "pivotButton": "0"}
        key = (tuple(sorted(attrs.items())), align)
        if key in self.xfs:
            return self.xfs.index(key)
        p = self.prefix
        extra = (' applyFont="1"' if font else "") + (' applyFill="1"' if fill else "") \
            + (' quotePrefix="1"' if quote else "") + (' applyAlignment="1"' if align else "")
        tail = ' xfId="0"' if self.has_style_xf else ""
        body = ""
        if align:
            body = (f'<{p}alignment vertical="{align[0]}"'
                    + (' wrapText="1"' if align[1] else "") + "/>")
        xml = (f'<{p}xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0"{tail}{extra}'
               + (f">{body}</{p}xf>" if body else "/>"))
        self._append("cellXfs", xml, len(self.xfs))
        self.xfs.append(key)
        return len(self.xfs) - 1

    def _append(self, name: str, xml: str, count: int) -> None:
        appended = _append_to_counted(self.text, self.prefix + name, xml, count + 1)
        if appended is None:
            raise self.package.damaged("the styles could not be extended")
        self.text = appended
        self.changed = True

    def save(self) -> None:
        if self.enabled and self.changed and self.text is not None:
            self.package.set(self.part, self.text)


def _fill_key(fill: ET.Element) -> tuple[str, str] | None:
    pattern = fill.find(f"{{{NS_MAIN}}}patternFill")
    if pattern is None or len(fill) != 1:
        return None
    colour = pattern.find(f"{{{NS_MAIN}}}fgColor")
    return (pattern.get("patternType", ""), (colour.get("rgb") or "").upper()
            if colour is not None else "")


def _xf_key(xf: ET.Element) -> tuple[tuple[tuple[str, str], ...], tuple[str, bool] | None] | None:
    """An xf's meaning (defaults made explicit, apply* flags aside), to find it again."""
    attrs = dict(_XF_NEUTRAL)
    for key, value in xf.attrib.items():
        if key.startswith("apply"):
            continue
        if key not in _XF_NEUTRAL:
            return None  # something this module never writes
        attrs[key] = "1" if key == "quotePrefix" and value in ("1", "true") else value
    align = None
    for child in xf:
        if _local(child.tag) != "alignment" or align is not None:
            return None
        if set(child.attrib) - {"vertical", "wrapText"}:
            return None
        align = (child.get("vertical", "bottom"), child.get("wrapText") in ("1", "true"))
    return tuple(sorted(attrs.items())), align


def _append_to_counted(text: str | None, qname: str, child: str, count: int) -> str | None:
    if text is None:
        return None
    appended = _append_child(text, qname, child)
    if appended is None:
        return None
    start = _start_tag(qname).search(appended)
    if start is None or "count" not in (start.group("attrs") or ""):
        return appended
    tag = re.sub(r"""\bcount\s*=\s*(["'])\d*\1""", f'count="{count}"', start.group(0), count=1)
    return appended[: start.start()] + tag + appended[start.end():]


def _related_part(package: _Package, rel_suffix: str) -> str | None:
    workbook_part = _workbook_part(package)
    rels_part = posixpath.join(
        posixpath.dirname(workbook_part), "_rels", posixpath.basename(workbook_part) + ".rels"
    )
    if package.find(rels_part) is None:
        return None
    for rel in package.tree(rels_part).iter(f"{{{NS_PKG_REL}}}Relationship"):
        if (rel.get("Type") or "").endswith(rel_suffix) and rel.get("TargetMode") != "External":
            return package.find(_resolve(workbook_part, rel.get("Target", "")))
    return None


# --------------------------------------------------------------------------- the sheet itself

@dataclass(frozen=True)
class _Layout:
    title: str | None
    intro: list[str]
    widths: dict[str, float]
    wrap: list[str]
    severity: str | None  # the column coloured by severity


def _render_sheet(
    header: Sequence[str], rows: Sequence[Sequence[object]], styles: _StyleBook,
    layout: _Layout | None = None,
) -> tuple[str, int]:
    """The worksheet XML for the flags tab, and how many cells had to be cut short."""
    from sheetsync.report.model import STATUS_COLOURS, wrapped_lines

    layout = layout or _Layout(None, [], {}, [], None)
    truncated = 0
    widths: dict[int, int] = {}
    out: list[str] = []
    links: list[str] = []
    first = (1 if layout.title else 0) + len(layout.intro) + 1  # the header row
    above: list[tuple[str, bool]] = ([(layout.title, True)] if layout.title else []) + \
        [(line, False) for line in layout.intro]
    for r, (text, bold) in enumerate(above, start=1):
        cell, _shown, cut = _render_cell(a1(r, 1), text, styles, bold=bold)
        truncated += cut
        out.append(f'<row r="{r}">{cell}</row>')
    header = list(header)
    fixed = {header.index(name) + 1: width for name, width in layout.widths.items()
             if name in header}
    wrapped = {header.index(name) + 1 for name in layout.wrap if name in header}
    severity = header.index(layout.severity) + 1 if layout.severity in header else None
    all_rows = [header, *(list(r) for r in rows)]
    last_col = max((len(r) for r in all_rows), default=0)
    for n, values in enumerate(all_rows):
        r = first + n
        cells: list[str] = []
        lines = 1
        for c, value in enumerate(values, start=1):
            ref = a1(r, c)
            fill = None
            if n and c == severity and isinstance(value, str):
                fill = STATUS_COLOURS.get(value)
            align = None
            if n and wrapped:  # a table with wrapped text: cells at the top of taller rows
                align = ("top", c in wrapped)
            cell, shown, cut = _render_cell(ref, value, styles, bold=n == 0, fill=fill,
                                            align=align)
            truncated += cut
            if cell:
                cells.append(cell)
                if n <= 1000 and c not in fixed:
                    widths[c] = max(widths.get(c, 0), min(len(shown), 60))
                if n and c in wrapped and shown:
                    lines = max(lines, wrapped_lines(shown, _wrap_width(fixed.get(c, 60))))
            link = _link_of(value) if n else None
            if link is not None:
                links.append(f'<hyperlink ref="{ref}" location="{xml_attr(link)}" '
                             f'display="{xml_attr(_shown_text(value))}"/>')
        if cells:
            height = f' ht="{15 * lines}" customHeight="1"' if lines > 1 else ""
            out.append(f'<row r="{r}"{height}>{"".join(cells)}</row>')
    last_row = first + len(all_rows) - 1
    last = a1(max(last_row, 1), max(last_col, 1))
    columns = {c: max(w, 8) + 2 for c, w in widths.items()}
    columns.update(fixed)
    cols = "".join(
        f'<col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>'
        for c, w in sorted(columns.items())
    )
    top = a1(first + 1, 1)
    parts = [
        XML_DECLARATION,
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">',
        f'<dimension ref="A1:{last}"/>',
        '<sheetViews><sheetView workbookViewId="0">',
        f'<pane ySplit="{first}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>' if header else "",
        "</sheetView></sheetViews>",
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols}</cols>" if cols else "",
        f"<sheetData>{''.join(out)}</sheetData>",
        f'<autoFilter ref="{a1(first, 1)}:{last}"/>' if header and last_col else "",
        f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "",
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
        "</worksheet>",
    ]
    return "".join(parts), truncated


def _render_blocks(blocks: Sequence[TableBlock], styles: _StyleBook) -> tuple[str, int]:
    """The worksheet XML of several tables one below the other, a blank row between them."""
    from sheetsync.report.model import wrapped_lines

    truncated = 0
    out: list[str] = []
    widths: dict[int, float] = {}
    fixed: dict[int, float] = {}
    r = 0
    last_col = 1
    for block in blocks:
        header = list(block.header)
        for name, width in (block.widths or {}).items():
            if name in header:
                col = header.index(name) + 1
                fixed[col] = max(fixed.get(col, 0), width)
        wrapped = {header.index(n) + 1 for n in block.wrap if n in header}
        lines_above = ([(block.title, True)] if block.title else []) + \
            [(line, False) for line in block.intro]
        for text, bold in lines_above:
            r += 1
            cell, _shown, cut = _render_cell(a1(r, 1), text, styles, bold=bold)
            truncated += cut
            out.append(f'<row r="{r}">{cell}</row>')
        for n, values in enumerate([header, *(list(v) for v in block.rows)]):
            r += 1
            cells, lines = [], 1
            for c, value in enumerate(values, start=1):
                align = ("top", c in wrapped) if n and wrapped else None
                cell, shown, cut = _render_cell(a1(r, c), value, styles, bold=n == 0,
                                                align=align)
                truncated += cut
                if cell:
                    cells.append(cell)
                    last_col = max(last_col, c)
                    widths[c] = max(widths.get(c, 0), min(len(shown), 40))
                    if n and c in wrapped and shown:
                        lines = max(lines, wrapped_lines(shown, _wrap_width(fixed.get(c, 40))))
            if cells:
                height = f' ht="{15 * lines}" customHeight="1"' if lines > 1 else ""
                out.append(f'<row r="{r}"{height}>{"".join(cells)}</row>')
        r += 1  # a blank row before the next table
    columns = {c: max(w, 8) + 2 for c, w in widths.items()}
    columns.update(fixed)
    cols = "".join(f'<col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>'
                   for c, w in sorted(columns.items()))
    parts = [
        XML_DECLARATION,
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">',
        f'<dimension ref="A1:{a1(max(r, 1), last_col)}"/>',
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols}</cols>" if cols else "",
        f"<sheetData>{''.join(out)}</sheetData>",
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
        "</worksheet>",
    ]
    return "".join(parts), truncated


def _wrap_width(width: float) -> float:
    from sheetsync.report.model import TEXT_PER_WIDTH

    return max(width * TEXT_PER_WIDTH - 1, 4.0)


def _link_of(value: object) -> str | None:
    """Where a :class:`~sheetsync.report.model.Link` jumps: ``'Time Log'!B5``."""
    from sheetsync.report.model import Link

    if type(value) is not Link:
        return None
    return f"{_quote_sheet(value.tab)}!{value.cell}"


def _shown_text(value: object) -> str:
    from sheetsync.report.model import Link

    return value.text if type(value) is Link else str(value)


LINK_COLOUR = "FF0563C1"


def _render_cell(ref: str, value: object, styles: _StyleBook, *, bold: bool = False,
                 fill: str | None = None, align: tuple[str, bool] | None = None,
                 is_header: bool | None = None) -> tuple[str, str, int]:
    """One ``<c>`` element (or "" for an empty cell), the text shown, and 1 if it was cut."""
    from sheetsync.report.model import Link

    bold = bold or bool(is_header)
    link = type(value) is Link
    if link:
        value = value.text  # type: ignore[union-attr]
    if _is_missing(value):
        return "", "", 0

    def style(quote: bool = False) -> int | None:
        if not (bold or fill or align or quote or link):
            return None
        font = styles.font(bold=True) if bold else \
            styles.font(colour=LINK_COLOUR, underline=True) if link else 0
        return styles.xf(font=font if styles.enabled else 0,
                         fill=styles.fill(fill) if fill and styles.enabled else 0,
                         quote=quote, align=align)

    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        flag = bool(value)
        return _cell(ref, style(), ' t="b"', f"<v>{int(flag)}</v>"), str(flag).upper(), 0
    if isinstance(value, Integral) and abs(int(value)) < _EXACT_INT_LIMIT:
        return _cell(ref, style(), "", f"<v>{int(value)}</v>"), str(int(value)), 0
    if isinstance(value, Real | Decimal) and not isinstance(value, Integral):
        number = float(value)
        if math.isfinite(number):
            shown = repr(number)
            return _cell(ref, style(), "", f"<v>{shown}</v>"), shown, 0
    if isinstance(value, datetime | date | time):
        text = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    else:
        text = str(value)
    text, cut = clean_cell_text(text)
    if not text:
        return "", "", cut
    # Already text (inline string); quotePrefix also keeps it text if a coach edits the cell.
    quote = not bold and text.startswith(FORMULA_LIKE_STARTS)
    escaped = xml_text(protect_escapes(text)).replace("\r", "&#13;")
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return (_cell(ref, style(quote), ' t="inlineStr"', f"<is><t{space}>{escaped}</t></is>"),
            text, cut)


def _is_missing(value: object) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and math.isnan(value)


def _cell(ref: str, style: int | None, type_attr: str, body: str) -> str:
    style_attr = f' s="{style}"' if style is not None else ""
    return f'<c r="{ref}"{style_attr}{type_attr}>{body}</c>'


# --------------------------------------------------------------------------- atomic replace


def _replace_atomically(target: Path, data: bytes, before: os.stat_result) -> None:
    try:
        temp = new_temp_beside(target)
    except PermissionError as exc:
        raise _locked(target, "its folder is read-only") from exc
    except OSError as exc:
        raise WritebackError(
            f"Could not prepare the new {target.name}: {exc.strerror or exc}."
        ) from exc
    try:
        temp.write_bytes(data)
        move_into_place(temp, target, signature(before))
    except TargetChanged:
        raise WorkbookLockedError(
            f"{target.name} changed while sheetsync was writing its flags, so the flags were "
            "not written.",
            hint="Run sheetsync again once nobody is editing the workbook.",
        ) from None
    except OwnerNotKept as exc:
        raise WritebackError(
            f"Flags were not written into {target.name}: {exc}. The file was left unchanged.",
            hint="Run sheetsync as a user who may keep the file's owner (or as its owner), or "
            "turn write_back off for this source.",
        ) from None
    except PermissionError as exc:
        raise _locked(target, "it is open in another program or not writable") from exc
    except OSError as exc:
        raise WritebackError(
            f"Could not save {target.name}: {exc.strerror or exc}. The file was left unchanged.",
            hint="Check free disk space and that the shared drive is reachable.",
        ) from exc
    finally:
        temp.unlink(missing_ok=True)  # already gone once it was moved into place


# --------------------------------------------------------------------------- small XML pieces


def _start_tag(qname: str) -> re.Pattern[str]:
    return re.compile(rf"<{re.escape(qname)}{_ATTRS}(?P<empty>/?)>")


def _append_child(text: str, qname: str, child: str) -> str | None:
    """``text`` with ``child`` added as the last child of the first ``qname`` element."""
    start = _start_tag(qname).search(text)
    if start is None:
        return None
    if start.group("empty"):
        element = f"<{qname}{start.group('attrs')}>{child}</{qname}>"
        return text[: start.start()] + element + text[start.end():]
    end = re.compile(rf"</{re.escape(qname)}\s*>").search(text, start.end())
    if end is None:
        return None
    return text[: end.start()] + child + text[end.start():]


def _root_prefix(text: str, local: str) -> str:
    """The namespace prefix (with colon, or "") of the root element named ``local``."""
    match = re.search(r"<(?![?!])([\w.\-]+:)?([\w.\-]+)", text)
    if match is None or match.group(2) != local:
        return ""
    return match.group(1) or ""


def _declared_prefix(text: str, namespace: str) -> str | None:
    root = re.search(r"<(?![?!])[^>]*>", text)
    if root is None:
        return None
    match = re.search(rf"""xmlns:([\w.\-]+)\s*=\s*["']{re.escape(namespace)}["']""", root.group())
    return match.group(1) if match else None


def _resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _fail(package: _Package, detail: str) -> str:
    raise package.damaged(detail)
