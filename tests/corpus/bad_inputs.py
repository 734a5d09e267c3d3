"""Generate the bad-input corpus: workbooks people really send, and files that are not workbooks.

:func:`build_bad_corpus` writes every entry of :data:`BAD_INPUTS` into a folder and returns
them by file name. Each entry says which kind of source it poses as, which class of problem it
holds and what sheetsync should make of it: finding codes that must appear, or a code for a
file that cannot be read at all.

Plain workbooks come from :mod:`sheetsync.testing.workbooks`, which is fast (the 100,000-row
time log takes about a second) and writes what saved files hold: cached formula errors, hidden
rows, merged ranges. Damaged packages are made here, part by part: bytes that are not UTF-8,
truncated zips and zip bombs. None of it goes through the reader under test.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sheetsync.grid import MAX_CELL_CHARS
from sheetsync.testing.workbooks import (
    ErrorValue,
    Tab,
    package_parts,
    write_package,
    write_xlsx,
    zip_package,
)

AS_OF = date(2026, 11, 4)
"""The as-of date the corpus is written for (the example program's)."""

START = date(2026, 9, 7)
BIG_LOG_ROWS = 100_000
WIDE_COLUMNS = 5_000
LONG_TEXT = MAX_CELL_CHARS
ZIP_BOMB_MB = 600  # what the bomb unpacks to (over the default 500 MB limit); ~620 kB on disk
LYING_BOMB_MB = 256  # a bomb whose headers say it holds 1 kB
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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
    # 100,000 rows of 30 minutes each, over 58 school days: the slowest file in the corpus.
    from datetime import timedelta

    days = [START + timedelta(days=d) for d in range(58)]
    activities = ["Co-planning", "Modeling", "Data meeting", "Substitute coverage"]
    rows = [TIME_HEADER, *([days[i % len(days)], 30, activities[i % len(activities)]]
                           for i in range(BIG_LOG_ROWS))]
    write_xlsx(path, coach_tabs(rows))


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
    write_package(path, parts)


def _latin1_declared_latin1(path: Path) -> None:
    parts = package_parts(team_tabs([WEEKLY_HEADER, [1, None, "62%", "Caf\u00e9"]]))
    xml = parts["xl/worksheets/sheet2.xml"].decode("utf-8")
    parts["xl/worksheets/sheet2.xml"] = xml.replace('encoding="UTF-8"',
                                                    'encoding="ISO-8859-1"').encode("latin-1")
    write_package(path, parts)


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
    whole = zip_package(package_parts(team_tabs([WEEKLY_HEADER, *good_weeks(8)])))
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
    BadInput("xlsx-named.xls", "team", "broken",
             "an .xlsx package renamed to .xls (read as what its bytes are)",
             _xlsx_named_xls, rows=2),
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
