"""Build the managed tabs of the leaders' workbook from an analysis.

Every tab here is leader-facing, so only aggregates go in: per team, per coach, per coach-week.
Teacher names, facts, notes and per-teacher ratings never reach this module's inputs (the
analytics results hold none), and findings about private columns are shown without their value.

The output is a list of :class:`~sheetsync.report.model.Sheet`, rendered by the Excel or the
Google writer. For the same inputs and as-of date every tab comes out the same, except the Run
Log, which gains a row per run; the Dashboard shows the generation time through a formula that
reads the Run Log's last row, so its own contents stay identical.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sheetsync.grid import a1
from sheetsync.report.flags import flags_sheet
from sheetsync.report.model import Chart, Formula, Sheet, Table
from sheetsync.report.run_log import run_log_sheet

if TYPE_CHECKING:
    import pandas as pd

    from sheetsync.analytics.program import Analysis
    from sheetsync.config import Config
    from sheetsync.dataset import ProgramData

TAB_ORDER = ("Dashboard", "Team Progress", "Coach Time", "Relationships", "Coaching Cycles",
             "Weekly Update", "Flags", "Run Log")
MAX_TEAM_CHARTS = 12
MAX_COACHES_IN_CHART = 40
MAX_SOURCES_LISTED = 40


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
           col: int = 1, status: Sequence[str] = (), bars: Sequence[str] = ()) -> Table:
    return Table(columns=[c.header for c in cols], rows=_rows(frame, cols), title=title, row=row,
                 col=col, number_formats={c.header: c.fmt for c in cols if c.fmt},
                 status_columns=list(status), data_bar_columns=list(bars),
                 column_widths={c.header: c.width for c in cols if c.width})


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


# -- Dashboard -------------------------------------------------------------------------------------

TEAM_COLS = [
    Col("School", "school", width=20), Col("Team", "team", width=18),
    Col("Metric", "metric", width=28), Col("Unit", _unit_labels(), width=7),
    Col("Baseline", _in_unit("baseline"), "0.##"), Col("Latest", _in_unit("latest_value"), "0.##"),
    Col("Target", _in_unit("target"), "0.##"), Col("Week", "week_label", width=14),
    Col("% of gap closed", "gap_closed", "0%"),
    Col("Projected at end", _in_unit("projected_value"), "0.#"),
    Col("Status", "status", width=11), Col("Reason", "reason", width=60),
    Col("Actions done", _actions_done),
    Col("Actions overdue", "actions_overdue", "0"),
]

def _or_unknown(key: str) -> Callable[[pd.DataFrame], list[Any]]:
    """A coach's time figure, or, when the time log could not be read, the reason in its
    place (its other time figures stay blank): never a 0 that looks true."""
    def get(frame: pd.DataFrame) -> list[Any]:
        return [value if not note else f"unknown: {note}: see Flags"
                for value, note in zip(_values(frame, key), _values(frame, "time_note"),
                                       strict=True)]
    return get


COACH_COLS = [
    Col("Coach", "coach", width=20), Col("School(s)", "schools", width=22),
    Col("Coaching share, last 4 weeks", _or_unknown("coaching_share_recent"), "0%", 14),
    Col("Coaching share, whole program", "coaching_share", "0%", 14),
    Col("Target", "coaching_target", "0%"),
    Col("Minutes outside the role", "outside_role_minutes", "0", 12),
    Col("Teachers reached, last 4 weeks", "teachers_reached", "0", 12),
    Col("Relationship depth (all four known)", "pct_with_all_four_shown", "0%", 14),
    Col("Cycles: Plan", "cycles_plan", "0"), Col("Act", "cycles_act", "0"),
    Col("Reflect", "cycles_reflect", "0"), Col("Complete", "cycles_complete", "0"),
    Col("Stalled cycles", "cycles_stalled", "0"), Col("Open flags", "open_flags", "0"),
]


def _dashboard(config: Config, data: ProgramData, analysis: Analysis, as_of: date) -> Sheet:
    import pandas as pd

    states = {"ok": 0, "stale": 0, "failed": 0}
    for s in data.sources:
        states[s.state] += 1
    teams = analysis.teams.teams
    week_now = int(teams["current_week"].max()) if len(teams) else 0
    info = Table(
        columns=["Program", config.name], row=1,
        rows=[
            ["As of", as_of],
            ["Generated", Formula("=INDEX('Run Log'!A:A,COUNTA('Run Log'!A:A))")],
            ["Challenge week", f"{week_now} of {config.challenge_weeks}" if len(teams) else ""],
            [f"Last {analysis.thresholds.recent_weeks} weeks", _window(analysis)],
            ["Sources read", f"{len(data.sources)}: {states['ok']} ok, {states['stale']} stale, "
                             f"{states['failed']} failed"],
        ],
        number_formats={config.name: "yyyy-mm-dd"}, column_widths={"Program": 24})
    # the flag counts cover every finding of the run, not only the analytic flags
    head = [h for h in analysis.program.headline(analysis.thresholds.recent_weeks)
            if not h[0].startswith("Flags:")]
    head += [(f"Flags: {sev}", n, "0") for sev, n in data.findings.by_severity().items()]
    head_frame = pd.DataFrame([{"label": h[0], "value": h[1], "fmt": h[2]} for h in head])
    headline = Table(columns=["Headline", "Value"], title="Headline figures",
                     row=info.last_row + 2,
                     rows=[[r["label"], _headline_value(r["value"], r["fmt"])]
                           for r in head_frame.to_dict("records")],
                     column_widths={"Headline": 44, "Value": 14})
    row = headline.last_row + 2
    tables = [info, headline]
    problem_sources = [s for s in data.sources if s.state != "ok"]
    listed = data.sources if len(data.sources) <= MAX_SOURCES_LISTED else problem_sources
    if listed:
        src = Table(columns=["Source", "Kind", "State", "Stale data from", "Rows", "Note"],
                    title="Sources" if listed is data.sources else "Sources not read this run",
                    row=row,
                    rows=[[s.name, s.kind, s.state, _clean(s.data_as_of.date())
                           if s.data_as_of and s.state == "stale" else None, s.rows,
                           s.message or ("" if s.state == "ok" else "not read")]
                          for s in listed],
                    number_formats={"Stale data from": "yyyy-mm-dd", "Rows": "0"},
                    status_columns=["State"], column_widths={"Note": 50})
        tables.append(src)
        row = src.last_row + 2
    team_table = _table(teams, TEAM_COLS, title="Teams", row=row, status=["Status"])
    tables.append(team_table)
    row = team_table.last_row + 2
    overview = analysis.coaches.overview.copy()
    enough = overview["teachers_listed"].fillna(0) >= analysis.thresholds.min_matrix_teachers
    overview["pct_with_all_four_shown"] = overview["pct_with_all_four"].where(enough)
    coach_table = _table(overview, COACH_COLS, title="Coaches", row=row,
                         bars=["Coaching share, last 4 weeks"])
    tables.append(coach_table)
    row = coach_table.last_row + 2
    charts: list[Chart] = []
    row = _team_charts(analysis, tables, charts, row)
    _coach_chart(analysis, tables, charts, row)
    return Sheet("Dashboard", tables=tables, charts=charts)


def _window(analysis: Analysis) -> str:
    """The dates of "the last weeks", as every coach figure over them uses."""
    window = analysis.coaches.recent_window
    if window is None:
        return ""
    first, last = window
    return (f"{first.isoformat()} to {last.isoformat()} (complete weeks, "
            f"{first:%A} to {last:%A})")


def _headline_value(value: Any, fmt: str) -> Any:
    value = _clean(value)
    if value is None:
        return "n/a"
    if fmt == "0%" and isinstance(value, float):
        return f"{value:.0%}"
    if fmt == "0" and isinstance(value, float):
        return round(value)
    return value


def _team_charts(analysis: Analysis, tables: list[Table], charts: list[Chart], row: int) -> int:
    """Each team's weekly values against its aimline (those needing support first)."""
    teams = analysis.teams.teams
    weeks = analysis.teams.weeks
    if not len(teams):
        return row
    order = {"Off track": 0, "At risk": 1, "Stale": 2, "Unknown": 3, "No data": 3, "On track": 4,
             "Met": 5}
    status, school, name = (teams[key].tolist() for key in ("status", "school", "team"))
    first = sorted(range(len(teams)), key=lambda i: (order.get(status[i], 9), school[i] or "",
                                                     name[i] or ""))[:MAX_TEAM_CHARTS]
    chosen = teams.iloc[first].to_dict("records")
    rows_of = weeks.groupby("source", sort=False).indices  # a team's weekly rows, in order
    for team in chosen:
        w = weeks.take(rows_of.get(team["source"], [])).sort_values("week")
        w = w[w["week"] <= team["weeks"]]
        unit = _units_by_source({team["source"]: team["unit"]})  # w is this team's rows
        table = _table(w, [Col("Week", "week", "0"),
                           Col("Value", _in_unit("value", unit), "0.##"),
                           Col("Goal line", _in_unit("aimline", unit), "0.##")],
                       title=f"{team['school']}: {team['team']} ({team['status']})", row=row)
        tables.append(table)
        charts.append(Chart(kind="line", title=f"{team['team']}, {team['school']}",
                            table=table, category_column="Week",
                            series_columns=["Value", "Goal line"],
                            anchor=f"E{table.row}", width_cm=15, height_cm=6.5,
                            y_title=(team["metric"] or _unit_label(team))[:40]))
        row = max(table.last_row, table.row + 13) + 2
    return row


def _coach_chart(analysis: Analysis, tables: list[Table], charts: list[Chart], row: int) -> None:
    """Each coach's time by activity group, as stacked bars."""
    groups_frame = analysis.coaches.time_groups
    overview = analysis.coaches.overview
    if not len(overview) or len(overview) > MAX_COACHES_IN_CHART or not len(groups_frame):
        return
    pivot = groups_frame.pivot_table(index="source", columns="activity_group", values="minutes",
                                     aggfunc="sum", fill_value=0)
    group_names = [g for g in analysis_groups(groups_frame) if g in pivot.columns]
    rows = []
    for rec in overview.to_dict("records"):
        if rec.get("time_note"):  # blank bars, and the reason beside the name: never a 0
            rows.append([f"{rec['coach']} (unknown: {rec['time_note']})",
                         *[None for _ in group_names]])
            continue
        rows.append([rec["coach"], *[_clean(pivot.loc[rec["source"], g])
                                     if rec["source"] in pivot.index else 0
                                     for g in group_names]])
    table = Table(columns=["Coach", *group_names], rows=rows, row=row,
                  title="Minutes by activity group, whole program",
                  number_formats={g: "0" for g in group_names})
    tables.append(table)
    charts.append(Chart(kind="bar", title="Where coaches' time goes (minutes)", table=table,
                        category_column="Coach", series_columns=group_names,
                        anchor=a1(row, len(group_names) + 3), stacked=True,
                        width_cm=18, height_cm=max(6.0, 1.2 * len(rows) + 3)))


def analysis_groups(groups_frame: pd.DataFrame) -> list[str]:
    seen: list[str] = []
    for g in groups_frame["activity_group"]:
        if g not in seen:
            seen.append(g)
    return seen


# -- the other tabs --------------------------------------------------------------------------------

def _team_progress(analysis: Analysis) -> Sheet:
    weeks = analysis.teams.weeks
    units = _units_by_source(dict(zip(analysis.teams.teams["source"],
                                      analysis.teams.teams["unit"], strict=False)))
    cols = [Col("School", "school", width=20), Col("Team", "team", width=18),
            Col("Week", "week", "0"), Col("Week of", "week_of", "yyyy-mm-dd"),
            Col("Value", _in_unit("value", units), "0.##"),
            Col("Goal line", _in_unit("aimline", units), "0.##"),
            Col("Unit", _unit_labels(units)),
            Col("Position", "position", width=24)]
    return Sheet("Team Progress", tables=[_table(weeks, cols)], freeze_rows=1, auto_filter=True)


def _coach_time(analysis: Analysis) -> Sheet:
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
    weekly = _table(analysis.coaches.time_weekly, cols, title="Minutes by week and group")
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


def _relationships(analysis: Analysis) -> Sheet:
    rel = analysis.coaches.relationships
    matrix = [Col(f"Delight {d} x Engagement {e}", f"matrix_d{d}_e{e}", "0")
              for d in (1, 2, 3) for e in (1, 2, 3)]
    cols = [Col("Coach", "coach", width=20), Col("Teachers listed", "teachers_listed", "0"),
            Col("% known by face", _few(analysis, "pct_known_by_face"), "0%"),
            Col("% known by classroom", _few(analysis, "pct_known_by_classroom"), "0%"),
            Col("% with a professional fact", _few(analysis, "pct_with_professional_fact"), "0%"),
            Col("% with a personal fact", _few(analysis, "pct_with_personal_fact"), "0%"),
            Col("% with all four", _few(analysis, "pct_with_all_four"), "0%"),
            Col("Stale contacts", "contacts_stale", "0"),
            Col("Teachers rated", "teachers_rated", "0"),
            Col("Distribution", lambda frame: [
                "shown" if shown else
                f"hidden: fewer than {analysis.thresholds.min_matrix_teachers} rated"
                for shown in _raw(frame, "matrix_shown")], width=26),
            *matrix]
    note = Table(columns=["Note"], rows=[[
        "Counts and percentages per coach only. Teacher names, facts, notes and individual "
        "ratings stay in each coach's own workbook."]], row=1, column_widths={"Note": 100})
    return Sheet("Relationships", tables=[note, _table(rel, cols, row=3)], freeze_rows=3)


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


def _weekly_update(analysis: Analysis) -> Sheet:
    movers = analysis.teams.movers
    support = analysis.teams.needs_support
    teams = analysis.teams.teams
    week = int(teams["current_week"].max()) if len(teams) else 0
    units = _units_by_source(dict(zip(teams["source"], teams["unit"], strict=False)))
    intro = Table(columns=["Weekly update"], rows=[[
        f"Week {week} of the challenge, as of {analysis.as_of.isoformat()}. Share what worked; "
        "offer support where a team is behind."]], row=1, column_widths={"Weekly update": 100})
    mover_cols = [Col("School", "school", width=20), Col("Team", "team", width=18),
                  Col("Week", "week", "0"),
                  Col("Change", _in_unit("change", units), "+0.##;-0.##;0"),
                  Col("Share of the gap moved", "gap_moved", "0%"),
                  Col("What we tried", "what_we_tried", width=60), Col("Status", "status")]
    t1 = _table(movers, mover_cols, title="Moved most toward their goal this week", row=3,
                status=["Status"])
    support_cols = [Col("School", "school", width=20), Col("Team", "team", width=18),
                    Col("Status", "status"), Col("Reason", "reason", width=70),
                    Col("Week", "week_label")]
    t2 = _table(support, support_cols, title="Teams that need support", row=t1.last_row + 3,
                status=["Status"])
    return Sheet("Weekly Update", tables=[intro, t1, t2])


def build_sheets(config: Config, data: ProgramData, analysis: Analysis, *, as_of: date,
                 generated_at: datetime, duration_s: float) -> list[Sheet]:
    """Every managed tab, in the order leaders read them."""
    return [
        _dashboard(config, data, analysis, as_of),
        _team_progress(analysis),
        _coach_time(analysis),
        _relationships(analysis),
        _cycles(analysis),
        _weekly_update(analysis),
        flags_sheet(list(data.findings)),
        run_log_sheet(data, as_of, generated_at, duration_s),
    ]
