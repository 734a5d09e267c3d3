"""What a run records in the program's history: per as-of date, team figures and coach
aggregates (pure: an analysis in, two small frames out).

The same privacy rule as the leader tabs: a team's record holds its own figures and the text
the team wrote for the district to read (its "What We Tried"); a coach's record holds counts,
minutes and shares only, with the relationship percentages withheld when drawn from fewer than
the minimum of teachers (as on the Relationships tab). No teacher name, fact, note or rating is
ever recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sheetsync.history.calendar import Cycle, cycle_of
from sheetsync.history.fields import COACH_FIELDS, PRIVATE_SHARES, TEAM_FIELDS

if TYPE_CHECKING:
    from sheetsync.analytics.program import Analysis


def _iso(series: pd.Series) -> list[str | None]:
    values = pd.to_datetime(series, errors="coerce")
    return [None if pd.isna(v) else v.date().isoformat() for v in values]


def _column(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame[key] if key in frame.columns else pd.Series([None] * len(frame),
                                                                index=frame.index, dtype=object)


def team_records(analysis: Analysis, cycles: Sequence[Cycle] = ()) -> pd.DataFrame:
    """One record per team for ``analysis.as_of`` (columns :data:`TEAM_FIELDS`)."""
    teams = analysis.teams.teams
    weeks = analysis.teams.weeks
    tried = weeks[["source", "week", "what_we_tried"]].dropna(subset=["what_we_tried"])
    latest = teams.set_index("source")["latest_week"]
    tried = tried[tried["week"] == tried["source"].map(latest)]
    tried_of = tried.drop_duplicates("source", keep="last").set_index("source")["what_we_tried"]
    starts = pd.to_datetime(teams["start_date"], errors="coerce")
    out = pd.DataFrame({
        "as_of": analysis.as_of.isoformat(),
        "source": teams["source"].astype(object),
        "cycle": [_cycle_name(s, cycles) for s in starts],
        **{k: teams[k].astype(object) for k in ("school", "team", "coach", "metric", "unit",
                                                "direction")},
        **{k: pd.to_numeric(teams[k], errors="coerce") for k in ("baseline", "target")},
        "start_date": _iso(teams["start_date"]),
        "end_date": _iso(teams["end_date"]),
        **{k: pd.to_numeric(teams[k], errors="coerce") for k in (
            "weeks", "current_week", "latest_week", "latest_value", "aimline_latest",
            "gap_closed", "projected_value")},
        "status": teams["status"].astype(object),
        "reason": teams["reason"].astype(object),
        "what_we_tried": teams["source"].map(tried_of).astype(object),
        "actions_overdue": pd.to_numeric(teams["actions_overdue"], errors="coerce"),
        "ended": _column(teams, "ended").fillna(False).astype(bool),
    })
    return out[list(TEAM_FIELDS)].reset_index(drop=True)


def _cycle_name(start: pd.Timestamp, cycles: Sequence[Cycle]) -> str | None:
    if pd.isna(start):
        return None
    cycle = cycle_of(start.date(), cycles)
    return cycle.name if cycle else None


def coach_records(analysis: Analysis) -> pd.DataFrame:
    """One record per coach workbook for ``analysis.as_of`` (columns :data:`COACH_FIELDS`)."""
    c = analysis.coaches
    least = analysis.thresholds.min_matrix_teachers
    base = c.overview[["source", "coach", "schools"]].set_index("source")
    time = c.time.set_index("source")
    rel = c.relationships.set_index("source")
    cyc = c.cycles.set_index("source")
    out = pd.DataFrame(index=base.index)
    out["coach"] = base["coach"].astype(object)
    out["schools"] = base["schools"].astype(object)
    for key in ("minutes_total", "minutes_coaching", "coaching_share", "minutes_recent",
                "coaching_share_recent", "outside_role_minutes", "outside_role_minutes_recent",
                "teachers_reached"):
        out[key] = pd.to_numeric(time[key], errors="coerce").reindex(out.index)
    listed = pd.to_numeric(rel["teachers_listed"], errors="coerce").reindex(out.index)
    out["teachers_listed"] = listed
    enough = (listed >= least).fillna(False).to_numpy(dtype=bool)
    for key in PRIVATE_SHARES:
        values = pd.to_numeric(rel[key], errors="coerce").reindex(out.index)
        out[key] = values.where(enough)  # too few teachers: a share would reveal answers
    for key in ("cycles_plan", "cycles_act", "cycles_reflect", "cycles_complete"):
        out[key] = pd.to_numeric(cyc[key], errors="coerce").reindex(out.index)
    out = out.reset_index()
    out.insert(0, "as_of", analysis.as_of.isoformat())
    return out[list(COACH_FIELDS)].reset_index(drop=True)


def rows_of(frame: pd.DataFrame) -> list[tuple]:
    """The frame's rows as plain Python tuples for the store (NaN and NaT as None)."""
    cleaned = frame.astype(object).where(frame.notna(), None)
    columns = []
    for name in cleaned.columns:
        values = cleaned[name].tolist()
        if any(isinstance(v, np.generic) for v in values):
            values = [v.item() if isinstance(v, np.generic) else v for v in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


def as_date(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text)


@dataclass(frozen=True)
class HistoryView:
    """What the dashboard's history tabs read, asked of the store once per run (frames with
    :data:`TEAM_FIELDS` or :data:`COACH_FIELDS` columns; empty when there is no history).

    ``team_weeks``: each team's last record of each challenge week; ``checkins``: for each
    check-in that has happened, every team as its latest record on or before that day;
    ``coach_months``: each coach's last record of each month (plus a ``month`` column);
    ``team_finals``: each team's latest record of each cycle; ``dates``: every as-of recorded.
    """

    team_weeks: pd.DataFrame
    checkins: dict[int, pd.DataFrame]
    coach_months: pd.DataFrame
    team_finals: pd.DataFrame
    dates: list[date] = field(default_factory=list)


def in_current_cycle(frames: dict[str, pd.DataFrame], cycles: Sequence[Cycle],
                     as_of: date) -> dict[str, pd.DataFrame]:
    """The team frames of the current cycle's trackers only (coach frames as they are): with
    ``[[program.cycles]]`` the dashboard shows the current cycle, and earlier cycles live on in
    the history and the Cycles table. Without cycles, every team."""
    from sheetsync.history.calendar import current_cycle

    cycle = current_cycle(as_of, cycles)
    goals = frames.get("goals")
    if cycle is None or goals is None or not len(goals) or "start_date" not in goals.columns:
        return frames
    starts = pd.to_datetime(goals["start_date"], errors="coerce")
    mine = [cycle_of(s.date(), cycles) == cycle if pd.notna(s) else True for s in starts]
    keep = set(goals.loc[mine, "source"])
    out = dict(frames)
    for name in ("goals", "weekly", "actions"):
        frame = frames.get(name)
        if frame is not None and "source" in frame.columns:
            out[name] = frame[frame["source"].isin(keep).to_numpy(dtype=bool)]
    return out
