"""Breakthrough teams: progress toward each SMART goal, judged by progress-monitoring rules.

The rules come from education practice (see the domain notes):

* the **aimline** runs straight from the baseline at week 0 to the target at the final week and
  stays at the target after it;
* a value is on the **wrong side** of the aimline when it is below it for a goal that should rise,
  or above it for a goal that should fall; values exactly on the line are fine;
* the **four-point rule** compares the last 4 values (the latest 4 weeks that have a value,
  whether or not weeks in between were skipped) with the aimline, once a team has at least 6:
  all on the wrong side means Off track, all on the better side means "consider raising the
  goal" (a flag, not a status, so a Met or On track team can carry it);
* the **trend** is an ordinary least-squares line through the weekly values (3 or more), and
  its value at the final week is the projection.

A team gets exactly one status. When several apply, the first in this list wins:

0. ``Unknown``: its goal or its weekly values could not be read (``unknown_reason`` on its
   ``goals`` row, such as "Target “about 70” is not a percentage"): the reason says what,
   and Flags has the cell. It is never "No data" when data is there;
1. ``No data``: no weekly value yet (or no baseline/target to measure against);
2. ``Met``: the latest value has reached the target in the goal's direction;
3. ``Off track``: the four-point rule says the last 4 values are all on the wrong side, or the
   projection falls short of the target by more than ``projection_margin`` of the gap;
4. ``At risk``: the last 3 values are all on the wrong side;
5. ``Stale``: the latest completed week has no value yet;
6. ``On track``: none of the above.

Off track and At risk outrank Stale because a team that was already slipping needs support
whether or not this week's value is in; staleness is still reported separately (the ``stale``
column and a ``team-stale`` flag), so it is never hidden. The latest completed week is
``floor((as_of - start_date).days / 7)``, capped at the challenge length.

With only about ten weekly points every rule is advisory, so each status carries a reason worded
as "consider ...", never as a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from sheetsync.analytics import wording
from sheetsync.analytics.frames import (
    ColumnOf,
    as_timestamp,
    dates,
    numbers,
    plain_text,
    text_out,
    texts,
    with_columns,
)
from sheetsync.analytics.thresholds import DEFAULT_THRESHOLDS, Thresholds
from sheetsync.findings import Finding, Severity

STATUSES = ("Met", "On track", "At risk", "Off track", "Stale", "No data", "Unknown",
            "Not met")
"""Every team status, in the order a table lists them. ``Not met`` is only given at the
close-out, after a team's end date (see :mod:`sheetsync.analytics.closeout`)."""

NEEDS_SUPPORT = ("Off track", "At risk", "Stale")
"""Statuses that put a team on the weekly update's "needs support" list, most urgent first."""

GOAL_TAB = "Goal"
WEEKLY_TAB = "Weekly Progress"
ACTIONS_TAB = "Action Steps"

TEAM_COLUMNS = (
    "source", "school", "team", "coach", "metric", "unit", "direction", "baseline", "target",
    "start_date", "end_date", "weeks", "current_week", "week_label", "weeks_reported",
    "weeks_missing", "missing_weeks", "latest_week", "latest_value", "aimline_latest",
    "gap_closed", "trend_slope", "projected_value", "status", "reason", "stale", "raise_goal",
    "actions_done", "actions_total", "actions_overdue",
)
"""One row per team. Shares are fractions; metric values are in the goal's unit (percent-unit
metrics as fractions). ``current_week``: the latest completed week (0 before the start);
``weeks_missing``/``missing_weeks``: weeks 1..current week without a value, counted and listed
("2 and 5"); ``aimline_latest``: the aimline at ``latest_week``; ``gap_closed``: (latest -
baseline) / (target - baseline), not clipped, NaN when the target equals the baseline;
``trend_slope``/``projected_value``: OLS per week and its value at the final week (NaN with fewer
than 3 values); ``reason``: what the data shows, then what to consider; ``stale``: the latest
completed week has no value (also for teams whose status is not Stale); ``raise_goal``: the
last 4 values are all on the better side of the aimline (with at least 6 values)."""
WEEK_COLUMNS = ("source", "school", "team", "week", "week_of", "value", "aimline", "on_line",
                "position", "row", "what_we_tried", "strategy_changed")
MOVER_COLUMNS = ("source", "school", "team", "coach", "week", "value", "previous_week",
                 "previous_value", "change", "gap_moved", "what_we_tried", "status")
SUPPORT_COLUMNS = ("source", "school", "team", "coach", "status", "reason", "week_label")

# Positions of a value in the long team x week table.
BASELINE = "Baseline"
ON_LINE = "On or ahead of the line"
BEHIND_LINE = "Behind the line"
NO_VALUE = "No value"
NOT_DUE = "Not due yet"

FLAG_SEVERITY: dict[str, Severity] = {
    "team-off-track": Severity.WARNING,
    "team-at-risk": Severity.WARNING,
    "team-stale": Severity.WARNING,
    "team-raise-goal": Severity.INFO,
    "missing-weeks": Severity.INFO,
    "overdue-actions": Severity.WARNING,
}
"""Analytic flags are warnings or notices, never errors: errors mean data could not be read."""


@dataclass(frozen=True)
class TeamResults:
    """Everything the dashboard shows about teams.

    * ``teams``: one row per team (columns :data:`TEAM_COLUMNS`), sorted by school and team;
    * ``weeks``: the long team x week table (columns :data:`WEEK_COLUMNS`), week 0 holding the
      baseline, through the final week (and any later week a team reported);
    * ``movers``: the weekly update's teams that moved most toward their goal in their latest
      completed week (columns :data:`MOVER_COLUMNS`), best first;
    * ``needs_support``: Off track, At risk and Stale teams (columns :data:`SUPPORT_COLUMNS`);
    * ``flags``: analytic flags addressed to each team's workbook.
    """

    teams: pd.DataFrame
    weeks: pd.DataFrame
    movers: pd.DataFrame
    needs_support: pd.DataFrame
    flags: list[Finding] = field(default_factory=list)


def team_progress(goals: pd.DataFrame | None, weekly: pd.DataFrame | None,
                  actions: pd.DataFrame | None, as_of: date, th: Thresholds = DEFAULT_THRESHOLDS,
                  *, column_of: ColumnOf | None = None) -> TeamResults:
    """Apply the progress-monitoring rules to every team in ``goals``.

    ``weekly`` and ``actions`` rows are matched to teams by ``source``. Every team in ``goals``
    appears in the results, with status ``No data`` when it has no weekly values.
    """
    as_of_ts = as_timestamp(as_of)
    goals, weekly, absurd = _without_absurd_figures(goals, weekly, column_of)
    teams = _teams(goals, as_of_ts)
    records = _weekly_records(weekly, teams)
    points = _points(records)
    teams = _with_point_figures(teams, points, th)
    teams = _with_missing_weeks(teams, records)
    teams = _with_actions(teams, actions, as_of_ts)
    teams = _with_status(teams, th)
    teams = _sort_teams(teams).reset_index(drop=True)

    return TeamResults(
        teams=plain_text(teams[list(TEAM_COLUMNS)]),
        weeks=plain_text(_week_table(teams, records)),
        movers=plain_text(_movers(teams, points, th)),
        needs_support=plain_text(_needs_support(teams)),
        flags=[*absurd, *_team_flags(teams, records, th, column_of)],
    )


ABSURD_FIGURE = 1e12
"""No team metric (a share, a count of students, a score) comes near this: a baseline, target or
weekly value beyond it is a typing or formula mistake. It is treated as unknown, with a flag, so
it never reaches the aimline arithmetic (where -1e308 to 1e308 overflows to a "Met")."""


def _without_absurd_figures(goals: pd.DataFrame | None, weekly: pd.DataFrame | None,
                            column_of: ColumnOf | None
                            ) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Finding]]:
    """``goals`` and ``weekly`` with absurd figures blanked, and a flag for each one."""
    flags: list[Finding] = []

    def blank(frame: pd.DataFrame | None, key: str, tab: str, name: str) -> pd.DataFrame | None:
        if frame is None or key not in frame.columns or not len(frame):
            return frame
        values = numbers(frame[key])
        bad = (values.abs() > ABSURD_FIGURE).fillna(False).to_numpy(dtype=bool)
        if not bad.any():
            return frame
        rows = frame["row"].tolist() if "row" in frame.columns else [None] * len(frame)
        for i in np.flatnonzero(bad):
            source = str(frame["source"].iloc[i])
            cell = _cell(column_of, source, tab, key, rows[i])
            flags.append(Finding(
                "out-of-range", Severity.WARNING,
                f"{name}: {values.iloc[i]:.3g} is too large to be a real figure, so it is "
                f"treated as unknown{_where(cell, tab, rows[i])}.",
                f"Check the {name} for a typing or formula mistake.", source=source, tab=tab,
                cell=cell))
        frame = frame.copy()
        frame[key] = values.mask(bad)
        return frame

    goals = blank(goals, "baseline", GOAL_TAB, "Baseline")
    goals = blank(goals, "target", GOAL_TAB, "Target")
    weekly = blank(weekly, "value", WEEKLY_TAB, "Value")
    return goals, weekly, flags


# --- team parameters ---------------------------------------------------------------------------

def _teams(goals: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    g = with_columns(goals, ("source", "school", "team", "coach", "metric", "unit", "baseline",
                             "target", "direction", "start_date", "end_date", "weeks",
                             "unknown_reason"))
    source = texts(g["source"])
    g = g[source.notna() & source.ne("")].copy()
    g["source"] = texts(g["source"])
    g = g.drop_duplicates("source", keep="first")

    baseline = numbers(g["baseline"])
    target = numbers(g["target"])
    start = dates(g["start_date"])
    end = dates(g["end_date"])
    # The challenge length: the Goal tab's weeks, else the dates' span, else the usual 10 weeks.
    weeks = numbers(g["weeks"])
    weeks = weeks.fillna(((end - start).dt.days / 7).round()).fillna(10).clip(lower=1)
    direction = texts(g["direction"]).str.casefold()
    sign = np.where(direction.eq("decrease").fillna(False), -1.0,
                    np.where(direction.eq("increase").fillna(False), 1.0,
                             np.where(target < baseline, -1.0, 1.0)))
    elapsed = (as_of - start).dt.days
    current = np.floor(elapsed / 7).clip(lower=0).fillna(0)
    current = np.minimum(current, weeks)

    out = pd.DataFrame({
        "source": g["source"].astype(object),
        "school": text_out(g["school"]),
        "team": text_out(g["team"]),
        "coach": text_out(g["coach"]),
        "metric": text_out(g["metric"]),
        "unit": text_out(texts(g["unit"]).str.casefold()),
        "direction": np.where(sign < 0, "decrease", "increase"),
        "baseline": baseline,
        "target": target,
        "start_date": start,
        "end_date": end,
        "weeks": weeks.astype(int),
        "current_week": current.astype(int),
        "unknown_reason": text_out(g["unknown_reason"]),
    })
    out["direction"] = out["direction"].astype(object)
    out["sign"] = sign
    out["gap"] = target - baseline
    out["week_label"] = pd.Series(
        [wording.challenge_week(int(c), int(w), started=not (pd.notna(e) and e < 0))
         for c, w, e in zip(out["current_week"], out["weeks"], elapsed, strict=True)],
        index=out.index, dtype=object)
    # A tolerance for "on the line" and "reached", so float noise never flips a status.
    out["tol"] = 1e-9 * (1.0 + out["gap"].abs().fillna(0.0))
    return out.reset_index(drop=True)


def _aimline(week: pd.Series, baseline: pd.Series, gap: pd.Series,
             weeks: pd.Series) -> pd.Series:
    # Straight from the baseline at week 0 to the target at the final week, then flat.
    return baseline + gap * (week.clip(lower=0) / weeks).clip(upper=1.0)


# --- weekly values -----------------------------------------------------------------------------

def _weekly_records(weekly: pd.DataFrame | None, teams: pd.DataFrame) -> pd.DataFrame:
    """One row per team and week that has a row in Weekly Progress (the value may be blank)."""
    w = with_columns(weekly, ("source", "row", "week", "week_of", "value", "what_we_tried"))
    w = pd.DataFrame({
        "source": texts(w["source"]),
        "row": numbers(w["row"]),
        "week": numbers(w["week"]).round(),
        "week_of": dates(w["week_of"]),
        "value": numbers(w["value"]),
        "what_we_tried": text_out(w["what_we_tried"]),
    })
    w = w[w["source"].isin(teams["source"]) & w["week"].notna()].copy()
    w["source"] = w["source"].astype(object)
    w["week"] = w["week"].astype(int)
    w["has_value"] = w["value"].notna()
    # Validation reports duplicate weeks; here the last row holding a value wins.
    w = (w.sort_values(["source", "week", "has_value", "row"], na_position="first")
         .drop_duplicates(["source", "week"], keep="last"))
    w = w.merge(teams[["source", "baseline", "gap", "sign", "weeks", "current_week", "tol"]],
                on="source", how="inner")
    w["aimline"] = _aimline(w["week"].astype(float), w["baseline"], w["gap"],
                            w["weeks"].astype(float))
    return w.sort_values(["source", "week"]).reset_index(drop=True)


def _points(records: pd.DataFrame) -> pd.DataFrame:
    """Weeks with a value, each compared with the aimline, numbered back from the latest."""
    p = records[records["has_value"]].copy()
    p["from_end"] = p.groupby("source").cumcount(ascending=False)
    ahead = p["sign"] * (p["value"] - p["aimline"])
    p["wrong_side"] = ahead < -p["tol"]
    p["better_side"] = ahead > p["tol"]
    return p


def _last_all(points: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per team: whether its last ``k`` values are all on the wrong side (``wrong_side``) and
    all on the better side (``better_side``); False when it has fewer."""
    last = points[points["from_end"] < k]
    return last.groupby("source")[["wrong_side", "better_side"]].sum().eq(k)


def _with_point_figures(teams: pd.DataFrame, points: pd.DataFrame,
                        th: Thresholds) -> pd.DataFrame:
    by_team = points.groupby("source")
    x = points["week"].astype(float)
    y = points["value"]
    sums = pd.DataFrame({"source": points["source"], "sx": x, "sy": y, "sxx": x * x,
                         "sxy": x * y}).groupby("source").sum()
    sums["n"] = by_team.size()
    latest = points[points["from_end"] == 0].set_index("source")

    out = teams.set_index("source")
    out["weeks_reported"] = by_team.size().reindex(out.index).fillna(0).astype(int)
    out["latest_week"] = latest["week"].reindex(out.index).astype("Int64")
    out["latest_value"] = latest["value"].reindex(out.index)
    out["aimline_latest"] = latest["aimline"].reindex(out.index)
    out["latest_row"] = latest["row"].reindex(out.index)

    # Ordinary least squares through (week, value), solved from sums so it is one groupby.
    s = sums.reindex(out.index)
    denominator = s["n"] * s["sxx"] - s["sx"] ** 2
    enough = s["n"].ge(3) & denominator.gt(0)
    slope = ((s["n"] * s["sxy"] - s["sx"] * s["sy"]) / denominator).where(enough)
    intercept = (s["sy"] - slope * s["sx"]) / s["n"]
    out["trend_slope"] = slope
    out["projected_value"] = intercept + slope * out["weeks"]

    out["gap_closed"] = ((out["latest_value"] - out["baseline"])
                         / out["gap"].where(out["gap"] != 0)) + 0.0  # no "-0%" on the tab

    k_risk, k_four = th.at_risk_points, th.four_point_rule_points
    enough_for_four = out["weeks_reported"] >= th.four_point_min_points
    last_risk = _last_all(points, k_risk).reindex(out.index, fill_value=False)
    last_four = _last_all(points, k_four).reindex(out.index, fill_value=False)
    out["last_risk_wrong"] = last_risk["wrong_side"]
    out["last_four_wrong"] = last_four["wrong_side"] & enough_for_four
    out["raise_goal"] = last_four["better_side"] & enough_for_four
    return out.reset_index()


def _with_missing_weeks(teams: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Weeks 1..current week with no value, counted and listed ("2, 4 and 5")."""
    due = teams["current_week"].to_numpy()
    sources = np.repeat(teams["source"].to_numpy(), due)
    starts = np.repeat(np.cumsum(due) - due, due)
    week = np.arange(due.sum()) - starts + 1
    grid = pd.DataFrame({"source": sources, "week": week.astype(int)})
    reported = records.loc[records["has_value"], ["source", "week"]].assign(reported=True)
    grid = grid.merge(reported, on=["source", "week"], how="left")
    missing = grid[grid["reported"].isna()]
    by_team = missing.groupby("source")["week"]

    out = teams.set_index("source")
    out["weeks_missing"] = by_team.size().reindex(out.index).fillna(0).astype(int)
    listed = by_team.agg(lambda w: wording.numbers_list(w.tolist(), limit=52))
    listed = listed.reindex(out.index).astype(object)
    out["missing_weeks"] = listed.where(listed.notna(), "")
    earlier = missing[missing["week"] < missing["source"].map(out["current_week"])]
    out["earlier_missing"] = (earlier.groupby("source")["week"].agg(list)
                               .reindex(out.index))
    return out.reset_index()


def _with_actions(teams: pd.DataFrame, actions: pd.DataFrame | None,
                  as_of: pd.Timestamp) -> pd.DataFrame:
    a = with_columns(actions, ("source", "row", "due", "status"))
    source = texts(a["source"])
    done = texts(a["status"]).str.casefold().eq("done").fillna(False).astype(bool)
    due = dates(a["due"])
    overdue = (due < as_of).fillna(False).astype(bool) & ~done
    counts = pd.DataFrame({"source": source, "done": done, "overdue": overdue})
    by_team = counts.groupby("source")
    counts = by_team[["done", "overdue"]].sum().rename(
        columns={"done": "actions_done", "overdue": "actions_overdue"})
    counts["actions_total"] = by_team.size()
    # The overdue-actions flag points at the overdue step with the earliest due date.
    first_overdue = (pd.DataFrame({"source": source, "row": numbers(a["row"]), "due": due})
                     [overdue.to_numpy()].sort_values(["source", "due", "row"])
                     .groupby("source")["row"].first())
    out = teams.set_index("source")
    for col in ("actions_done", "actions_total", "actions_overdue"):
        out[col] = counts[col].reindex(out.index).fillna(0).astype(int)
    out["first_overdue_row"] = first_overdue.reindex(out.index)
    return out.reset_index()


# --- status ------------------------------------------------------------------------------------

def _with_status(teams: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    t = teams
    unknown = t["unknown_reason"].notna().to_numpy()
    no_data = t["weeks_reported"].eq(0) | t["baseline"].isna() | t["target"].isna()
    met = (t["sign"] * (t["latest_value"] - t["target"]) >= -t["tol"]).fillna(False)
    short = t["sign"] * (t["projected_value"] - t["target"])
    projection_short = (short < -(th.projection_margin * t["gap"].abs()) - t["tol"]).fillna(False)
    off_track = t["last_four_wrong"] | projection_short
    stale = t["current_week"].ge(1) & (t["latest_week"].fillna(0) < t["current_week"])

    t = t.copy()
    t["projection_short"] = projection_short
    t["stale"] = stale.astype(bool)
    t["status"] = np.select(
        [unknown, no_data, met, off_track, t["last_risk_wrong"], stale],
        ["Unknown", "No data", "Met", "Off track", "At risk", "Stale"],
        default="On track",
    ).astype(object)
    t["raise_goal"] = t["raise_goal"] & ~no_data & ~unknown
    said = [_reason(row, th) for row in t[list(_REASON_FIELDS)].itertuples(index=False)]
    t["observation"] = pd.Series([s[0] for s in said], index=t.index, dtype=object)
    t["advice"] = pd.Series([s[1] for s in said], index=t.index, dtype=object)
    t["reason"] = (t["observation"] + ": " + t["advice"]).astype(object)
    return t


def _side_words(sign: float) -> tuple[str, str]:
    """(wrong side, better side) of the goal line in chart words, for the goal's direction."""
    return ("below", "above") if sign > 0 else ("above", "below")


_REASON_FIELDS = ("unit", "sign", "status", "baseline", "target", "current_week", "start_date",
                  "weeks", "latest_value", "latest_week", "last_four_wrong", "projection_short",
                  "projected_value", "weeks_reported", "unknown_reason")
"""The columns :func:`_reason` reads: iterating over just these is much cheaper."""


def _reason(t, th: Thresholds) -> tuple[str, str]:
    """(what the data shows, what to consider) for one team; the two join into its reason."""
    unit = t.unit
    wrong, _better = _side_words(t.sign)
    if t.status == "Unknown":
        return (f"{t.unknown_reason[0].upper()}{t.unknown_reason[1:]} (see Flags)",
                "consider correcting the tracker so progress can be measured")
    if t.status == "No data":
        if pd.isna(t.baseline) or pd.isna(t.target):
            return ("The goal has no baseline or target yet",
                    "consider completing the Goal tab so progress can be measured")
        if t.current_week == 0:
            when = "" if pd.isna(t.start_date) else f" on {t.start_date:%Y-%m-%d}"
            return (f"The challenge starts{when}, so no weekly value is due yet",
                    "consider entering week 1's value once the first week ends")
        return (f"No weekly values yet, and week {t.current_week} of {t.weeks} has ended",
                "consider checking in with the team lead about entering the weekly data")
    if t.status == "Met":
        return (f"The latest value, {wording.metric(t.latest_value, unit)} in week "
                f"{t.latest_week}, has reached the target of {wording.metric(t.target, unit)}",
                "consider celebrating and sharing what worked with other teams")
    if t.status == "Off track":
        parts = []
        if t.last_four_wrong:
            parts.append(f"the last {th.four_point_rule_points} values are {wrong} the goal line")
        if t.projection_short:
            parts.append(f"the trend projects {wording.metric(t.projected_value, unit)} by week "
                         f"{t.weeks}, short of the target of {wording.metric(t.target, unit)}")
        text = " and ".join(parts)
        return (text[0].upper() + text[1:], "consider an instructional change")
    if t.status == "At risk":
        return (f"The last {th.at_risk_points} values are {wrong} the goal line",
                "consider reviewing the strategy with the team at the next meeting")
    if t.status == "Stale":
        return (f"No value for week {t.current_week} yet (the latest is week {t.latest_week})",
                "consider reminding the team to enter this week's value")
    if pd.isna(t.projected_value):
        return (f"{wording.count(t.weeks_reported, 'value')} so far, none a warning sign",
                "consider continuing and entering each week's value")
    return (f"No warning signs, and the trend projects "
            f"{wording.metric(t.projected_value, unit)} by week {t.weeks} against a target of "
            f"{wording.metric(t.target, unit)}",
            "consider continuing the current approach")


def _sort_teams(teams: pd.DataFrame) -> pd.DataFrame:
    keys = pd.DataFrame({
        "school": teams["school"].fillna("").astype(str).str.casefold(),
        "team": teams["team"].fillna("").astype(str).str.casefold(),
        "source": teams["source"].astype(str),
    })
    order = keys.sort_values(["school", "team", "source"], kind="stable").index
    return teams.loc[order]


# --- tables for the tabs -----------------------------------------------------------------------

def _week_table(teams: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Team x week: value, aimline and position, week 0 holding the baseline."""
    last_week = records.groupby("source")["week"].max()
    span = np.maximum(teams["weeks"].to_numpy(),
                      last_week.reindex(teams["source"]).fillna(0).to_numpy().astype(int))
    count = span + 1  # weeks 0..span
    order = np.repeat(np.arange(len(teams)), count)
    starts = np.repeat(np.cumsum(count) - count, count)
    grid = pd.DataFrame({"_order": order, "source": teams["source"].to_numpy()[order],
                         "week": (np.arange(count.sum()) - starts).astype(int)})
    grid = grid.merge(records[["source", "week", "week_of", "value", "row", "what_we_tried"]],
                      on=["source", "week"], how="left")
    t = teams.set_index("source")
    for col in ("school", "team", "baseline", "gap", "weeks", "sign", "tol", "current_week"):
        grid[col] = grid["source"].map(t[col])
    week0 = grid["week"].eq(0)
    grid["value"] = grid["value"].where(~week0 | grid["value"].notna(), grid["baseline"])
    grid["aimline"] = _aimline(grid["week"].astype(float), grid["baseline"], grid["gap"],
                               grid["weeks"].astype(float))
    ahead = grid["sign"] * (grid["value"] - grid["aimline"])
    has_value = grid["value"].notna() & grid["aimline"].notna()
    grid["on_line"] = pd.array((ahead >= -grid["tol"]).where(has_value), dtype="boolean")
    grid["position"] = np.select(
        [week0, has_value & grid["on_line"].fillna(False), has_value,
         grid["week"] <= grid["current_week"]],
        [BASELINE, ON_LINE, BEHIND_LINE, NO_VALUE], default=NOT_DUE).astype(object)
    grid["row"] = grid["row"].astype("Int64")
    grid = grid.sort_values(["_order", "week"]).reset_index(drop=True)
    grid["strategy_changed"] = _strategy_changes(grid)
    return grid[list(WEEK_COLUMNS)]


def _strategy_changes(grid: pd.DataFrame) -> pd.Series:
    """Weeks whose "What We Tried" differs from the team's previous entry (ignoring case and
    spacing): an instructional change, as a progress-monitoring graph marks it. A team's first
    entry is where it starts, not a change."""
    tried = texts(grid["what_we_tried"]).str.casefold().str.split().str.join(" ")
    tried = tried.astype(object).where(tried.notna() & tried.ne(""), None)
    before = tried.groupby(grid["source"]).ffill().groupby(grid["source"]).shift()
    return (tried.notna() & before.notna() & (tried != before)).astype(bool)


def _movers(teams: pd.DataFrame, points: pd.DataFrame, th: Thresholds) -> pd.DataFrame:
    """Teams whose value for their latest completed week moved toward the goal, most first.

    The move is the change since the previous reported week (or the baseline), in the goal's
    direction, as a share of the baseline-to-target gap, so teams with different metrics compare.
    """
    current = points[points["week"] == points["current_week"]].set_index("source")
    earlier = points[points["week"] < points["current_week"]]
    previous = earlier.groupby("source")[["week", "value"]].last()  # points are sorted by week
    t = teams.set_index("source")
    t = t[t.index.isin(current.index)]
    out = pd.DataFrame({
        "source": t.index.to_numpy(dtype=object),
        "school": t["school"].to_numpy(), "team": t["team"].to_numpy(),
        "coach": t["coach"].to_numpy(),
        "week": current["week"].reindex(t.index).to_numpy(),
        "value": current["value"].reindex(t.index).to_numpy(),
        "previous_week": previous["week"].reindex(t.index).fillna(0).astype(int).to_numpy(),
        "previous_value": previous["value"].reindex(t.index).fillna(t["baseline"]).to_numpy(),
        "what_we_tried": current["what_we_tried"].reindex(t.index).to_numpy(),
        "status": t["status"].to_numpy(),
        "_sign": t["sign"].to_numpy(), "_gap": t["gap"].abs().to_numpy(),
    })
    out["change"] = out["_sign"] * (out["value"] - out["previous_value"])
    out["gap_moved"] = out["change"] / out["_gap"].where(out["_gap"] > 0)
    out = out[out["gap_moved"] > 0]
    out = out.assign(_school=out["school"].fillna("").astype(str).str.casefold(),
                     _team=out["team"].fillna("").astype(str).str.casefold())
    out = out.sort_values(["gap_moved", "_school", "_team", "source"],
                          ascending=[False, True, True, True], kind="stable")
    return out.head(th.top_movers)[list(MOVER_COLUMNS)].reset_index(drop=True)


def _needs_support(teams: pd.DataFrame) -> pd.DataFrame:
    urgent = teams[teams["status"].isin(NEEDS_SUPPORT)].copy()
    urgent["_rank"] = urgent["status"].map({s: i for i, s in enumerate(NEEDS_SUPPORT)})
    urgent = urgent.sort_values("_rank", kind="stable")  # teams are already sorted by name
    return urgent[list(SUPPORT_COLUMNS)].reset_index(drop=True)


# --- flags -------------------------------------------------------------------------------------

def _cell(column_of: ColumnOf | None, source: str, tab: str, key: str,
          row: float | None) -> str:
    if column_of is None or row is None or pd.isna(row):
        return ""
    letter = column_of(source, tab, key)
    return f"{letter}{int(row)}" if letter else ""


def _where(cell: str, tab: str, row: float | None, first: bool = False) -> str:
    """A position for a message when no cell letter is known: " (Weekly Progress row 9)"."""
    if cell or row is None or pd.isna(row):
        return ""
    return f" ({'the first at ' if first else ''}{tab} row {int(row)})"


def _label(t) -> str:
    if t.team and t.school:
        return f"{t.team} at {t.school}"
    return t.team or t.school or t.source


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


_FLAG_FIELDS = ("source", "school", "team", "sign", "status", "observation", "advice",
                "latest_row", "stale", "current_week", "weeks_reported", "raise_goal",
                "earlier_missing", "actions_overdue", "first_overdue_row")
"""The columns :func:`_team_flags` (and :func:`_label`) read."""


def _team_flags(teams: pd.DataFrame, records: pd.DataFrame, th: Thresholds,
                column_of: ColumnOf | None) -> list[Finding]:
    row_of = records.set_index(["source", "week"])["row"].to_dict()
    flags: list[Finding] = []

    def add(code: str, t, message: str, hint: str, tab: str, key: str,
            row: float | None, first: bool = False) -> None:
        cell = _cell(column_of, t.source, tab, key, row)
        where = _where(cell, tab, row, first)
        flags.append(Finding(code=code, severity=FLAG_SEVERITY[code],
                             message=f"{_label(t)}: {message}{where}.",
                             hint=_sentence(hint), source=t.source, tab=tab, cell=cell))

    for t in teams[list(_FLAG_FIELDS)].itertuples(index=False):
        wrong, better = _side_words(t.sign)
        if t.status in ("Off track", "At risk"):
            code = "team-off-track" if t.status == "Off track" else "team-at-risk"
            add(code, t, t.observation[0].lower() + t.observation[1:], t.advice,
                WEEKLY_TAB, "value", t.latest_row)
        if t.stale:
            row = row_of.get((t.source, t.current_week))
            if t.weeks_reported == 0:
                what = f"no weekly values yet, and week {t.current_week} has ended"
            else:
                what = f"no value for week {t.current_week} yet"
            add("team-stale", t, what,
                f"consider reminding the team to enter week {t.current_week}'s value",
                WEEKLY_TAB, "value", row)
        if t.raise_goal:
            add("team-raise-goal", t,
                f"the last {th.four_point_rule_points} values are {better} the goal line",
                "consider raising the goal, or setting a stretch target with the team",
                WEEKLY_TAB, "value", t.latest_row)
        earlier = t.earlier_missing
        if t.weeks_reported > 0 and isinstance(earlier, list) and earlier:
            weeks = wording.numbers_list(earlier)
            noun = "Week" if len(earlier) == 1 else "Weeks"
            verb = "has" if len(earlier) == 1 else "have"
            add("missing-weeks", t, f"{noun} {weeks} {verb} no value",
                "consider filling in the missing weeks if the data exists, so the trend "
                "and the goal-line checks use every week",
                WEEKLY_TAB, "value", row_of.get((t.source, earlier[0])), len(earlier) > 1)
        if t.actions_overdue:
            steps = wording.count(int(t.actions_overdue), "action step")
            one = t.actions_overdue == 1
            add("overdue-actions", t,
                f"{steps} {'is' if one else 'are'} past the due date and not marked Done",
                f"consider updating {'its' if one else 'their'} status, or agreeing "
                f"{'a new date' if one else 'new dates'} with the team",
                ACTIONS_TAB, "due", t.first_overdue_row, t.actions_overdue > 1)
    return flags
