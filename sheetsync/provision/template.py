"""The blank workbook, described once from the schemas, for every way of making one.

``sheetsync templates`` renders it as .xlsx files (:mod:`sheetsync.backends.excel.templates`),
``sheetsync provision --excel`` as pre-filled .xlsx files, and ``sheetsync provision`` as native
Google Sheets (:mod:`sheetsync.backends.google.provision`). What each tab holds, which columns
get a dropdown or a range check, their widths and formats, and the words of the Instructions
tab are decided here, never in a renderer, so the three agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sheetsync.schema import (
    ActivityCatalog,
    ColumnSpec,
    Framework,
    WorkbookSchema,
    default_framework,
)

INSTRUCTIONS_TAB = "Instructions"
LISTS_TAB = "Lists"

VALIDATION_ROWS = 2000
"""Dropdowns and column formats cover this many data rows below the header; a year of time-log
rows (about 30 a week) fits."""

NUMBER_FORMATS = {"date": "yyyy-mm-dd", "time": "hh:mm", "percent": "0%"}
YES_NO = ("Yes", "No")

HEADER_FILL = "1F4E78"
HEADER_FONT = "FFFFFF"
LABEL_FILL = "DDEBF7"
SECTION_FILL = "D9E1F2"
FORM_VALUE_WIDTH = 60
INSTRUCTION_WIDTHS = (24, 60, 30, 10, 28, 40)
"""Widths of the Instructions tab's columns A to F, in characters."""

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
    "focus_area": "Pick a focus area from the list: a domain or a component of the district's "
                  "framework (see Focus areas below).",
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


@dataclass(frozen=True)
class Rule:
    """The check on one column's cells: a dropdown or a number range.

    ``kind`` is ``"list"`` (``values`` inline), ``"activity"`` (the activity names on the
    hidden Lists tab), ``"focus_area"`` (the framework's focus areas, beside them),
    ``"whole"`` or ``"decimal"`` (``low``/``high``, either may be None).
    It warns rather than refuses: sheetsync also accepts common spellings ("done", "Y", "x").
    """

    kind: str
    message: str
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


def needs_lists(schema: WorkbookSchema) -> bool:
    """Whether the workbook has an activity or focus-area column (and so the hidden Lists tab:
    the activities in column A, the framework's focus areas in column B)."""
    return any(c.type in ("activity", "focus_area") for t in schema.tabs for c in t.columns)


FOCUS_AREAS_HEADER = "Focus areas"
FOCUS_AREAS_INTRO = ("The Focus Area columns (Coaching Plan, Time Log, Coaching Cycles) take one "
                     "of these: a domain, or a component of one. Leaders see how much coaching "
                     "went to each plan's focus areas, never a rating of a teacher.")


def column_rule(col: ColumnSpec, with_activities: bool = True) -> Rule | None:
    """The dropdown or range check that fits the column, if any."""
    if col.type == "yesno":
        return Rule("list", "Pick Yes or No.", YES_NO)
    if col.type == "choice" and col.choices:
        return Rule("list", "Pick one of: " + ", ".join(col.choices) + ".", tuple(col.choices))
    if col.type == "activity" and with_activities:
        return Rule("activity", "Pick an activity from the list (see the Instructions tab).")
    if col.type == "focus_area" and with_activities:
        return Rule("focus_area", "Pick a focus area of the framework (see the Instructions "
                    "tab).")
    if col.type in ("int", "number") and (col.min is not None or col.max is not None):
        return Rule("whole" if col.type == "int" else "decimal", f"Enter {range_words(col)}.",
                    low=col.min, high=col.max)
    return None


def number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def range_words(col: ColumnSpec) -> str:
    what = "a whole number" if col.type == "int" else "a number"
    low, high = number_text(col.min), number_text(col.max)
    if col.min is not None and col.max is not None:
        return f"{what} from {low} to {high}"
    if col.min is not None:
        return f"{what} of {low} or more"
    return f"{what} up to {high}"


def width_for(texts: Iterable[str]) -> float:
    """A column width (in characters) that fits the longest of ``texts``."""
    return float(max(10, *(len(t) + 3 for t in texts)))


def column_width(col: ColumnSpec) -> float:
    return col.width or width_for([col.name])


def allowed_words(col: ColumnSpec) -> str:
    if col.type == "yesno":
        return "Yes, No"
    if col.type == "choice":
        return ", ".join(col.choices)
    if col.type == "activity":
        return "See Activities below"
    if col.type == "focus_area":
        return "See Focus areas below"
    if col.type in ("int", "number") and (col.min is not None or col.max is not None):
        return range_words(col).capitalize()
    return ""


def what_to_enter(col: ColumnSpec) -> str:
    parts = [col.description] if col.description else []
    if not (col.description and col.type == "metric"):  # metric descriptions already say how
        parts.append(TYPE_WORDS.get(col.type, "Text."))
    if col.example not in (None, ""):
        parts.append(f"Example: {col.example}")
    return " ".join(parts)


def instruction_rows(schema: WorkbookSchema, activities: ActivityCatalog | None,
                     framework: Framework | None = None) -> list[tuple[str, list[str]]]:
    """The Instructions tab, row by row: (style, cell texts). Styles: ``title``, ``text``,
    ``blank``, ``section``, ``header``, ``row``."""
    rows: list[tuple[str, list[str]]] = []
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
                col.name, what_to_enter(col), allowed_words(col),
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
    if activities is not None and any(c.type == "focus_area" for t in schema.tabs
                                      for c in t.columns):
        framework = framework or default_framework()
        rows.append(("blank", []))
        rows.append(("section", [f"{FOCUS_AREAS_HEADER}: {framework.name}", FOCUS_AREAS_INTRO]))
        rows.append(("header", ["Code", "Focus area, as the dropdown lists it", "Kind", "", "",
                                "Other names sheetsync accepts"]))
        for area in framework.areas:
            domain = area.domain is None
            rows.append(("row", [f"Domain {area.code}" if domain and area.code else area.code,
                                 area.label, "Domain" if domain else "Component", "", "",
                                 ", ".join(area.aliases)]))
    return rows


def prefill_values(schema: WorkbookSchema, fields: dict[str, str]) -> dict[tuple[str, int], str]:
    """Where a roster's facts go in a new workbook: (form tab, 1-based row) -> text, for each
    form label whose key the roster gives (``coach``, ``schools``, ``school``, ``team``,
    ``team_lead``, ...)."""
    out: dict[tuple[str, int], str] = {}
    for tab in schema.tabs:
        if tab.layout != "form":
            continue
        for row, col in enumerate(tab.columns, start=1):
            value = fields.get(col.key)
            if value:
                out[(tab.name, row)] = value
    return out
