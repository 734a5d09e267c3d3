"""Read offline workbooks (.xlsx, .xlsm, .xls, .ods) with python-calamine, all tabs in one pass.

calamine is a Rust reader several times faster than openpyxl; it returns plain Python values with
dates already typed. The format is told from the file's bytes, not its name (a real .xls renamed
.xlsx is read as what it is). Before opening a zip-based file the reader checks its declared
uncompressed size against a limit, so a zip bomb is refused instead of exhausting memory.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import struct
import zipfile
import zlib
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.backends.excel.settings import ReadLimits
from sheetsync.errors import SourceReadError
from sheetsync.grid import column_number

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
ZIP_SUFFIXES = (".xlsx", ".xlsm", ".ods")

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def shown_name(path: str | Path) -> str:
    """A file's name as people can read it: bytes that are not valid UTF-8 (a name made on
    another system, which Python keeps as surrogate escapes) become U+FFFD."""
    name = Path(path).name
    if name.isprintable():
        return name
    return os.fsencode(name).decode("utf-8", "replace")


def sniff_format(fh: BinaryIO) -> str:
    """What a workbook file really is, from its bytes rather than its name.

    ``"xlsx"`` (also .xlsm), ``"xlsb"``, ``"ods"``, ``"xls"``, ``"encrypted"`` (an OLE2 container
    holding a password-protected Office file), ``"empty"``, or ``"unknown"``.
    """
    found, package = _sniff(fh)
    if package is not None:
        package.close()
    return found


def _sniff(fh: BinaryIO) -> tuple[str, zipfile.ZipFile | None]:
    """:func:`sniff_format`, and the zip package it opened, if any (its directory read once,
    for the checks and the error-cell scan after it; the caller closes it)."""
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    if not head:
        return "empty", None
    if head.startswith(OLE2_MAGIC[:4]):
        # The directory of an encrypted Office file names its "EncryptedPackage" stream; it sits
        # in the first sectors of a small container, so reading a bounded prefix is enough.
        prefix = fh.read(1 << 20)
        fh.seek(0)
        return ("encrypted" if _ENCRYPTED_STREAM in prefix else "xls"), None
    if not head.startswith(b"PK"):
        return "unknown", None
    package = None
    try:
        package = zipfile.ZipFile(fh)
        names = set(package.namelist())
        if "mimetype" in names and package.getinfo("mimetype").file_size < 200 and \
                package.read("mimetype").strip() == _ODS_MIMETYPE:
            found = "ods"
        elif any(n.endswith(".bin") and n.startswith("xl/workbook") for n in names):
            found = "xlsb"
        else:
            found = "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        found = "xlsx"  # a damaged package: the checks below say so plainly
        if package is not None:
            package.close()
        package = None
    fh.seek(0)
    return found, package


def _not_a_workbook(name: str, path: Path) -> SourceReadError:
    return SourceReadError(f"{name} is not a valid {path.suffix} workbook (damaged or "
                           "not a spreadsheet).",
                           hint="Open it in Excel and save it again as .xlsx.")


def _check_package(fh: BinaryIO, path: Path, limits: ReadLimits) -> zipfile.ZipFile | None:
    """Sniff the file's real format and check it against the limits; returns the open zip
    package of an xlsx, for the error-cell scan (the caller closes it), else None."""
    name = shown_name(path)
    size = os.fstat(fh.fileno()).st_size
    if size > limits.max_file_mb * 1024 * 1024:
        raise SourceReadError(
            f"{name} is {size / 1024 / 1024:.0f} MB, over the {limits.max_file_mb:g} MB "
            "limit.",
            code="source-too-large", hint="Split the workbook, or raise [limits] max_file_mb.")
    found, package = _sniff(fh)
    try:
        _check_contents(fh, path, limits, found, package)
    except BaseException:
        if package is not None:
            package.close()
        raise
    if found != "xlsx" and package is not None:
        package.close()
        package = None
    return package


def _check_contents(fh: BinaryIO, path: Path, limits: ReadLimits, found: str,
                    package: zipfile.ZipFile | None) -> None:
    """Refuse what cannot or must not be read: empty, encrypted, not a workbook, damaged, or
    past the limits once unpacked."""
    name = shown_name(path)
    if found == "empty":
        raise SourceReadError(f"{name} is empty (0 bytes).",
                              hint="Check that the file was copied completely.")
    if found == "encrypted":
        raise SourceReadError(
            f"{name} is password-protected.",
            hint="Remove the password (File > Info > Protect Workbook), or save a copy without "
            "one for sheetsync to read.")
    if found == "unknown":
        if path.suffix.lower() == ".xls":
            # Web apps often export HTML or text tables with an .xls name; Excel opens them.
            raise SourceReadError(f"{name} is not an Excel workbook: it holds text or a web page "
                                  "saved with an .xls name.",
                                  hint="Open it in Excel and save it as .xlsx.")
        raise _not_a_workbook(name, path)
    if found == "xls":
        return
    if package is None:  # the sniff could not open it: a damaged package
        raise _not_a_workbook(name, path)
    infos = package.infolist()
    fh.seek(0)
    if any(i.flag_bits & 0x1 for i in infos):
        raise SourceReadError(f"{name} is password-protected.",
                              hint="Save a copy without a password for sheetsync to read.")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_mb * 1024 * 1024:
        raise SourceReadError(
            f"{name} unpacks to {total / 1024 / 1024:.0f} MB, over the "
            f"{limits.max_uncompressed_mb:g} MB limit.",
            code="source-too-large",
            hint="This may be a damaged or malicious file; or raise [limits] max_uncompressed_mb.")


_ERROR_CELL_RE = re.compile(
    rb"<(?P<p>[\w.-]+:)?c\b(?P<attrs>[^>]*?\bt\s*=\s*[\"']e[\"'][^>]*?)(?<!/)>"
    rb"\s*(?:<(?P=p)?f\b[^>]*?(?:/>|>.*?</(?P=p)?f>)\s*)?"
    rb"<(?P=p)?v>(?P<v>[^<]*)</(?P=p)?v>", re.S)
_CELL_REF_RE = re.compile(rb"\br\s*=\s*[\"']([A-Z]{1,3})(\d+)[\"']")
_ERROR_TYPE_RE = re.compile(rb"(<(?:[\w.-]+:)?c\b[^>]*?\bt\s*=\s*)([\"'])e\2")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet's name and the package part that holds it (ElementTree, so attribute order
    and namespace prefixes do not matter)."""
    from xml.etree import ElementTree as ET

    names = set(zf.namelist())
    workbook = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in ET.fromstring(_read_part(zf, "_rels/.rels")):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook = rel.get("Target", workbook).lstrip("/")
    if workbook not in names:
        return {}
    folder = workbook.rpartition("/")[0]
    rels_part = f"{folder}/_rels/{workbook.rpartition('/')[2]}.rels"
    targets: dict[str, str] = {}
    if rels_part in names:
        for rel in ET.fromstring(_read_part(zf, rels_part)):
            target = rel.get("Target", "")
            targets[rel.get("Id", "")] = (target.lstrip("/") if target.startswith("/")
                                          else posixpath.normpath(f"{folder}/{target}"))
    found = {}
    for element in ET.fromstring(_read_part(zf, workbook)).iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
        part = targets.get(rid)
        if part in names:
            found[element.get("name", "")] = part
    return found


def _error_cells(zf: zipfile.ZipFile) -> dict[str, list[tuple[int, int, str]]]:
    """Formula error values (#DIV/0!, #SPILL!, ...) per sheet, from the OOXML sheet parts.

    calamine returns error cells as blanks, and cannot say where one is; people need to know a
    formula is broken, so the (rare) error cells are found with a byte search and put back into
    the grid. Each sheet part is inflated in one call, and the regex runs only on a part that
    holds an error cell.
    """
    import html

    out: dict[str, list[tuple[int, int, str]]] = {}
    try:
        for name, part in _sheet_parts(zf).items():
            xml = _read_part(zf, part)
            # Every error value holds a "#" (#N/A, #DIV/0!, even written as &#35;N/A), and
            # an error cell's type attribute is the value e, in either quotes: without them
            # the part has no error cell and the regex need not run. Most parts hold no "#"
            # at all, which one byte search tells.
            if (b"#" not in xml or (b'"e"' not in xml and b"'e'" not in xml)
                    or not _ERROR_TYPE_RE.search(xml)):
                continue
            found = []
            for match in _ERROR_CELL_RE.finditer(xml):
                ref = _CELL_REF_RE.search(match.group("attrs"))
                if ref is not None:
                    found.append((int(ref.group(2)), column_number(ref.group(1).decode()),
                                  html.unescape(match.group("v").decode("utf-8", "replace"))))
            out[name] = found
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError):
        return {}  # ET.ParseError is a SyntaxError; calamine reports a damaged package itself
    return out


def _errors_as_text(zf: zipfile.ZipFile) -> BytesIO:
    """A copy of the package in which every error cell is a text result instead.

    calamine refuses a whole tab over one error value it does not know (Excel 365's #SPILL!,
    #CALC!, #FIELD!, #BLOCKED!, #CONNECT!, #BUSY!, #UNKNOWN!, #GETTING_DATA); as text, the
    value reaches validation, which reports it at its cell as a formula error.
    """
    sheets = set(_sheet_parts(zf).values())
    copy = BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
        for info in zf.infolist():
            data = _read_part(zf, info.filename)
            if info.filename in sheets:
                data = _ERROR_TYPE_RE.sub(rb"\1\2str\2", data)
            out.writestr(info.filename, data)
    copy.seek(0)
    return copy


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
        if "" in row:  # most rows of a table are full: only the others are copied
            row = [None if v == "" else v for v in row]
        while row and row[-1] is None:
            row.pop()
        out.append(row)
        if row:
            last_nonempty = i
    return out[: last_nonempty + 1]


def read_excel(path: str | Path, limits: ReadLimits | None = None) -> RawWorkbook:
    """Read every visible and hidden tab of an offline workbook.

    The format is told from the file's bytes, so a workbook saved under another format's
    extension is still read. Raises :class:`SourceReadError` (never anything else) when the file
    cannot be read.
    """
    limits = limits or ReadLimits()
    path = Path(path)
    name = shown_name(path)
    if not path.is_file():
        raise SourceReadError(f"{shown_name(path.parent)}/{name} does not exist.",
                              code="unreadable-source", hint="Check the path in the config.")
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        raise SourceReadError(f"{name} is not a spreadsheet file "
                              f"({', '.join(EXCEL_SUFFIXES)}).",
                              hint="Save it as .xlsx.")
    try:
        # Opened here, not by calamine from the path: a name that is not valid UTF-8 still opens.
        with path.open("rb") as fh:
            package = _check_package(fh, path, limits)
            with package if package is not None else contextlib.nullcontext():
                modified = datetime.fromtimestamp(os.fstat(fh.fileno()).st_mtime, tz=UTC)
                tabs = _read_tabs(fh, name, limits, package)
    except SourceReadError:
        raise
    except PermissionError:
        raise SourceReadError(f"{name} cannot be opened: permission denied.",
                              hint="Check the file's permissions, or close it in Excel.",
                              transient=True) from None
    except Exception as exc:  # calamine raises its own types for damaged files
        raise SourceReadError(f"{name} could not be read: {type(exc).__name__}: "
                              f"{str(exc)[:200]}",
                              hint="Open it in Excel and save it again as .xlsx.") from None
    return RawWorkbook(location=str(path), tabs=tabs, modified=modified,
                       title=Path(name).stem)


def _read_tabs(fh: BinaryIO, name: str, limits: ReadLimits,
               package: zipfile.ZipFile | None = None) -> dict[str, RawTab]:
    """Every worksheet's grid; ``package`` is an xlsx's open zip, whose sheet parts hold the
    error cells calamine reads as blanks."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(fh)
    errors = _error_cells(package) if package is not None else {}
    fallback = None
    tabs: dict[str, RawTab] = {}
    cells = 0
    try:
        for meta in wb.sheets_metadata:
            if "WorkSheet" not in str(meta.typ):
                continue  # chart sheets and macro sheets hold no data rows
            try:
                sheet = wb.get_sheet_by_name(meta.name)
            except Exception as exc:
                if package is None or "error value" not in str(exc):
                    raise
                if fallback is None:  # read once more, the error cells as text
                    fallback = CalamineWorkbook.from_filelike(_errors_as_text(package))
                sheet = fallback.get_sheet_by_name(meta.name)
            cells += sheet.height * sheet.width
            if cells > limits.max_cells:
                raise SourceReadError(
                    f"{name} has more than {limits.max_cells:,} cells.",
                    code="source-too-large",
                    hint="Remove unused rows/columns, or raise [limits] max_cells.")
            grid = sheet.to_python(skip_empty_area=False)
            if meta.name in errors:
                _put_errors(grid, errors[meta.name])
            tabs[meta.name] = RawTab(meta.name, _trim(grid))
    finally:
        wb.close()
        if fallback is not None:
            fallback.close()
    return tabs
