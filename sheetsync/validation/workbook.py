"""Validate one raw workbook against its schema: typed DataFrames plus cell-addressed findings.

Collect, don't crash: a bad cell becomes a finding and an empty value, a bad tab becomes a
finding, and everything valid is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.findings import Finding, Severity
from sheetsync.grid import a1, column_letter
from sheetsync.schema import (
    ActivityCatalog,
    ColumnSpec,
    Framework,
    TabSpec,
    WorkbookSchema,
    default_activities,
    default_framework,
    normalise_label,
)
from sheetsync.validation import cells
from sheetsync.validation.cells import CellProblem, show
from sheetsync.validation.layout import HeaderMatch, find_header, match_tabs, read_form

# Where each tab's rows go in ProgramData (see sheetsync.dataset).
WARNING_CODES = {"future-date", "unknown-activity", "cell-too-long", "inconsistent-value",
                 "unknown-focus-area"}


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs to know about the program."""

    as_of: date
    reference_date: date | None = None  # anchors dates typed without a year
    challenge_weeks: int = 10
    activities: ActivityCatalog = field(default_factory=default_activities)
    framework: Framework = field(default_factory=default_framework)


@dataclass
class WorkbookResult:
    """The typed rows of one workbook, still as plain records (frames are built per program)."""

    source: str
    kind: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # tab -> key -> letter
    as_of_window: tuple[date, date] = (date.min, date.max)
    """The as-of dates for which validation gives this same result (see
    :class:`sheetsync.validation.cells.AsOfWindow`)."""

    @property
    def rows(self) -> int:
        return sum(len(v) for v in self.records.values())


class _Collector:
    """Builds findings that all share the same source and file."""

    def __init__(self, source: str, file: str, window: cells.AsOfWindow) -> None:
        self.source, self.file = source, file
        self.window = window
        self.items: list[Finding] = []
        self.headers: dict[str, HeaderMatch] = {}

    def cell(self, tab: str, key: str, row: int) -> str:
        """The A1 address of column ``key`` in sheet row ``row`` of a table tab."""
        header = self.headers.get(tab)
        if header is None or key not in header.columns:
            return f"row {row}" if row else ""
        return a1(row, header.columns[key] + 1)

    def add(self, code: str, severity: Severity, message: str, hint: str = "", *, tab: str = "",
            cell: str = "", value: Any = None, private: bool = False) -> None:
        self.items.append(Finding(code=code, severity=severity, message=message, hint=hint,
                                  source=self.source, file=self.file, tab=tab, cell=cell,
                                  value=value, private=private))


def _parser_for(col: ColumnSpec, ctx: ValidationContext, unit: str | None,
                activity_table: dict, window: cells.AsOfWindow) -> Callable[[Any], Any]:
    ref = ctx.reference_date or ctx.as_of
    tracked = window if ref == ctx.as_of else None  # a fixed reference date is not the as-of
    match col.type:
        case "text":
            return cells.parse_text
        case "int":
            return cells.parse_int
        case "number":
            if col.key == "minutes":
                return cells.parse_duration_minutes
            return cells.parse_number
        case "percent":
            return cells.parse_percent
        case "metric":
            return lambda raw: cells.parse_metric(raw, unit)
        case "date":
            return lambda raw: cells.parse_date(raw, ref, tracked)
        case "time":
            return cells.parse_time
        case "yesno":
            return cells.parse_yesno
        case "choice":
            return lambda raw: cells.parse_choice(raw, col.choices, col.choice_aliases)
        case "activity":
            return lambda raw: _parse_activity(raw, activity_table)
        case "focus_area":
            return lambda raw: _parse_focus_area(raw, ctx.framework)
    raise ValueError(col.type)  # pragma: no cover - schema types are checked on load


def _parse_activity(raw: Any, table: dict) -> str | None:
    text = cells.parse_text(raw)
    if text is None:
        return None
    act = table.get(normalise_label(text))
    if act is None:
        raise CellProblem("unknown-activity",
                          f"\u201c{show(raw)}\u201d is not in the activity list.",
                          "Pick an activity from the dropdown, or ask your coordinator to add it "
                          "to the config's [activities].")
    return act.name


def _parse_focus_area(raw: Any, framework: Framework) -> str | None:
    text = cells.parse_text(raw)
    if text is None:
        return None
    area = framework.find(text)
    if area is None:
        raise CellProblem("unknown-focus-area",
                          f"\u201c{show(raw)}\u201d is not a focus area of the {framework.name}.",
                          "Pick a focus area from the dropdown (a domain or a component), or "
                          "ask your coordinator to add it to the config's [framework].")
    return area.label


def _check_value(col: ColumnSpec, value: Any, ctx: ValidationContext, unit: str | None,
                 window: cells.AsOfWindow) -> None:
    """Range and plausibility checks after parsing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if col.min is not None and value < col.min:
            raise CellProblem("out-of-range", f"{_fmt(value)} is below the smallest allowed "
                              f"{col.name} ({_fmt(col.min)}).",
                              f"{col.name} must be between {_fmt(col.min)} and "
                              f"{_fmt(col.max) if col.max is not None else 'any larger value'}.")
        if col.max is not None and value > col.max:
            raise CellProblem("out-of-range", f"{_fmt(value)} is above the largest allowed "
                              f"{col.name} ({_fmt(col.max)}).",
                              f"{col.name} must be between "
                              f"{_fmt(col.min) if col.min is not None else 0} and {_fmt(col.max)}.")
        if col.type == "metric" and unit == "percent" and not (0 <= value <= 1):
            raise CellProblem("out-of-range", f"{value:.0%} is not a percentage between 0% and "
                              "100%.", "Check the value; percentages run from 0% to 100%.")
    if isinstance(value, date) and col.no_future:
        if value <= ctx.as_of:
            window.narrow(first=value)  # still in the past for any later as-of date
            return
        window.pin()  # the finding quotes the as-of date
        raise CellProblem("future-date", f"{value.isoformat()} is after today "
                          f"({ctx.as_of.isoformat()}).",
                          "Check the year and month; this should be a date that has passed.")


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _parse_cell(col: ColumnSpec, parse: Callable[[Any], Any], raw: Any, ctx: ValidationContext,
                unit: str | None, collect: _Collector, tab: str, cell: str) -> Any:
    try:
        value = parse(raw)
        if value is not None:
            _check_value(col, value, ctx, unit, collect.window)
        if isinstance(raw, str) and len(raw) > cells.MAX_CELL_CHARS:
            collect.add("cell-too-long", Severity.WARNING,
                        f"{col.name} holds {len(raw):,} characters; only the first "
                        f"{cells.MAX_CELL_CHARS:,} are used.", "Shorten the text.",
                        tab=tab, cell=cell, value=show(raw))
        return value
    except CellProblem as problem:
        severity = Severity.WARNING if problem.code in WARNING_CODES else Severity.ERROR
        collect.add(problem.code, severity, f"{col.name}: {problem.message}", problem.hint,
                    tab=tab, cell=cell, value=show(raw), private=col.private)
        if problem.code == "future-date":
            return value  # kept: a future date is suspicious, not unusable
        if problem.code == "unknown-activity":
            return cells.parse_text(raw)
        return None


def _form_unit(fields: dict[str, Any]) -> str:
    """The goal's unit decides how its Baseline and Target (and the weekly values) read: the
    Unit field when it is valid, else percent when either value is typed with a % sign."""
    f = fields.get("unit")
    if f is not None and not cells.is_missing(f.value):
        try:
            unit = cells.parse_choice(f.value, ("percent", "count", "score"))
            if unit:
                return unit
        except CellProblem:
            pass  # reported when the Unit cell itself is parsed
    texts = [str(fields[k].value) for k in ("baseline", "target") if k in fields]
    return "percent" if any("%" in t for t in texts) else "count"


def _validate_form(tab: RawTab, spec: TabSpec, ctx: ValidationContext, collect: _Collector,
                   unit: str | None, activity_table: dict) -> dict[str, Any]:
    fields = read_form(tab, spec)
    record: dict[str, Any] = {}
    # A form with labels but no values yet is a fresh template: nothing to report until filled in.
    untouched = all(cells.is_missing(f.value) for f in fields.values())
    if unit is None and any(col.type == "metric" for col in spec.columns):
        unit = _form_unit(fields)
        record["_unit"] = unit
    for col in spec.columns:
        f = fields.get(col.key)
        if f is None or cells.is_missing(f.value):
            record[col.key] = None
            if col.required and not untouched:
                where = a1(f.row + 1, f.col + 1) if f else ""
                collect.add("missing-required", Severity.ERROR,
                            f"{col.name} is blank." if f else f"The {col.name} label is missing.",
                            f"Put the label {col.name!r} in column A and its value in column B."
                            if f is None else f"Fill in {col.name} next to its label.",
                            tab=tab.name, cell=where)
            continue
        parse = _parser_for(col, ctx, unit, activity_table, collect.window)
        record[col.key] = _parse_cell(col, parse, f.value, ctx, unit, collect, tab.name,
                                      a1(f.row + 1, f.col + 1))
    if "_unit" in record and record.get("unit") is None:
        record["unit"] = unit  # blank Unit: the one inferred from how the values are typed
    return record


def _validate_table(tab: RawTab, spec: TabSpec, ctx: ValidationContext, collect: _Collector,
                    unit: str | None, activity_table: dict) -> list[dict[str, Any]]:
    header = find_header(tab, spec)
    if header is None:
        if any(tab.rows):
            collect.add("missing-header", Severity.ERROR,
                        f"No header row was found in the first rows of {tab.name!r}.",
                        "Put the column names (" + ", ".join(c.name for c in spec.columns[:4])
                        + ", ...) in one row above the data.", tab=tab.name)
        return []
    collect.headers[tab.name] = header
    hdr_row = header.row + 1
    for j, text in header.unknown.items():
        collect.add("unknown-column", Severity.INFO,
                    f"Column {text!r} is not one sheetsync uses; it is kept but not checked.",
                    "Nothing to fix, unless it was meant to be one of: "
                    + ", ".join(c.name for c in spec.columns) + ".",
                    tab=tab.name, cell=a1(hdr_row, j + 1), value=text)
    for j, key in header.duplicates.items():
        collect.add("duplicate-column", Severity.WARNING,
                    f"A second {spec.column(key).name!r} column; only the first one is read.",
                    "Rename or remove the duplicate column.", tab=tab.name,
                    cell=a1(hdr_row, j + 1), value=tab.rows[header.row][j])
    for col in spec.columns:
        if col.required and col.key not in header.columns:
            collect.add("missing-column", Severity.ERROR,
                        f"The {col.name!r} column is missing from {tab.name!r}.",
                        f"Add a {col.name!r} column to the header row (row {hdr_row}).",
                        tab=tab.name, cell=a1(hdr_row, 1))
    parsers = {key: (spec.column(key),
                     _parser_for(spec.column(key), ctx, unit, activity_table, collect.window))
               for key in header.columns}
    extra_cols = {j: f"extra:{text}" for j, text in header.unknown.items()}
    records: list[dict[str, Any]] = []
    for i in range(header.row + 1, len(tab.rows)):
        row = tab.rows[i]
        if not row or all(v is None for v in row):
            continue
        values = {key: row[j] if j < len(row) else None for key, j in header.columns.items()}
        if all(cells.is_missing(v) for v in values.values()):
            continue
        record: dict[str, Any] = {"row": i + 1, "_tab": tab.name}
        for key, (col, parse) in parsers.items():
            raw = values[key]
            j = header.columns[key]
            if raw is None or cells.is_missing(raw):
                record[key] = None
                if col.required:
                    collect.add("missing-required", Severity.ERROR, f"{col.name} is blank.",
                                f"Fill in {col.name} for this row, or delete the row.",
                                tab=tab.name, cell=a1(i + 1, j + 1))
                continue
            record[key] = _parse_cell(col, parse, raw, ctx, unit, collect, tab.name,
                                      a1(i + 1, j + 1))
            if record[key] is None:
                record.setdefault("_invalid", set()).add(key)
            if col.type == "metric" and isinstance(raw, str):
                record[f"_raw_{key}"] = raw
        for key in spec.columns:
            record.setdefault(key.key, None)
        for j, name in extra_cols.items():
            record[name] = row[j] if j < len(row) else None
        records.append(record)
    return records


def validate_workbook(raw: RawWorkbook, schema: WorkbookSchema, *, source: str,
                      ctx: ValidationContext) -> WorkbookResult:
    """Validate every tab of ``raw`` against ``schema``; never raises on bad data."""
    collect = _Collector(source, raw.location, cells.AsOfWindow(ctx.as_of))
    result = WorkbookResult(source=source, kind=schema.kind)
    activity_table = ctx.activities.lookup()
    unit: str | None = None
    matched: dict[str, list[RawTab]] = {}
    for spec in schema.tabs:
        found = match_tabs(raw.tabs, spec)
        matched[spec.name] = found
        if not found and spec.required:
            collect.add("missing-tab", Severity.ERROR,
                        f"The {spec.name!r} tab is missing.",
                        f"Add a tab named {spec.name!r} (tabs found: "
                        + (", ".join(repr(n) for n in raw.tabs) or "none") + ").")
    for spec in schema.tabs:
        frame = spec.frame
        records: list[dict[str, Any]] = []
        for tab in matched[spec.name]:
            if spec.layout == "form":
                record = _validate_form(tab, spec, ctx, collect, unit, activity_table)
                records = [record]
                unit = record.pop("_unit", unit)  # the Goal's unit reads the weekly values
            else:
                records.extend(_validate_table(tab, spec, ctx, collect, unit, activity_table))
        result.records[frame] = records
    if schema.kind == "team":
        _finish_team(result, raw, schema, ctx, collect)
    else:
        _finish_coach(result, collect)
    for spec in schema.tabs:
        for tab in matched[spec.name][:1]:
            header = collect.headers.get(tab.name)
            if header is not None:
                result.columns[spec.name] = {k: column_letter(j + 1)
                                             for k, j in header.columns.items()}
    result.findings = collect.items
    result.as_of_window = collect.window.span
    return result


def _finish_team(result: WorkbookResult, raw: RawWorkbook, schema: WorkbookSchema,
                 ctx: ValidationContext, collect: _Collector) -> None:
    goals = result.records.get("goals") or [{c.key: None for c in schema.tab("Goal").columns}]
    goal = goals[0]
    goal["source"] = result.source
    goal["unit"] = goal.get("unit") or "count"  # no Goal tab at all
    baseline, target = goal.get("baseline"), goal.get("target")
    inferred = None
    if baseline is not None and target is not None:
        inferred = "decrease" if target < baseline else "increase"
    if goal.get("direction") is None:
        goal["direction"] = inferred or "increase"
    elif inferred and goal["direction"] != inferred and baseline != target:
        collect.add("inconsistent-value", Severity.WARNING,
                    f"Direction says {goal['direction']}, but the target ({_fmt(target)}) is "
                    f"{'below' if inferred == 'decrease' else 'above'} the baseline "
                    f"({_fmt(baseline)}).",
                    "Check Direction, Baseline and Target; sheetsync follows Direction.",
                    tab="Goal")
    start = goal.get("start_date")
    weeks = ctx.challenge_weeks
    if goal.get("end_date") is None and start is not None:
        goal["end_date"] = start + timedelta(weeks=weeks)
    elif start is not None and goal.get("end_date") is not None:
        span = (goal["end_date"] - start).days
        if span <= 0:
            collect.add("out-of-range", Severity.ERROR, "End Date is not after Start Date.",
                        "Check both dates; the challenge runs 10 weeks from Start Date.",
                        tab="Goal")
            goal["end_date"] = start + timedelta(weeks=weeks)
        else:
            weeks = max(1, round(span / 7))
    goal["weeks"] = weeks
    result.records["goals"] = [goal]

    unit = goal["unit"]
    kept: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for rec in result.records.get("weekly", []):
        rec["source"] = result.source
        num, den = rec.get("numerator"), rec.get("denominator")
        frac = cells.parse_fraction(rec.pop("_raw_value", None))
        if rec.get("value") is None:
            if num is not None and den:
                rec["value"] = num / den if unit == "percent" else num
            elif num is not None and unit != "percent":
                rec["value"] = num
        elif frac is not None and (num is None or den is None):
            rec["numerator"] = num if num is not None else frac[0]
            rec["denominator"] = den if den is not None else frac[1]
        if rec.get("week") is None and rec.get("week_of") is not None and start is not None:
            rec["week"] = (rec["week_of"] - start).days // 7 + 1
        if rec.get("week") is None:
            continue  # already reported as missing-required or bad-number
        if rec.get("week_of") is None and start is not None:
            rec["week_of"] = start + timedelta(weeks=rec["week"] - 1)
        week = rec["week"]
        if week in seen:
            cell = collect.cell(rec["_tab"], "week", rec["row"])
            collect.add("duplicate-week", Severity.ERROR,
                        f"Week {week} appears twice (rows {seen[week]} and {rec['row']}); the "
                        "first one is used.", "Delete one of the rows, or fix its week number.",
                        tab=rec["_tab"], cell=cell, value=week)
            continue
        seen[week] = rec["row"]
        kept.append(rec)
    result.records["weekly"] = kept
    for rec in result.records.get("actions", []):
        rec["source"] = result.source


def _minutes_between(start: time, end: time) -> float:
    delta = datetime.combine(date.min, end) - datetime.combine(date.min, start)
    return delta.total_seconds() / 60


def _finish_coach(result: WorkbookResult, collect: _Collector) -> None:
    about = (result.records.get("coaches") or [{"coach": None, "schools": None, "role": None}])[0]
    about["source"] = result.source
    coach = about.get("coach") or result.source
    about["coach"] = coach
    result.records["coaches"] = [about]
    for frame in ("relationships", "cycles", "plans"):
        for rec in result.records.get(frame, []):
            rec["source"], rec["coach"] = result.source, coach
    kept = []
    for rec in result.records.get("time_log", []):
        rec["source"], rec["coach"] = result.source, coach
        minutes = rec.get("minutes")
        if minutes is None and rec.get("hours") is not None:
            minutes = rec["hours"] * 60
        if minutes is None and rec.get("quarter_hours") is not None:
            minutes = rec["quarter_hours"] * 15
        if minutes is None and rec.get("start") is not None and rec.get("end") is not None:
            minutes = _minutes_between(rec["start"], rec["end"])
            if minutes <= 0:
                collect.add("inconsistent-value", Severity.ERROR,
                            f"End ({rec['end']:%H:%M}) is not after Start ({rec['start']:%H:%M}).",
                            "Check the times, or type Minutes directly.", tab=rec["_tab"],
                            cell=collect.cell(rec["_tab"], "end", rec["row"]))
                minutes = None
        rec["minutes"] = minutes
        if rec.get("date") is None or minutes is None:
            time_keys = {"minutes", "hours", "quarter_hours", "start", "end"}
            if (rec.get("date") is not None and minutes is None
                    and not time_keys & rec.get("_invalid", set())):
                collect.add("missing-required", Severity.ERROR,
                            "No time given: Minutes, Hours and Start/End are all blank or "
                            "unusable.",
                            "Fill in Minutes (or Hours, or Start and End).", tab=rec["_tab"],
                            cell=collect.cell(rec["_tab"], "minutes", rec["row"]))
            continue
        kept.append(rec)
    result.records["time_log"] = kept
