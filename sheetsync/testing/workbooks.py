"""Plain ``.xlsx`` workbooks for tests and the benchmark, written fast.

Each tab's rows of values become one worksheet: text as inline strings (escaped as Excel saves
it), numbers, booleans, and dates or datetimes as serial numbers with a date format. Tests also
get what saved files carry around values: :class:`Percent` and :class:`Serial` cells, cached
formula errors (:class:`ErrorValue`), hidden rows, merged ranges and hidden tabs. There are no
other styles, no shared strings and no column widths. openpyxl would take minutes to write the
benchmark's 1,200 workbooks; this takes seconds. The same tabs always give the same bytes.

Tests that need a damaged package start from :func:`package_parts`, change a part, and write it
with :func:`write_package`.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sheetsync.backends.excel.ooxml import (
    CT_RELATIONSHIPS,
    CT_STYLES,
    CT_WORKBOOK,
    CT_WORKSHEET,
    NS_CONTENT_TYPES,
    NS_MAIN,
    NS_PKG_REL,
    NS_REL,
    REL_OFFICE_DOCUMENT,
    REL_STYLES,
    REL_WORKSHEET,
    XML_DECLARATION,
    escape_text,
    xml_attr,
    xml_text,
)
from sheetsync.grid import column_letter, date_serial, to_serial

__all__ = ["ErrorValue", "Percent", "Serial", "Tab", "package_parts", "write_package",
           "write_xlsx", "zip_package"]


@dataclass(frozen=True)
class Percent:
    """A number shown with a percentage format (0.72 displayed as 72%)."""

    value: float


@dataclass(frozen=True)
class Serial:
    """A date typed as a plain serial number, without a date format."""

    day: date


@dataclass(frozen=True)
class ErrorValue:
    """A formula whose cached result is an Excel error, as Excel saves it."""

    text: str  # "#DIV/0!"
    formula: str = "1/0"


@dataclass(frozen=True)
class Tab:
    """One worksheet: rows of values, and what real files carry around them."""

    name: str
    rows: Sequence[Sequence[Any]]
    merged: Sequence[str] = ()  # "A1:D1"
    hidden_rows: Sequence[int] = ()  # 1-based
    state: str = "visible"  # or "hidden", "veryHidden"


Tabs = Sequence[Tab] | Mapping[str, Sequence[Sequence[Any]]]
"""Tabs in order, or tab names mapped to their rows."""

# Cell formats, by index: 0 general, 1 a date, 2 a percentage, 3 a date and time.
_STYLES = (
    XML_DECLARATION + f'<styleSheet xmlns="{NS_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>").encode()
_ROOT_RELS = (
    XML_DECLARATION + f'<Relationships xmlns="{NS_PKG_REL}"><Relationship Id="rId1" '
    f'Type="{REL_OFFICE_DOCUMENT}" Target="xl/workbook.xml"/></Relationships>').encode()
_SHEET_HEAD = XML_DECLARATION + f'<worksheet xmlns="{NS_MAIN}"><sheetData>'
_STAMP = (2026, 1, 1, 0, 0, 0)  # a fixed time in the zip: the same tabs give the same bytes


def _text_cell(ref: str, text: str) -> str:
    if not text.isprintable() or "_x" in text:
        text = escape_text(text)
    # Readers (calamine among them) trim leading and trailing spaces unless told to keep them.
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>'


def _cell(ref: str, value: Any) -> str:
    """One ``<c>`` element; the common types are tested first, by identity, for speed."""
    kind = type(value)
    if kind is str:
        return _text_cell(ref, value)
    if kind is int or kind is float:
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if kind is date:
        return f'<c r="{ref}" s="1"><v>{date_serial(value)}</v></c>'
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is Percent:
        return f'<c r="{ref}" s="2"><v>{value.value!r}</v></c>'
    if kind is Serial:
        return f'<c r="{ref}"><v>{date_serial(value.day)}</v></c>'
    if kind is ErrorValue:
        return (f'<c r="{ref}" t="e"><f>{xml_text(value.formula)}</f>'
                f"<v>{xml_text(value.text)}</v></c>")
    if isinstance(value, datetime):
        return f'<c r="{ref}" s="3"><v>{to_serial(value)!r}</v></c>'
    raise TypeError(f"a test workbook cannot hold {kind.__name__} values")


def _sheet_xml(tab: Tab) -> bytes:
    hidden = set(tab.hidden_rows)
    parts = [_SHEET_HEAD]
    letters: list[str] = []
    for r, row in enumerate(tab.rows, start=1):
        if len(row) > len(letters):
            letters += map(column_letter, range(len(letters) + 1, len(row) + 1))
        cells = "".join([_cell(f"{letters[c]}{r}", v) for c, v in enumerate(row) if v is not None])
        if hidden and r in hidden:
            parts.append(f'<row r="{r}" hidden="1">{cells}</row>')
        elif cells:
            parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData>")
    if tab.merged:
        parts.append(f'<mergeCells count="{len(tab.merged)}">'
                     + "".join(f'<mergeCell ref="{m}"/>' for m in tab.merged) + "</mergeCells>")
    parts.append("</worksheet>")
    return "".join(parts).encode()


def package_parts(tabs: Tabs) -> dict[str, bytes]:
    """Every part of a minimal, valid ``.xlsx`` package holding ``tabs``, by part name."""
    if isinstance(tabs, Mapping):
        tabs = [Tab(name, rows) for name, rows in tabs.items()]
    numbers = range(1, len(tabs) + 1)
    content_types = (
        XML_DECLARATION + f'<Types xmlns="{NS_CONTENT_TYPES}">'
        f'<Default Extension="rels" ContentType="{CT_RELATIONSHIPS}"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT_WORKBOOK}"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                  f'ContentType="{CT_WORKSHEET}"/>' for i in numbers)
        + "</Types>")
    workbook = (
        XML_DECLARATION + f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><sheets>'
        + "".join(f'<sheet name="{xml_attr(tab.name)}" sheetId="{i}" r:id="rId{i}"'
                  + ("" if tab.state == "visible" else f' state="{tab.state}"') + "/>"
                  for i, tab in zip(numbers, tabs, strict=True))
        + "</sheets></workbook>")
    rels = (
        XML_DECLARATION + f'<Relationships xmlns="{NS_PKG_REL}">'
        + "".join(f'<Relationship Id="rId{i}" Type="{REL_WORKSHEET}" '
                  f'Target="worksheets/sheet{i}.xml"/>' for i in numbers)
        + f'<Relationship Id="rId{len(tabs) + 1}" Type="{REL_STYLES}" Target="styles.xml"/>'
        "</Relationships>")
    parts = {"[Content_Types].xml": content_types.encode(), "_rels/.rels": _ROOT_RELS,
             "xl/workbook.xml": workbook.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
             "xl/styles.xml": _STYLES}
    parts.update({f"xl/worksheets/sheet{i}.xml": _sheet_xml(tab)
                  for i, tab in zip(numbers, tabs, strict=True)})
    return parts


def zip_package(parts: Mapping[str, bytes]) -> bytes:
    """The zip file holding ``parts``, in their order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in parts.items():
            # compresslevel must be passed here: a ZipInfo ignores the ZipFile's own.
            package.writestr(zipfile.ZipInfo(name, _STAMP), data, zipfile.ZIP_DEFLATED,
                             compresslevel=1)
    return buffer.getvalue()


def write_package(path: Path, parts: Mapping[str, bytes]) -> None:
    """Write ``parts`` as a zip at ``path``, replacing it whole: no reader sees half a file."""
    temp = path.with_name(path.name + ".tmp")
    temp.write_bytes(zip_package(parts))
    os.replace(temp, path)


def write_xlsx(path: Path, tabs: Tabs) -> None:
    """Write ``tabs`` as a plain ``.xlsx`` workbook at ``path``."""
    write_package(path, package_parts(tabs))
