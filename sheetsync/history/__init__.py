"""The program's history: what each nightly run records, kept in the state folder.

* :mod:`~sheetsync.history.calendar`: check-ins, cycles and quarters as dates (no pandas);
* :mod:`~sheetsync.history.records`: a run's records, built from its analysis (pure);
* :mod:`~sheetsync.history.store`: the SQLite file they are kept in, and the questions the
  dashboard asks it;
* :mod:`~sheetsync.history.backfill`: rebuilding past dates from the sources' own dated rows.

:func:`record_run` is what a run calls: it records the as-of date and reads back the
:class:`~sheetsync.history.records.HistoryView` the dashboard's tabs are built from.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sheetsync.analytics.program import Analysis
    from sheetsync.config import Config
    from sheetsync.history.records import HistoryView


def program_start(analysis: Analysis) -> date | None:
    """The earliest team start date: week 0 of the program's calendar."""
    import pandas as pd

    starts = pd.to_datetime(analysis.teams.teams["start_date"], errors="coerce").dropna()
    return None if starts.empty else starts.min().date()


def record(config: Config, analysis: Analysis, recorded_at: datetime | None = None,
           state_dir: Path | None = None) -> None:
    """Record ``analysis`` as its as-of date's history (replacing that date's records).
    Raises :class:`OSError` or :class:`sqlite3.Error` when the state folder cannot take it."""
    from sheetsync.history.records import coach_records, team_records
    from sheetsync.history.store import HistoryStore

    store = HistoryStore.in_state_dir(state_dir or config.output.state_dir)
    store.record(team_records(analysis, config.cycles), coach_records(analysis),
                 analysis.as_of, recorded_at)


def read_view(config: Config, analysis: Analysis,
              state_dir: Path | None = None) -> HistoryView:
    """What the history tabs show as of ``analysis.as_of`` (later records are left out)."""
    from sheetsync.history.calendar import checkin_dates
    from sheetsync.history.records import HistoryView
    from sheetsync.history.store import HistoryStore

    store = HistoryStore.in_state_dir(state_dir or config.output.state_dir)
    day = analysis.as_of
    checkins = {c.number: store.teams_on(c.day)
                for c in checkin_dates(config.checkins, cycle_start(config, analysis))
                if c.day <= day}
    return HistoryView(team_weeks=store.team_weeks(day), checkins=checkins,
                       coach_months=store.coach_months(day), team_finals=store.team_finals(day),
                       dates=[d for d in store.dates() if d <= day])


def cycle_start(config: Config, analysis: Analysis) -> date | None:
    """The start of the current cycle: the configured one, else the earliest team start."""
    from sheetsync.history.calendar import current_cycle

    cycle = current_cycle(analysis.as_of, config.cycles)
    return cycle.start if cycle else program_start(analysis)


def record_run(config: Config, analysis: Analysis, recorded_at: datetime | None = None
               ) -> tuple[HistoryView | None, str | None]:
    """Record the run and read the view back: (view, None), or (None, why not)."""
    try:
        record(config, analysis, recorded_at)
        return read_view(config, analysis), None
    except (OSError, sqlite3.Error) as exc:
        return None, f"{type(exc).__name__}: {exc}"
