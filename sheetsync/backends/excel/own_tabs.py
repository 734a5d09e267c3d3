"""What a leader keeps in the dashboard workbook, carried through sheetsync's rewrite of it.

The dashboard writer (:mod:`.writer`) rebuilds the workbook with openpyxl, which reads a leader's
own tabs and writes them back. Two things would go missing on the way, and this module keeps them:

* **cached formula results**: openpyxl writes formulas without the values Excel last computed,
  so any reader that does not recalculate (calamine, pandas, a preview, a phone) would see empty
  cells. Each formula cell of a leader's tab gets its cached value (and type) back;
* **dynamic-array metadata**: Excel 365 marks a spilling formula (``=SORT(...)``, ``=FILTER``)
  with a cell-metadata index into ``xl/metadata.xml``. The part and the marks are carried over,
  so the formula stays a dynamic array rather than turning into a legacy array formula.

It also notices edits made to sheetsync's own managed tabs, which are rebuilt on every run and
would lose them: a note (comment) added to a managed tab, or text typed into one of its cells
outside what sheetsync wrote. The manifest records each managed tab's *shape* when it is written
(how many cells hold content, and the range they span); a tab that has since gained cells was
edited. The check reads the tab only when the workbook was saved by someone other than
sheetsync since its last write, so a nightly run over an untouched dashboard costs nothing.

Plain Python over the package's bytes (no openpyxl), so the checks are cheap.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetsync.grid import a1, column_number

__all__ = ["METADATA_PART", "METADATA_REL", "METADATA_TYPE", "FormulaResults", "Shape",
           "added_cells", "content_cells", "describe", "formula_results",
           "patch_formula_results", "saved_since", "value_metadata_in"]

METADATA_PART = "xl/metadata.xml"
METADATA_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"
METADATA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR = re.compile(rb"""\b([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_TEXT = re.compile(rb"<t(?:\s[^>]*)?>[^<]")
_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(raw)}


# -- cached formula results ----------------------------------------------------------------------

@dataclass
class FormulaResults:
    """The cached results of the formulas on a workbook's own tabs, and its cell metadata."""

    by_tab: dict[str, dict[str, tuple[str | None, str, str | None]]] = field(default_factory=dict)
    """tab name -> cell reference -> (the cell's type, its cached value as XML text, its
    cell-metadata index)"""
    metadata: bytes | None = None  # xl/metadata.xml, when the workbook has one

    def __bool__(self) -> bool:
        return bool(self.by_tab) or self.metadata is not None


def formula_results(package: zipfile.ZipFile, parts: dict[str, str]) -> FormulaResults:
    """The cached results on the tabs ``parts`` names (tab name -> sheet part)."""
    found = FormulaResults()
    names = set(package.namelist())
    for tab, part in parts.items():
        if part not in names:
            continue
        xml = package.read(part)
        if b"<f" not in xml:
            continue
        cells: dict[str, tuple[str | None, str, str | None]] = {}
        for match in _CELL.finditer(xml):
            body = match.group(2) or b""
            if b"<f" not in body:
                continue
            value = _VALUE.search(body)
            attrs = _attrs(match.group(1))
            ref = attrs.get(b"r")
            if ref is None or value is None:
                continue
            kind = attrs.get(b"t")
            mark = attrs.get(b"cm")
            cells[ref.decode()] = (kind.decode() if kind else None, value.group(1).decode(),
                                   mark.decode() if mark else None)
        if cells:
            found.by_tab[tab] = cells
    if METADATA_PART in names and any(
            mark for cells in found.by_tab.values() for _, _, mark in cells.values()):
        found.metadata = package.read(METADATA_PART)
    return found


# openpyxl writes a formula cell as <c r="A1" s="1"><f ...>...</f><v /></c> (or <v/>, <v></v>)
_WRITTEN_FORMULA = re.compile(
    r'<c r="([A-Z]+\d+)"([^>]*)>(<f\b[^>]*?(?:/>|>[^<]*</f>))<v ?/>(?:</v>)?</c>'
    r'|<c r="([A-Z]+\d+)"([^>]*)>(<f\b[^>]*?(?:/>|>[^<]*</f>))<v></v></c>')


def patch_formula_results(xml: str, cells: dict[str, tuple[str | None, str, str | None]],
                          keep_marks: bool) -> str:
    """``xml`` (a sheet as openpyxl wrote it) with each formula's cached result put back."""
    def put(match: re.Match[str]) -> str:
        ref = match.group(1) or match.group(4)
        attrs = match.group(2) if match.group(1) else match.group(5)
        formula = match.group(3) or match.group(6)
        kept = cells.get(ref)
        if kept is None:
            return match.group(0)
        kind, value, mark = kept
        extra = f' t="{kind}"' if kind and ' t="' not in attrs else ""
        if mark and keep_marks:
            extra += f' cm="{mark}"'
        return f'<c r="{ref}"{attrs}{extra}>{formula}<v>{value}</v></c>'

    return _WRITTEN_FORMULA.sub(put, xml)


def value_metadata_in(xml: bytes) -> bool:
    """Whether a sheet uses value metadata (pictures in cells, linked data types), which
    openpyxl cannot carry."""
    return b' vm="' in xml or b" vm='" in xml


# -- edits to managed tabs -----------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """What sheetsync wrote on a managed tab: how many cells hold content, and their range."""

    cells: int
    first_row: int
    first_col: int
    last_row: int
    last_col: int

    def text(self) -> str:
        return f"{self.cells} {a1(self.first_row, self.first_col)}:" \
               f"{a1(self.last_row, self.last_col)}"

    @staticmethod
    def parse(text: Any) -> Shape | None:
        if not isinstance(text, str):
            return None
        count, _, span = text.partition(" ")
        first, _, last = span.partition(":")
        a, b = _REF.fullmatch(first), _REF.fullmatch(last)
        if not count.isdigit() or a is None or b is None:
            return None
        return Shape(int(count), int(a.group(2)), column_number(a.group(1)), int(b.group(2)),
                     column_number(b.group(1)))

    @staticmethod
    def of(cells: Iterable[tuple[int, int]]) -> Shape:
        found = list(cells)
        if not found:
            return Shape(0, 1, 1, 1, 1)
        rows = [r for r, _ in found]
        cols = [c for _, c in found]
        return Shape(len(found), min(rows), min(cols), max(rows), max(cols))

    def holds(self, row: int, col: int) -> bool:
        return self.first_row <= row <= self.last_row and self.first_col <= col <= self.last_col


def content_cells(xml: bytes) -> list[tuple[int, int]]:
    """The cells of a sheet that hold a typed value: a number, text, a date, a boolean or an
    error, but not a formula (whose result Excel may or may not have cached) and not an empty
    styled cell."""
    found = []
    for match in _CELL.finditer(xml):
        body = match.group(2)
        if not body or b"<f" in body:
            continue
        value = _VALUE.search(body)
        if (value is None or not value.group(1)) and not _TEXT.search(body):
            continue
        ref = _attrs(match.group(1)).get(b"r")
        spot = _REF.fullmatch(ref.decode()) if ref else None
        if spot is not None:
            found.append((int(spot.group(2)), column_number(spot.group(1))))
    return found


def added_cells(xml: bytes, written: Shape) -> list[str] | None:
    """The cells someone added to a managed tab since sheetsync wrote it as ``written``: the
    ones outside its range, or [] when there are more cells than it wrote but all inside it;
    None when nothing was added."""
    cells = content_cells(xml)
    outside = [a1(r, c) for r, c in cells if not written.holds(r, c)]
    if outside:
        return outside
    return [] if len(cells) > written.cells else None


_MODIFIED = re.compile(rb"<dcterms:modified\b[^>]*>([^<]*)</dcterms:modified>")
_MODIFIED_BY = re.compile(rb"<cp:lastModifiedBy>([^<]*)</cp:lastModifiedBy>")


def saved_since(package: zipfile.ZipFile, written_at: str | None, writer: str) -> bool:
    """Whether someone other than sheetsync saved the workbook after sheetsync wrote it at
    ``written_at``: the document properties no longer carry sheetsync's own stamp."""
    if not written_at:
        return True
    try:
        core = package.read("docProps/core.xml")
    except KeyError:
        return True
    modified = _MODIFIED.search(core)
    by = _MODIFIED_BY.search(core)
    return not (modified and by and by.group(1).decode() == writer
                and modified.group(1).decode().strip() == written_at)


def describe(cells: Sequence[str]) -> str:
    """"cells P3, P4 and 2 more"."""
    shown = ", ".join(cells[:4])
    more = f" and {len(cells) - 4} more" if len(cells) > 4 else ""
    return f"cell{'s' if len(cells) > 1 else ''} {shown}{more}"
