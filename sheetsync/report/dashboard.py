"""Build the managed tabs of the leaders' workbook from an analysis.

Every tab here is leader-facing, so only aggregates go in: per team, per coach, per coach-week.
Teacher names, facts, notes and per-teacher ratings never reach this module's inputs (the
analytics results hold none), and findings about private columns are shown without their value.

The Dashboard answers four questions on its first screen, in this order: which teams are on
track, which need support and what is suggested, whether coaches spend their time coaching, and
how fresh the data is. It holds a scoreboard (rows 1-6), the team table, sorted by need, and the
coach table; the three stack in one grid of columns sized for all of them (see
:data:`DASHBOARD_COLUMNS`). Each team's chart is on the Team Charts tab, their numbers on the
Chart Data tab; the sources read are on the Sources tab.

The output is a list of :class:`~sheetsync.report.model.Sheet`, rendered by the Excel or the
Google writer. For the same inputs and as-of date every tab comes out the same, except the Run
Log, which gains a row per run, and the generation time in the Dashboard's second line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sheetsync.analytics import wording
from sheetsync.grid import a1
from sheetsync.report.flags import FlagKey, flags_sheet
from sheetsync.report.model import (
    AMBER,
    BLUE,
    GREEN,
    GREY,
    RED,
    STATUS_TEXT_COLOURS,
    Benchmark,
    Cell,
    Chart,
    SeriesStyle,
    Sheet,
    Sparkline,
    Table,
)
from sheetsync.report.plans import area_tables, plans_sheet
from sheetsync.report.run_log import run_log_sheet

if TYPE_CHECKING:
    import pandas as pd

    from sheetsync.analytics.program import Analysis
    from sheetsync.config import Config
    from sheetsync.dataset import ProgramData, SourceStatus

TAB_ORDER = ("Dashboard", "Team Charts", "Team Progress", "Coach Time", "Relationships",
             "Coaching Cycles", "Coaching Plans", "Weekly Update", "Trends", "Check-ins",
             "Check-in Agenda", "Retrospective", "History", "Flags", "Sources", "Run Log",
             "Chart Data")
"""Every managed tab; those from Trends to History are built from the program's history
(:mod:`sheetsync.report.rhythm`)."""
MAX_TEAM_CHARTS = 12
MAX_COACHES_IN_CHART = 40
CHART_DATA = "Chart Data"
CHART_DATA_FIRST_ROW = 4

TEAM_ORDER = {"File failed": 0, "Unknown": 0, "Off track": 1, "At risk": 2, "Stale": 3,
              "No data": 4, "On track": 5, "Not met": 6, "Met": 7}
"""The team table's order: teams that need support first, then on track, then met."""

COACH_ORDER = {"File failed": 0, "Unknown": 0, "Stale data": 1, "Log stopped": 2,
               "No time logged": 3, "Below target": 4, "On target": 5}
"""The coach table's (and the coach chart's) order: what needs attention first."""

DASHBOARD_COLUMNS = {1: 12, 2: 18, 3: 20, 4: 15, 5: 9, 6: 9, 7: 10, 8: 9, 9: 9, 10: 43}
"""The Dashboard's grid (widths in characters): the scoreboard's tiles, the team table and the
coach table stack in these ten columns, each table's narrow figures in columns 4 to 9 and its
long text (a reason, a note) in the last one, wrapped. 154 characters: about 1,400 pixels in
LibreOffice at 100%, so a 1440-pixel screen shows every column."""

GROUP_COLOURS = ("70AD47", "5B9BD5", "ED7D31", "A5A5A5", "FFC000", "4472C4", "9E480E")
"""Activity groups in the coach chart: coaching with teachers green, then the others."""

VALUE_BLUE, GOAL_GREY, CHANGE_ORANGE, TARGET_RED = "2E75B6", "8C8C8C", "ED7D31", "404040"


@dataclass(frozen=True)
class Col:
    """One output column: its header, where its values come from, and its number format.

    ``source`` names a column of the frame, or computes the whole column from the frame (one
    value per row): whole columns, since the per-coach-week tabs hold tens of thousands of rows.
    """

    header: str
    source: str | Callable[[pd.DataFrame], Sequence[Any] | pd.Series]
    fmt: str | None = None
    width: float | None = None


def _clean(value: Any) -> Any:
    """pandas/numpy scalars to plain Python; NaN/NaT/NA to None."""
    kind = type(value)
    # Fast path for the plain values most cells hold: tens of thousands of cells per tab.
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        return None if value != value else value
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime().date() if value == value.normalize() else \
                value.to_pydatetime()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


_PLAIN = frozenset({str, int, bool, type(None)})  # what _clean returns as it is


def _clean_column(series: pd.Series) -> list[Any]:
    """``_clean`` of every value of a column, with numpy's own conversion where it is exact."""
    import numpy as np

    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else ""
    if kind == "f":
        return [None if v != v else v for v in series.to_numpy().tolist()]  # NaN -> None
    if kind in ("i", "u", "b"):
        return series.to_numpy().tolist()
    if kind == "M":  # midnight -> date, else datetime, NaT -> None, as _clean does
        stamps = series.to_numpy()
        days = stamps.astype("datetime64[D]")
        dates = days.astype(object).tolist()
        if bool((stamps == days).all()):
            return dates
        times = stamps.astype("datetime64[us]").astype(object).tolist()
        return [d if m else t for d, m, t in zip(dates, (stamps == days).tolist(), times,
                                                 strict=True)]
    return [v if type(v) in _PLAIN else _clean(v) for v in series.tolist()]


def _values(frame: pd.DataFrame, key: str) -> list[Any]:
    """A column's values made plain by ``_clean`` (all None when the frame lacks it)."""
    return _clean_column(frame[key]) if key in frame.columns else [None] * len(frame)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts, values as pandas holds them (NaN, NaT, NA included):
    ``DataFrame.to_dict("records")``, without its cost per row on mixed columns."""
    columns = list(frame.columns)
    return [dict(zip(columns, row, strict=True))
            for row in zip(*(frame[c].tolist() for c in columns), strict=True)]


def _raw(frame: pd.DataFrame, key: str) -> list[Any]:
    """A column's values as they are, NaN included (all None when the frame lacks it)."""
    return frame[key].tolist() if key in frame.columns else [None] * len(frame)


def _rows(frame: pd.DataFrame, cols: Sequence[Col]) -> list[list[Any]]:
    import pandas as pd

    if not len(frame):
        return []  # and computed columns need not cope with frames that lack columns
    values = []
    for c in cols:
        if not callable(c.source):
            values.append(_values(frame, c.source))
            continue
        found = c.source(frame)
        values.append(_clean_column(found) if isinstance(found, pd.Series)
                      else [_clean(v) for v in found])
    return list(map(list, zip(*values, strict=True)))


def _table(frame: pd.DataFrame, cols: Sequence[Col], *, title: str | None = None, row: int = 1,
           col: int = 1, status: Sequence[str] = (), bars: Sequence[str] = (),
           **more: Any) -> Table:
    return Table(columns=[c.header for c in cols], rows=_rows(frame, cols), title=title, row=row,
                 col=col, number_formats={c.header: c.fmt for c in cols if c.fmt},
                 status_columns=list(status), data_bar_columns=list(bars),
                 column_widths={c.header: c.width for c in cols if c.width}, **more)


def _in_unit(key: str, units: Callable[[pd.DataFrame], list[Any]] | None = None
             ) -> Callable[[pd.DataFrame], list[Any]]:
    """Team values in the unit people think in: percentage points for percent goals.

    ``units`` gives each row's unit; by default it is read from the frame's "unit" column.
    """
    def get(frame: pd.DataFrame) -> list[Any]:
        unit_of = units(frame) if units is not None else _raw(frame, "unit")
        return [None if value is None
                else round(value * 100, 1) if unit == "percent" else round(value, 2)
                for value, unit in zip(_values(frame, key), unit_of, strict=True)]
    return get


def _units_by_source(units: dict[Any, Any]) -> Callable[[pd.DataFrame], list[Any]]:
    """Each row's unit, looked up by its "source" (for frames that do not carry the unit)."""
    return lambda frame: [units.get(source) for source in frame["source"].tolist()]


UNIT_LABELS = {"percent": "%", "count": "count", "score": "score"}


def _unit_label(rec: dict) -> str:
    return UNIT_LABELS.get(rec.get("unit") or "", "")


def _unit_labels(units: Callable[[pd.DataFrame], list[Any]] | None = None
                 ) -> Callable[[pd.DataFrame], list[str]]:
    """The unit of each row as a short label (see ``_in_unit`` for ``units``)."""
    def get(frame: pd.DataFrame) -> list[str]:
        unit_of = units(frame) if units is not None else _raw(frame, "unit")
        return [UNIT_LABELS.get(unit or "", "") for unit in unit_of]
    return get


def _actions_done(frame: pd.DataFrame) -> list[str]:
    totals = _raw(frame, "actions_total")
    if not any(totals):
        return [""] * len(frame)
    return [f"{done} of {total}" if total else ""
            for done, total in zip(frame["actions_done"].tolist(), totals, strict=True)]


def figure_format(value: float, unit: str | None = None, suffix: str = "") -> str:
    """A number format that shows ``value`` with the decimals it needs and never a trailing
    point: "0", "0.0" or "0.00" (as a percent for percent units), then ``suffix`` as text."""
    shown = value * 100 if unit == "percent" else value
    decimals = next((d for d in (0, 1) if abs(round(shown, 2) - round(shown, d)) < 1e-9), 2)
    pattern = "0" + ("." + "0" * decimals if decimals else "") + ("%" if unit == "percent"
                                                                  else "")
    if suffix:
        pattern += '"' + suffix.replace('"', "") + '"'
    return pattern


def _figure(value: Any, unit: str | None, suffix: str = "", decimals: int = 2) -> Cell | None:
    """A team figure as a number in its unit (a fraction for percent goals), formatted, with
    at most ``decimals`` decimals (of percentage points for percent goals)."""
    value = _clean(value)
    if value is None:
        return None
    value = round(value, decimals + 2) if unit == "percent" else round(value, decimals)
    return Cell(value, figure_format(value, unit, suffix))


# -- dates the whole workbook agrees on -----------------------------------------------------------

@dataclass(frozen=True)
class Calendar:
    """The run's dates: the challenge week, the "last 4 weeks" window and the last complete week.

    The challenge runs from the earliest team start date; a week is complete once 7 days of it
    have passed (so on 2026-11-04, 58 days after a 2026-09-07 start, week 8 is complete and
    week 9 is in progress). The window of "the last 4 weeks" is the last 4 complete weeks
    before the as-of date, as the coach figures count them (see
    :func:`sheetsync.analytics.coaches.recent_window`): a run early on a Monday counts all of
    the week before.
    """

    as_of: date
    start: date | None
    weeks: int
    complete: int
    recent_weeks: int
    recent: tuple[date, date] | None = None  # the coach figures' window, when they have one

    @property
    def label(self) -> str:
        if self.start is None:
            return "No team trackers yet"
        return wording.challenge_week(self.complete, self.weeks, started=self.as_of >= self.start)

    @property
    def window(self) -> tuple[date, date]:
        if self.recent is not None:
            return self.recent
        from sheetsync.analytics.coaches import recent_window

        return recent_window(self.as_of, self.recent_weeks)

    @property
    def last_complete_week(self) -> tuple[date, date]:
        """The challenge's last complete week; before week 1 ends (or without teams), the last
        complete calendar week, Monday to Sunday."""
        if self.start is not None and self.complete >= 1:
            first = self.start + timedelta(days=7 * (self.complete - 1))
            return first, first + timedelta(days=6)
        monday = self.as_of - timedelta(days=self.as_of.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)


def calendar_for(config: Config, analysis: Analysis) -> Calendar:
    teams = analysis.teams.teams
    starts = [d for d in _values(teams, "start_date") if d is not None]
    start = min(starts) if starts else None
    if isinstance(start, datetime):
        start = start.date()
    weeks = config.challenge_weeks
    complete = 0
    if start is not None:
        complete = max(0, min(weeks, (analysis.as_of - start).days // 7))
    return Calendar(analysis.as_of, start, weeks, complete, analysis.thresholds.recent_weeks,
                    analysis.coaches.recent_window)


# -- the Dashboard --------------------------------------------------------------------------------

@dataclass
class _Layout:
    """The Chart Data tab's tables, and where it holds each team's values (for sparklines)."""

    tables: list[Table] = field(default_factory=list)
    value_range: dict[str, str] = field(default_factory=dict)  # team source -> "C6:C16"


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _light(value: float | None, benchmark: float, margin: float) -> str:
    """The scoreboard fill of a share against its benchmark."""
    if value is None:
        return GREY
    if value >= benchmark - 1e-9:
        return GREEN
    return AMBER if value >= benchmark - margin - 1e-9 else RED


def _scoreboard(config: Config, data: ProgramData, analysis: Analysis, cal: Calendar,
                generated_at: datetime) -> Table:
    program = analysis.program
    target = analysis.thresholds.coaching_share_target
    states = _source_states(data.sources)
    total_sources = len(data.sources)
    errors = data.findings.by_severity()["error"]
    # teams and coaches whose data could not be read are left out of the shares, and say so
    teams_total = program.teams_total - program.teams_unknown
    coaches_total = program.coaches_total - program.coaches_unknown
    on_track = _share(program.teams_on_track, teams_total)
    met = _share(program.teams_met, teams_total)
    coaches_at = _share(program.coaches_meeting_target, coaches_total)
    bench = program.benchmark_share
    finished = (cal.start is not None and cal.complete >= cal.weeks) or program.all_ended
    # After the close-out the benchmark is judged on the teams that met their goal, not on
    # the share on track (the met share then also counts only teams whose challenge ended).
    closed = program.all_ended

    def of(count: int, total: int) -> str:
        return f'0%" ({count} of {total})"'

    now = [
        "Now",
        Cell(on_track, of(program.teams_on_track, teams_total),
             BLUE if closed else _light(on_track, bench, 0.10),
             bold=True) if on_track is not None else Cell(None, fill=GREY),
        Cell(met, of(program.teams_met, teams_total),
             _light(met, bench, 0.10) if finished else BLUE, bold=True)
        if met is not None else Cell(None, fill=GREY),
        Cell(coaches_at, of(program.coaches_meeting_target, coaches_total),
             _light(coaches_at, 1.0, 0.25), bold=True)
        if coaches_at is not None else Cell(None, fill=GREY),
        Cell(program.coaching_share_recent, "0%",
             _light(program.coaching_share_recent, target, 0.10), bold=True),
        Cell(states["ok"], f'0" of {total_sources}"',
             GREEN if states["ok"] == total_sources else AMBER, bold=True),
        Cell(states["stale"], "0", AMBER if states["stale"] else GREEN, bold=True),
        Cell(states["failed"], "0", RED if states["failed"] else GREEN, bold=True),
        Cell(errors, "0", RED if errors else GREEN, bold=True),
        "Green: at or above the benchmark; amber: close; red: below; blue: it applies at "
        "the end; grey: not known.",
    ]
    benchmark = [
        "Benchmark", Cell(None) if closed else Cell(bench, "0%"),
        Cell(bench, f'0%" by week {cal.weeks}"' if not closed else '0%" met (final)"'),
        Cell(1.0, "0%"), Cell(target, "0%"),
        Cell(total_sources, '0" (all)"'), Cell(0, "0"), Cell(0, "0"), Cell(0, "0"),
        "Targets: a share, or a count of sources.",
    ]
    window_from, window_to = cal.window
    intro = [f"As of {cal.as_of:%A} {cal.as_of.isoformat()}  \u00b7  {cal.label}  \u00b7  "
             f"last {cal.recent_weeks} weeks = {window_from.isoformat()} to "
             f"{window_to.isoformat()} (complete weeks)  \u00b7  generated "
             f"{_stamp(generated_at)}"]
    left_out = _left_out(program.teams_unknown, program.coaches_unknown)
    if left_out:
        intro.append(left_out)
    due = _checkin_due(config, cal)
    if due:
        intro.append(due)
    columns = ["Scoreboard", "Teams on track or met", "Teams that met their goal",
               f"Coaches at or above the {wording.share(target)} target",
               f"Coaching share ({cal.recent_weeks} weeks)", "Sources read fresh",
               "Sources stale", "Sources failed", "Data errors", "How to read the colours"]
    return Table(columns=columns, rows=[now, benchmark], title=config.name, title_size=16,
                 intro=intro, wrap_columns=columns[-1:])


def _checkin_due(config: Config, cal: Calendar) -> str | None:
    """The "check-in due this week" line, in the week before a sponsor check-in."""
    from sheetsync.history.calendar import checkin_due, current_cycle

    cycle = current_cycle(cal.as_of, config.cycles)
    return checkin_due(config.checkins, cycle.start if cycle else cal.start, cal.as_of)


def _left_out(teams: int, coaches: int) -> str:
    """The line that says which figures leave out data that could not be read."""
    parts = [f"{n} {noun if n == 1 else noun + plural} ({what})"
             for n, noun, plural, what in ((teams, "team", "s", "goal or weekly values"),
                                           (coaches, "coach", "es", "time log"))
             if n]
    if not parts:
        return ""
    return ("Left out of the figures above, their data could not be read (blank below, the "
            "reason in Flags): " + " and ".join(parts) + ".")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _source_states(sources: Sequence[SourceStatus]) -> dict[str, int]:
    states = {"ok": 0, "stale": 0, "failed": 0}
    for s in sources:
        states[s.state] += 1
    return states


TEAM_COLUMNS = ["Status", "Team", "School", "Latest (week)", "Target", "% of gap closed",
                "Progress", "Projected at the end", "Actions overdue", "Reason and suggestion"]
COACH_COLUMNS = ["Status", "Coach", "School(s)", "Coaching share, last 4 weeks", "Target",
                 "Hours outside the role", "Teachers reached", "Depth: all four known",
                 "Issues to act on", "Note"]


def _team_table(data: ProgramData, analysis: Analysis, layout: _Layout, row: int) -> Table:
    teams = analysis.teams.teams
    rows: list[tuple[tuple, list[Any]]] = []
    failed = {s.name: s for s in data.sources if s.kind == "team" and s.state == "failed"}
    for t in _records(teams):
        status, unit = t["status"], t.get("unit")
        if t["source"] in failed:  # a file that failed: a row of its own, below
            continue
        latest = _figure(t["latest_value"], unit,
                         f" (wk {int(t['latest_week'])})" if _clean(t["latest_week"]) is not None
                         else "")
        gap = _clean(t["gap_closed"])
        spark = layout.value_range.get(t["source"])
        progress = (Sparkline(CHART_DATA, spark, None if gap is None else
                              max(0.0, min(1.0, gap))) if spark else None)
        key = (TEAM_ORDER.get(status, 9), (t["school"] or "").casefold(),
               (t["team"] or "").casefold(), t["source"])
        rows.append((key, [status, t["team"] or t["source"], t["school"], latest,
                           _figure(t["target"], unit), gap, progress,
                           _figure(t["projected_value"], unit, decimals=1),
                           _clean(t["actions_overdue"]),
                           t["reason"]]))
    for s in failed.values():
        rows.append(((0, "", s.name.casefold(), s.name),
                         ["File failed", s.name, None, None, None, None, None, None, None,
                          f"Not read: {s.message or 'the file could not be read'}. Its figures "
                          "are unknown until it is fixed."]))
    rows.sort(key=lambda item: item[0])
    return Table(columns=list(TEAM_COLUMNS), rows=[r for _, r in rows], title="Teams",
                 row=row, status_columns=["Status"], data_bar_columns=["Progress"],
                 number_formats={"% of gap closed": "0%", "Actions overdue": "0"},
                 wrap_columns=["School", "Reason and suggestion"],
                 intro=["Teams that need support first. Latest: the most recent week with a "
                        "value. Progress: the weekly values (in Google Sheets) or the share of "
                        "the gap closed (in Excel)."])


def _issues_needing_action(data: ProgramData) -> dict[str, int]:
    """Errors and warnings per source (information notices are not issues)."""
    counts: dict[str, int] = {}
    for f in data.findings:
        if f.severity.value in ("error", "warning"):
            counts[f.source] = counts.get(f.source, 0) + 1
    return counts


def coach_rows(data: ProgramData, analysis: Analysis, cal: Calendar) -> list[dict[str, Any]]:
    """One record per coach workbook, failed ones included, in the coach table's order."""
    overview = analysis.coaches.overview
    time = analysis.coaches.time
    last_of = dict(zip(time["source"].tolist(), _values(time, "last_entry"), strict=True))
    outside_of = dict(zip(time["source"].tolist(), _values(time, "outside_role_minutes_recent"),
                          strict=True))
    least = analysis.thresholds.min_matrix_teachers
    target = analysis.thresholds.coaching_share_target
    issues = _issues_needing_action(data)
    state_of = {s.name: s for s in data.sources}
    week_from, week_to = cal.last_complete_week
    records = []
    for o in _records(overview):
        source = o["source"]
        last = last_of.get(source)
        if isinstance(last, datetime):
            last = last.date()
        outside = outside_of.get(source)
        share = _clean(o["coaching_share_recent"])
        status = state_of.get(source)
        note = []
        unknown = _clean(o.get("time_note"))
        if status is not None and status.state == "failed":
            state, unknown = "File failed", unknown or "not read"
            share = outside = None
            note.append(f"Not read: {status.message or 'the file could not be read'}. Its "
                        "figures are unknown until it is fixed.")
        elif unknown:  # blank figures and the reason: never a 0 that looks true
            state = "Unknown"
            share = outside = None
            note.append(f"{unknown[0].upper()}{unknown[1:]}: see Flags.")
        elif status is not None and status.state == "stale":
            state = "Stale data"
            when = f" read on {status.data_as_of:%Y-%m-%d}" if status.data_as_of else ""
            note.append(f"This run could not read the file; showing the data{when}.")
        elif last is None:
            state = "No time logged"
        elif last < week_from:
            state = "Log stopped"
        elif share is not None and share < target - 1e-12:
            state = "Below target"
        else:
            state = "On target"
        if unknown:
            pass
        elif last is None:
            note.append("No time logged yet.")
        elif last < week_from:
            note.append(f"Nothing logged in the last complete week ({week_from:%b %-d} to "
                        f"{week_to:%b %-d}); the last entry is from {last.isoformat()}.")
        listed = _clean(o["teachers_listed"]) or 0
        records.append({
            "source": source, "status": state, "coach": o["coach"], "schools": o["schools"],
            "share": share, "target": _clean(o["coaching_target"]),
            "hours_outside": None if outside is None else round(outside / 60, 1),
            "reached": None if unknown else _clean(o["teachers_reached"]),
            "depth": _clean(o["pct_with_all_four"]) if listed >= least else None,
            "issues": issues.get(source, 0), "note": " ".join(note),
        })
    known = set(overview["source"])
    for s in data.sources:
        if s.kind == "coach" and s.state == "failed" and s.name not in known:
            records.append({
                "source": s.name, "status": "File failed", "coach": s.name, "schools": None,
                "share": None, "target": target, "hours_outside": None, "reached": None,
                "depth": None, "issues": issues.get(s.name, 0),
                "note": f"Not read: {s.message or 'the file could not be read'}. Its figures "
                        "are unknown until it is fixed."})
    records.sort(key=lambda r: (COACH_ORDER.get(r["status"], 9),
                                r["share"] if r["share"] is not None else -1.0,
                                (r["coach"] or "").casefold(), r["source"]))
    return records


def _coach_table(records: list[dict[str, Any]], analysis: Analysis, row: int) -> Table:
    target = analysis.thresholds.coaching_share_target
    weeks = analysis.thresholds.recent_weeks
    columns = [c.replace("last 4 weeks", f"last {weeks} weeks") for c in COACH_COLUMNS]
    rows = [[r["status"], r["coach"], r["schools"], r["share"], r["target"], r["hours_outside"],
             r["reached"], r["depth"], r["issues"], r["note"]] for r in records]
    share_column = columns[3]
    return Table(columns=columns, rows=rows, title="Coaches", row=row,
                 status_columns=["Status"],
                 number_formats={share_column: "0%", "Target": "0%", columns[5]: "0.0",
                                 columns[6]: "0", columns[7]: "0%", columns[8]: "0"},
                 benchmarks={share_column: Benchmark(target, 0.10)},
                 wrap_columns=["School(s)", "Note"],
                 intro=[f"Last {weeks} weeks: coaching share (of all time logged; target "
                        f"{wording.share(target)}), hours outside the role, teachers reached. "
                        "Depth: teachers with all four known. Issues: errors and warnings."])


def _dashboard(config: Config, data: ProgramData, analysis: Analysis, cal: Calendar,
               layout: _Layout, coaches: list[dict[str, Any]], generated_at: datetime,
               coach_chart: Chart | None) -> Sheet:
    scoreboard = _scoreboard(config, data, analysis, cal, generated_at)
    team_table = _team_table(data, analysis, layout, scoreboard.last_row + 2)
    coach_table = _coach_table(coaches, analysis, team_table.last_row + 2)
    areas = area_tables(analysis, coach_table.last_row + 2)  # schools, then regions
    charts = []
    if coach_chart is not None:
        coach_chart.anchor = f"A{(areas or [coach_table])[-1].last_row + 2}"
        charts.append(coach_chart)
    last_col = len(DASHBOARD_COLUMNS)
    return Sheet("Dashboard", tables=[scoreboard, team_table, coach_table, *areas],
                 charts=charts,
                 column_widths=dict(DASHBOARD_COLUMNS), opens_first=True,
                 print_area=(1, 1, max(team_table.last_row, team_table.header_row), last_col))


# -- charts ---------------------------------------------------------------------------------------

def _axis_range(values: list[float]) -> tuple[float, float, float]:
    """A value axis that holds ``values`` with a little room, on round numbers: its bottom,
    its top and the step between gridlines."""
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.12
    step = 10 ** math.floor(math.log10(max(high - low, 1e-9)))
    if (high - low) / step < 3:
        step /= 2
    bottom = math.floor((low - pad) / step) * step
    if low >= 0 > bottom:
        bottom = 0.0
    top = math.ceil((high + pad) / step) * step
    while (top - bottom) / step > 8:  # at most eight gridlines
        step *= 2
    return bottom, top, step


TEAM_SERIES = ["Value", "Goal line", "Latest", "Target", "Strategy changed"]
TEAM_STYLES = {
    "Value": SeriesStyle(VALUE_BLUE, "solid", 2.25, "circle", 5),
    "Goal line": SeriesStyle(GOAL_GREY, "dash", 1.25),
    "Latest": SeriesStyle(VALUE_BLUE, "none", marker="circle", marker_size=8, labels=True),
    "Target": SeriesStyle(TARGET_RED, "none", marker="square", marker_size=7, labels=True),
    "Strategy changed": SeriesStyle(CHANGE_ORANGE, "none", marker="triangle", marker_size=7),
}
"""How a team chart draws its data: the values as a line with markers, the goal line dashed
grey, the latest value and the target labelled, and a triangle on the bottom edge in each week
the team changed what it tried (the progress-monitoring mark of an instructional change)."""


def _team_charts(analysis: Analysis, order: list[str], layout: _Layout) -> Sheet:
    """The Team Charts tab (small multiples, three across, in the team table's order), adding
    to ``layout`` the Chart Data table they draw from: every team's weeks, one block of rows
    per team, in the same order."""
    teams = {t["source"]: t for t in _records(analysis.teams.teams)}
    weeks = analysis.teams.weeks
    rows_of = weeks.groupby("source", sort=False).indices if len(weeks) else {}
    # whole columns once, sliced per team below (the table is sorted by team, then week)
    all_weeks, all_values, all_goal, all_changed = (
        _values(weeks, key) for key in ("week", "value", "aimline", "strategy_changed"))
    charts: list[Chart] = []
    data = Table(columns=["Team", "Week", *TEAM_SERIES], rows=[], row=CHART_DATA_FIRST_ROW,
                 title="Teams, week by week", number_formats={"Week": "0"})
    value_column = a1(1, data.col + data.columns.index("Value"))[:-1]
    across, chart_cols, chart_rows = 3, 7, 16
    for n, source in enumerate(order):
        team = teams.get(source)
        if team is None:
            continue
        at = [i for i in rows_of.get(source, []) if all_weeks[i] <= team["weeks"]]
        at.sort(key=all_weeks.__getitem__)
        if not at:
            continue
        unit = team["unit"]
        factor = 100.0 if unit == "percent" else 1.0
        values = [None if all_values[i] is None else round(all_values[i] * factor, 2)
                  for i in at]
        goal = [None if all_goal[i] is None else round(all_goal[i] * factor, 2) for i in at]
        week_numbers = [int(all_weeks[i]) for i in at]
        changed = [all_changed[i] for i in at]
        known = [v for v in values + goal if v is not None]
        target = _clean(team["target"])
        if target is not None:
            known.append(round(target * factor, 2))
        low, high, step = _axis_range(known) if known else (0.0, 1.0, 0.25)
        latest_week = _clean(team["latest_week"])
        label = f"{team['team'] or source}, {team['school']}" if team["school"] else \
            (team["team"] or source)
        first = len(data.rows)
        for i, week in enumerate(week_numbers):
            data.rows.append([
                label, week, values[i], goal[i],
                values[i] if latest_week is not None and week == latest_week else None,
                round(target * factor, 2) if target is not None and week == team["weeks"]
                else None,
                low if changed[i] else None])
        block = (first, len(data.rows))
        layout.value_range[source] = (f"{value_column}{data.first_data_row + block[0]}:"
                                      f"{value_column}{data.first_data_row + block[1] - 1}")
        if n >= MAX_TEAM_CHARTS:
            continue
        status = team["status"]
        top = 4 + (n // across) * chart_rows
        left = 1 + (n % across) * chart_cols
        axis = (team["metric"] or "") + (" (%)" if unit == "percent" else "")
        charts.append(Chart(
            kind="line", title=f"{team['team'] or source}, {team['school'] or ''}: {status}"
            .replace(", :", ":"), table=data, category_column="Week",
            series_columns=list(TEAM_SERIES), anchor=a1(top, left), data_rows=block,
            width_cm=12.6,
            height_cm=7.4, y_title=axis[:48] or None, data_tab=CHART_DATA,
            styles=dict(TEAM_STYLES), title_colour=STATUS_TEXT_COLOURS.get(status),
            legend=False, span_gaps=True, y_min=low, y_max=high, y_step=step))
    shown = min(len(charts), MAX_TEAM_CHARTS)
    intro = [
        "Each team's weekly values (blue dots; the latest labelled) against its goal line "
        "(dashed grey, from the baseline at week 0 to the target, the dark square). An orange "
        "triangle on the bottom edge marks a week the team changed what it tried.",
        f"Teams that need support first, as on the Dashboard; the title says the status. "
        f"{shown} of {len(order)} teams shown; every team's numbers are on the Chart Data and "
        "Team Progress tabs.",
    ]
    head = Table(columns=[], rows=[], title="Team charts", intro=intro)
    layout.tables.append(data)
    return Sheet("Team Charts", tables=[head], charts=charts,
                 column_widths={c: 9.5 for c in range(1, across * chart_cols + 1)})


def _coach_chart(records: list[dict[str, Any]], analysis: Analysis,
                 layout: _Layout) -> Chart | None:
    """Each coach's share of logged time by activity group over the last weeks, as 100%
    columns in the coach table's order, with the coaching-share target as a line."""
    if not records or len(records) > MAX_COACHES_IN_CHART:
        return None
    groups_frame = analysis.coaches.time_groups
    weeks = analysis.thresholds.recent_weeks
    target = analysis.thresholds.coaching_share_target
    share: dict[tuple[str, str], float] = {}
    totals: dict[str, float] = {}
    order: list[str] = []
    for g in _records(groups_frame):
        group = g["activity_group"]
        if group not in order:
            order.append(group)
        minutes = _clean(g.get("minutes_recent")) or 0.0
        totals[group] = totals.get(group, 0.0) + minutes
        value = _clean(g.get("share_recent"))
        if value is not None:
            share[(g["source"], group)] = value
    groups = [g for g in order if totals.get(g, 0.0) > 0]  # no all-zero series ("Unknown")
    if not groups:
        return None
    target_name = f"Target ({wording.share(target)})"
    rows = []
    for r in records:
        if r["status"] == "Unknown":  # blank bars, and why beside the name: never a 0
            rows.append([f"{r['coach']} (time log not readable)", *[None for _ in groups],
                         target])
            continue
        shares = [share.get((r["source"], g)) for g in groups]  # none for a failed file
        rows.append([r["coach"], *[round(v, 4) if v is not None else None for v in shares],
                     target])
    columns = ["Coach", *groups, target_name]
    first_col = 9
    table = Table(columns=columns, rows=rows, row=CHART_DATA_FIRST_ROW, col=first_col,
                  title=f"Coach time by activity group, last {weeks} weeks",
                  number_formats={c: "0%" for c in columns[1:]})
    layout.tables.append(table)
    styles = {g: SeriesStyle(GROUP_COLOURS[i % len(GROUP_COLOURS)]) for i, g in enumerate(groups)}
    styles[target_name] = SeriesStyle(TARGET_RED, "dash", 2.0, as_line=True)
    return Chart(kind="column", title=f"Where coaches' time goes, last {weeks} weeks "
                 "(share of time)", table=table, category_column="Coach",
                 series_columns=[*groups, target_name], anchor="A1", stacked=True,
                 width_cm=max(16.0, min(34.0, 4 + 1.6 * len(rows))), height_cm=8.5,
                 data_tab=CHART_DATA, styles=styles, y_min=0.0, y_max=1.0, y_format="0%")


# -- the other tabs --------------------------------------------------------------------------------

def _team_progress(analysis: Analysis) -> Sheet:
    weeks = analysis.teams.weeks
    units = _units_by_source(dict(zip(analysis.teams.teams["source"],
                                      analysis.teams.teams["unit"], strict=False)))
    cols = [Col("School", "school", width=22), Col("Team", "team", width=20),
            Col("Week", "week", "0"), Col("Week of", "week_of", "yyyy-mm-dd"),
            Col("Value", _in_unit("value", units)),
            Col("Goal line", _in_unit("aimline", units)),
            Col("Unit", _unit_labels(units)),
            Col("Position", "position", width=24),
            Col("Strategy changed", lambda f: ["yes" if c else "" for c in
                                               _raw(f, "strategy_changed")], width=10)]
    return Sheet("Team Progress", tables=[_table(weeks, cols)], freeze_rows=1, auto_filter=True)


def _or_unknown(key: str) -> Callable[[pd.DataFrame], list[Any]]:
    """A coach's time figure, or, when the time log could not be read, the reason in its
    place (its other time figures stay blank): never a 0 that looks true."""
    def get(frame: pd.DataFrame) -> list[Any]:
        return [value if not note else f"unknown: {note}: see Flags"
                for value, note in zip(_values(frame, key), _values(frame, "time_note"),
                                       strict=True)]
    return get


def _coach_time(analysis: Analysis) -> Sheet:
    from sheetsync.analytics.coaches import UNKNOWN_GROUP

    cols = [Col("Coach", "coach", width=20), Col("Week starting", "week_start", "yyyy-mm-dd"),
            Col("Program week", "program_week", "0"), Col("Activity group", "activity_group",
                                                          width=24),
            Col("Minutes", "minutes", "0"), Col("Share of the week", "share", "0%")]
    summary_cols = [Col("Coach", "coach", width=20), Col("Entries", "entries", "0"),
                    Col("Minutes, whole program", _or_unknown("minutes_total"), "0"),
                    Col("Coaching minutes", "minutes_coaching", "0"),
                    Col("Coaching share", "coaching_share", "0%"),
                    Col("Minutes, last 4 weeks", "minutes_recent", "0"),
                    Col("Coaching share, last 4 weeks", "coaching_share_recent", "0%"),
                    Col("Target", "coaching_target", "0%"),
                    Col("Outside the role (min)", "outside_role_minutes", "0"),
                    Col("Teachers reached, last 4 weeks", "teachers_reached", "0"),
                    Col("First entry", "first_entry", "yyyy-mm-dd"),
                    Col("Last entry", "last_entry", "yyyy-mm-dd")]
    weekly_frame = analysis.coaches.time_weekly
    if len(weekly_frame):
        # an "Unknown" row only where something was logged with an unknown activity
        empty = (weekly_frame["activity_group"] == UNKNOWN_GROUP) & \
            (weekly_frame["minutes"].fillna(0) == 0)
        if bool(empty.any()):
            weekly_frame = weekly_frame[~empty.to_numpy()]
    weekly = _table(weekly_frame, cols, title="Minutes by week and group")
    summary = _table(analysis.coaches.time, summary_cols, title="Per coach", row=1,
                     col=len(cols) + 2, bars=["Coaching share, last 4 weeks"])
    return Sheet("Coach Time", tables=[weekly, summary], freeze_rows=2)


def _few(analysis: Analysis, key: str) -> Callable[[pd.DataFrame], list[Any]]:
    """A relationship percentage, hidden when drawn from fewer than the minimum of teachers:
    with one or two teachers listed a percentage would reveal individual answers."""
    least = analysis.thresholds.min_matrix_teachers

    def get(frame: pd.DataFrame) -> list[Any]:
        return [value if (listed or 0) >= least else None
                for value, listed in zip(_values(frame, key), _values(frame, "teachers_listed"),
                                         strict=True)]
    return get


MATRIX_LEVELS = {1: "1 (low)", 2: "2", 3: "3 (high)"}


def _relationships(analysis: Analysis) -> Sheet:
    rel = analysis.coaches.relationships
    least = analysis.thresholds.min_matrix_teachers
    cols = [Col("Coach", "coach", width=22), Col("Teachers listed", "teachers_listed", "0"),
            Col("% known by face", _few(analysis, "pct_known_by_face"), "0%"),
            Col("% known by classroom", _few(analysis, "pct_known_by_classroom"), "0%"),
            Col("% with a professional fact", _few(analysis, "pct_with_professional_fact"), "0%"),
            Col("% with a personal fact", _few(analysis, "pct_with_personal_fact"), "0%"),
            Col("% with all four", _few(analysis, "pct_with_all_four"), "0%"),
            Col("Stale contacts", "contacts_stale", "0"),
            Col("Teachers rated", "teachers_rated", "0"),
            Col("Delight x engagement", lambda frame: [
                "shown below" if shown else f"hidden: fewer than {least} rated"
                for shown in _raw(frame, "matrix_shown")], width=26)]
    main = _table(rel, cols, title="Relationships per coach", intro=[
        "Counts and percentages per coach only. Teacher names, facts, notes and individual "
        "ratings stay in each coach's own workbook."])
    grid_rows: list[list[Any]] = []
    for rec in _records(rel):
        shown = bool(_clean(rec.get("matrix_shown")))
        for n, delight in enumerate((3, 2, 1)):
            cells = [_clean(rec.get(f"matrix_d{delight}_e{e}")) if shown else None
                     for e in (1, 2, 3)]
            note = "" if n else (f"{_clean(rec.get('teachers_rated')) or 0} rated" if shown
                                 else f"hidden: fewer than {least} rated")
            grid_rows.append([rec["coach"] if n == 0 else None, MATRIX_LEVELS[delight], *cells,
                              note])
    engagement = [f"Engagement {MATRIX_LEVELS[e]}" for e in (1, 2, 3)]
    grid = Table(columns=["Coach", "Delight", *engagement, "Teachers rated"], rows=grid_rows,
                 title="Delight x engagement: teachers in each cell",
                 row=main.last_row + 3,
                 intro=["Each coach's teachers on a 3 x 3 grid: delight down the side, "
                        "engagement across, the aim being the top right. Darker green: more "
                        f"teachers. Hidden when fewer than {least} are rated."],
                 number_formats={c: "0" for c in engagement}, heat_columns=engagement,
                 column_widths={"Delight": 10})
    return Sheet("Relationships", tables=[main, grid], freeze_rows=main.header_row,
                 column_widths={1: 22, 2: 11, 3: 13, 4: 13, 5: 13, 6: 13})


def _cycles(analysis: Analysis) -> Sheet:
    cols = [Col("Coach", "coach", width=20), Col("Cycles", "cycles_total", "0"),
            Col("Plan", "cycles_plan", "0"), Col("Act", "cycles_act", "0"),
            Col("Reflect", "cycles_reflect", "0"), Col("Complete", "cycles_complete", "0"),
            Col("Open", "cycles_open", "0"), Col("Next steps done", "next_steps_done", "0"),
            Col("Next steps total", "next_steps_total", "0"),
            Col("Next steps share", "next_steps_share", "0%"),
            Col("Stalled (no update in "
                f"{analysis.thresholds.stalled_cycle_days} days)", "cycles_stalled", "0")]
    return Sheet("Coaching Cycles", tables=[_table(analysis.coaches.cycles, cols)], freeze_rows=1)


def _weekly_update(analysis: Analysis, cal: Calendar) -> Sheet:
    """What a districtwide weekly update shares: the teams that moved most, with what they
    tried, and the teams that need support, with the suggestion. The two tables share their
    columns' widths: names, then the status, then figures, then the text."""
    from sheetsync.analytics.teams import NEEDS_SUPPORT

    movers = analysis.teams.movers
    teams = analysis.teams.teams
    units = dict(zip(teams["source"], teams["unit"], strict=False))
    moved = []
    for m in _records(movers):
        unit = units.get(m["source"])
        change = _clean(m["change"])
        if change is not None:
            change = round(change * 100, 1) if unit == "percent" else round(change, 2)
            shown = figure_format(change) + ('" pts"' if unit == "percent" else "")
            change = Cell(change, f"+{shown};-{shown};0")
        moved.append([m["school"], m["team"], m["status"], _clean(m["week"]), change,
                      _clean(m["gap_moved"]), m["what_we_tried"]])
    t1 = Table(columns=["School", "Team", "Status", "Week", "Change", "Share of the gap moved",
                        "What we tried"], rows=moved,
               title="Moved most toward their goal this week", status_columns=["Status"],
               number_formats={"Week": "0", "Share of the gap moved": "0%"},
               wrap_columns=["What we tried"],
               intro=[f"{cal.label}, as of {cal.as_of.isoformat()}. Share what worked; offer "
                      "support where a team is behind."])
    support = []
    for t in sorted(_records(teams), key=lambda t: (TEAM_ORDER.get(t["status"], 9),
                                                              (t["school"] or "").casefold(),
                                                              (t["team"] or "").casefold())):
        if t["status"] not in NEEDS_SUPPORT:
            continue
        unit = t.get("unit")
        week = _clean(t["latest_week"])
        support.append([t["school"], t["team"], t["status"],
                        _figure(t["latest_value"], unit,
                                f" (wk {int(week)})" if week is not None else ""),
                        _figure(t["target"], unit), _clean(t["gap_closed"]), t["reason"]])
    t2 = Table(columns=["School", "Team", "Status", "Latest (week)", "Target", "% of gap closed",
                        "Reason and suggestion"], rows=support,
               title="Teams that need support", row=t1.last_row + 3, status_columns=["Status"],
               number_formats={"% of gap closed": "0%"}, wrap_columns=["Reason and suggestion"])
    return Sheet("Weekly Update", tables=[t1, t2],
                 column_widths={1: 22, 2: 20, 3: 11, 4: 12, 5: 9, 6: 12, 7: 60})


def _sources(data: ProgramData) -> Sheet:
    sources = sorted(data.sources, key=lambda s: ({"failed": 0, "stale": 1}.get(s.state, 2),
                                                  s.kind, s.name))
    table = Table(columns=["State", "Source", "Kind", "Rows", "Stale data from", "Note",
                           "Location"],
                  rows=[[s.state, s.name, s.kind, s.rows,
                         _clean(s.data_as_of.date()) if s.data_as_of and s.state == "stale"
                         else None, s.message or ("" if s.state == "ok" else "not read"),
                         s.location] for s in sources],
                  number_formats={"Stale data from": "yyyy-mm-dd", "Rows": "0"},
                  status_columns=["State"], wrap_columns=["Note"],
                  column_widths={"State": 8, "Source": 30, "Note": 60, "Location": 60},
                  intro=["Every source of this run, those not read first. A stale source shows "
                         "its last good data; a failed one has none."])
    return Sheet("Sources", tables=[table], freeze_rows=table.header_row, auto_filter=True)


def _owners(data: ProgramData, analysis: Analysis) -> dict[str, str]:
    """Who each source belongs to, as the Flags tab names them: the coach, or the team."""
    owners = {}
    for t in _records(analysis.teams.teams):
        label = t["team"] or t["source"]
        owners[t["source"]] = f"{label} ({t['school']})" if t["school"] else label
    for c in _records(analysis.coaches.overview):
        owners[c["source"]] = c["coach"] or c["source"]
    for s in data.sources:
        owners.setdefault(s.name, s.name)
    return owners


def build_sheets(config: Config, data: ProgramData, analysis: Analysis, *, as_of: date,
                 generated_at: datetime, duration_s: float,
                 previous_flags: set[FlagKey] | None = None) -> list[Sheet]:
    """Every managed tab, in the order leaders read them.

    ``previous_flags`` are the flags of the last run, to mark new ones (None: no earlier run)."""
    cal = calendar_for(config, analysis)
    layout = _Layout()
    teams = analysis.teams.teams
    order = [t["source"] for t in sorted(
        _records(teams), key=lambda t: (TEAM_ORDER.get(t["status"], 9),
                                        (t["school"] or "").casefold(),
                                        (t["team"] or "").casefold(), t["source"]))]
    team_charts = _team_charts(analysis, order, layout)
    coaches = coach_rows(data, analysis, cal)
    coach_chart = _coach_chart(coaches, analysis, layout)
    head = Table(columns=[], rows=[], title="Chart data", intro=[
        "The numbers the charts draw: every team's weeks, team by team in the Dashboard's "
        "order (values in the team's unit, percentage points for a percent goal); beside them, "
        "the coaches' time.",
        "Latest and Target hold one point each; Strategy changed holds the axis's bottom value "
        "in each week the team's \u201cWhat We Tried\u201d changed, where the chart marks it."])
    chart_data = Sheet(CHART_DATA, tables=[head, *layout.tables])
    return [
        _dashboard(config, data, analysis, cal, layout, coaches, generated_at, coach_chart),
        team_charts,
        _team_progress(analysis),
        _coach_time(analysis),
        _relationships(analysis),
        _cycles(analysis),
        plans_sheet(analysis),
        _weekly_update(analysis, cal),
        flags_sheet(list(data.findings), _owners(data, analysis), previous_flags),
        _sources(data),
        run_log_sheet(data, as_of, generated_at, duration_s),
        chart_data,
    ]
