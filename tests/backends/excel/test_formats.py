"""Offline districts keep .xlsx, .xlsm and .ods files: all are read the same way."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl

from sheetsync.backends.excel.reader import read_excel
from sheetsync.schema import load_schema
from sheetsync.validation import ValidationContext, build_frames, validate_workbook

GOAL = [["School", "Oak Park"], ["Team", "Grade 2"], ["SMART Goal", "Read"],
        ["Metric", "% on level"], ["Unit", "percent"], ["Baseline", "60%"], ["Target", "70%"],
        ["Start Date", "2026-09-07"]]
WEEKLY = [["Week", "Week Of", "Value"], [1, "9/7", "61%"], [2, "9/14", 0.63]]


def write_ods(path: Path, tabs: dict[str, list[list]]) -> None:
    """A minimal OpenDocument spreadsheet, written by hand (no office suite needed)."""
    def cell(v) -> str:
        if isinstance(v, (int, float)):
            return (f'<table:table-cell office:value-type="float" office:value="{v}">'
                    f"<text:p>{v}</text:p></table:table-cell>")
        return (f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}'
                "</text:p></table:table-cell>")
    body = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
                  for row in rows) + "</table:table>" for name, rows in tabs.items())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", content)


def write_xlsx(path: Path, tabs: dict[str, list[list]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in tabs.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)


def weekly_values(path: Path) -> list[float]:
    raw = read_excel(path)
    result = validate_workbook(raw, load_schema("team"), source=path.stem,
                               ctx=ValidationContext(as_of=date(2026, 11, 4)))
    assert [f for f in result.findings if f.severity.value == "error"] == []
    return build_frames([result.records])["weekly"]["value"].round(4).tolist()


def test_ods_xlsx_and_xlsm_read_alike(tmp_path):
    tabs = {"Goal": GOAL, "Weekly Progress": WEEKLY}
    write_ods(tmp_path / "t.ods", tabs)
    write_xlsx(tmp_path / "t.xlsx", tabs)
    write_xlsx(tmp_path / "t.xlsm", tabs)
    expected = [0.61, 0.63]
    assert weekly_values(tmp_path / "t.ods") == expected
    assert weekly_values(tmp_path / "t.xlsx") == expected
    assert weekly_values(tmp_path / "t.xlsm") == expected


def test_every_tab_is_read_in_one_pass(tmp_path):
    write_ods(tmp_path / "t.ods", {"Goal": GOAL, "Weekly Progress": WEEKLY, "Notes": [["x"]]})
    raw = read_excel(tmp_path / "t.ods")
    assert list(raw.tabs) == ["Goal", "Weekly Progress", "Notes"]
    assert raw.tabs["Weekly Progress"].rows[1][2] == "61%"


def test_an_xlsx_package_directory_is_read_once_and_its_error_cells_still_found(
        tmp_path, monkeypatch):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Time Log"
    sheet.append(["Date", "Minutes"])
    sheet.append(["2026-09-08", 45])
    sheet["B3"].value, sheet["B3"].data_type = "#DIV/0!", "e"
    book.save(tmp_path / "coach.xlsx")
    reads = []
    directory = zipfile.ZipFile._RealGetContents

    def counted(self):
        reads.append(self)
        return directory(self)

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", counted)
    raw = read_excel(tmp_path / "coach.xlsx")
    assert raw.tabs["Time Log"].rows[2][1] == "#DIV/0!"
    assert len(reads) == 1  # the format sniff, the size checks and the error scan share it


def _with_part_replaced(path: Path, out: Path, part: str, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == part:
                assert old in data
                data = data.replace(old, new)
            dst.writestr(item, data)


def test_only_a_sheet_that_holds_a_hash_sign_is_searched_for_error_cells(
        tmp_path, monkeypatch):
    from sheetsync.backends.excel import reader

    book = openpyxl.Workbook()
    book.active.title = "Time Log"
    book.active.append(["Date", "Minutes"])
    book.active.append(["2026-09-08", 45])
    book.active["B3"] = 30
    notes = book.create_sheet("Notes")
    notes.append(["Room #", "Note"])
    book.save(tmp_path / "coach.xlsx")
    cell = b'<c r="B3" t="n"><v>30</v></c>'
    # text that looks like an error cell's type, but no "#"
    _with_part_replaced(tmp_path / "coach.xlsx", tmp_path / "plain.xlsx",
                        "xl/worksheets/sheet1.xml", cell,
                        b'<c r="B3" t="inlineStr"><is><t>the letter "e"</t></is></c>')
    # an error value written with its "#" escaped, as an XML writer may
    _with_part_replaced(tmp_path / "coach.xlsx", tmp_path / "escaped.xlsx",
                        "xl/worksheets/sheet1.xml", cell, b'<c r="B3" t="e"><v>&#35;N/A</v></c>')
    searched = []
    pattern = reader._ERROR_TYPE_RE

    class Counted:
        def search(self, xml: bytes) -> object:
            searched.append(xml)
            return pattern.search(xml)

    monkeypatch.setattr(reader, "_ERROR_TYPE_RE", Counted())
    plain = read_excel(tmp_path / "plain.xlsx")
    assert plain.tabs["Time Log"].rows[2][1] == 'the letter "e"'
    assert searched == []  # "Room #" is a shared string: no sheet part holds a "#"
    escaped = read_excel(tmp_path / "escaped.xlsx")
    assert escaped.tabs["Time Log"].rows[2][1] == "#N/A"
    assert len(searched) == 1
