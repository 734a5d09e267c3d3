"""``sheetsync history --rebuild --from DATE``: recompute past dates from the sources' own dated
rows, so a program that starts using sheetsync in week 6 still has weeks 1 to 5.

The sources are read and validated once (as of the last date); then, for each date from the
first, every seven days (``every``), and the last date itself, the rows that date could have
seen are kept and analysed as a nightly run on that date would:

* Weekly Progress: the weeks completed by then (week ``k`` of a team counts from the day it ends,
  its start date plus ``k`` weeks, as the nightly status does);
* Time Log: entries dated on or before it;
* Coaching Cycles: cycles started on or before it (undated ones are kept);
* Goal, Action Steps and Relationships have no dated history: they are taken as they are now
  (an action step marked Done later counts as done; a teacher added later is listed). The
  team statuses, values and coaching shares, which the history tabs show, come only from dated
  rows.

Each date's records replace what the history held for that date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from sheetsync.backends.base import Backend
    from sheetsync.config import Config
    from sheetsync.dataset import ProgramData


def rebuild_dates(first: date, last: date, every: int = 7) -> list[date]:
    """``first``, every ``every`` days after it, and ``last``."""
    days = []
    day = first
    while day < last:
        days.append(day)
        day += timedelta(days=every)
    days.append(last)
    return days


def as_it_was(frames: dict[str, pd.DataFrame], day: date) -> dict[str, pd.DataFrame]:
    """The frames with only the dated rows a run on ``day`` could have seen (see the module)."""
    out = dict(frames)
    ts = pd.Timestamp(day)
    goals = frames.get("goals")
    weekly = frames.get("weekly")
    if weekly is not None and len(weekly) and goals is not None and len(goals):
        start = pd.to_datetime(goals.drop_duplicates("source").set_index("source")["start_date"],
                               errors="coerce")
        team_start = weekly["source"].map(start)
        completed = ((ts - team_start).dt.days // 7).fillna(0)
        week = pd.to_numeric(weekly["week"], errors="coerce")
        out["weekly"] = weekly[(week <= completed).fillna(False).to_numpy(dtype=bool)]
    time_log = frames.get("time_log")
    if time_log is not None and len(time_log):
        when = pd.to_datetime(time_log["date"], errors="coerce")
        out["time_log"] = time_log[(when <= ts).fillna(False).to_numpy(dtype=bool)]
    cycles = frames.get("cycles")
    if cycles is not None and len(cycles) and "start_date" in cycles.columns:
        started = pd.to_datetime(cycles["start_date"], errors="coerce")
        out["cycles"] = cycles[(started.isna() | (started <= ts)).to_numpy(dtype=bool)]
    return out


def rebuild(config: Config, first: date, last: date, *, every: int = 7,
            data: ProgramData | None = None,
            progress: Callable[[date], None] | None = None,
            backends: Mapping[str, Backend] | None = None) -> list[date]:
    """Recompute and record the history from ``first`` to ``last``; returns the dates.
    ``data``: the sources already read and validated (default: read them as of ``last``)."""
    from sheetsync.history import record
    from sheetsync.pipeline import RollupContext, analyse, validate

    if data is None:
        data = validate(config, last, backends=backends)
    recorded = []
    for day in rebuild_dates(first, last, every):
        past = replace(data, frames=as_it_was(data.frames, day), as_of=day)
        analysis = analyse(past, RollupContext(config, day, pd.Timestamp(day).to_pydatetime()))
        record(config, analysis)
        recorded.append(day)
        if progress is not None:
            progress(day)
    return recorded
