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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.grid import column_letter
from sheetsync.provision.template import (
    FOCUS_AREAS_HEADER,
    FORM_VALUE_WIDTH,
    HEADER_FILL,
    HEADER_FONT,
    INSTRUCTION_WIDTHS,
    INSTRUCTIONS_TAB,
    LABEL_FILL,
    LISTS_TAB,
    NUMBER_FORMATS,
    SECTION_FILL,
    VALIDATION_ROWS,
    column_rule,
    column_width,
    instruction_rows,
    needs_lists,
    number_text,
    width_for,
)
from sheetsync.schema import (
    ActivityCatalog,
    ColumnSpec,
    Framework,
    TabSpec,
    WorkbookSchema,
    default_activities,
    default_framework,
    load_schema,
)

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "FIXED_TIMESTAMP",
    "INSTRUCTIONS_TAB",
    "LISTS_TAB",
    "build_template",
    "prefilled_workbook",
    "save_workbook_deterministic",
    "write_templates",
]

FIXED_TIMESTAMP = datetime(2026, 1, 1, 0, 0, 0)
"""Document created/modified time written into every generated workbook."""


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


def build_template(schema: WorkbookSchema, activities: ActivityCatalog,
                   framework: Framework | None = None) -> Workbook:
    """Build the blank template workbook for one schema (not yet saved); ``framework`` gives
    the focus areas (default: the built-in Danielson framework)."""
    from openpyxl import Workbook

    framework = framework or default_framework()
    wb = Workbook()
    instructions = wb.active
    instructions.title = INSTRUCTIONS_TAB
    lists = needs_lists(schema)
    activity_range = _write_lists_tab(wb, activities, framework) if lists else ""
    focus_range = f"{LISTS_TAB}!$B$2:$B${len(framework.areas) + 1}" if lists else ""
    for tab in schema.tabs:
        ws = wb.create_sheet(tab.name)
        if tab.layout == "form":
            _write_form_tab(ws, tab, activity_range, focus_range)
        else:
            _write_table_tab(ws, tab, activity_range, focus_range)
    if lists:
        # The Lists tab was created early so its range exists; keep it last, out of the way.
        wb.move_sheet(LISTS_TAB, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS_TAB))
    _write_instructions(instructions, schema, activities if lists else None, framework)
    wb.active = 0
    props = wb.properties
    props.creator = "sheetsync"
    props.lastModifiedBy = "sheetsync"
    props.title = schema.title
    props.description = schema.description
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    return wb


def prefilled_workbook(schema: WorkbookSchema, activities: ActivityCatalog,
                       fields: dict[str, str], path: Path,
                       framework: Framework | None = None) -> Path:
    """A blank template with a roster's facts filled in on its form tabs (the coach's name and
    school, the team and its lead), for ``sheetsync provision --excel``."""
    from sheetsync.provision.template import prefill_values

    wb = build_template(schema, activities, framework)
    for (tab, row), value in prefill_values(schema, fields).items():
        wb[tab].cell(row=row, column=2, value=value)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook_deterministic(wb, path)
    return path


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


def _write_lists_tab(wb: Workbook, activities: ActivityCatalog, framework: Framework) -> str:
    """Hidden tab with the activity names (column A) and the framework's focus areas (column
    B); returns the range an activity dropdown refers to."""
    ws = wb.create_sheet(LISTS_TAB)
    ws.sheet_state = "hidden"
    ws["A1"] = "Activities"
    for row, activity in enumerate(activities.activities, start=2):
        ws.cell(row=row, column=1, value=activity.name)
    ws.column_dimensions["A"].width = width_for(a.name for a in activities.activities)
    ws["B1"] = FOCUS_AREAS_HEADER
    for row, label in enumerate(framework.labels(), start=2):
        ws.cell(row=row, column=2, value=label)
    ws.column_dimensions["B"].width = width_for(framework.labels())
    last = len(activities.activities) + 1
    return f"{LISTS_TAB}!$A$2:$A${last}"


def _header_style() -> tuple:
    from openpyxl.styles import Alignment, Font, PatternFill

    return (Font(bold=True, color=HEADER_FONT),
            PatternFill(fill_type="solid", start_color=HEADER_FILL, end_color=HEADER_FILL),
            Alignment(vertical="center", wrap_text=True))


def _write_table_tab(ws: Worksheet, tab: TabSpec, activity_range: str,
                     focus_range: str = "") -> None:
    font, fill, alignment = _header_style()
    for index, col in enumerate(tab.columns, start=1):
        cell = ws.cell(row=1, column=index, value=col.name)
        cell.font, cell.fill, cell.alignment = font, fill, alignment
        letter = column_letter(index)
        dimension = ws.column_dimensions[letter]
        dimension.width = column_width(col)
        if col.type in NUMBER_FORMATS:
            # A column style (not thousands of styled empty cells, which readers would see as
            # trailing rows) so that whatever a coach types later gets the format.
            dimension.number_format = NUMBER_FORMATS[col.type]
        _add_validation(ws, col, f"{letter}2:{letter}{VALIDATION_ROWS + 1}", activity_range,
                        focus_range)
    ws.freeze_panes = "A2"


def _write_form_tab(ws: Worksheet, tab: TabSpec, activity_range: str,
                    focus_range: str = "") -> None:
    from openpyxl.styles import Font, PatternFill

    font = Font(bold=True)
    fill = PatternFill(fill_type="solid", start_color=LABEL_FILL, end_color=LABEL_FILL)
    for row, col in enumerate(tab.columns, start=1):
        label = ws.cell(row=row, column=1, value=col.name)
        label.font, label.fill = font, fill
        if col.type in NUMBER_FORMATS:
            ws.cell(row=row, column=2).number_format = NUMBER_FORMATS[col.type]
        _add_validation(ws, col, f"B{row}", activity_range, focus_range)
    ws.column_dimensions["A"].width = width_for(c.name for c in tab.columns)
    ws.column_dimensions["B"].width = FORM_VALUE_WIDTH


def _add_validation(ws: Worksheet, col: ColumnSpec, cells: str, activity_range: str,
                    focus_range: str = "") -> None:
    """Attach the dropdown or range check the template description gives the column."""
    from openpyxl.worksheet.datavalidation import DataValidation

    rule = column_rule(col, with_activities=bool(activity_range))
    if rule is None:
        return
    if rule.kind == "list":
        dv = DataValidation(type="list", formula1=_inline_list(rule.values))
    elif rule.kind == "activity":
        dv = DataValidation(type="list", formula1=activity_range)
    elif rule.kind == "focus_area":
        dv = DataValidation(type="list", formula1=focus_range)
    else:
        low, high = number_text(rule.low), number_text(rule.high)
        if rule.low is not None and rule.high is not None:
            dv = DataValidation(type=rule.kind, operator="between", formula1=low, formula2=high)
        elif rule.low is not None:
            dv = DataValidation(type=rule.kind, operator="greaterThanOrEqual", formula1=low)
        else:
            dv = DataValidation(type=rule.kind, operator="lessThanOrEqual", formula1=high)
    dv.allow_blank = True
    dv.showErrorMessage = True
    # A warning, not a hard stop: sheetsync also accepts common spellings ("done", "Y", "x"),
    # so Excel should not refuse them.
    dv.errorStyle = "warning"
    dv.errorTitle = col.name
    dv.error = rule.message
    dv.add(cells)
    ws.add_data_validation(dv)


def _inline_list(values: tuple[str, ...] | list[str]) -> str:
    text = ",".join(values)
    if len(text) > 255:  # Excel's limit for an inline list
        raise ValueError(f"dropdown list too long for an inline list: {text[:40]}...")
    return f'"{text}"'


def _write_instructions(ws: Worksheet, schema: WorkbookSchema,
                        activities: ActivityCatalog | None,
                        framework: Framework | None = None) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    section_fill = PatternFill(fill_type="solid", start_color=SECTION_FILL,
                               end_color=SECTION_FILL)
    head_font, head_fill, _ = _header_style()
    wrap = Alignment(wrap_text=True, vertical="top")

    rows = instruction_rows(schema, activities, framework)
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
    for letter, width in zip("ABCDEF", INSTRUCTION_WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
