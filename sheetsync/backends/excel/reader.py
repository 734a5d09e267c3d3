"""Read offline workbooks (.xlsx, .xlsm, .xls, .ods) with python-calamine, all tabs in one pass.

calamine is a Rust reader several times faster than openpyxl; it returns plain Python values with
dates already typed. Before opening a zip-based file the reader checks its declared uncompressed
size against a limit, so a zip bomb is refused instead of exhausting memory.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.backends.excel.settings import ReadLimits
from sheetsync.errors import SourceReadError
from sheetsync.grid import column_number

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")


def _check_package(path: Path, limits: ReadLimits) -> dict[str, list[tuple[int, int, str]]]:
    """Refuse a file that is too large, encrypted or not a workbook; return its formula error
    cells (see :func:`_error_cells`), found in the same pass over the package."""
    size = path.stat().st_size
    if size > limits.max_file_mb * 1024 * 1024:
        raise SourceReadError(
            f"{path.name} is {size / 1024 / 1024:.0f} MB, over the {limits.max_file_mb:g} MB "
            "limit.",
            code="source-too-large", hint="Split the workbook, or raise [limits] max_file_mb.")
    if path.suffix.lower() == ".xls":
        _check_xls_signature(path)
    if path.suffix.lower() not in ZIP_SUFFIXES:
        return {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if any(i.flag_bits & 0x1 for i in infos):
                raise SourceReadError(f"{path.name} is password-protected.",
                                      hint="Save a copy without a password for sheetsync to read.")
            total = sum(i.file_size for i in infos)
            _check_unpacked_size(path, total, limits)
            if path.suffix.lower() in (".xlsx", ".xlsm"):
                return _error_cells(zf)
            return {}
    except zipfile.BadZipFile:
        with path.open("rb") as fh:
            head = fh.read(8)
        if not head:
            raise SourceReadError(f"{path.name} is empty (0 bytes).",
                                  hint="Check that the file was copied completely.") from None
        if head.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE2 container: encrypted OOXML or old .xls
            raise SourceReadError(
                f"{path.name} is password-protected (or an old .xls saved as {path.suffix}).",
                hint="Remove the password (File > Info > Protect Workbook), or save as .xlsx.",
            ) from None
        raise SourceReadError(f"{path.name} is not a valid {path.suffix} workbook (damaged or "
                              "not a spreadsheet).",
                              hint="Open it in Excel and save it again as .xlsx.") from None


def _check_unpacked_size(path: Path, total: int, limits: ReadLimits) -> None:
    if total > limits.max_uncompressed_mb * 1024 * 1024:
        raise SourceReadError(
            f"{path.name} unpacks to {total / 1024 / 1024:.0f} MB, over the "
            f"{limits.max_uncompressed_mb:g} MB limit.",
            code="source-too-large",
            hint="This may be a damaged or malicious file; or raise [limits] max_uncompressed_mb.")


def _check_xls_signature(path: Path) -> None:
    """An old-format .xls is an OLE2 container; say plainly what a file named .xls really is."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return
    if not head:
        raise SourceReadError(f"{path.name} is empty (0 bytes).",
                              hint="Check that the file was copied completely.")
    if head.startswith(b"PK\x03\x04"):
        raise SourceReadError(f"{path.name} is an .xlsx workbook with an .xls name.",
                              hint="Rename it to .xlsx (or open it in Excel and save as .xlsx).")
    # Web apps often export HTML or text tables with an .xls name; Excel opens them, with a warning.
    raise SourceReadError(f"{path.name} is not an Excel workbook: it holds text or a web page "
                          "saved with an .xls name.",
                          hint="Open it in Excel and save it as .xlsx.")


_SHEET_RE = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL_RE = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_REL_RE_REV = re.compile(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')
_ERROR_CELL_RE = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>'
                            rb'(?:<f\b[^>]*(?:/>|>.*?</f>))?'
                            rb'<v>([^<]*)</v>', re.S)


def _error_cells(zf: zipfile.ZipFile) -> dict[str, list[tuple[int, int, str]]]:
    """Formula error values (#DIV/0!, #REF!, ...) per sheet, from the OOXML sheet parts.

    calamine returns error cells as blanks, and cannot say where one is; people need to know a
    formula is broken, so the (rare) error cells are found with a byte search and put back into
    the grid. The search runs in the package check's pass over the zip (its directory is read
    once) and inflates each sheet part in one call; the regex runs only on a part that holds an
    error cell.
    """
    import html

    out: dict[str, list[tuple[int, int, str]]] = {}
    try:
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names:
            return out
        rels_xml = _read_part(zf, "xl/_rels/workbook.xml.rels")
        rels = {rid: target for rid, target in _REL_RE.findall(rels_xml)}
        rels.update({rid: target for target, rid in _REL_RE_REV.findall(rels_xml)})
        for name, rid in _SHEET_RE.findall(_read_part(zf, "xl/workbook.xml")):
            target = rels.get(rid, b"").decode()
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            if part not in names:
                continue
            xml = _read_part(zf, part)
            if b't="e"' not in xml:
                continue
            found = [(int(row), column_number(letters.decode()), html.unescape(text.decode()))
                     for letters, row, text in _ERROR_CELL_RE.findall(xml)]
            out[html.unescape(name.decode())] = found
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, zlib.error):
        return {}
    return out


def _read_part(zf: zipfile.ZipFile, name: str) -> bytes:
    """One part of a zip package, inflating no more than its declared size (plus one byte).

    ``ZipFile.read`` inflates a member's whole compressed stream before it compares sizes, so a
    part whose header understates its size (a lying zip bomb) would cost all of its real size
    in memory. Reading a bounded amount makes the lie show as a short or long part instead,
    cheaply. The stored bytes are read straight from the file and inflated in one call: this
    is a search, and calamine checks the part's CRC when it parses it.
    """
    info = zf.getinfo(name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or zf.fp is None:
        with zf.open(info) as fh:
            return fh.read(info.file_size + 1)
    fp = zf.fp
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {name}")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    fp.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    stored = fp.read(info.compress_size)
    if info.compress_type == zipfile.ZIP_STORED:
        return stored[: info.file_size + 1]
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(stored, info.file_size + 1)


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip local file header (see zipfile.py)


def _put_errors(rows: list[list], errors: list[tuple[int, int, str]]) -> None:
    for r, c, text in errors:
        while len(rows) < r:
            rows.append([])
        row = rows[r - 1]
        while len(row) < c:
            row.append("")
        if row[c - 1] in ("", None):
            row[c - 1] = text


def _trim(rows: list[list]) -> list[list]:
    """Blank strings become None; trailing empty cells and rows are dropped."""
    out: list[list] = []
    last_nonempty = -1
    for i, row in enumerate(rows):
        cells = [None if v == "" else v for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
        if cells:
            last_nonempty = i
    return out[: last_nonempty + 1]


def read_excel(path: str | Path, limits: ReadLimits | None = None) -> RawWorkbook:
    """Read every visible and hidden tab of an offline workbook.

    Raises :class:`SourceReadError` (never anything else) when the file cannot be read.
    """
    from python_calamine import CalamineWorkbook

    limits = limits or ReadLimits()
    path = Path(path)
    if not path.is_file():
        raise SourceReadError(f"{path} does not exist.", code="unreadable-source",
                              hint="Check the path in the config.")
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        raise SourceReadError(f"{path.name} is not a spreadsheet file "
                              f"({', '.join(EXCEL_SUFFIXES)}).",
                              hint="Save it as .xlsx.")
    try:
        errors = _check_package(path, limits)
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        wb = CalamineWorkbook.from_path(str(path))
        tabs: dict[str, RawTab] = {}
        cells = 0
        for meta in wb.sheets_metadata:
            if "WorkSheet" not in str(meta.typ):
                continue  # chart sheets and macro sheets hold no data rows
            sheet = wb.get_sheet_by_name(meta.name)
            cells += sheet.height * sheet.width
            if cells > limits.max_cells:
                raise SourceReadError(
                    f"{path.name} has more than {limits.max_cells:,} cells.",
                    code="source-too-large",
                    hint="Remove unused rows/columns, or raise [limits] max_cells.")
            grid = sheet.to_python(skip_empty_area=False)
            if meta.name in errors:
                _put_errors(grid, errors[meta.name])
            tabs[meta.name] = RawTab(meta.name, _trim(grid))
        wb.close()
    except SourceReadError:
        raise
    except PermissionError:
        raise SourceReadError(f"{path.name} cannot be opened: permission denied.",
                              hint="Check the file's permissions, or close it in Excel.",
                              transient=True) from None
    except Exception as exc:  # calamine raises its own types for damaged files
        raise SourceReadError(f"{path.name} could not be read: {type(exc).__name__}: "
                              f"{str(exc)[:200]}",
                              hint="Open it in Excel and save it again as .xlsx.") from None
    return RawWorkbook(location=str(path), tabs=tabs, modified=modified, title=path.stem)
