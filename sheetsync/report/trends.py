"""The Trends and History tabs, and the pieces every tab built from the history shares.

The program's rhythm over time is on five leader tabs built from the history (placed by
:mod:`sheetsync.report.rhythm`):

* **Trends**: team status week by week (a team x week grid coloured by status), and each
  coach's coaching share by week, month and quarter, and relationship depth by month;
* **Check-ins**: each sponsor check-in that has happened, frozen as the history holds it, and
  the agenda of the next one (:mod:`sheetsync.report.checkins`);
* **Retrospective**: once a team's challenge has ended, met or not, what it tried, and the
  program against the benchmark; the Cycles table (:mod:`sheetsync.report.retrospective`);
* **History**: the long tables, team by week and coach by month.

Like every leader tab, these hold per-team figures and per-coach aggregates only; the history
they read records nothing else (see :mod:`sheetsync.history.records`). Without a history (a
dry run, or :func:`sheetsync.rollup`), they show this run alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from sheetsync.history.calendar import quarter_of
from sheetsync.history.records import HistoryView, coach_records, team_records
from sheetsync.report.dashboard import _clean
from sheetsync.report.model import Benchmark, Cell, Sheet, Table

if TYPE_CHECKING:
    from sheetsync.analytics.program import Analysis
    from sheetsync.config import Config

POINTS = '+0" pts";-0" pts";0" pts"'
"""A change in a share, in percentage points."""
MAX_WEEK_COLUMNS = 16
"""The coach-share-by-week grid shows the latest weeks only; months and quarters show all."""


def view_of(config: Config, analysis: Analysis, history: HistoryView | None) -> HistoryView:
    """The history to show: the recorded one, or this run alone when there is none."""
    if history is not None and len(history.team_weeks.columns):
        return history
    teams = team_records(analysis, config.cycles)
    coaches = coach_records(analysis)
    coaches["month"] = analysis.as_of.isoformat()[:7]
    return HistoryView(team_weeks=teams, checkins={}, coach_months=coaches, team_finals=teams,
                       dates=[analysis.as_of])


# -- shared pieces ---------------------------------------------------------------------------------

def current_teams(config: Config, analysis: Analysis, weeks: pd.DataFrame) -> pd.DataFrame:
    """Records of the teams this run shows, in their current cycle (their start dates now)."""
    if not len(weeks):
        return weeks
    teams = analysis.teams.teams
    starts = dict(zip(teams["source"], _iso_dates(teams["start_date"]), strict=True))
    keep = [starts.get(s, "?") == (d or None) for s, d in zip(weeks["source"],
                                                               weeks["start_date"], strict=True)]
    return weeks[keep]


def _iso_dates(series: pd.Series) -> list[str | None]:
    values = pd.to_datetime(series, errors="coerce")
    return [None if pd.isna(v) else v.date().isoformat() for v in values]


def label_of(school: Any, team: Any, source: str) -> tuple[str, str]:
    return (_clean(school) or "", _clean(team) or source)


def team_order(frame: pd.DataFrame) -> list[str]:
    """Sources sorted by school, then team, as every team table lists them."""
    seen = frame.drop_duplicates("source", keep="last")
    keyed = sorted(zip(seen["school"].fillna("").astype(str).str.casefold(),
                       seen["team"].fillna("").astype(str).str.casefold(), seen["source"],
                       strict=True))
    return [k[2] for k in keyed]


# -- Trends ----------------------------------------------------------------------------------------

def status_grid(config: Config, analysis: Analysis, view: HistoryView) -> Table:
    """Team x challenge week, each cell the team's status at the end of that week."""
    weeks = current_teams(config, analysis, view.team_weeks)
    length = max([config.challenge_weeks, *pd.to_numeric(analysis.teams.teams["weeks"],
                                                         errors="coerce").dropna().astype(int)])
    columns = ["School", "Team", *[f"Wk {w}" for w in range(1, length + 1)], "Now"]
    rows: list[list[Any]] = []
    if len(weeks):
        number = pd.to_numeric(weeks["current_week"], errors="coerce").fillna(0).astype(int)
        ordered = weeks.assign(week=number).sort_values("as_of", kind="stable")
        # each (team, week) holds one record (the week's last); the last one wins regardless
        status = ordered.drop_duplicates(["source", "week"], keep="last") \
            .set_index(["source", "week"])["status"].to_dict()
        last = ordered.drop_duplicates("source", keep="last").set_index("source")
        now = dict(zip(analysis.teams.teams["source"], analysis.teams.teams["status"],
                       strict=True))
        for source in team_order(weeks):
            rows.append([*label_of(last.at[source, "school"], last.at[source, "team"], source),
                         *[status.get((source, w)) for w in range(1, length + 1)],
                         now.get(source, last.at[source, "status"])])
    week_columns = columns[2:]
    return Table(columns=columns, rows=rows, title="Team status, week by week",
                 status_columns=week_columns, wrap_columns=["Team"],
                 column_widths={"School": 20, "Team": 20, **{c: 9 for c in week_columns}},
                 intro=["Each cell: the team's status as recorded at the end of that challenge "
                        "week (blank: no run was recorded that week). Now: today's status."])


class _CoachWeeks(NamedTuple):
    """Each coach's logged and coaching minutes per week: what every share grid sums up."""

    sums: pd.DataFrame  # index (source, week); columns minutes, coaching
    weeks: pd.DataFrame  # by week code: start, program_week


def _coach_weeks(config: Config, analysis: Analysis) -> _CoachWeeks | None:
    """The weekly sums once for all the grids (None: no time logged, or no coaching group);
    a week's rows (one per activity group) summed first, so each period sums far fewer."""
    weekly = analysis.coaches.time_weekly
    coaching = config.activities.groups[0] if config.activities.groups else None
    if not len(weekly) or coaching is None:
        return None
    w = weekly[weekly["week_start"].notna()]
    starts = pd.to_datetime(w["week_start"])
    number = pd.to_numeric(w["program_week"], errors="coerce").fillna(-1).astype(int)
    start_code, start_of = pd.factorize(starts.to_numpy())
    number_code, number_of = pd.factorize(number.to_numpy())
    week, pair = pd.factorize(start_code * len(number_of) + number_code)
    minutes = w["minutes"]
    sums = pd.DataFrame({
        "source": w["source"].to_numpy(), "week": week, "minutes": minutes.to_numpy(),
        "coaching": minutes.where(w["activity_group"] == coaching, 0.0).to_numpy(),
    }).groupby(["source", "week"], sort=False)[["minutes", "coaching"]].sum()
    weeks = pd.DataFrame({"start": start_of[pair // len(number_of)],
                          "program_week": number_of[pair % len(number_of)]})
    return _CoachWeeks(sums, weeks)


def coach_share_grid(config: Config, analysis: Analysis, period: str, *, row: int,
                     title: str, weeks: _CoachWeeks | None = None) -> Table:
    """Coach x period (week, month or quarter): the share of logged time spent coaching.
    ``weeks`` are the weekly sums (see :func:`share_grids`), worked out here when not given."""
    target = analysis.thresholds.coaching_share_target
    found = weeks if weeks is not None else _coach_weeks(config, analysis)
    if found is None:
        return Table(columns=["Coach"], rows=[], title=title, row=row,
                     intro=["No time logged yet."])
    # one label per distinct week, not per row: tens of thousands of coach-week rows
    starts, numbers = found.weeks["start"], found.weeks["program_week"]
    if period == "week":
        labels = [f"Wk {p}" if p >= 0 else d.date().isoformat()
                  for p, d in zip(numbers, starts, strict=True)]
    elif period == "month":
        labels = [f"{d:%Y-%m}" for d in starts]
    else:
        first = config.quarter_start_month
        labels = [quarter_of(d.date(), first)[1] for d in starts]
    order = {}
    for start, label in sorted(zip(starts, labels, strict=True), key=lambda kv: kv[0]):
        order.setdefault(label, start)
    index = found.sums.index
    period_of = np.array(labels, dtype=object)[index.get_level_values("week").to_numpy()]
    sums = found.sums.groupby([index.get_level_values("source"), period_of]).sum()
    sums.index.names = ["source", "period"]
    share = (sums["coaching"] / sums["minutes"].where(sums["minutes"] > 0)).unstack("period")
    periods = sorted(share.columns, key=lambda k: order[k])
    if period == "week":
        periods = periods[-MAX_WEEK_COLUMNS:]
    overview = analysis.coaches.overview
    names = dict(zip(overview["source"].tolist(), overview["coach"].tolist(), strict=True))
    grid = share[periods].to_numpy(dtype=float)
    rows = []
    for source, line in zip(share.index.tolist(), grid.tolist(), strict=True):
        values = [None if v != v else v for v in line]  # NaN: not known
        known = [v for v in values if v is not None]
        change = int(round((known[-1] - known[0]) * 100)) + 0 if len(known) >= 2 else None
        rows.append([_clean(names.get(source)) or source, *values,
                     None if change is None else Cell(change, POINTS)])
    rows.sort(key=lambda r: str(r[0]).casefold())
    columns = ["Coach", *periods, "Change"]
    return Table(columns=columns, rows=rows, title=title, row=row,
                 number_formats={p: "0%" for p in periods},
                 benchmarks={p: Benchmark(target, 0.10) for p in periods},
                 column_widths={"Coach": 22, **{p: 11 for p in periods}, "Change": 11},
                 intro=[f"Share of each {period}'s logged time spent coaching with teachers "
                        f"(green: at or above the {target:.0%} target). Change: from the first "
                        f"{period} shown to the last."])


def depth_grid(analysis: Analysis, view: HistoryView, *, row: int) -> Table:
    """Coach x month: teachers listed and the share with all four known (relationship depth)."""
    least = analysis.thresholds.min_matrix_teachers
    months = view.coach_months
    title = "Relationship depth by month (% of listed teachers with all four known)"
    if not len(months):
        return Table(columns=["Coach"], rows=[], title=title, row=row)
    labels = sorted(set(months["month"]))
    depth = months.pivot_table(index="source", columns="month", values="pct_with_all_four",
                               aggfunc="last", dropna=False).reindex(columns=labels)
    m = months.sort_values("as_of")
    listed = m[m["month"] == labels[-1]].drop_duplicates("source", keep="last") \
        .set_index("source")["teachers_listed"]
    names = m.drop_duplicates("source", keep="last").set_index("source")["coach"]
    rows = []
    for source, line in zip(depth.index.tolist(), depth.to_numpy(dtype=float).tolist(),
                            strict=True):
        latest = _clean(listed.get(source))
        rows.append([_clean(names.get(source)) or source,
                     *[None if v != v else v for v in line],
                     None if latest is None else int(latest)])
    rows.sort(key=lambda r: str(r[0]).casefold())
    return Table(columns=["Coach", *labels, "Teachers listed (latest)"], rows=rows,
                 title=title, row=row, number_formats={m: "0%" for m in labels},
                 heat_columns=list(labels),
                 intro=["Over time the list and the depth of each coach's relationships should "
                        f"grow. Blank: fewer than {least} teachers listed, or no record that "
                        "month."])


SHARE_GRID_TITLES = {"week": "Coaching share by week", "month": "Coaching share by month",
                     "quarter": "Coaching share by quarter of the school year"}


def share_grids(config: Config, analysis: Analysis) -> dict[str, Table]:
    """Each period's coaching-share grid, worked out once for every tab that shows it."""
    weeks = _coach_weeks(config, analysis)
    return {period: coach_share_grid(config, analysis, period, row=1, title=title, weeks=weeks)
            for period, title in SHARE_GRID_TITLES.items()}


def trends_sheet(config: Config, analysis: Analysis, view: HistoryView,
                 grids: dict[str, Table]) -> Sheet:
    """The Trends tab; ``grids`` are :func:`share_grids`, shared with the Coach Time tab."""
    grid = status_grid(config, analysis, view)
    tables = [grid]
    at = grid.last_row + 3
    for period in SHARE_GRID_TITLES:
        table = replace(grids[period], row=at)
        tables.append(table)
        at = table.last_row + 3
    tables.append(depth_grid(analysis, view, row=at))
    widest = max(len(t.columns) for t in tables)
    return Sheet("Trends", tables=tables, freeze_rows=0,
                 column_widths={1: 22, 2: 20, **{c: 11 for c in range(3, widest + 1)}})


# -- History ---------------------------------------------------------------------------------------

def _in_unit(values: Sequence[Any], units: Sequence[Any]) -> list[Any]:
    return [None if _clean(v) is None else
            round(v * 100, 1) if u == "percent" else round(v, 2)
            for v, u in zip(values, units, strict=True)]


def _plain(series: pd.Series) -> list[Any]:
    """A numeric column as plain floats, None where not known."""
    return [None if v != v else v
            for v in pd.to_numeric(series, errors="coerce").astype(float).tolist()]


def history_sheet(view: HistoryView) -> Sheet:
    weeks = view.team_weeks
    t_rows = []
    if len(weeks):
        w = weeks.sort_values(["as_of", "school", "team", "source"], na_position="first")
        values = _in_unit(w["latest_value"].tolist(), w["unit"].tolist())
        aims = _in_unit(w["aimline_latest"].tolist(), w["unit"].tolist())
        for r, value, aim in zip(w.to_dict("records"), values, aims, strict=True):
            t_rows.append([r["as_of"], _clean(r["cycle"]), _clean(r["school"]),
                           _clean(r["team"]) or r["source"], _clean(r["current_week"]),
                           r["status"], value, aim, _clean(r["gap_closed"]),
                           _clean(r["what_we_tried"]), _clean(r["reason"])])
    teams = Table(columns=["As of", "Cycle", "School", "Team", "Week", "Status",
                           "Latest value", "Goal line", "% of gap closed", "What we tried",
                           "Reason"], rows=t_rows, title="Teams, week by week",
                  status_columns=["Status"],
                  number_formats={"Week": "0", "% of gap closed": "0%"},
                  wrap_columns=["What we tried", "Reason"],
                  intro=["Each team's last recorded run of each challenge week. Values in the "
                         "team's unit (percentage points for a percent goal)."])
    months = view.coach_months
    c_rows = []
    if len(months):
        m = months.sort_values(["source", "as_of"])
        # the month's own share, from the growth of the running totals since the month before
        grown = m.groupby("source")[["minutes_total", "minutes_coaching"]].diff()
        total = grown["minutes_total"].fillna(m["minutes_total"])
        coaching = grown["minutes_coaching"].fillna(m["minutes_coaching"])
        m = m.assign(month_share=(coaching / total.where(total > 0)))
        m = m.sort_values(["month", "coach", "source"], na_position="first")
        hours = (pd.to_numeric(m["outside_role_minutes"], errors="coerce") / 60).round(1)
        names = [c if isinstance(c, str) and c else s
                 for c, s in zip(m["coach"].tolist(), m["source"].tolist(), strict=True)]
        columns = [m["month"].tolist(), m["as_of"].tolist(), names,
                   *(_plain(m[k]) for k in ("month_share", "coaching_share",
                                            "coaching_share_recent")),
                   _plain(hours),
                   *(_plain(m[k]) for k in ("teachers_reached", "teachers_listed",
                                            "pct_with_all_four"))]
        c_rows = [list(r) for r in zip(*columns, strict=True)]
    coaches = Table(columns=["Month", "As of", "Coach", "Coaching share that month",
                             "Coaching share, whole program",
                             "Coaching share, last 4 weeks", "Hours outside the role",
                             "Teachers reached, last 4 weeks", "Teachers listed",
                             "% with all four"], rows=c_rows,
                    title="Coaches, month by month", row=1, col=len(teams.columns) + 2,
                    number_formats={"Coaching share that month": "0%",
                                    "Coaching share, whole program": "0%",
                                    "Coaching share, last 4 weeks": "0%",
                                    "Hours outside the role": "0.0",
                                    "Teachers reached, last 4 weeks": "0",
                                    "Teachers listed": "0", "% with all four": "0%"},
                    intro=["Each coach's last recorded run of each month: aggregates only. That "
                           "month: the minutes logged since the month before."])
    widths = [11, 12, 22, 20, 6, 10, 9, 9, 9, 30, 60, 2, 9, 11, 22, 11, 11, 11, 10, 11, 9, 9]
    return Sheet("History", tables=[teams, coaches], freeze_rows=teams.header_row,
                 column_widths={i: w for i, w in enumerate(widths, start=1)})


