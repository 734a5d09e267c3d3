"""The Retrospective tab, once any team's challenge has ended: the summative "did we meet the
SMART goal", team by team and for the program against the district's benchmark, with the
strategies each team tried and the change in its metric that followed; and the Cycles table,
comparing the program's cycles (teams, the share that met their goal, the median share of the
gap closed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sheetsync.analytics import wording
from sheetsync.analytics.teams import ON_LINE
from sheetsync.history.calendar import cycle_of
from sheetsync.history.records import HistoryView
from sheetsync.report.dashboard import _clean, _figure, figure_format
from sheetsync.report.model import BLUE, GREEN, RED, Cell, Sheet, Table
from sheetsync.report.trends import label_of, team_order

if TYPE_CHECKING:
    from sheetsync.analytics.program import Analysis
    from sheetsync.config import Config
    from sheetsync.dataset import ProgramData


def _normal(text: Any) -> str | None:
    text = _clean(text)
    if not isinstance(text, str) or not text.strip():
        return None
    return " ".join(text.split())


def strategies(weeks: pd.DataFrame, source: str, length: int,
               baseline: float | None) -> list[tuple[str, int, int, float | None]]:
    """The team's strategies as runs of consecutive weeks with the same "What We Tried" (case and
    spacing aside): (text, first week, last week, change in the metric from the week before the
    run, or the baseline, to the run's last week with a value)."""
    w = weeks[(weeks["source"] == source) & (weeks["week"] >= 1) & (weeks["week"] <= length)]
    w = w.sort_values("week")
    value_at = dict(zip(w["week"].astype(int), w["value"], strict=True))
    runs: list[list[Any]] = []
    for week, tried in zip(w["week"].astype(int), w["what_we_tried"], strict=True):
        text = _normal(tried)
        if text is None:
            continue
        if runs and runs[-1][0].casefold() == text.casefold() and runs[-1][2] == week - 1:
            runs[-1][2] = week
        else:
            runs.append([text, week, week])
    out = []
    for text, first, last in runs:
        before = baseline if first == 1 else _clean(value_at.get(first - 1))
        after = next((_clean(value_at[k]) for k in range(last, first - 1, -1)
                      if _clean(value_at.get(k)) is not None), None)
        change = None if before is None or after is None else after - before
        out.append((text, first, last, change))
    return out


def _weeks_on_track(weeks: pd.DataFrame | None, team: Any) -> int | None:
    """How many of the team's challenge weeks ended with the status On track or Met, as the
    history recorded them (``weeks``: the team's records; None: no week of this cycle was
    recorded)."""
    if weeks is None or not len(weeks):
        return None
    start = pd.Timestamp(team["start_date"]).date().isoformat() \
        if pd.notna(team["start_date"]) else None
    mine = weeks[(weeks["start_date"] == start) & (pd.to_numeric(weeks["current_week"]) >= 1)]
    if not len(mine):
        return None
    # the week the challenge ended is recorded with its final status: count the weeks before
    during = mine[~mine["ended"].fillna(0).astype(bool)]
    return int(during["status"].isin(("On track", "Met")).sum())


def _weeks_text(first: int, last: int) -> str:
    return f"week {first}" if first == last else f"weeks {first}-{last}"


def retrospective_sheet(config: Config, data: ProgramData, analysis: Analysis,
                        view: HistoryView) -> Sheet:
    """The Retrospective tab: a note until a team's challenge has ended."""
    teams = analysis.teams.teams
    if "ended" not in teams.columns or not teams["ended"].any():
        ends = pd.to_datetime(teams["end_date"], errors="coerce").dropna()
        when = f" (the first end date is {ends.min():%Y-%m-%d})" if len(ends) else ""
        note = Table(columns=[], rows=[], title="Retrospective", intro=[
            f"No team's challenge has ended yet{when}. After its end date, each team's final "
            "result (met or not), the strategies it tried and the program's share of teams "
            "that met their goal, against the benchmark, appear here."])
        return Sheet("Retrospective", tables=[note, cycles_table(config, view, analysis, row=4)])
    ended = teams[teams["ended"].to_numpy(dtype=bool)]
    weeks = analysis.teams.weeks
    goals = data.frames.get("goals")
    smart = ({} if goals is None or "smart_goal" not in goals.columns else
             dict(zip(goals["source"], goals["smart_goal"], strict=False)))
    bench = analysis.thresholds.program_goal_share
    met = int((ended["status"] == "Met").sum())
    known = int(ended["status"].isin(("Met", "Not met")).sum())
    total = len(ended)
    share = met / total if total else None
    verdict = ("not known" if share is None else
               "at or above the benchmark" if share >= bench - 1e-12 else "below the benchmark")
    fill = (GREEN if share is not None and share >= bench - 1e-12 else RED)
    summary = Table(
        columns=["This cycle", "Teams"],
        rows=[["Teams ended", total], ["Met their goal", met], ["Not met", known - met],
              ["Not known", total - known],
              ["Share that met", Cell(share, "0%", fill, bold=True) if share is not None
               else None],
              ["Benchmark", Cell(bench, "0%")], ["Result", verdict]],
        title="Retrospective: did each team meet its SMART goal?",
        intro=[f"{met} of {total} teams that have ended met their goal, against the district's "
               f"benchmark of {wording.share(bench)} of teams.",
               "Not known: no final value or no target, never counted as met."],
        number_formats={"Teams": "0"})
    rows: list[list[Any]] = []
    strategy_rows: list[list[Any]] = []
    by_source = {rec["source"]: rec for rec in ended.to_dict("records")}
    weeks_of = {s: g for s, g in weeks.groupby("source", sort=False)}
    recorded_of = ({s: g for s, g in view.team_weeks.groupby("source", sort=False)}
                   if len(view.team_weeks) else {})
    empty = weeks.iloc[:0]
    for source in team_order(ended):
        t = by_source[source]
        unit = _clean(t["unit"])
        school, team = label_of(t["school"], t["team"], source)
        length = int(t["weeks"])
        all_weeks = weeks_of.get(source, empty)
        mine = all_weeks[(all_weeks["week"] >= 1) & (all_weeks["week"] <= length)]
        on_line = [int(w) for w, p in zip(mine["week"], mine["position"], strict=True)
                   if p == ON_LINE]
        tried = strategies(all_weeks, source, length, _clean(t["baseline"]))
        week = _clean(t["latest_week"])
        rows.append([t["status"], team, school, _clean(smart.get(source)) or _clean(t["metric"]),
                     _figure(t["baseline"], unit), _figure(t["target"], unit),
                     _figure(t["latest_value"], unit,
                             f" (wk {int(week)})" if week is not None else ""),
                     _clean(t["gap_closed"]),
                     wording.numbers_list(on_line, limit=52) if on_line else "none",
                     _weeks_on_track(recorded_of.get(source), t), len(tried)])
        for text, first, last, change in tried:
            cell = None
            if change is not None:
                shown = round(change * 100, 1) if unit == "percent" else round(change, 2)
                fmt = figure_format(shown) + ('" pts"' if unit == "percent" else "")
                cell = Cell(shown, f"+{fmt};-{fmt};0")
            strategy_rows.append([_weeks_text(first, last), team, school, text, cell])
    team_table = Table(
        columns=["Result", "Team", "School", "Goal", "Baseline", "Target", "Final (week)",
                 "% of gap closed", "Weeks on or ahead of the goal line", "Weeks on track",
                 "Strategies"], rows=rows, row=summary.last_row + 3, title="Teams",
        status_columns=["Result"], wrap_columns=["Goal", "Weeks on or ahead of the goal line"],
        number_formats={"% of gap closed": "0%", "Weeks on track": "0", "Strategies": "0"},
        column_widths={"Goal": 40, "Weeks on or ahead of the goal line": 20})
    strategy_table = Table(
        columns=["Weeks", "Team", "School", "What we tried", "Change that followed"],
        rows=strategy_rows, row=team_table.last_row + 3,
        title="Strategies tried, and the change in the metric that followed",
        wrap_columns=["What we tried"],
        intro=["From each team's \u201cWhat We Tried\u201d: consecutive weeks with the same "
               "entry are one strategy.",
               "Change: from the week before it (or the baseline) to its last week with a "
               "value, in the goal's unit (percentage points for a percent goal)."])
    cycles = cycles_table(config, view, analysis, row=strategy_table.last_row + 3)
    return Sheet("Retrospective", tables=[summary, team_table, strategy_table, cycles],
                 column_widths={1: 16, 2: 22, 3: 22, 4: 40, 5: 12, 6: 10, 7: 12, 8: 10,
                                9: 20, 10: 9, 11: 10})


def cycles_table(config: Config, view: HistoryView, analysis: Analysis, *, row: int) -> Table:
    """Each cycle: its teams, how many ended, the share that met their goal and the median
    share of the gap closed, from each team's latest record of each cycle."""
    finals = view.team_finals
    rows = []
    if len(finals):
        f = finals.copy()
        f["label"] = [_cycle_label(config, c, s)
                      for c, s in zip(f["cycle"], f["start_date"], strict=True)]
        first = f.groupby("label")["start_date"].min()
        for label in sorted(first.index, key=lambda k: str(first[k])):
            g = f[f["label"] == label]
            ended = g[g["ended"].fillna(0).astype(bool)]
            met = int((ended["status"] == "Met").sum())
            share = met / len(ended) if len(ended) else None
            median = pd.to_numeric(ended["gap_closed"], errors="coerce").median()
            rows.append([_clean(first[label]), label, len(g), len(ended), met,
                         Cell(share, "0%", BLUE) if share is not None else None,
                         _clean(median)])
    return Table(columns=["Started", "Cycle", "Teams", "Ended", "Met their goal",
                          "Share that met", "Median % of gap closed"], rows=rows,
                 title="Cycles", row=row,
                 number_formats={"Teams": "0", "Ended": "0", "Met their goal": "0",
                                 "Median % of gap closed": "0%"},
                 intro=["Each cycle's teams as last recorded: the share of the teams that "
                        "ended that met their goal",
                        f"(benchmark {wording.share(analysis.thresholds.program_goal_share)}), "
                        "and the median share of the gap closed."])


def _cycle_label(config: Config, recorded: Any, start: Any) -> str:
    """A team's cycle as the config names it now (records made before ``[[program.cycles]]``
    was set carry none), else as recorded, else by its start date."""
    from datetime import date

    if config.cycles and _clean(start):
        cycle = cycle_of(date.fromisoformat(start), config.cycles)
        if cycle is not None:
            return cycle.name
    return _clean(recorded) or f"Started {start or 'on an unknown date'}"
