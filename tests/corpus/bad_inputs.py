"""Generate the bad-input corpus: workbooks people really send, and files that are not workbooks.

:func:`build_bad_corpus` writes every entry of :data:`BAD_INPUTS` into a folder and returns
them by file name. Each entry says which kind of source it poses as, which class of problem it
holds and what sheetsync should make of it: finding codes that must appear, or a code for a
file that cannot be read at all.

The ``.xlsx`` packages are written part by part with :mod:`zipfile` instead of openpyxl. That is
fast (the 100,000-row time log takes well under a second), and it gives exact control over
what a saved file can hold: cached formula errors (``t="e"``), hidden rows, merged ranges,
bytes that are not UTF-8, truncated zips and zip bombs. Nothing here depends on the code under
test, so a bug there cannot hide in the fixtures.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

AS_OF = date(2026, 11, 4)
"""The as-of date the corpus is written for (the example program's)."""

START = date(2026, 9, 7)
BIG_LOG_ROWS = 100_000
WIDE_COLUMNS = 5_000
LONG_TEXT = 32_767  # Excel's limit on the characters in one cell
ZIP_BOMB_MB = 600  # what the bomb unpacks to (over the default 500 MB limit); ~620 kB on disk
LYING_BOMB_MB = 256  # a bomb whose headers say it holds 1 kB
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_EPOCH = date(1899, 12, 30)


# -- what each file is, and what sheetsync should make of it ---------------------------------------

@dataclass(frozen=True)
class BadInput:
    """One corpus file.

    ``expect`` lists finding codes that must appear for this source. ``unreadable`` names the
    code of the one error a file that cannot be read gets (its source is then ``failed``).
    ``rows`` is how many valid rows the source still contributes, when that is known.
    """

    name: str  # file name, suffix included
    kind: str  # "team" | "coach" | "auto": how the config lists it
    category: str  # "structure" | "cells" | "broken"
    what: str  # one line for the report
    build: Callable[[Path], None]
    expect: tuple[str, ...] = ()
    unreadable: str | None = None
    rows: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return Path(self.name).stem


# -- a minimal SpreadsheetML writer --------------------------------------------------------------

@dataclass
class ErrorValue:
    """A formula whose cached result is an Excel error, as Excel saves it."""

    text: str  # "#DIV/0!"
    formula: str = "1/0"


@dataclass
class Tab:
    """One worksheet to write: rows of Python values, plus what real files carry around them."""

    name: str
    rows: Sequence[Sequence[Any]]
    merged: Sequence[str] = ()  # "A1:D1"
    hidden_rows: Sequence[int] = ()  # 1-based
    state: str = "visible"


def column_letters(index: int) -> str:
    """1-based column index to letters: 1 -> A, 5000 -> GJH."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def excel_serial(day: date | datetime) -> float:
    if isinstance(day, datetime):
        delta = day - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return float((day - EXCEL_EPOCH).days)


def number_text(value: float) -> str:
    """A number as sheet XML holds it, exactly (no exponent for whole numbers)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _cell(ref: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, ErrorValue):
        return (f'<c r="{ref}" t="e"><f>{escape(value.formula)}</f>'
                f"<v>{escape(value.text)}</v></c>")
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (date, datetime)):
        style = 2 if isinstance(value, datetime) else 1
        return f'<c r="{ref}" s="{style}"><v>{number_text(excel_serial(value))}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{number_text(value)}</v></c>'
    text = escape(str(value)).replace("\r", "&#13;")
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def sheet_xml(tab: Tab) -> str:
    """The worksheet part for ``tab`` (inline strings, so no shared-strings table is needed)."""
    hidden = set(tab.hidden_rows)
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           "<sheetData>"]
    letters: list[str] = []
    for i, row in enumerate(tab.rows, start=1):
        while len(letters) < len(row):
            letters.append(column_letters(len(letters) + 1))
        attrs = ' hidden="1"' if i in hidden else ""
        cells = "".join(_cell(f"{letters[j]}{i}", v) for j, v in enumerate(row))
        out.append(f'<row r="{i}"{attrs}>{cells}</row>')
    out.append("</sheetData>")
    if tab.merged:
        out.append(f'<mergeCells count="{len(tab.merged)}">'
                   + "".join(f'<mergeCell ref="{m}"/>' for m in tab.merged) + "</mergeCells>")
    out.append("</worksheet>")
    return "".join(out)


STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>")


def package_parts(tabs: Sequence[Tab]) -> dict[str, bytes]:
    """Every part of a minimal, valid ``.xlsx`` holding ``tabs``."""
    sheets = "".join(
        f'<sheet name="{escape(t.name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"'
        + ("" if t.state == "visible" else f' state="{t.state}"') + "/>"
        for i, t in enumerate(tabs, start=1))
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(tabs) + 1))
    n = len(tabs) + 1
    rels += (f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
             '2006/relationships/styles" Target="styles.xml"/>')
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(tabs) + 1))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>"),
        "xl/styles.xml": STYLES_XML,
    }
    out = {name: text.encode("utf-8") for name, text in parts.items()}
    for i, tab in enumerate(tabs, start=1):
        out[f"xl/worksheets/sheet{i}.xml"] = sheet_xml(tab).encode("utf-8")
    return out


def write_parts(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def write_xlsx(path: Path, tabs: Sequence[Tab]) -> None:
    write_parts(path, package_parts(tabs))


# -- good content to break -------------------------------------------------------------------------

GOAL_ROWS: list[list[Any]] = [
    ["School", "Corpus Elementary"], ["Team", "Grade 4"], ["SMART Goal", "Read more."],
    ["Metric", "% proficient"], ["Unit", "percent"], ["Baseline", "60%"], ["Target", "80%"],
    ["Start Date", START],
]
WEEKLY_HEADER = ["Week", "Week Of", "Value", "What We Tried"]
ABOUT_ROWS: list[list[Any]] = [["Coach", "Corpus Coach"], ["School(s)", "Corpus Elementary"]]
RELATIONSHIPS_ROWS: list[list[Any]] = [["Teacher", "Knows Face"], ["T. One", "Yes"],
                                       ["T. Two", "No"]]
TIME_HEADER = ["Date", "Minutes", "Activity"]


def team_tabs(weekly_rows: Sequence[Sequence[Any]], **weekly: Any) -> list[Tab]:
    return [Tab("Goal", GOAL_ROWS), Tab("Weekly Progress", weekly_rows, **weekly)]


def coach_tabs(time_rows: Sequence[Sequence[Any]], **time_log: Any) -> list[Tab]:
    return [Tab("About", ABOUT_ROWS), Tab("Relationships", RELATIONSHIPS_ROWS),
            Tab("Time Log", time_rows, **time_log)]


def good_weeks(n: int = 3) -> list[list[Any]]:
    from datetime import timedelta

    return [[w, START + timedelta(weeks=w - 1), f"{60 + 2 * w}%", "Small groups"]
            for w in range(1, n + 1)]


# -- structure -------------------------------------------------------------------------------------

def _empty_workbook(path: Path) -> None:
    write_xlsx(path, [Tab("Sheet1", [])])


def _without_expected_tabs(path: Path) -> None:
    write_xlsx(path, [Tab("Budget", [["Item", "Cost"], ["Books", 120]]),
                      Tab("Notes", [["Remember the field trip"]])])


def _header_only(path: Path) -> None:
    write_xlsx(path, team_tabs([WEEKLY_HEADER]))


def _header_plus_junk(path: Path) -> None:
    junk = [["Week", "Value", "Numerator"],
            ["lots", "???", "many"], [True, "yes", "\u2603"], ["#REF", "12%%", "1e999"],
            ["Week 2", "--%", "(3)"], ["\x07bell", "=A1", "@cmd"], [3.5, "70%", -4]]
    write_xlsx(path, team_tabs(junk))


def _big_time_log(path: Path) -> None:
    # 100,000 rows of 30 minutes each, over 200 school days: the slowest file in the corpus.
    from datetime import timedelta

    days = [START + timedelta(days=d) for d in range(58)]
    serials = [number_text(excel_serial(d)) for d in days]
    activities = ["Co-planning", "Modeling", "Data meeting", "Substitute coverage"]
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Minutes</t></is></c>'
            '<c r="C1" t="inlineStr"><is><t>Activity</t></is></c></row>']
    for i in range(BIG_LOG_ROWS):
        r = i + 2
        rows.append(f'<row r="{r}"><c r="A{r}" s="1"><v>{serials[i % len(serials)]}</v></c>'
                    f'<c r="B{r}"><v>30</v></c><c r="C{r}" t="inlineStr"><is><t>'
                    f"{activities[i % len(activities)]}</t></is></c></row>")
    parts = package_parts(coach_tabs([]))
    parts["xl/worksheets/sheet3.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>" + "".join(rows) + "</sheetData></worksheet>").encode()
    write_parts(path, parts)


def _wide_tab(path: Path) -> None:
    # A pasted matrix under unlabelled header cells, and one stray label at the far right.
    header: list[Any] = ["Week", "Value", *([None] * (WIDE_COLUMNS - 3)), "Scratch"]
    rows = [header] + [[w, f"{60 + w}%", *range(3, WIDE_COLUMNS + 1)] for w in (1, 2)]
    write_xlsx(path, team_tabs(rows))


def _merged_headers(path: Path) -> None:
    # A title merged across the table, and header cells merged over two columns each.
    rows = [["Grade 4 weekly data"],
            ["Week", None, "Value", None, "What We Tried", None],
            [1, None, "62%", None, "Small groups"], [2, None, "64%", None, "Small groups"]]
    write_xlsx(path, team_tabs(rows, merged=["A1:F1", "A2:B2", "C2:D2", "E2:F2"]))


def _two_row_header(path: Path) -> None:
    # "Result" merged over the two columns whose own labels sit in the row below.
    rows = [["Week", "Result", None, "What We Tried"],
            [None, "Students Meeting", "Out Of"],
            [1, 30, 50, "Small groups"], [2, 33, 50, "Small groups"]]
    write_xlsx(path, team_tabs(rows, merged=["B1:C1", "A1:A2", "D1:D2"]))


def _duplicate_headers(path: Path) -> None:
    rows = [["Week", "Value", "Value", "Week"], [1, "62%", "99%", 7], [2, "64%", "1%", 8]]
    write_xlsx(path, team_tabs(rows))


def _hidden_rows(path: Path) -> None:
    rows = [WEEKLY_HEADER, *good_weeks(4)]
    write_xlsx(path, team_tabs(rows, hidden_rows=[3, 4]))


# -- odd cell values -------------------------------------------------------------------------------

def _formula_errors(path: Path) -> None:
    rows = [TIME_HEADER,
            [START, ErrorValue("#DIV/0!", "B9/0"), "Co-planning"],
            [START, 45, ErrorValue("#N/A", 'VLOOKUP("x",Z1:Z2,1,FALSE)')],
            [ErrorValue("#VALUE!", 'DATE("x",1,1)'), 30, "Modeling"],
            [START, ErrorValue("#REF!", "#REF!+1"), "Modeling"],
            [START, 60, "Modeling"]]
    write_xlsx(path, coach_tabs(rows))


def _dates_before_1900(path: Path) -> None:
    rows = [TIME_HEADER, ["1899-12-25", 30, "Modeling"], ["3/4/1850", 30, "Modeling"],
            ["0001-01-01", 30, "Modeling"], [-5, 30, "Modeling"], [START, 30, "Modeling"]]
    write_xlsx(path, coach_tabs(rows))


def _year_9999(path: Path) -> None:
    rows = [TIME_HEADER, [date(9999, 12, 31), 30, "Modeling"], ["9999-01-01", 30, "Modeling"],
            [2958465, 30, "Modeling"], [START, 30, "Modeling"]]
    write_xlsx(path, coach_tabs(rows))


def _minutes_out_of_range(path: Path) -> None:
    rows = [["Date", "Minutes", "Hours", "Start", "End", "Activity"],
            [START, -30, None, None, None, "Modeling"],
            [START, 1500, None, None, None, "Modeling"],
            [START, None, 30, None, None, "Modeling"],
            [START, None, None, "23:00", "01:00", "Modeling"],
            [START, "-1:30", None, None, None, "Modeling"],
            [START, 45, None, None, None, "Modeling"]]
    write_xlsx(path, coach_tabs(rows))


def _latin1_declared_utf8(path: Path) -> None:
    parts = package_parts(team_tabs([WEEKLY_HEADER, [1, None, "62%", "CAFE_MARK"]]))
    # The bytes of "Café" in latin-1 inside a part that says it is UTF-8: invalid XML.
    parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"].replace(
        b"CAFE_MARK", "Caf\u00e9 \u00e0 la cr\u00e8me".encode("latin-1"))
    write_parts(path, parts)


def _latin1_declared_latin1(path: Path) -> None:
    parts = package_parts(team_tabs([WEEKLY_HEADER, [1, None, "62%", "Caf\u00e9"]]))
    xml = parts["xl/worksheets/sheet2.xml"].decode("utf-8")
    parts["xl/worksheets/sheet2.xml"] = xml.replace('encoding="UTF-8"',
                                                    'encoding="ISO-8859-1"').encode("latin-1")
    write_parts(path, parts)


def _csv_renamed(path: Path) -> None:
    path.write_bytes("Week,Value,What We Tried\r\n1,62%,Caf\u00e9 talk\r\n".encode("latin-1"))


def _long_cells(path: Path) -> None:
    rows = [WEEKLY_HEADER,
            [1, START, "62%", "x" * LONG_TEXT],
            [2, None, "64%", "=" + "y" * (LONG_TEXT + 5_000)]]
    write_xlsx(path, team_tabs(rows))


# -- broken files ----------------------------------------------------------------------------------

def _text_renamed(path: Path) -> None:
    path.write_text("Notes from Tuesday's meeting.\nNothing here is a spreadsheet.\n")


def _truncated_zip(path: Path) -> None:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in package_parts(team_tabs([WEEKLY_HEADER, *good_weeks(8)])).items():
            zf.writestr(name, data)
    whole = buffer.getvalue()
    path.write_bytes(whole[: len(whole) * 2 // 3])  # the central directory is gone


def _cfb_container(path: Path) -> None:
    """The start of an OLE2 compound file, as Excel saves an encrypted workbook."""
    header = bytearray(512)
    header[:8] = CFB_MAGIC
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 0x3, 0xFFFE, 0x9, 0x6)
    body = bytearray(b"\xff" * 512)
    body[:4] = struct.pack("<i", -3)  # FAT sector marker
    text = "EncryptionInfo EncryptedPackage".encode("utf-16-le")
    path.write_bytes(bytes(header) + bytes(body) + text + bytes(512 - len(text)))


def deflated_zeros(megabytes: int) -> bytes:
    """A raw deflate stream of ``megabytes`` MB of zeros, about 1 kB per MB, built fast.

    Deflate blocks ended by a full flush are byte-aligned and independent, so one megabyte is
    compressed once and its block repeated.
    """
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(bytes(1 << 20)) + squeeze.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + squeeze.flush(zlib.Z_FINISH)


def zeros_crc(megabytes: int) -> int:
    chunk, crc = bytes(1 << 20), 0
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    return crc


def bomb_package(part: str, megabytes: int, *, declared: int | None = None) -> bytes:
    """A team tracker whose ``part`` unpacks to ``megabytes`` MB of zeros.

    ``declared`` replaces the true size in the zip headers: a bomb that lies about its size.
    """
    parts = package_parts(team_tabs([WEEKLY_HEADER, *good_weeks(2)]))
    entries: list[tuple[str, bytes, tuple[int, int] | None]] = [
        (name, data, None) for name, data in parts.items() if name != part]
    size = megabytes << 20 if declared is None else declared
    crc = zeros_crc(megabytes) if declared is None else 0
    entries.append((part, deflated_zeros(megabytes), (crc, size)))
    return raw_zip(entries)


def _zip_bomb(path: Path) -> None:
    path.write_bytes(bomb_package("xl/worksheets/sheet2.xml", ZIP_BOMB_MB))


def _lying_zip_bomb(path: Path) -> None:
    path.write_bytes(bomb_package("xl/worksheets/sheet2.xml", LYING_BOMB_MB, declared=1_000))


def raw_zip(entries: Sequence[tuple[str, bytes, tuple[int, int] | None]]) -> bytes:
    """A zip built byte by byte. Entries with ``(crc, size)`` hold already-deflated data."""
    local, central = bytearray(), bytearray()
    for name, data, precompressed in entries:
        if precompressed is None:
            crc, size = zlib.crc32(data), len(data)
            squeeze = zlib.compressobj(6, zlib.DEFLATED, -15)
            data = squeeze.compress(data) + squeeze.flush()
        else:
            crc, size = precompressed
        encoded = name.encode()
        offset = len(local)
        fields = (20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded))
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + encoded + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0,
                               offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                      len(local), 0)
    return bytes(local + central + end)


# -- other formats ---------------------------------------------------------------------------------

def _xlsx_named_xls(path: Path) -> None:
    write_xlsx(path, team_tabs([WEEKLY_HEADER, *good_weeks(2)]))


def _html_named_xls(path: Path) -> None:
    # What many web apps call "Export to Excel": an HTML table saved with an .xls name.
    path.write_text("<html><body><table><tr><td>Week</td><td>Value</td></tr>"
                    "<tr><td>1</td><td>62%</td></tr></table></body></html>")


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, date):
        return (f'<table:table-cell office:value-type="date" office:date-value='
                f'"{value.isoformat()}"><text:p>{value.isoformat()}</text:p></table:table-cell>')
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return (f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
            "</text:p></table:table-cell>")


def ods_bytes(tabs: Sequence[Tab]) -> bytes:
    """A minimal OpenDocument spreadsheet (what LibreOffice saves, minus styles)."""
    import io

    tables = "".join(
        f'<table:table table:name="{escape(t.name)}">'
        + "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
                  for row in t.rows) + "</table:table>" for t in tabs)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _ods_team(path: Path) -> None:
    rows = [WEEKLY_HEADER, *good_weeks(3), ["two", None, "lots", None]]
    path.write_bytes(ods_bytes(team_tabs(rows)))


def _ods_truncated(path: Path) -> None:
    whole = ods_bytes(team_tabs([WEEKLY_HEADER, *good_weeks(3)]))
    path.write_bytes(whole[: len(whole) // 2])


# -- the catalogue ---------------------------------------------------------------------------------

BAD_INPUTS: tuple[BadInput, ...] = (
    BadInput("empty-workbook.xlsx", "team", "structure", "an empty workbook (one blank tab)",
             _empty_workbook, expect=("missing-tab",)),
    BadInput("empty-workbook-auto.xlsx", "auto", "structure",
             "an empty workbook whose kind must be guessed", _empty_workbook,
             unreadable="unknown-kind"),
    BadInput("without-expected-tabs.xlsx", "coach", "structure",
             "a workbook without the expected tabs", _without_expected_tabs,
             expect=("missing-tab",)),
    BadInput("header-only.xlsx", "team", "structure", "a tab with only a header",
             _header_only, rows=0),
    BadInput("header-plus-junk.xlsx", "team", "structure", "a header plus junk rows",
             _header_plus_junk, expect=("bad-number", "bad-percent", "out-of-range")),
    BadInput("time-log-100k-rows.xlsx", "coach", "structure",
             f"a {BIG_LOG_ROWS:,}-row time log", _big_time_log, rows=BIG_LOG_ROWS),
    BadInput("wide-5000-columns.xlsx", "team", "structure",
             f"a {WIDE_COLUMNS:,}-column tab", _wide_tab, expect=("unknown-column",), rows=2),
    BadInput("merged-headers.xlsx", "team", "structure", "merged title and header cells",
             _merged_headers, rows=2),
    BadInput("two-row-header.xlsx", "team", "structure",
             "a header merged over a second header row", _two_row_header,
             expect=("missing-required",), rows=2),
    BadInput("duplicate-headers.xlsx", "team", "structure", "duplicate headers",
             _duplicate_headers, expect=("duplicate-column",), rows=2),
    BadInput("hidden-rows.xlsx", "team", "structure", "hidden rows (still read)",
             _hidden_rows, rows=4),
    BadInput("formula-errors.xlsx", "coach", "cells", "formulas with cached error values",
             _formula_errors, expect=("formula-error",)),
    BadInput("dates-before-1900.xlsx", "coach", "cells", "dates before 1900",
             _dates_before_1900, expect=("bad-date",), rows=1),
    BadInput("year-9999.xlsx", "coach", "cells", "dates in the year 9999", _year_9999,
             expect=("bad-date",), rows=1),
    BadInput("minutes-out-of-range.xlsx", "coach", "cells",
             "negative minutes and more than 24 hours of minutes", _minutes_out_of_range,
             expect=("out-of-range", "inconsistent-value")),
    BadInput("latin1-declared-utf8.xlsx", "team", "cells",
             "latin-1 bytes in a sheet that says it is UTF-8", _latin1_declared_utf8,
             unreadable="unreadable-source"),
    BadInput("latin1-declared-latin1.xlsx", "team", "cells",
             "a sheet part encoded (and declared) as ISO-8859-1", _latin1_declared_latin1,
             unreadable="unreadable-source"),
    BadInput("csv-renamed.xlsx", "team", "broken", "a latin-1 CSV file renamed to .xlsx",
             _csv_renamed, unreadable="unreadable-source"),
    BadInput("long-cells.xlsx", "team", "cells", "32,767-character cells and a longer one",
             _long_cells, expect=("cell-too-long",), rows=2),
    BadInput("text-renamed.xlsx", "team", "broken", "a .txt renamed to .xlsx", _text_renamed,
             unreadable="unreadable-source"),
    BadInput("truncated.xlsx", "team", "broken", "a truncated zip", _truncated_zip,
             unreadable="unreadable-source"),
    BadInput("password-protected.xlsx", "coach", "broken",
             "a password-protected workbook (OLE2 container)", _cfb_container,
             unreadable="unreadable-source"),
    BadInput("zip-bomb.xlsx", "team", "broken",
             f"a zip bomb ({ZIP_BOMB_MB:,} MB of zeros in a few kB)", _zip_bomb,
             unreadable="source-too-large"),
    BadInput("zip-bomb-lying.xlsx", "team", "broken",
             f"a zip bomb whose headers understate its size ({LYING_BOMB_MB} MB as 1 kB)",
             _lying_zip_bomb, unreadable="unreadable-source"),
    BadInput("xlsx-named.xls", "team", "broken", "an .xlsx package renamed to .xls",
             _xlsx_named_xls, unreadable="unreadable-source"),
    BadInput("html-export.xls", "team", "broken", "an HTML table exported with an .xls name",
             _html_named_xls, unreadable="unreadable-source"),
    BadInput("empty-file-xls.xls", "coach", "broken", "an empty (0-byte) .xls file", _empty_file,
             unreadable="unreadable-source"),
    BadInput("empty-file.xlsx", "coach", "broken", "an empty (0-byte) .xlsx file", _empty_file,
             unreadable="unreadable-source"),
    BadInput("password-protected-xls.xls", "coach", "broken",
             "an OLE2 container that is not a real .xls", _cfb_container,
             unreadable="unreadable-source"),
    BadInput("team.ods", "team", "cells", "an OpenDocument team tracker with a bad row",
             _ods_team, expect=("bad-number",), rows=3),
    BadInput("truncated-ods.ods", "team", "broken", "a truncated OpenDocument file", _ods_truncated,
             unreadable="unreadable-source"),
)


def build_bad_corpus(directory: Path) -> dict[str, Path]:
    """Write every file of :data:`BAD_INPUTS` into ``directory``; return paths by file name."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for item in BAD_INPUTS:
        path = directory / item.name
        item.build(path)
        out[item.name] = path
    return out


def corpus_size(paths: dict[str, Path]) -> tuple[int, int]:
    """(files, bytes) of a built corpus."""
    return len(paths), sum(p.stat().st_size for p in paths.values())
