"""Blank workbook templates, generated from the schemas in ``sheet_templates/``.

``sheetsync templates --out DIR`` writes ``team_tracker.xlsx`` and ``coach_workbook.xlsx``. Every
tab and column comes from the schema TOML files (never a second copy in code), so a template that
a coach fills in is read back by the validator without findings.

Each template has:

* an ``Instructions`` tab first, describing every tab and column in plain words;
* one tab per schema tab: table tabs get a styled, frozen header row on row 1; form tabs get
  their labels in column A and an empty value column B;
* dropdowns for choice, yes/no and activity columns (activities come from a hidden ``Lists`` tab,
  because an inline list is limited to 255 characters);
* date, time and percent formats and sensible column widths.

Output is deterministic: fixed document timestamps and fixed zip entry dates, so regenerating the
templates gives byte-identical files with the same openpyxl and zlib.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.grid import column_letter
from sheetsync.schema import (
    ActivityCatalog,
    ColumnSpec,
    TabSpec,
    WorkbookSchema,
    default_activities,
    load_schema,
)

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "FIXED_TIMESTAMP",
    "INSTRUCTIONS_TAB",
    "LISTS_TAB",
    "build_template",
    "save_workbook_deterministic",
    "write_templates",
]

INSTRUCTIONS_TAB = "Instructions"
LISTS_TAB = "Lists"
FIXED_TIMESTAMP = datetime(2026, 1, 1, 0, 0, 0)
"""Document created/modified time written into every generated workbook."""

# Dropdowns and column formats cover this many data rows below the header; a year of time-log
# rows (about 30 a week) fits.
VALIDATION_ROWS = 2000

NUMBER_FORMATS = {"date": "yyyy-mm-dd", "time": "hh:mm", "percent": "0%"}
YES_NO = ("Yes", "No")

HEADER_FILL = "1F4E78"
HEADER_FONT = "FFFFFF"
LABEL_FILL = "DDEBF7"
SECTION_FILL = "D9E1F2"

TYPE_WORDS = {
    "text": "Text.",
    "int": "A whole number.",
    "number": "A number.",
    "percent": "A percentage, such as 85%.",
    "metric": "The number you measure: a count (32), a percentage (85%) or a fraction "
              "(32 of 47).",
    "date": "A date, such as 2026-09-08.",
    "time": "A time of day, such as 08:30.",
    "yesno": "Yes or No (pick from the list).",
    "choice": "Pick one value from the list.",
    "activity": "Pick an activity from the list (see Activities below).",
}

INTRODUCTION = (
    "sheetsync only reads this workbook. It never edits, moves or deletes anything on your tabs.",
    "Leaders see totals and progress, never teacher names, ratings, facts or notes.",
    "Keep the tab names and column headers. A title row above the headers is fine.",
    "You may add your own columns or tabs: sheetsync ignores them and mentions new columns once.",
    "Blank cells, N/A and - all mean 'no value yet'.",
)
ACTIVITIES_INTRO = ("The Activity column of the time log takes one of these. Each one counts "
                    "toward a group of time.")


def write_templates(out_dir: Path) -> list[Path]:
    """Write blank ``team_tracker.xlsx`` and ``coach_workbook.xlsx`` into ``out_dir``.

    Returns the paths written, team tracker first. The folder is created if needed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    activities = default_activities()
    written = []
    for kind in ("team", "coach"):
        schema = load_schema(kind)
        path = out_dir / schema.file_name
        save_workbook_deterministic(build_template(schema, activities), path)
        written.append(path)
    return written


def build_template(schema: WorkbookSchema, activities: ActivityCatalog) -> Workbook:
    """Build the blank template workbook for one schema (not yet saved)."""
    from openpyxl import Workbook

    wb = Workbook()
    instructions = wb.active
    instructions.title = INSTRUCTIONS_TAB
    needs_lists = any(c.type == "activity" for t in schema.tabs for c in t.columns)
    activity_range = _write_lists_tab(wb, activities) if needs_lists else ""
    for tab in schema.tabs:
        ws = wb.create_sheet(tab.name)
        if tab.layout == "form":
            _write_form_tab(ws, tab, activity_range)
        else:
            _write_table_tab(ws, tab, activity_range)
    if needs_lists:
        # The Lists tab was created early so its range exists; keep it last, out of the way.
        wb.move_sheet(LISTS_TAB, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS_TAB))
    _write_instructions(instructions, schema, activities if needs_lists else None)
    wb.active = 0
    props = wb.properties
    props.creator = "sheetsync"
    props.lastModifiedBy = "sheetsync"
    props.title = schema.title
    props.description = schema.description
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    return wb


def save_workbook_deterministic(wb: Workbook, path: Path) -> None:
    """Save ``wb`` to ``path`` so that the same workbook always gives the same bytes.

    ``openpyxl.Workbook.save`` stamps the current time into the document properties and the zip
    entries; both are pinned here (document times to whatever ``wb.properties`` holds, zip
    entries to 1980-01-01).
    """
    from openpyxl.writer.excel import ExcelWriter

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    buffer.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    Path(path).write_bytes(out.getvalue())


def _write_lists_tab(wb: Workbook, activities: ActivityCatalog) -> str:
    """Hidden tab with the activity names; returns the range a dropdown refers to."""
    ws = wb.create_sheet(LISTS_TAB)
    ws.sheet_state = "hidden"
    ws["A1"] = "Activities"
    for row, activity in enumerate(activities.activities, start=2):
        ws.cell(row=row, column=1, value=activity.name)
    ws.column_dimensions["A"].width = _width_for(a.name for a in activities.activities)
    last = len(activities.activities) + 1
    return f"{LISTS_TAB}!$A$2:$A${last}"


def _header_style() -> tuple:
    from openpyxl.styles import Alignment, Font, PatternFill

    return (Font(bold=True, color=HEADER_FONT),
            PatternFill(fill_type="solid", start_color=HEADER_FILL, end_color=HEADER_FILL),
            Alignment(vertical="center", wrap_text=True))


def _write_table_tab(ws: Worksheet, tab: TabSpec, activity_range: str) -> None:
    font, fill, alignment = _header_style()
    for index, col in enumerate(tab.columns, start=1):
        cell = ws.cell(row=1, column=index, value=col.name)
        cell.font, cell.fill, cell.alignment = font, fill, alignment
        letter = column_letter(index)
        dimension = ws.column_dimensions[letter]
        dimension.width = col.width or _width_for([col.name])
        if col.type in NUMBER_FORMATS:
            # A column style (not thousands of styled empty cells, which readers would see as
            # trailing rows) so that whatever a coach types later gets the format.
            dimension.number_format = NUMBER_FORMATS[col.type]
        _add_validation(ws, col, f"{letter}2:{letter}{VALIDATION_ROWS + 1}", activity_range)
    ws.freeze_panes = "A2"


def _write_form_tab(ws: Worksheet, tab: TabSpec, activity_range: str) -> None:
    from openpyxl.styles import Font, PatternFill

    font = Font(bold=True)
    fill = PatternFill(fill_type="solid", start_color=LABEL_FILL, end_color=LABEL_FILL)
    for row, col in enumerate(tab.columns, start=1):
        label = ws.cell(row=row, column=1, value=col.name)
        label.font, label.fill = font, fill
        if col.type in NUMBER_FORMATS:
            ws.cell(row=row, column=2).number_format = NUMBER_FORMATS[col.type]
        _add_validation(ws, col, f"B{row}", activity_range)
    ws.column_dimensions["A"].width = _width_for(c.name for c in tab.columns)
    ws.column_dimensions["B"].width = 60


def _add_validation(ws: Worksheet, col: ColumnSpec, cells: str, activity_range: str) -> None:
    """Attach the dropdown or range check that fits the column, if any."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if col.type == "yesno":
        dv = DataValidation(type="list", formula1=_inline_list(YES_NO))
        message = "Pick Yes or No."
    elif col.type == "choice" and col.choices:
        dv = DataValidation(type="list", formula1=_inline_list(col.choices))
        message = "Pick one of: " + ", ".join(col.choices) + "."
    elif col.type == "activity" and activity_range:
        dv = DataValidation(type="list", formula1=activity_range)
        message = "Pick an activity from the list (see the Instructions tab)."
    elif col.type in ("int", "number") and (col.min is not None or col.max is not None):
        dv = _range_validation(col)
        message = f"Enter {_range_words(col)}."
    else:
        return
    dv.allow_blank = True
    dv.showErrorMessage = True
    # A warning, not a hard stop: sheetsync also accepts common spellings ("done", "Y", "x"),
    # so Excel should not refuse them.
    dv.errorStyle = "warning"
    dv.errorTitle = col.name
    dv.error = message
    dv.add(cells)
    ws.add_data_validation(dv)


def _range_validation(col: ColumnSpec) -> DataValidation:
    from openpyxl.worksheet.datavalidation import DataValidation

    kind = "whole" if col.type == "int" else "decimal"
    low, high = _number_text(col.min), _number_text(col.max)
    if col.min is not None and col.max is not None:
        return DataValidation(type=kind, operator="between", formula1=low, formula2=high)
    if col.min is not None:
        return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=low)
    return DataValidation(type=kind, operator="lessThanOrEqual", formula1=high)


def _inline_list(values: tuple[str, ...] | list[str]) -> str:
    text = ",".join(values)
    if len(text) > 255:  # Excel's limit for an inline list
        raise ValueError(f"dropdown list too long for an inline list: {text[:40]}...")
    return f'"{text}"'


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _range_words(col: ColumnSpec) -> str:
    what = "a whole number" if col.type == "int" else "a number"
    low, high = _number_text(col.min), _number_text(col.max)
    if col.min is not None and col.max is not None:
        return f"{what} from {low} to {high}"
    if col.min is not None:
        return f"{what} of {low} or more"
    return f"{what} up to {high}"


def _width_for(texts: Iterable[str]) -> float:
    return float(max(10, *(len(t) + 3 for t in texts)))


def _allowed_words(col: ColumnSpec) -> str:
    if col.type == "yesno":
        return "Yes, No"
    if col.type == "choice":
        return ", ".join(col.choices)
    if col.type == "activity":
        return "See Activities below"
    if col.type in ("int", "number") and (col.min is not None or col.max is not None):
        return _range_words(col).capitalize()
    return ""


def _what_to_enter(col: ColumnSpec) -> str:
    parts = [col.description] if col.description else []
    if not (col.description and col.type == "metric"):  # metric descriptions already say how
        parts.append(TYPE_WORDS.get(col.type, "Text."))
    if col.example not in (None, ""):
        parts.append(f"Example: {col.example}")
    return " ".join(parts)


def _write_instructions(ws: Worksheet, schema: WorkbookSchema,
                        activities: ActivityCatalog | None) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    section_fill = PatternFill(fill_type="solid", start_color=SECTION_FILL,
                               end_color=SECTION_FILL)
    head_font, head_fill, _ = _header_style()
    wrap = Alignment(wrap_text=True, vertical="top")

    rows: list[tuple[str, list[str]]] = []  # (style, values)
    rows.append(("title", [f"{schema.title}: how to fill it in"]))
    rows.append(("text", [schema.description]))
    rows.extend(("text", [line]) for line in INTRODUCTION)
    for tab in schema.tabs:
        rows.append(("blank", []))
        need = "Required tab" if tab.required else "Optional tab"
        rows.append(("section", [f"Tab: {tab.name}", f"{tab.description} ({need}.)"]))
        if tab.layout == "form":
            rows.append(("text", ["", "Fill in column B next to each label in column A."]))
        first = "Label" if tab.layout == "form" else "Column"
        rows.append(("header", [first, "What to enter", "Allowed values", "Required",
                                "Who sees it", "Other headers sheetsync accepts"]))
        for col in tab.columns:
            rows.append(("row", [
                col.name, _what_to_enter(col), _allowed_words(col),
                "Required" if col.required else "Optional",
                "Private: stays with you, never shown to leaders" if col.private
                else "Leaders can see it",
                ", ".join(col.aliases),
            ]))
    if activities is not None:
        rows.append(("blank", []))
        rows.append(("section", ["Activities", ACTIVITIES_INTRO]))
        rows.append(("header", ["Activity", "Group", "Note", "", "",
                                "Other names sheetsync accepts"]))
        for activity in activities.activities:
            note = "Outside the coaching role" if activity.outside_role else ""
            rows.append(("row", [activity.name, activity.group, note, "", "",
                                 ", ".join(activity.aliases)]))

    for row_number, (style, values) in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            if value == "" and style != "header":
                continue
            cell = ws.cell(row=row_number, column=column, value=value)
            if style not in ("title", "text"):
                # Long introductory lines overflow to the right instead of wrapping in column A.
                cell.alignment = wrap
            if style == "title":
                cell.font = Font(bold=True, size=14)
            elif style == "section":
                cell.font, cell.fill = bold, section_fill
            elif style == "header":
                cell.font, cell.fill = head_font, head_fill
            elif style == "row" and column == 1:
                cell.font = bold
    for letter, width in zip("ABCDEF", (24, 60, 30, 10, 28, 40), strict=True):
        ws.column_dimensions[letter].width = width
