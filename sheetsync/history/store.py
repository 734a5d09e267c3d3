"""The program's history, kept in the state folder as one SQLite file, ``history.sqlite``.

Why SQLite (from the standard library) rather than Parquet or JSON:

* it is **queryable** where it lies: a coordinator can open it with any SQLite tool, and the
  History, Check-ins and Cycles tabs ask it small questions ("each team's last record of each
  week", "every team as it was on the check-in date") instead of loading a school year of rows;
* a night's records go in as **one transaction**: a run that stops half-way leaves the history
  as it was, and a run with the same as-of date replaces that date's records in the same
  transaction, so history is never duplicated;
* **appending is cheap**: one night is a few hundred rows into indexed tables, whatever the
  length of the history (Parquet would rewrite its files, or pile up one file per night);
* it needs no new dependency, and it lives beside, not inside, the parse cache: deleting the
  cache (``state_dir/cache``) leaves the history untouched.

Tables (one row per as-of date and workbook; see :mod:`sheetsync.history.records`):

``runs``    as_of, recorded_at (UTC, ISO), teams, coaches
``teams``   :data:`~sheetsync.history.fields.TEAM_FIELDS`, keyed by (as_of, source)
``coaches`` :data:`~sheetsync.history.fields.COACH_FIELDS`, keyed by (as_of, source)
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.history.fields import COACH_FIELDS, TEAM_FIELDS

if TYPE_CHECKING:
    import pandas as pd

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = 2

_TEXT = {"as_of", "source", "cycle", "school", "team", "coach", "metric", "unit", "direction",
         "start_date", "end_date", "status", "reason", "what_we_tried", "schools"}
_INT = {"ended"}


def _columns(fields: tuple[str, ...], key: str = "as_of, source") -> str:
    kinds = ", ".join(f"{f} {'TEXT' if f in _TEXT else 'INTEGER' if f in _INT else 'REAL'}"
                      for f in fields)
    return f"{kinds}, PRIMARY KEY ({key})"


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (as_of TEXT PRIMARY KEY, recorded_at TEXT NOT NULL,
                                 teams INTEGER, coaches INTEGER);
CREATE TABLE IF NOT EXISTS teams ({_columns(TEAM_FIELDS)}) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS coaches ({_columns(COACH_FIELDS)}) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS teams_by_source ON teams (source, as_of);
CREATE TABLE IF NOT EXISTS team_weeks (start_key TEXT NOT NULL, {
    _columns(TEAM_FIELDS, "source, start_key, current_week")}) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS coach_months (month TEXT NOT NULL, {
    _columns(COACH_FIELDS, "source, month")}) WITHOUT ROWID;
"""
"""``team_weeks`` and ``coach_months`` hold each team's latest record of each challenge week and
each coach's latest record of each month, kept up to date on every append, so the tabs read a
few thousand rows rather than grouping a school year of records each night."""


def _summaries(day: str | None) -> list[str]:
    """The statements that fold the records of ``day`` (None: every date) into the summary
    tables, a later as-of date winning over an earlier one."""
    where = "WHERE as_of = ?" if day else "WHERE true ORDER BY as_of"
    t_set = ", ".join(f"{f} = excluded.{f}" for f in TEAM_FIELDS)
    c_set = ", ".join(f"{f} = excluded.{f}" for f in COACH_FIELDS)
    return [
        f"INSERT INTO team_weeks SELECT coalesce(start_date, ''), * FROM teams {where} "
        "ON CONFLICT (source, start_key, current_week) DO UPDATE SET "
        f"{t_set} WHERE excluded.as_of >= team_weeks.as_of",
        f"INSERT INTO coach_months SELECT substr(as_of, 1, 7), * FROM coaches {where} "
        "ON CONFLICT (source, month) DO UPDATE SET "
        f"{c_set} WHERE excluded.as_of >= coach_months.as_of",
    ]


def history_path(state_dir: Path) -> Path:
    return state_dir / HISTORY_FILE


class HistoryStore:
    """The history file of one state folder. Every method opens and closes its own
    connection, so a store can be kept around without holding the file open."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> HistoryStore:
        return cls(history_path(state_dir))

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            # a write-ahead log: one night's append is a few pages at the end of it, and a
            # reader never waits for a writer; still one atomic transaction per night
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            if con.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                with con:
                    con.executescript(SCHEMA)
                    for statement in _summaries(None):
                        con.execute(statement)
                    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            yield con
        finally:
            con.close()

    def record(self, teams: pd.DataFrame, coaches: pd.DataFrame, as_of: date,
               recorded_at: datetime | None = None) -> None:
        """Record one as-of date, replacing whatever that date held, in one transaction."""
        from sheetsync.history.records import rows_of

        day = as_of.isoformat()
        stamp = (recorded_at or datetime.now(UTC)).astimezone(UTC).isoformat()
        team_rows = rows_of(teams.assign(as_of=day)[list(TEAM_FIELDS)])
        coach_rows = rows_of(coaches.assign(as_of=day)[list(COACH_FIELDS)])
        with self._connect() as con, con:
            for table in ("teams", "coaches"):
                con.execute(f"DELETE FROM {table} WHERE as_of = ?", (day,))  # noqa: S608
            con.executemany(f"INSERT INTO teams VALUES ({', '.join('?' * len(TEAM_FIELDS))})",
                            team_rows)
            con.executemany(
                f"INSERT INTO coaches VALUES ({', '.join('?' * len(COACH_FIELDS))})",
                coach_rows)
            con.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?)",
                        (day, stamp, len(team_rows), len(coach_rows)))
            for statement in _summaries(day):
                con.execute(statement, (day,))

    def has(self, day: date) -> bool:
        """Whether ``day`` is recorded (plain SQLite, no pandas: the unchanged-run check)."""
        if not self.path.exists():
            return False
        try:
            con = sqlite3.connect(self.path, timeout=30)
            try:
                found = con.execute("SELECT 1 FROM runs WHERE as_of = ?",
                                    (day.isoformat(),)).fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            return False
        return found is not None

    # -- questions the tabs ask ---------------------------------------------------------------

    def _query(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        import pandas as pd

        if not self.path.exists():
            return pd.DataFrame()
        with self._connect() as con:
            return pd.read_sql_query(sql, con, params=params)

    def dates(self) -> list[date]:
        """Every as-of date recorded, oldest first."""
        runs = self._query("SELECT as_of FROM runs ORDER BY as_of")
        return [date.fromisoformat(d) for d in runs["as_of"]] if len(runs) else []

    def teams(self, since: date | None = None, until: date | None = None) -> pd.DataFrame:
        """Every team record (between ``since`` and ``until``, inclusive), by date."""
        return self._query("SELECT * FROM teams WHERE as_of BETWEEN ? AND ? "
                           "ORDER BY as_of, source", _span(since, until))

    def coaches(self, since: date | None = None, until: date | None = None) -> pd.DataFrame:
        """Every coach record (between ``since`` and ``until``, inclusive), by date."""
        return self._query("SELECT * FROM coaches WHERE as_of BETWEEN ? AND ? "
                           "ORDER BY as_of, source", _span(since, until))

    def teams_on(self, day: date) -> pd.DataFrame:
        """Each team as its latest record on or before ``day`` holds it (a frozen state)."""
        return self._query(
            "SELECT t.* FROM teams t JOIN (SELECT source, MAX(as_of) AS last FROM teams "
            "WHERE as_of <= ? GROUP BY source) m ON t.source = m.source AND t.as_of = m.last "
            "ORDER BY t.source", (day.isoformat(),))

    def _latest(self) -> str | None:
        runs = self._query("SELECT MAX(as_of) AS last FROM runs")
        return runs["last"].iloc[0] if len(runs) else None

    def _summary_holds(self, until: date | None) -> bool:
        """Whether the summary tables answer for ``until``: no record after it exists."""
        last = self._latest()
        return until is None or last is None or last <= until.isoformat()

    def team_weeks(self, until: date | None = None) -> pd.DataFrame:
        """Each team's last record of each challenge week (by its start date, so a tracker
        used again for a later cycle keeps its weeks apart)."""
        if self._summary_holds(until):
            fields = ", ".join(TEAM_FIELDS)
            return self._query(f"SELECT {fields} FROM team_weeks "  # noqa: S608
                               "ORDER BY source, as_of")
        return self._query(
            "SELECT t.* FROM teams t JOIN (SELECT source, start_date, current_week, "
            "MAX(as_of) AS last FROM teams WHERE as_of <= ? "
            "GROUP BY source, start_date, current_week) m "
            "ON t.source = m.source AND t.as_of = m.last ORDER BY t.source, t.as_of",
            (_span(None, until)[1],))

    def coach_months(self, until: date | None = None) -> pd.DataFrame:
        """Each coach's last record of each calendar month."""
        if self._summary_holds(until):
            fields = ", ".join(COACH_FIELDS)
            return self._query(f"SELECT {fields}, month FROM coach_months "  # noqa: S608
                               "ORDER BY source, as_of")
        return self._query(
            "SELECT c.*, substr(c.as_of, 1, 7) AS month FROM coaches c JOIN "
            "(SELECT source, MAX(as_of) AS last FROM coaches WHERE as_of <= ? "
            "GROUP BY source, substr(as_of, 1, 7)) m "
            "ON c.source = m.source AND c.as_of = m.last ORDER BY c.source, c.as_of",
            (_span(None, until)[1],))

    def team_finals(self, until: date | None = None) -> pd.DataFrame:
        """Each team's latest record of each of its cycles (start dates)."""
        if self._summary_holds(until):
            fields = ", ".join(f"t.{f}" for f in TEAM_FIELDS)
            return self._query(
                f"SELECT {fields} FROM team_weeks t JOIN (SELECT source, start_key, "  # noqa: S608
                "MAX(as_of) AS last FROM team_weeks GROUP BY source, start_key) m "
                "ON t.source = m.source AND t.start_key = m.start_key AND t.as_of = m.last "
                "ORDER BY t.source, t.as_of")
        return self._query(
            "SELECT t.* FROM teams t JOIN (SELECT source, start_date, MAX(as_of) AS last "
            "FROM teams WHERE as_of <= ? GROUP BY source, start_date) m "
            "ON t.source = m.source AND t.as_of = m.last ORDER BY t.source, t.as_of",
            (_span(None, until)[1],))


def _span(since: date | None, until: date | None) -> tuple[str, str]:
    return ((since or date(1900, 1, 1)).isoformat(), (until or date(9999, 12, 31)).isoformat())
