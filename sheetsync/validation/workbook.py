"""Validate one raw workbook against its schema: typed DataFrames plus cell-addressed findings.

Collect, don't crash: a bad cell becomes a finding and an empty value, a bad tab becomes a
finding, and everything valid is kept. What cannot be read is marked unknown, never zero: a
coach whose time log cannot be read (or lost a required column) gets a ``time_unknown`` reason
on its ``coaches`` row, and a team whose goal or weekly values cannot be read an
``unknown_reason`` on its ``goals`` row, so the rollup shows blanks with that reason instead of
numbers.

A shared coaching log (kind ``shared_log``) is one tab of time-log rows from many coaches: each
coach named in it becomes a coach of its own, known as "<source>: <coach>".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial, reduce
from itertools import compress, repeat
from operator import and_, is_, itemgetter, or_
from typing import Any

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.findings import Finding, Severity
from sheetsync.grid import a1, column_letter
from sheetsync.schema import (
    ActivityCatalog,
    ActivityMatcher,
    ColumnSpec,
    Framework,
    TabSpec,
    WorkbookSchema,
    alias_key,
    default_activities,
    default_framework,
    normalise_label,
    shared_log_coach_key,
)
from sheetsync.validation import cells
from sheetsync.validation.cells import CellProblem, show
from sheetsync.validation.frames import Rows, as_records
from sheetsync.validation.layout import (
    BLANK,
    SUBTOTAL,
    TOTAL,
    ColumnMatch,
    HeaderMatch,
    SkippedRow,
    WideLayout,
    classify_row,
    describe_rows,
    find_header,
    find_wide,
    is_unlabelled_total,
    match_tabs,
    one_of_groups,
    read_form,
)

WARNING_CODES = {"future-date", "unknown-activity", "cell-too-long", "inconsistent-value",
                 "second-table", "unknown-focus-area"}


def _subject(spec: TabSpec) -> str:
    """How a reason names a tab: "time log", "Weekly Progress"."""
    return "time log" if spec.frame == "time_log" else spec.name


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


@dataclass
class TabReading:
    """How one tab was understood: for ``sheetsync inspect``."""

    tab: str
    spec: str  # the schema tab it was read as
    layout: str  # "table", "form" or "wide"
    header: HeaderMatch | None = None
    wide: WideLayout | None = None
    form: dict[str, Any] = field(default_factory=dict)  # key -> FormField
    data_rows: list[int] = field(default_factory=list)  # 1-based
    skipped: list[SkippedRow] = field(default_factory=list)
    problem: str = ""


class _Collector:
    """Builds findings that all share the same source and file."""

    def __init__(self, source: str, file: str, window: cells.AsOfWindow,
                 inspecting: bool = False) -> None:
        self.source, self.file = source, file
        self.window = window
        self.items: list[Finding] = []
        self.headers: dict[str, HeaderMatch] = {}
        self.inspecting = inspecting
        self.readings: list[TabReading] = []
        self.problems: dict[str, str] = {}  # schema tab -> why its figures are unknown
        self.unknown_activities: dict[str, list[tuple[str, str, Any]]] = {}
        self.unknown_count = 0  # occurrences in unknown_activities
        self.rows_read: dict[str, int] = {}  # schema tab -> data rows read

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

    def unknown(self, spec: str, reason: str) -> None:
        """The figures from this schema tab are unknown (the first reason is kept)."""
        self.problems.setdefault(spec, reason)


def _parser_for(col: ColumnSpec, ctx: ValidationContext, unit: str | None,
                activities: ActivityMatcher, window: cells.AsOfWindow) -> Callable[[Any], Any]:
    ref = ctx.reference_date or ctx.as_of
    tracked = window if ref == ctx.as_of else None  # a fixed reference date is not the as-of
    match col.type:
        case "text":
            return cells.parse_text
        case "int":
            if col.value_words:
                return lambda raw: _parse_rating(raw, col.value_words)
            return cells.parse_int
        case "number":
            if col.key == "minutes":
                return cells.parse_duration_minutes
            if col.key == "hours":
                return cells.parse_hours
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
            return lambda raw: _parse_activity(raw, activities)
        case "focus_area":
            return lambda raw: _parse_focus_area(raw, ctx.framework)
    raise ValueError(col.type)  # pragma: no cover - schema types are checked on load


def _parse_rating(raw: Any, words: dict[str, float]) -> int | None:
    """A rating typed as a number or as a word the schema maps ("High" = 3)."""
    if isinstance(raw, str):
        value = words.get(normalise_label(raw))
        if value is not None:
            return int(value)
    return cells.parse_int(raw)


def _parse_activity(raw: Any, activities: ActivityMatcher) -> str | None:
    text = cells.parse_text(raw)
    if text is None:
        return None
    act = activities.match(text)
    if act is None:
        raise CellProblem("unknown-activity", "", "")  # reported once per text, at the end
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


def _read_value(col: ColumnSpec, parse: Callable[[Any], Any], raw: Any, ctx: ValidationContext,
                unit: str | None, window: cells.AsOfWindow) -> tuple[Any, CellProblem | None]:
    """A cell's value, parsed and checked, or the problem with it (a future date keeps its
    value). The same raw value in the same column always gives the same answer."""
    value = None
    try:
        value = parse(raw)
        if value is not None:
            _check_value(col, value, ctx, unit, window)
    except CellProblem as problem:
        return value, problem
    return value, None


def _settle_cell(col: ColumnSpec, raw: Any, value: Any, problem: CellProblem | None,
                 collect: _Collector, tab: str, cell: str) -> Any:
    """What a cell holds, once read: its findings go to its own cell."""
    if problem is None:
        if isinstance(raw, str) and len(raw) > cells.MAX_CELL_CHARS:
            collect.add("cell-too-long", Severity.WARNING,
                        f"{col.name} holds {len(raw):,} characters; only the first "
                        f"{cells.MAX_CELL_CHARS:,} are used.", "Shorten the text.",
                        tab=tab, cell=cell, value=show(raw))
        return value
    if problem.code == "unknown-activity":
        text = cells.parse_text(raw) or ""
        collect.unknown_activities.setdefault(normalise_label(text), []).append(
            (tab, cell, text))
        collect.unknown_count += 1
        return text
    severity = Severity.WARNING if problem.code in WARNING_CODES else Severity.ERROR
    collect.add(problem.code, severity, f"{col.name}: {problem.message}", problem.hint,
                tab=tab, cell=cell, value=show(raw), private=col.private)
    if problem.code == "future-date":
        return value  # kept: a future date is suspicious, not unusable
    return None


def _parse_cell(col: ColumnSpec, parse: Callable[[Any], Any], raw: Any, ctx: ValidationContext,
                unit: str | None, collect: _Collector, tab: str, cell: str) -> Any:
    value, problem = _read_value(col, parse, raw, ctx, unit, collect.window)
    return _settle_cell(col, raw, value, problem, collect, tab, cell)


_MISSING = object()  # a blank cell, or one that says N/A
_NO_NOTE = (date.min, date.max)
_BLANK, _LOOK = 1, 2  # a column cell's code bits (see _ColumnReader.column)
_NUMERIC_KINDS = frozenset((bool, int, float))


def _code(out: Any, blank: int) -> int:
    """A cell's code bits, from its outcome (``blank``: the code of a missing cell)."""
    if out is _MISSING:
        return blank
    return _LOOK if out[2] or out[0] is None else 0

_SHARED: dict[Any, dict[Any, Any]] = {}
"""What each distinct raw value of a column reads as, shared by every workbook of the process
that reads the same column the same way (same column, program context and unit)."""
_SHARED_VALUES = 20_000  # per column: beyond this, values are remembered per table only
_SHARED_TOTAL = 200_000  # in all: beyond this (a long-running process), start afresh
_shared_count = [0]


class _SharingKey:
    """What decides how a column reads (the column, the program context, the unit), as a key
    whose hash is worked out once: hashing the context walks the whole activity catalog."""

    __slots__ = ("hash", "parts")

    def __init__(self, parts: tuple[Any, ...]) -> None:
        self.parts = parts
        self.hash = hash(parts)  # TypeError when a part cannot be a key

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _SharingKey) and self.hash == other.hash
                                 and self.parts == other.parts)


_KEYS: dict[tuple[int, int, str | None], tuple[Any, Any, _SharingKey]] = {}
"""The sharing key of a (column, context, unit) by the objects' identity: the workbooks a worker
reads in one batch share one context and schema objects. Each entry holds its objects, so their
identities stay theirs."""


def _sharing_key(col: ColumnSpec, ctx: ValidationContext, unit: str | None) -> _SharingKey:
    held = _KEYS.get((id(col), id(ctx), unit))
    if held is not None and held[0] is col and held[1] is ctx:
        return held[2]
    key = _SharingKey((col, tuple(col.choice_aliases.items()), tuple(col.value_words.items()),
                       ctx, unit))
    if len(_KEYS) >= 1024:
        _KEYS.clear()
    _KEYS[(id(col), id(ctx), unit)] = (col, ctx, key)
    return key


def _shared_readings(col: ColumnSpec, ctx: ValidationContext, unit: str | None
                     ) -> dict[Any, Any] | None:
    try:
        key = _sharing_key(col, ctx, unit)
    except TypeError:  # a column or context that cannot be a key: remembered per table only
        return None
    found = _SHARED.get(key)
    if _shared_count[0] > _SHARED_TOTAL or len(_SHARED) >= 256:
        _SHARED.clear()
        _shared_count[0] = 0
        found = None
    if found is None:
        found = _SHARED[key] = {}
    return found


class _ColumnReader:
    """Reads the cells of one table column, each distinct raw value once.

    A column repeats itself ("Co-teaching", "45", "Y", the same dates), and so do the workbooks
    of a program: the value of each distinct raw value is parsed and checked (range, choice, no
    future date) the first time it is met, and every later cell holding it reuses that outcome.
    Findings are still made cell by cell (:func:`_settle_cell`), so each keeps its own cell.
    What parsing notes on the as-of window (the as-of dates that read the value alike) is kept
    with the outcome and noted on each workbook's window that meets the value.
    """

    __slots__ = ("col", "parse", "ctx", "unit", "window", "scratch", "seen", "shared")

    def __init__(self, col: ColumnSpec, ctx: ValidationContext, unit: str | None,
                 activities: ActivityMatcher, window: cells.AsOfWindow) -> None:
        self.col, self.ctx, self.unit, self.window = col, ctx, unit, window
        self.scratch = cells.AsOfWindow(ctx.as_of)  # what reading one value notes
        self.parse = _parser_for(col, ctx, unit, activities, self.scratch)
        self.seen: dict[Any, Any] = {}
        self.shared = _shared_readings(col, ctx, unit)

    def outcome(self, raw: Any) -> Any:
        """:data:`_MISSING`, or (value, problem, flagged): ``flagged`` when the cell needs a
        finding or a second look (a problem, or text too long)."""
        if raw is None:
            return _MISSING
        kind = type(raw)
        if kind is str:
            key: Any = raw
        elif kind is float and (raw == 0 or raw != raw):
            return self._noted(self._read(raw))  # -0.0 equals 0.0, NaN nothing: never shared
        else:
            key = (kind, raw)  # 1, 1.0 and True are equal keys, but not the same value
        try:
            return self.seen[key]
        except KeyError:
            pass
        except TypeError:  # pragma: no cover - backends give hashable values
            return self._noted(self._read(raw))
        return self._first(key, raw)

    def _first(self, key: Any, raw: Any) -> Any:
        """The outcome of a raw value this table has not met yet: from what the process's
        other workbooks read it as, else read now (and remembered for them)."""
        shared = self.shared
        reading = shared.get(key) if shared is not None else None
        if reading is None:
            reading = self._read(raw)
            if shared is not None and len(shared) < _SHARED_VALUES:
                shared[key] = reading
                _shared_count[0] += 1
        out = self.seen[key] = self._noted(reading)
        return out

    def column(self, raws: Sequence[Any], required: bool
               ) -> tuple[list[Any], list[Any], list[int]]:
        """Every cell of a column at once: (outcomes, values, codes), one per cell.

        A code holds :data:`_BLANK` for a missing cell and :data:`_LOOK` for a cell that needs
        a finding or a second look (a problem, a value read as nothing, or a blank when the
        column is ``required``). Each distinct raw value is read once; when two cells could
        hold values that are equal but not the same (1, 1.0 and True; 0.0 and -0.0; NaN), the
        column is read cell by cell.
        """
        numeric = set(map(type, raws)) & _NUMERIC_KINDS
        blank = _BLANK | _LOOK if required else _BLANK
        try:
            distinct = dict.fromkeys(raws)
        except TypeError:  # pragma: no cover - backends give hashable values
            distinct = None
        if distinct is None or len(numeric) > 1 or (float in numeric and any(
                type(d) is float and (d == 0 or d != d) for d in distinct)):
            outs = [self.outcome(raw) for raw in raws]
            return (outs, [None if o is _MISSING else o[0] for o in outs],
                    [_code(o, blank) for o in outs])
        table = self._distinct(distinct)
        value_of = {d: None if o is _MISSING else o[0] for d, o in table.items()}
        code_of = {d: _code(o, blank) for d, o in table.items()}
        return (list(map(table.__getitem__, raws)), list(map(value_of.__getitem__, raws)),
                list(map(code_of.__getitem__, raws)))

    def _distinct(self, distinct: Iterable[Any]) -> dict[Any, Any]:
        """The outcome of each of a column's distinct raw values (no two of them equal unless
        the same: see :meth:`column`), as :meth:`outcome` gives it."""
        seen, table = self.seen, {}
        shared = self.shared if self.shared is not None else {}
        for raw in distinct:
            if raw is None:
                table[raw] = _MISSING
                continue
            key = raw if type(raw) is str else (type(raw), raw)
            out = seen.get(key)
            if out is None:
                # read by another workbook of this process, saying nothing of the as-of
                # window: its outcome as it is (the usual case, without two calls per value)
                reading = shared.get(key)
                if reading is not None and reading[1] is _NO_NOTE:
                    out = seen[key] = reading[0]
                else:
                    out = self._first(key, raw)
            table[raw] = out
        return table

    def _noted(self, reading: tuple[Any, tuple[date, date]]) -> Any:
        out, note = reading
        if note is not _NO_NOTE:
            self.window.narrow(*note)
        return out

    def _read(self, raw: Any) -> tuple[Any, tuple[date, date]]:
        if cells.is_missing(raw):
            return _MISSING, _NO_NOTE
        scratch = self.scratch
        scratch.first, scratch.last = _NO_NOTE
        value, problem = _read_value(self.col, self.parse, raw, self.ctx, self.unit, scratch)
        long = isinstance(raw, str) and len(raw) > cells.MAX_CELL_CHARS
        note = scratch.span
        return (value, problem, problem is not None or long), (
            _NO_NOTE if note == _NO_NOTE else note)


def _report_unknown_activities(collect: _Collector, catalog: ActivityCatalog) -> None:
    """One warning per distinct activity text that matches no activity, at its first cell,
    with the lines that add it to the config."""
    groups = " | ".join(catalog.groups)
    for occurrences in collect.unknown_activities.values():
        tab, cell, text = occurrences[0]
        more = len(occurrences) - 1
        where = (f" It appears {len(occurrences)} times (first here); those minutes count as "
                 "Unknown." if more else " Its minutes count as Unknown.")
        name = text.replace("\\", "\\\\").replace('"', '\\"')
        collect.add("unknown-activity", Severity.WARNING,
                    f"Activity: \u201c{show(text)}\u201d is not in the activity list.{where}",
                    "Pick an activity from the list, or add this one to the config:\n"
                    f'[[activities.activity]]\nname = "{name}"\ngroup = "<{groups}>"',
                    tab=tab, cell=cell, value=show(text))


def _form_unit(fields: dict[str, Any], sentence: str | None) -> str:
    """The goal's unit decides how its Baseline and Target (and the weekly values) read: the
    Unit field when it is valid, else percent when either value (or the goal sentence's pair)
    is typed with a % sign."""
    f = fields.get("unit")
    if f is not None and not cells.is_missing(f.value):
        try:
            unit = cells.parse_choice(f.value, ("percent", "count", "score"))
            if unit:
                return unit
        except CellProblem:
            pass  # reported when the Unit cell itself is parsed
    texts = [str(fields[k].value) for k in ("baseline", "target")
             if k in fields and not cells.is_missing(fields[k].value)]
    if not texts and sentence:
        texts = list(cells.goal_pair(sentence) or ())
    return "percent" if any("%" in t for t in texts) else "count"


def _guessed(collect: _Collector, tab: str, spec: TabSpec, m: ColumnMatch, row: int,
             col: int) -> None:
    """Say which column an uncertain match chose, and the config line that pins it."""
    column = spec.column(m.key)
    key = alias_key(m.key, spec.name)
    why = {"content": "by its cells", "words": "by its words"}.get(m.signal, "by its words")
    note = f" ({m.note})" if m.note else ""
    collect.add("column-guessed", Severity.INFO,
                f"Read {m.header!r} as {column.name}, {why}{note}.",
                "If that is right, pin it in the config: [aliases.columns] "
                f"{_toml_key(key)} = [{_toml_string(m.header)}]; if not, rename the header "
                f"to {column.name!r}.",
                tab=tab, cell=a1(row, col + 1), value=m.header)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").isalnum() else _toml_string(key)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _validate_form(tab: RawTab, spec: TabSpec, ctx: ValidationContext, collect: _Collector,
                   unit: str | None, activities: ActivityMatcher) -> dict[str, Any]:
    fields = read_form(tab, spec)
    record: dict[str, Any] = {}
    # A form with labels but no values yet is a fresh template: nothing to report until filled in.
    untouched = all(cells.is_missing(f.value) for f in fields.values())
    sentence_field = fields.get("smart_goal")
    sentence = (sentence_field.value if sentence_field is not None
                and isinstance(sentence_field.value, str) else None)
    if unit is None and any(col.type == "metric" for col in spec.columns):
        unit = _form_unit(fields, sentence)
        record["_unit"] = unit
    for f in fields.values():
        if f.confidence < 0.8:
            _guessed(collect, tab.name, spec, ColumnMatch(f.key, f.col, f.label, f.confidence,
                                                          f.signal), f.row + 1, f.label_col)
    taken = _values_from_sentence(fields, sentence, sentence_field, unit, collect, tab.name)
    for col in spec.columns:
        f = fields.get(col.key)
        if col.key in taken:
            record[col.key] = taken[col.key]
            continue
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
        cell = a1(f.row + 1, f.col + 1)
        parse = (_goal_parser(unit, col.key == "target") if col.key in ("baseline", "target")
                 else _parser_for(col, ctx, unit, activities, collect.window))
        before = len(collect.items)
        record[col.key] = _parse_cell(col, parse, f.value, ctx, unit, collect, tab.name, cell)
        if record[col.key] is None and col.required:
            said = [x.message for x in collect.items[before:] if x.cell == cell]
            collect.unknown(spec.name, said[0].rstrip(".") if said else
                            f"{col.name}: \u201c{show(f.value)}\u201d could not be read")
    if "_unit" in record and record.get("unit") is None:
        record["unit"] = unit  # blank Unit: the one inferred from how the values are typed
    return record


def _goal_parser(unit: str | None, end: bool) -> Callable[[Any], Any]:
    """Baseline (``end`` False) or Target as people write them (see parse_goal_value)."""
    return lambda raw: cells.parse_goal_value(raw, unit, end)


def _values_from_sentence(fields: dict[str, Any], sentence: str | None, where: Any,
                          unit: str | None, collect: _Collector, tab: str) -> dict[str, Any]:
    """Baseline and Target stated only in the SMART goal ("... from 40% to 60% by November 13"):
    taken from it when their cells are blank, with an info finding that says so."""
    blank = [k for k in ("baseline", "target")
             if k not in fields or cells.is_missing(fields[k].value)]
    if not blank:
        return {}
    pair = None
    for key in ("target", "baseline"):  # "70% -> 80%" typed in the other cell
        f = fields.get(key)
        if f is not None and key not in blank and cells.goal_pair(f.value) is not None:
            pair, where, what = cells.goal_pair(f.value), f, f"the {key.capitalize()} cell"
            break
    else:
        pair = cells.goal_pair(sentence) if sentence else None
        what = "the SMART goal"
    if pair is None:
        return {}
    try:
        values = {"baseline": cells.parse_metric(pair[0], unit),
                  "target": cells.parse_metric(pair[1], unit)}
    except CellProblem:
        return {}
    taken = {k: values[k] for k in blank}
    names = " and ".join(k.capitalize() for k in blank)
    collect.add("value-from-goal", Severity.INFO,
                f"{names} {'are' if len(blank) > 1 else 'is'} blank, so "
                f"{'they were' if len(blank) > 1 else 'it was'} taken from {what}: "
                f"{pair[0]} \u2192 {pair[1]}.",
                f"Fill in {names} to make {'them' if len(blank) > 1 else 'it'} explicit.",
                tab=tab, cell=a1(where.row + 1, where.col + 1) if where is not None else "")
    return taken


def _mapping_findings(tab: RawTab, spec: TabSpec, header: HeaderMatch,
                      collect: _Collector) -> None:
    hdr_row = header.row + 1
    for m in header.matches.values():
        if m.uncertain:
            _guessed(collect, tab.name, spec, m, hdr_row, m.col)
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
                    cell=a1(hdr_row, j + 1), value=header.texts.get(j))
    for col in spec.columns:
        if col.required and col.key not in header.columns:
            collect.add("missing-column", Severity.ERROR,
                        f"The {col.name!r} column is missing from {tab.name!r}.",
                        f"Add a {col.name!r} column to the header row (row {hdr_row}), or pin "
                        "the header you use: [aliases.columns] "
                        f"{_toml_key(alias_key(col.key, spec.name))} = [\"<your header>\"].",
                        tab=tab.name, cell=a1(hdr_row, 1))
            collect.unknown(spec.name, f"{_subject(spec)} not readable (no {col.name} column)")
    for group in one_of_groups(spec):
        if not any(all(k in header.columns for k in keys) for keys in group):
            names = " or ".join("/".join(spec.column(k).name for k in keys) for keys in group)
            collect.add("missing-column", Severity.ERROR,
                        f"{tab.name!r} has no {names} column.",
                        f"Add a column for it to the header row (row {hdr_row}).",
                        tab=tab.name, cell=a1(hdr_row, 1))
            collect.unknown(spec.name, f"{_subject(spec)} not readable (no {names} column)")


def _validate_table(tab: RawTab, spec: TabSpec, ctx: ValidationContext, collect: _Collector,
                    unit: str | None, activities: ActivityMatcher
                    ) -> Rows | list[dict[str, Any]]:
    header = find_header(tab, spec, activities)
    incomplete = header is None or any(c.required and c.key not in header.columns
                                       for c in spec.columns)
    if incomplete and spec.frame == "weekly":
        wide = find_wide(tab, spec, ctx.reference_date or ctx.as_of)
        if wide is not None:
            return _validate_wide(tab, spec, wide, ctx, collect, unit, activities)
    if header is None:
        if any(tab.rows):
            collect.add("missing-header", Severity.ERROR,
                        f"No header row was found in the first rows of {tab.name!r}.",
                        "Put the column names (" + ", ".join(c.name for c in spec.columns[:4])
                        + ", ...) in one row above the data.", tab=tab.name)
            collect.unknown(spec.name, f"{_subject(spec)} not readable (no header row found)")
        collect.readings.append(TabReading(tab.name, spec.name, "table",
                                           problem="no header row found"))
        return []
    collect.headers.setdefault(tab.name, header)
    reading = TabReading(tab.name, spec.name, "table", header=header)
    collect.readings.append(reading)
    reading.skipped.extend(SkippedRow(i + 1, "title", _row_text(tab.rows[i]))
                           for i in range(header.first_row if header.first_row >= 0
                                          else header.row)
                           if tab.rows[i])
    _mapping_findings(tab, spec, header, collect)
    records = _table_records(tab, spec, header, ctx, collect, unit, activities, reading)
    for side in header.side_tables:
        where = a1(side.top + 1, side.lo + 1) + ":" + column_letter(side.hi)
        if side.header is not None:
            collect.headers.setdefault(f"{tab.name}\0{side.lo}", side.header)
            side_reading = TabReading(tab.name, spec.name, "table", header=side.header)
            collect.readings.append(side_reading)
            _mapping_findings(tab, spec, side.header, collect)
            records = [*as_records(records),
                       *_table_records(tab, spec, side.header, ctx, collect, unit, activities,
                                       side_reading)]
            collect.add("second-table", Severity.INFO,
                        f"A second {spec.name} table beside the first (columns {where}) was "
                        "read as its own table.", "Nothing to fix.", tab=tab.name,
                        cell=a1(side.top + 1, side.lo + 1))
        else:
            collect.add("second-table", Severity.INFO,
                        f"The table in columns {where} (beside the {spec.name} table) is not "
                        "one sheetsync reads; it was ignored.",
                        "Nothing to fix, unless it holds rows that belong in the main table: "
                        "then move them there.", tab=tab.name, cell=a1(side.top + 1, side.lo + 1))
            reading.skipped.append(SkippedRow(side.top + 1, "second table", where))
    return records


def _row_text(row: list[Any]) -> str:
    return " | ".join(show(v) for v in row if v is not None)[:80]


def _table_records(tab: RawTab, spec: TabSpec, header: HeaderMatch, ctx: ValidationContext,
                   collect: _Collector, unit: str | None, activities: ActivityMatcher,
                   reading: TabReading) -> list[dict[str, Any]]:
    """The table's data rows as records, read column by column.

    Each column's cells are read at once (:meth:`_ColumnReader.column`); a row whose every cell
    read cleanly becomes a record straight away, and only the others (a problem, a blank
    required cell, a value read as nothing) go through the findings and the question of
    whether they are data at all (a total, a repeated header, a note).
    """
    readers = [(key, j, spec.column(key),
                _ColumnReader(spec.column(key), ctx, unit, activities, collect.window))
               for key, j in header.columns.items()]
    lo, hi = header.span
    extra_cols = {j: f"extra:{text}" for j, text in header.unknown.items()}
    numeric = [k for k, _, c, _ in readers if c.type in ("number", "int", "metric")]
    absent = dict.fromkeys(c.key for c in spec.columns if c.key not in header.columns)
    for k in [k for k in absent if k in ("row", "_tab", "_invalid") or k.startswith("_raw_")]:
        del absent[k]
    records: Rows | list[dict[str, Any]] = []
    skipped: list[SkippedRow] = []
    rows = tab.rows
    at: list[int] = []  # the rows with something inside the table's columns
    for i in range(header.row + 1, len(rows)):
        row = rows[i]
        inside = row[lo:hi]
        if not row or inside.count(None) == len(inside):
            if collect.inspecting:
                outside = [v for v in row if v is not None]
                skipped.append(SkippedRow(i + 1, BLANK) if not outside else SkippedRow(
                    i + 1, "outside the table", _row_text(row)))
            continue
        at.append(i)
    if not at or not readers:
        finish_table(collect, reading, spec, tab, header, records, skipped)
        return records
    width = max(j for _, j, _, _ in readers) + 1
    body = [rows[i] if len(rows[i]) >= width else rows[i] + [None] * (width - len(rows[i]))
            for i in at]
    picked = list(map(itemgetter(*(j for _, j, _, _ in readers)), body))
    raw_cols = list(zip(*picked, strict=True)) if len(readers) > 1 else [tuple(picked)]
    out_cols, value_cols, code_cols = [], [], []
    for (_key, _j, col, reader), raws in zip(readers, raw_cols, strict=True):
        outs, values, codes = reader.column(raws, col.required)
        out_cols.append(outs)
        value_cols.append(values)
        code_cols.append(codes)
    # per row: _BLANK when every cell is blank, _LOOK when a cell needs a second look
    blank_all = list(reduce(partial(map, and_), code_cols))
    trouble = list(reduce(partial(map, or_), code_cols))
    keys = [key for key, _, _, _ in readers]
    metric_raw = [(f"_raw_{key}", raws) for (key, _, col, _), raws in
                  zip(readers, raw_cols, strict=True) if col.type == "metric"]
    # what every record of this table also holds: its tab, and the schema's columns the table
    # lacks, as blanks (never overwriting a record's own entries: no schema has such keys)
    common = {"_tab": tab.name, **absent}
    n = len(at)
    # The records stay columns: each read column's values as they are, the rows that need a
    # second look settled into them one by one, and the rows that are not data left out.
    columns: dict[str, list[Any]] = {"row": [i + 1 for i in at],
                                     **dict(zip(keys, value_cols, strict=True))}
    keep = [not blank & _BLANK for blank in blank_all]  # every cell blank (or N/A): no record
    invalid: dict[int, set[str]] = {}
    since_total = 0  # records after the last total row
    for k in compress(range(n), map(and_, trouble, repeat(_LOOK))):
        if not keep[k]:
            continue
        i = at[k]
        record: dict[str, Any] = {"row": i + 1}
        before = len(collect.items)
        unknown_before = collect.unknown_count
        troubled = False
        for c, (key, j, col, _reader) in enumerate(readers):
            out = out_cols[c][k]
            if out is _MISSING:
                record[key] = None
                if col.required:
                    troubled = True
                    collect.add("missing-required", Severity.ERROR, f"{col.name} is blank.",
                                f"Fill in {col.name} for this row, or delete the row.",
                                tab=tab.name, cell=a1(i + 1, j + 1))
                continue
            value, problem, flagged = out
            if flagged:
                value = _settle_cell(col, raw_cols[c][k], value, problem, collect,
                                     tab.name, a1(i + 1, j + 1))
            record[key] = value
            if value is None:
                record.setdefault("_invalid", set()).add(key)
        unknown_now = collect.unknown_count
        if troubled or len(collect.items) != before or unknown_now != unknown_before:
            # Not a clean data row: perhaps a total, a repeated header or a note.
            kind = classify_row(rows[i], header, spec)
            if kind is None and numeric:
                earlier = _Earlier(columns, keep, k)
                kind = _unlabelled_total(record, earlier, since_total, numeric, spec)
            if kind is not None:
                del collect.items[before:]
                if unknown_now != unknown_before:
                    _forget_unknown(collect, tab.name, i + 1, header)
                skipped.append(SkippedRow(i + 1, kind[0], kind[1]))
                keep[k] = False
                if kind[0] in (TOTAL, SUBTOTAL):
                    since_total = sum(keep[:k])
                continue
        for key in keys:
            columns[key][k] = record[key]
        if "_invalid" in record:
            invalid[k] = record["_invalid"]
    kept = list(compress(range(n), keep))
    if len(kept) < n:
        columns = {key: list(map(values.__getitem__, kept)) for key, values in columns.items()}
    count = len(kept)
    columns.update((key, [value] * count) for key, value in common.items())
    if invalid:
        columns["_invalid"] = [invalid.get(k) for k in kept]
    for name, raws in metric_raw:  # a metric typed as text ("32 of 47") is kept as typed
        typed = [raw if isinstance(raw, str) else None for raw in map(raws.__getitem__, kept)]
        if any(raw is not None for raw in typed):
            columns[name] = typed
    for j, name in extra_cols.items():
        columns[name] = [row[j] if j < len(row) else None
                         for row in (rows[at[k]] for k in kept)]
    records = Rows(columns, count)
    skipped.sort(key=lambda s: s.row)  # blank rows were noted first
    finish_table(collect, reading, spec, tab, header, records, skipped)
    return records


class _Earlier(Sequence[dict[str, Any]]):
    """The records a table keeps above one of its rows, made only when asked for (whether a
    row of numbers is the total of the rows above it)."""

    def __init__(self, columns: dict[str, list[Any]], keep: list[bool], stop: int) -> None:
        self._columns, self._keep, self._stop = columns, keep, stop
        self._records: list[dict[str, Any]] | None = None

    def _made(self) -> list[dict[str, Any]]:
        if self._records is None:
            above = compress(range(self._stop), self._keep)
            self._records = [{key: values[k] for key, values in self._columns.items()}
                             for k in above]
        return self._records

    def __len__(self) -> int:
        return len(self._made())

    def __getitem__(self, index: Any) -> Any:
        return self._made()[index]


def finish_table(collect: _Collector, reading: TabReading, spec: TabSpec, tab: RawTab,
                 header: HeaderMatch, records: list[dict[str, Any]],
                 skipped: list[SkippedRow]) -> None:
    """After a table's rows: note the rows read and skipped, with one finding that says which
    rows were not data and why."""
    reading.skipped.extend(skipped)
    if collect.inspecting:
        reading.data_rows.extend(r["row"] for r in records)
    collect.rows_read[spec.name] = collect.rows_read.get(spec.name, 0) + len(records)
    not_blank = [s for s in skipped if s.kind != BLANK]
    if not_blank:
        kinds: dict[str, list[int]] = {}
        for s in not_blank:
            kinds.setdefault(s.kind, []).append(s.row)
        parts = [f"{len(rs)} {kind}{'s' if len(rs) > 1 else ''} (row"
                 f"{'s' if len(rs) > 1 else ''} {describe_rows(rs)})"
                 for kind, rs in kinds.items()]
        collect.add("rows-skipped", Severity.INFO,
                    f"{len(not_blank)} row{'s' if len(not_blank) > 1 else ''} of {tab.name!r} "
                    f"{'are' if len(not_blank) > 1 else 'is'} not data and "
                    f"{'were' if len(not_blank) > 1 else 'was'} skipped: " + "; ".join(parts)
                    + ".", "Nothing to fix: totals, repeated headers and notes are never "
                    "counted.", tab=tab.name, cell=a1(not_blank[0].row, header.span[0] + 1))


def _forget_unknown(collect: _Collector, tab: str, row: int, header: HeaderMatch) -> None:
    j = header.columns.get("activity")
    if j is None:
        return
    cell = a1(row, j + 1)
    for key in list(collect.unknown_activities):
        kept = [o for o in collect.unknown_activities[key] if not (o[0] == tab and o[1] == cell)]
        collect.unknown_count -= len(collect.unknown_activities[key]) - len(kept)
        if kept:
            collect.unknown_activities[key] = kept
        else:
            del collect.unknown_activities[key]


def _unlabelled_total(record: dict[str, Any], records: Sequence[dict[str, Any]], since: int,
                      numeric: list[str], spec: TabSpec) -> tuple[str, str] | None:
    """A row holding only numbers, each the sum of the column above: of the rows since the
    last total (a subtotal), or of all the rows (a grand total)."""
    others = [c.key for c in spec.columns if c.key not in numeric and record.get(c.key)
              is not None]
    given = [k for k in numeric if isinstance(record.get(k), int | float)]
    if others or not given:
        return None
    for kind, part in ((SUBTOTAL, records[since:]), (TOTAL, records)):
        if all(is_unlabelled_total([r[k] for r in part if isinstance(r.get(k), int | float)],
                                   record[k]) for k in given):
            if kind == SUBTOTAL and since == 0:
                kind = TOTAL
            return (kind, f"{_fmt(record[given[0]])}, the sum of the rows above")
    return None


def _validate_wide(tab: RawTab, spec: TabSpec, wide: WideLayout, ctx: ValidationContext,
                   collect: _Collector, unit: str | None,
                   activities: ActivityMatcher) -> list[dict[str, Any]]:
    """A data wall: one record per week column, each field read from its row."""
    reading = TabReading(tab.name, spec.name, "wide", wide=wide)
    collect.readings.append(reading)
    reading.skipped.extend(wide.skipped)
    for m in wide.matches.values():
        if m.uncertain:
            _guessed(collect, tab.name, spec, m, m.col + 1, wide.label_col)
    for r, label in wide.unknown.items():
        collect.add("unknown-column", Severity.INFO,
                    f"Row {label!r} is not one sheetsync uses; it is kept but not checked.",
                    "Nothing to fix, unless it was meant to be one of: "
                    + ", ".join(c.name for c in spec.columns) + ".",
                    tab=tab.name, cell=a1(r + 1, wide.label_col + 1), value=label)
    if not any(all(k in wide.fields for k in keys) for group in one_of_groups(spec)
               for keys in group):
        collect.add("missing-column", Severity.ERROR,
                    f"{tab.name!r} has weeks across its columns, but no row of values "
                    "(such as 'Actual').",
                    "Label the row of weekly values 'Actual' (or 'Value').", tab=tab.name,
                    cell=a1(wide.row + 1, wide.label_col + 1))
        collect.unknown(spec.name, f"{spec.name} not readable (no row of weekly values)")
    rows = tab.rows
    records: list[dict[str, Any]] = []
    value_row = wide.fields.get("value", next(iter(wide.fields.values()), wide.row))
    for j, week, when in wide.weeks:
        record: dict[str, Any] = {"row": value_row + 1, "_tab": tab.name, "_wide": True}
        if all(j >= len(rows[r]) or cells.is_missing(rows[r][j])
               for key, r in wide.fields.items() if key not in ("week", "week_of")):
            continue  # a week with nothing reported yet (its date may be in the future)
        found = False
        for key, r in wide.fields.items():
            col = spec.column(key)
            raw = rows[r][j] if j < len(rows[r]) else None
            if raw is None or cells.is_missing(raw):
                record[key] = None
                continue
            found = True
            parse = _parser_for(col, ctx, unit, activities, collect.window)
            record[key] = _parse_cell(col, parse, raw, ctx, unit, collect, tab.name,
                                      a1(r + 1, j + 1))
            if col.type == "metric" and isinstance(raw, str):
                record[f"_raw_{key}"] = raw
        if not found:
            continue
        if record.get("week") is None:
            record["week"] = week
        if record.get("week_of") is None and when is not None:
            try:
                record["week_of"] = cells.parse_date(when, ctx.reference_date or ctx.as_of)
            except CellProblem:
                record["week_of"] = None
        for col in spec.columns:
            record.setdefault(col.key, None)
        records.append(record)
    reading.data_rows.extend(sorted({r + 1 for r in wide.fields.values()}))
    collect.rows_read[spec.name] = collect.rows_read.get(spec.name, 0) + len(records)
    return records


def validate_workbook(raw: RawWorkbook, schema: WorkbookSchema, *, source: str,
                      ctx: ValidationContext) -> WorkbookResult:
    """Validate every tab of ``raw`` against ``schema``; never raises on bad data."""
    return _validate(raw, schema, source, ctx, inspecting=False)[0]


def read_tabs(raw: RawWorkbook, schema: WorkbookSchema, *, source: str,
              ctx: ValidationContext) -> tuple[WorkbookResult, list[TabReading]]:
    """Validate ``raw`` and say how each tab was understood (for ``sheetsync inspect``)."""
    result, collect = _validate(raw, schema, source, ctx, inspecting=True)
    return result, collect.readings


def _validate(raw: RawWorkbook, schema: WorkbookSchema, source: str, ctx: ValidationContext,
              inspecting: bool) -> tuple[WorkbookResult, _Collector]:
    collect = _Collector(source, raw.location, cells.AsOfWindow(ctx.as_of), inspecting)
    result = WorkbookResult(source=source, kind=schema.kind)
    activities = ctx.activities.matcher()
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
            collect.unknown(spec.name, f"{_subject(spec)} not found (no {spec.name!r} tab)")
    for spec in schema.tabs:
        frame = spec.frame
        records: Rows | list[dict[str, Any]] = []
        tables: list[Rows | list[dict[str, Any]]] = []
        for tab in matched[spec.name]:
            if spec.layout == "form":
                record = _validate_form(tab, spec, ctx, collect, unit, activities)
                records = [record]
                unit = record.pop("_unit", unit)  # the Goal's unit reads the weekly values
                if inspecting:
                    collect.readings.append(TabReading(tab.name, spec.name, "form",
                                                       form=read_form(tab, spec)))
            else:
                tables.append(_validate_table(tab, spec, ctx, collect, unit, activities))
        if tables:  # one tab's table stays columns; several become one list of records
            records = tables[0] if len(tables) == 1 else [
                record for table in tables for record in as_records(table)]
        result.records[frame] = records
    _report_unknown_activities(collect, ctx.activities)
    if schema.kind == "team":
        _finish_team(result, raw, schema, ctx, collect)
    elif schema.kind == "shared_log":
        _finish_shared_log(result, schema, collect)
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
    return result, collect


def _finish_team(result: WorkbookResult, raw: RawWorkbook, schema: WorkbookSchema,
                 ctx: ValidationContext, collect: _Collector) -> None:
    _as_lists(result)  # a tracker's few weeks and actions are settled record by record
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

    unit = goal["unit"]
    kept: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    weekly = result.records.get("weekly", [])
    for rec in weekly:
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
    goal["unknown_reason"] = _team_reason(collect)
    result.records["goals"] = [goal]


def _team_reason(collect: _Collector) -> str | None:
    """Why the team's figures cannot be shown: the goal's problem first, then the weekly
    values'. None when they can."""
    for tab in ("Goal", "Weekly Progress"):
        if tab in collect.problems:
            return collect.problems[tab]
    return None


def _minutes_between(start: time, end: time) -> float:
    delta = datetime.combine(date.min, end) - datetime.combine(date.min, start)
    return delta.total_seconds() / 60


def _time_records(records: list[dict[str, Any]], collect: _Collector, source: str,
                  coach_of: Callable[[dict[str, Any]], str | None]) -> tuple[list, dict]:
    """The time-log rows that can be counted (a date and minutes), each with its coach; and,
    per coach, how many rows there were in all."""
    kept = []
    seen: dict[str, int] = {}
    for rec in records:
        coach = coach_of(rec)
        rec["source"], rec["coach"] = source, coach
        if coach is not None:
            seen[coach] = seen.get(coach, 0) + 1
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
    return kept, seen


def _time_reason(collect: _Collector, total: int, counted: int) -> str | None:
    """Why a coach's time figures are unknown, or None when they can be shown. A row that
    cannot be read is a finding at its cell and is not counted; the figures stay known."""
    if "Time Log" in collect.problems:
        return collect.problems["Time Log"]
    return None


def _finish_coach(result: WorkbookResult, collect: _Collector) -> None:
    about = (result.records.get("coaches") or [{"coach": None, "schools": None, "role": None}])[0]
    about["source"] = result.source
    coach = about.get("coach") or result.source
    about["coach"] = coach
    for frame in ("relationships", "cycles", "plans"):
        records = result.records.get(frame, [])
        if isinstance(records, Rows):
            records.fill("source", result.source)
            records.fill("coach", coach)
            continue
        for rec in records:
            rec["source"], rec["coach"] = result.source, coach
    records = result.records.get("time_log", [])
    if isinstance(records, Rows):
        kept: Rows | list[dict[str, Any]] = _time_rows(records, collect, result.source, coach)
    else:
        kept, _ = _time_records(records, collect, result.source, lambda rec: coach)
    result.records["time_log"] = kept
    about["time_unknown"] = _time_reason(collect, len(records), len(kept))
    result.records["coaches"] = [about]


def _time_rows(rows: Rows, collect: _Collector, source: str, coach: str) -> Rows:
    """:func:`_time_records` for a coach's time log held as columns: the rows with a date and
    minutes are kept as they are; only the others (minutes to work out from hours or start
    and end, or no time at all) are looked at one by one, in order."""
    n = len(rows)
    rows.fill("source", source)
    rows.fill("coach", coach)
    minutes = rows.columns.setdefault("minutes", [None] * n)
    when = rows.column("date")
    lacking = list(compress(range(n), map(or_, map(is_, minutes, repeat(None)),
                                          map(is_, when, repeat(None)))))
    if not lacking:
        return rows
    looked = [rows[k] for k in lacking]
    counted, _ = _time_records(looked, collect, source, lambda rec: coach)
    settled = {id(rec) for rec in counted}
    dropped = set()
    for k, rec in zip(lacking, looked, strict=True):
        if id(rec) in settled:
            minutes[k] = rec["minutes"]
        else:
            dropped.add(k)
    return rows.take([k for k in range(n) if k not in dropped]) if dropped else rows


def _as_lists(result: WorkbookResult) -> None:
    """Every table's records as a list of dicts, for the finishing steps that go record by
    record."""
    for frame, records in result.records.items():
        result.records[frame] = as_records(records)


def _finish_shared_log(result: WorkbookResult, schema: WorkbookSchema,
                       collect: _Collector) -> None:
    """Split a shared log into its coaches: one coach per distinct name in the coach column
    (ignoring case and spacing), each known as "<source>: <coach>"."""
    _as_lists(result)
    key = shared_log_coach_key()
    spelled: dict[str, str] = {}

    def coach_of(rec: dict[str, Any]) -> str | None:
        name = rec.get(key)
        if not isinstance(name, str) or not name.strip():
            return None
        folded = " ".join(name.split()).casefold()
        return spelled.setdefault(folded, " ".join(name.split()))

    records = result.records.get("time_log", [])
    kept, seen = _time_records(records, collect, result.source, coach_of)
    counted: dict[str, int] = {}
    for rec in kept:
        if rec["coach"] is not None:
            counted[rec["coach"]] = counted.get(rec["coach"], 0) + 1
    coaches = []
    for name in seen:
        coaches.append({"source": _coach_source(result.source, name), "coach": name,
                        "schools": None, "role": None,
                        "time_unknown": _time_reason(collect, seen[name], counted.get(name, 0))})
    if not coaches:  # the log names no coach: it stays visible, unknown
        coaches.append({"source": result.source, "coach": result.source, "schools": None,
                        "role": None,
                        "time_unknown": (collect.problems.get("Time Log")
                                         or "no coach named in the log")})
    for rec in kept:
        rec["source"] = (_coach_source(result.source, rec["coach"]) if rec["coach"]
                         else result.source)
    result.records["time_log"] = [r for r in kept if r["coach"] is not None]
    result.records["coaches"] = coaches
    for spec in schema.tabs:
        if spec.frame not in result.records:
            result.records[spec.frame] = []


def _coach_source(source: str, coach: str) -> str:
    return f"{source}: {coach}"
