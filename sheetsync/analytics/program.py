"""The whole program at once: teams, coaches, headline figures and every analytic flag."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from sheetsync.analytics.closeout import close_out
from sheetsync.analytics.coaches import CoachResults, coach_summary
from sheetsync.analytics.frames import ColumnOf, dates
from sheetsync.analytics.plans import PlanResults, SchoolFacts, plan_rollup
from sheetsync.analytics.teams import STATUSES, TeamResults, team_progress
from sheetsync.analytics.thresholds import DEFAULT_THRESHOLDS, Thresholds
from sheetsync.findings import Finding, Severity

ON_TRACK = ("Met", "On track")
"""Statuses that count a team as on track in the program figures."""


@dataclass(frozen=True)
class ProgramSummary:
    """Headline figures for leaders. Shares are fractions (0..1), ``None`` when undefined."""

    teams_total: int
    teams_on_track: int
    teams_met: int
    on_track_share: float | None
    benchmark_share: float
    meets_benchmark: bool | None
    status_counts: dict[str, int]
    coaches_total: int
    coaching_share: float | None
    coaching_share_recent: float | None
    coaching_target: float
    coaches_meeting_target: int
    outside_role_minutes: float
    teachers_reached: int
    flags_by_severity: dict[str, int] = field(default_factory=dict)
    teams_unknown: int = 0
    """Teams whose goal or weekly values could not be read: left out of the team figures."""
    coaches_unknown: int = 0
    """Coaches whose time log could not be read: left out of every time figure."""
    recent_window: tuple[date, date] | None = None
    teams_ended: int = 0
    """Teams whose challenge has ended: their status is final, Met or Not met."""
    met_share: float | None = None
    """Of the teams that ended, the share that met their goal (None before any ended)."""

    @property
    def all_ended(self) -> bool:
        """Every team whose data could be read has ended its challenge."""
        known = self.teams_total - self.teams_unknown
        return known > 0 and self.teams_ended == known

    def headline(self, recent_weeks: int = 4) -> list[tuple[str, Any, str]]:
        """(label, value, number format) rows for the Dashboard's headline block. A figure
        that leaves out teams or coaches whose data could not be read says how many."""
        teams_out = _left_out(self.teams_unknown, "team")
        coaches_out = _left_out(self.coaches_unknown, "coach")
        known_teams = self.teams_total - self.teams_unknown
        known_coaches = self.coaches_total - self.coaches_unknown
        return [
            (f"Teams on track (met or on track){teams_out}",
             f"{self.teams_on_track} of {known_teams}", ""),
            (f"Share of teams on track{teams_out}", self.on_track_share, "0%"),
            ("Benchmark: teams expected to reach their goal", self.benchmark_share, "0%"),
            (f"Teams that have met their goal{teams_out}", self.teams_met, "0"),
            (f"Share of ended teams that met their goal{teams_out}", self.met_share, "0%"),
            (f"Coaching share, last {recent_weeks} weeks{coaches_out}",
             self.coaching_share_recent, "0%"),
            (f"Coaching share, whole program{coaches_out}", self.coaching_share, "0%"),
            ("Coaching share target", self.coaching_target, "0%"),
            (f"Coaches at or above the target, last {recent_weeks} weeks{coaches_out}",
             f"{self.coaches_meeting_target} of {known_coaches}", ""),
            (f"Minutes outside the coaching role{coaches_out}", self.outside_role_minutes,
             "0"),
            (f"Teachers reached, last {recent_weeks} weeks (sum over coaches){coaches_out}",
             self.teachers_reached, "0"),
            *([("Left out: data that could not be read (see Flags)",
                ", ".join(part for part in (
                    _count(self.coaches_unknown, "coach", "time log"),
                    _count(self.teams_unknown, "team", "goal or weekly values")) if part), "")]
              if self.coaches_unknown or self.teams_unknown else []),
            *((f"Flags: {s}", n, "0") for s, n in self.flags_by_severity.items()),
        ]


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else noun + ("es" if noun.endswith("h") else "s")


def _left_out(count: int, noun: str) -> str:
    """" (2 coaches left out)": those whose data could not be read (Flags says why)."""
    return f" ({count} {_plural(count, noun)} left out)" if count else ""


def _count(count: int, noun: str, what: str) -> str:
    return f"{count} {_plural(count, noun)} ({what})" if count else ""


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyse`: everything the dashboard tabs are built from.

    ``flags`` holds every analytic flag, sorted by severity, then source, tab and cell (the
    order of the Flags tab). The same flags are also in ``teams.flags`` and ``coaches.flags``.
    """

    as_of: date
    thresholds: Thresholds
    teams: TeamResults
    coaches: CoachResults
    program: ProgramSummary
    flags: list[Finding]
    plans: PlanResults | None = None
    """Plans, cycle outcomes and reach per coach, school and region (:mod:`.plans`)."""

    def flags_frame(self) -> pd.DataFrame:
        """The flags as a table (severity, code, source, tab, cell, message, hint)."""
        columns = ["severity", "code", "source", "tab", "cell", "message", "hint"]
        rows = [[f.severity.value, f.code, f.source, f.tab, f.cell, f.message, f.hint]
                for f in self.flags]
        return pd.DataFrame(rows, columns=columns, dtype=object)


def analyse(data: Any, as_of: date | None = None, th: Thresholds = DEFAULT_THRESHOLDS, *,
            groups: Sequence[str] | None = None,
            column_of: ColumnOf | None = None, framework: Any = None,
            schools: Sequence[SchoolFacts] = (),
            placed: Mapping[str, tuple[str | None, str | None]] | None = None) -> Analysis:
    """Analyse a whole program.

    ``data`` is a :class:`sheetsync.dataset.ProgramData` or a mapping of frame name to
    DataFrame (``goals``, ``weekly``, ``actions``, ``coaches``, ``relationships``,
    ``time_log``, ``cycles``); a missing frame counts as empty. ``as_of`` defaults to
    ``data.as_of``. ``groups`` lists the activity groups, the coaching group first (default: the
    built-in activity list). ``column_of(source, tab, key)`` may give column letters so flags
    point at exact cells.
    """
    frames: Mapping[str, pd.DataFrame] = getattr(data, "frames", data)
    if as_of is None:
        as_of = getattr(data, "as_of", None)
    if as_of is None:
        raise ValueError("analyse() needs an as-of date: pass as_of or set data.as_of")

    goals = frames.get("goals")
    teams = close_out(team_progress(goals, frames.get("weekly"), frames.get("actions"), as_of,
                                    th, column_of=column_of), as_of)
    coaches = coach_summary(frames.get("coaches"), frames.get("relationships"),
                            frames.get("time_log"), frames.get("cycles"), as_of, th,
                            groups=groups, program_start=_program_start(goals),
                            column_of=column_of)
    flags = sorted([*teams.flags, *coaches.flags], key=Finding.sort_key)
    program = _program_summary(teams, coaches, flags, th)
    plans = plan_rollup(frames, teams.teams, coaches.time, coaches.overview, as_of, th,
                        framework=framework, schools=schools,
                        coaching_group=groups[0] if groups else None, column_of=column_of,
                        placed=placed)
    return Analysis(as_of=as_of, thresholds=th, teams=teams, coaches=coaches, program=program,
                    flags=flags, plans=plans)


def _program_start(goals: pd.DataFrame | None) -> date | None:
    """The earliest team start date: week 1 of the program for the coach-time weeks."""
    if goals is None or "start_date" not in goals.columns:
        return None
    first = dates(goals["start_date"]).min()
    return None if pd.isna(first) else first.date()


def _share(part: float, whole: float) -> float | None:
    return float(part / whole) if whole > 0 else None


def _program_summary(teams: TeamResults, coaches: CoachResults, flags: list[Finding],
                     th: Thresholds) -> ProgramSummary:
    status = teams.teams["status"]
    counts = {s: int((status == s).sum()) for s in STATUSES}
    total = len(status)
    on_track = sum(counts[s] for s in ON_TRACK)
    on_track_share = _share(on_track, total - counts["Unknown"])
    ended = teams.teams["ended"] if "ended" in teams.teams.columns else status.eq("")
    ended = ended.fillna(False).astype(bool) & status.ne("Unknown")
    teams_ended = int(ended.sum())
    met_share = _share(int((status[ended.to_numpy(dtype=bool)] == "Met").sum()), teams_ended)
    # Once every team has ended, the benchmark is judged on the teams that met their goal; until
    # then on the share on track, the forecast of it.
    known = total - counts["Unknown"]
    judged = met_share if known and teams_ended == known else on_track_share
    time = coaches.time
    by_severity = Counter(f.severity.value for f in flags)
    return ProgramSummary(
        teams_total=total,
        teams_on_track=on_track,
        teams_met=counts["Met"],
        on_track_share=on_track_share,
        benchmark_share=th.program_goal_share,
        meets_benchmark=(None if judged is None
                         else judged >= th.program_goal_share - 1e-12),
        status_counts=counts,
        coaches_total=len(time),
        coaching_share=_share(time["minutes_coaching"].sum(), time["minutes_total"].sum()),
        coaching_share_recent=_share(time["minutes_coaching_recent"].sum(),
                                     time["minutes_recent"].sum()),
        coaching_target=th.coaching_share_target,
        coaches_meeting_target=int(time["meets_target_recent"].fillna(False).sum()),
        outside_role_minutes=float(time["outside_role_minutes"].sum()),
        teachers_reached=int(time["teachers_reached"].sum()),
        flags_by_severity={s.value: by_severity.get(s.value, 0) for s in Severity},
        teams_unknown=counts["Unknown"],
        coaches_unknown=int(time["time_note"].notna().sum()) if "time_note" in time else 0,
        recent_window=coaches.recent_window,
        teams_ended=teams_ended,
        met_share=met_share,
    )
