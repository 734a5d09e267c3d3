"""The program's calendar over time: sponsor check-ins, cycles and the school year's quarters.

Plain dates only (no pandas), so the config can read these settings cheaply:

* ``[program] checkins``: the three sponsor check-ins, as challenge weeks (default ``[3, 6, 9]``)
  or as dates. The check-in "after week 3" is dated the day week 3 ends, the first as-of date on
  which week 3 is the latest completed week (the challenge's start plus 3 weeks): that day's
  nightly run is the one the Check-ins tab freezes.
* ``[[program.cycles]]``: several 10-week cycles, each with a ``name``, a ``start`` date and a
  ``weeks`` length. A team belongs to the cycle in which its tracker's Start Date falls; the
  current cycle is the latest one that has started.
* ``[program] quarter_start_month``: the month the school year's first quarter starts in
  (default 8, August: Aug-Oct, Nov-Jan, Feb-Apr, May-Jul).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sheetsync.errors import ConfigError

DEFAULT_CHECKINS: tuple[int, ...] = (3, 6, 9)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Cycle:
    """One challenge cycle of the program: ``weeks`` weeks from ``start``."""

    name: str
    start: date
    weeks: int = 10

    @property
    def end(self) -> date:
        """The cycle's last day."""
        return self.start + timedelta(days=7 * self.weeks - 1)


@dataclass(frozen=True)
class Checkin:
    """A sponsor check-in: its number (1, 2, 3), the challenge week it follows (None when set as
    a date) and its date."""

    number: int
    week: int | None
    day: date

    @property
    def label(self) -> str:
        after = f" (after week {self.week})" if self.week is not None else ""
        return f"Check-in {self.number}{after}"


def _parse_date(value: Any, where: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if value is None:
        return None
    raise ConfigError(f"{where} must be a date like 2026-11-04, not {value!r}"[:300])


def parse_checkins(value: Any, where: str = "[program].checkins") -> tuple[int | date, ...]:
    """``checkins`` from the config: a list of challenge weeks (1-52) or of dates."""
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where} must be a list of challenge weeks such as [3, 6, 9], or of "
                          f"dates, not {value!r}"[:300])
    out: list[int | date] = []
    for item in value:
        if isinstance(item, bool):
            raise ConfigError(f"{where} must list weeks or dates, not {item!r}")
        if isinstance(item, int):
            if not 1 <= item <= 52:
                raise ConfigError(f"{where}: week {item} must be between 1 and 52")
            out.append(item)
            continue
        day = _parse_date(item, where)
        if day is None:
            raise ConfigError(f"{where} must list weeks or dates, not {item!r}")
        out.append(day)
    if len(set(out)) != len(out):
        raise ConfigError(f"{where} lists the same check-in twice")
    return tuple(out)


def parse_cycles(value: Any, where: str = "[[program.cycles]]") -> tuple[Cycle, ...]:
    """``[[program.cycles]]`` from the config, sorted by start date."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where} must be tables with a name, a start date and weeks")
    cycles = []
    for n, table in enumerate(value, start=1):
        unknown = set(table) - {"name", "start", "weeks"}
        if unknown:
            raise ConfigError(f"{where} #{n}: unknown key {sorted(unknown)[0]!r} "
                              "(allowed: name, start, weeks)")
        name = table.get("name", f"Cycle {n}")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ConfigError(f"{where} #{n}: name must be text of 1 to 100 characters")
        start = _parse_date(table.get("start"), f"{where} #{n} start")
        if start is None:
            raise ConfigError(f"{where} #{n} needs a start date, such as 2027-01-25")
        weeks = table.get("weeks", 10)
        if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= 52:
            raise ConfigError(f"{where} #{n}: weeks must be a whole number from 1 to 52")
        cycles.append(Cycle(name.strip(), start, weeks))
    cycles.sort(key=lambda c: c.start)
    if len({c.name for c in cycles}) != len(cycles):
        raise ConfigError(f"{where}: two cycles have the same name")
    return tuple(cycles)


def checkin_dates(checkins: Sequence[int | date], start: date | None) -> list[Checkin]:
    """The check-ins as dates, in order: a week ``k`` is the day week ``k`` ends (``start`` plus
    ``k`` weeks). Without a start date, weeks cannot be placed and only dates are kept."""
    days: list[tuple[date, int | None]] = []
    for item in checkins:
        if isinstance(item, date):
            days.append((item, None))
        elif start is not None:
            days.append((start + timedelta(days=7 * item), item))
    days.sort(key=lambda d: d[0])
    return [Checkin(n, week, day) for n, (day, week) in enumerate(days, start=1)]


def cycle_of(start: date | None, cycles: Sequence[Cycle]) -> Cycle | None:
    """The cycle a team whose tracker starts on ``start`` belongs to: the latest cycle that had
    started by then (a tracker started a few days early still joins the next cycle when it
    starts within that cycle's first week)."""
    if start is None or not cycles:
        return None
    found = None
    for cycle in cycles:
        if cycle.start - timedelta(days=7) <= start:
            found = cycle
    return found or cycles[0]


def current_cycle(as_of: date, cycles: Sequence[Cycle]) -> Cycle | None:
    """The latest cycle that has started by ``as_of`` (the first one before any has)."""
    if not cycles:
        return None
    started = [c for c in cycles if c.start <= as_of]
    return started[-1] if started else cycles[0]


def quarter_of(day: date, first_month: int = 8) -> tuple[str, str]:
    """(sortable key, label) of the school-year quarter holding ``day``: with the year starting
    in August, 2026-11-04 is ("2026-27 Q2", "2026-27 Q2 (Nov-Jan)")."""
    offset = (day.month - first_month) % 12
    year = day.year if day.month >= first_month else day.year - 1
    q = offset // 3
    months = [MONTHS[(first_month - 1 + 3 * q + i) % 12] for i in (0, 2)]
    school_year = f"{year}-{(year + 1) % 100:02d}" if first_month != 1 else str(year)
    key = f"{school_year} Q{q + 1}"
    return key, f"{key} ({months[0]}-{months[1]})"


def checkin_due(checkins: Sequence[int | date], start: date | None, as_of: date) -> str | None:
    """The Dashboard's line in the week before a check-in (None outside that week)."""
    for checkin in checkin_dates(checkins, start):
        days = (checkin.day - as_of).days
        if 0 <= days <= 7:
            when = "today" if days == 0 else f"on {checkin.day:%A} {checkin.day.isoformat()}"
            return (f"{checkin.label} is due this week, {when}: each team's agenda is on the "
                    "Check-in Agenda tab.")
    return None
