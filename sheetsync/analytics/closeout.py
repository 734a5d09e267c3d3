"""The close-out: after a team's end date its status is final, Met or Not met.

During the challenge a status is advice about the weeks ahead ("consider an instructional
change"). Once the challenge has ended there are no weeks ahead: the retrospective asks one
summative question, whether the team reached its SMART goal. So, for every team whose end date
has passed (the day after it, or, without one, the start date plus the challenge's weeks):

* the **final value** is the latest weekly value of weeks 1 to the final week (a value typed for
  a later week is not part of the challenge);
* the status becomes ``Met`` when the final value has reached the target in the goal's
  direction, else ``Not met``; with no weekly value at all, or no baseline or target, it stays
  ``No data``: whether the goal was met is unknown, and unknown is never counted as a miss (a
  team whose tracker could not be read stays ``Unknown``);
* the reason states the final value, the target and the share of the gap closed;
* the "enter this week's value", "consider an instructional change", "at risk" and "raise the
  goal" flags are dropped, and the team leaves the weekly update's lists (it has no week to move
  in, and nothing to support until the next cycle).

The teams frame gains an ``ended`` column (True for closed-out teams).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from sheetsync.analytics import wording
from sheetsync.analytics.frames import as_timestamp
from sheetsync.analytics.teams import TeamResults

FINAL_STATUSES = ("Met", "Not met")
OPEN_FLAGS = frozenset({"team-stale", "team-off-track", "team-at-risk", "team-raise-goal"})
"""Flags about the weeks ahead: none once a team's challenge has ended."""


def ended_mask(teams: pd.DataFrame, as_of: date) -> pd.Series:
    """Teams whose challenge ended before ``as_of``."""
    day = as_timestamp(as_of)
    end = pd.to_datetime(teams["end_date"], errors="coerce")
    start = pd.to_datetime(teams["start_date"], errors="coerce")
    weeks = pd.to_numeric(teams["weeks"], errors="coerce").fillna(10)
    fallback = start + pd.to_timedelta(weeks * 7 - 1, unit="D")
    end = end.fillna(fallback)
    return (end < day).fillna(False).astype(bool)


def final_values(weeks: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Per source: the final week (1..the challenge's length) with a value, and that value."""
    length = teams.set_index("source")["weeks"]
    w = weeks[["source", "week", "value"]]
    w = w[(w["week"] >= 1) & w["value"].notna()]
    w = w[w["week"] <= w["source"].map(length).fillna(0)]
    last = w.sort_values(["source", "week"]).groupby("source").last()
    return last.rename(columns={"week": "final_week", "value": "final_value"})


def close_out(results: TeamResults, as_of: date) -> TeamResults:
    """``results`` with every ended team's status made final (see the module's notes)."""
    teams = results.teams.copy()
    # a team whose tracker could not be read stays Unknown: its end is not a result
    ended = ended_mask(teams, as_of) & teams["status"].ne("Unknown")
    teams["ended"] = ended.to_numpy()
    if not ended.any():
        return replace(results, teams=teams)
    final = final_values(results.weeks, teams)
    idx = teams.index[ended]
    sub = teams.loc[idx]
    fv = sub["source"].map(final["final_value"])
    fw = sub["source"].map(final["final_week"])
    baseline = pd.to_numeric(sub["baseline"], errors="coerce")
    target = pd.to_numeric(sub["target"], errors="coerce")
    gap = target - baseline
    sign = np.where(sub["direction"].eq("decrease"), -1.0, 1.0)
    tol = 1e-9 * (1.0 + gap.abs().fillna(0.0))
    known = fv.notna() & baseline.notna() & target.notna()
    met = (sign * (fv - target) >= -tol) & known
    closed = (fv - baseline) / gap.where(gap != 0) + 0.0

    teams.loc[idx, "latest_value"] = fv
    teams.loc[idx, "latest_week"] = fw.astype("Int64")
    teams.loc[idx, "gap_closed"] = closed.where(known)
    teams.loc[idx, "projected_value"] = np.nan
    teams.loc[idx, "stale"] = False
    teams.loc[idx, "raise_goal"] = False
    status = np.where(~known, "No data", np.where(met, "Met", "Not met"))
    teams.loc[idx, "status"] = status
    reasons = []
    for t, st, value, week, share in zip(sub.itertuples(index=False), status, fv, fw, closed,
                                         strict=True):
        reasons.append(_final_reason(t, st, value, week, share))
    teams.loc[idx, "reason"] = pd.Series(reasons, index=idx, dtype=object)
    ended_sources = set(sub["source"])
    flags = [f for f in results.flags
             if not (f.code in OPEN_FLAGS and f.source in ended_sources)]
    return replace(
        results, teams=teams,
        movers=results.movers[~results.movers["source"].isin(ended_sources)]
        .reset_index(drop=True),
        needs_support=results.needs_support[~results.needs_support["source"]
                                            .isin(ended_sources)].reset_index(drop=True),
        flags=flags)


def _final_reason(t, status: str, value: float, week: float, share: float) -> str:
    end = t.end_date
    ended = "" if pd.isna(end) else f" on {pd.Timestamp(end):%Y-%m-%d}"
    if status == "No data":
        if pd.isna(t.baseline) or pd.isna(t.target):
            return (f"The challenge ended{ended}; the goal has no baseline or target, so whether "
                    "it was met is not known: consider completing the Goal tab for the record")
        return (f"The challenge ended{ended} with no weekly values, so whether the goal was met "
                "is not known: consider entering the final week's value if it exists")
    unit = t.unit
    figures = (f"the final value, {wording.metric(value, unit)} in week {int(week)}, "
               f"against a target of {wording.metric(t.target, unit)}")
    closed = "" if pd.isna(share) else f" ({wording.share(share)} of the gap closed)"
    if status == "Met":
        return (f"Goal met{ended}: {figures}{closed}: consider sharing what worked at the "
                "retrospective")
    return (f"Goal not met{ended}: {figures}{closed}: consider what to keep and what to change "
            "at the retrospective")
