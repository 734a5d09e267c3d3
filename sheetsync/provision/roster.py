"""The roster a coordinator starts a program with: one row per coach workbook or team tracker.

A .csv or .xlsx file with a header row. Headers are matched loosely (case, spaces and
punctuation ignored), and each column has the names coordinators use:

=========  ==========================================================================
column     also called
=========  ==========================================================================
kind       type, workbook (``coach`` or ``team``)
name       coach, coach name, team name (the coach, or the team)
email      owner, owner email, coach email, lead email (who owns it and edits it)
school     schools, campus
team       team (for a coach: the teams they coach; for a team row, its name is enough)
lead       team lead, lead name
viewers    viewer, principal, share with (emails, separated by ; or ,)
id         roster id (optional; otherwise kind + school + name)
=========  ==========================================================================

The id is what a re-run matches on, never the title: renaming a sheet creates nothing twice,
and a row whose email changed is reported as an owner change, not provisioned again.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

HEADERS = {
    "kind": ("kind", "type", "workbook"),
    "name": ("name", "coach", "coachname", "teamname"),
    "email": ("email", "owner", "owneremail", "coachemail", "leademail", "emailaddress"),
    "school": ("school", "schools", "campus"),
    "team": ("team",),
    "lead": ("lead", "teamlead", "leadname"),
    "viewers": ("viewers", "viewer", "principal", "sharewith"),
    "id": ("id", "rosterid"),
}
KIND_WORDS = {"coach": "coach", "coaches": "coach", "coach workbook": "coach", "team": "team",
              "teams": "team", "team tracker": "team"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RosterError(ValueError):
    """The roster cannot be used: every problem found, each with its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RosterRow:
    """One workbook to roll out."""

    kind: str  # coach | team
    name: str
    email: str
    school: str = ""
    team: str = ""
    lead: str = ""
    viewers: tuple[str, ...] = ()
    roster_id: str = ""
    line: int = 0

    @property
    def id(self) -> str:
        """What a re-run matches on."""
        if self.roster_id:
            return self.roster_id
        return _slug(f"{self.kind} {self.school} {self.name}")

    @property
    def title(self) -> str:
        """The new workbook's title (a person may rename it; the id stays)."""
        where = f" ({self.school})" if self.school else ""
        if self.kind == "coach":
            return f"Coach workbook - {self.name}{where}"
        return f"Team tracker - {self.name}{where}"

    @property
    def file_name(self) -> str:
        return _slug(f"{self.kind} {self.school} {self.name}") + ".xlsx"

    def fields(self) -> dict[str, str]:
        """What the new workbook is pre-filled with, by schema column key."""
        if self.kind == "coach":
            return {"coach": self.name, "schools": self.school}
        return {"school": self.school, "team": self.team or self.name, "team_lead": self.lead}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").casefold())


def _cells(path: Path) -> list[list[object]]:
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return [list(row) for row in csv.reader(fh)]
    from sheetsync.backends.excel.reader import read_excel

    workbook = read_excel(path)
    first = next(iter(workbook.tabs.values()), None)
    return [list(row) for row in first.rows] if first else []


def read_roster(path: str | Path) -> list[RosterRow]:
    """Every row of the roster; raises :class:`RosterError` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise RosterError([f"{path} does not exist"])
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm", ".xls", ".ods"):
        raise RosterError([f"{path.name} is not a .csv or .xlsx file"])
    try:
        cells = _cells(path)
    except Exception as exc:  # noqa: BLE001 - a roster that cannot be read is one problem
        raise RosterError([f"{path.name} cannot be read: {exc}"]) from None
    header_at = next((i for i, row in enumerate(cells)
                      if any(_key(c) in HEADERS["email"] for c in row)), None)
    if header_at is None:
        raise RosterError([f"{path.name} has no header row with an email column "
                           "(kind, name, email, school, team, lead, viewers)"])
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells[header_at]):
        for field, names in HEADERS.items():
            if _key(cell) in names and field not in columns:
                columns[field] = index
    missing = [f for f in ("kind", "name", "email") if f not in columns]
    if missing:
        raise RosterError([f"{path.name}: no {', '.join(missing)} column in the header row"])
    rows: list[RosterRow] = []
    problems: list[str] = []
    for number, row in enumerate(cells[header_at + 1:], start=header_at + 2):

        def get(field: str, row: list[object] = row) -> str:
            index = columns.get(field)
            value = row[index] if index is not None and index < len(row) else None
            return "" if value is None else str(value).strip()

        if not any(str(c or "").strip() for c in row):
            continue
        kind = KIND_WORDS.get(get("kind").casefold())
        email = get("email").lower()
        where = f"line {number}"
        if kind is None:
            problems.append(f"{where}: kind must be coach or team, not {get('kind')!r}")
        if not get("name"):
            problems.append(f"{where}: the name is empty")
        if not _EMAIL.match(email):
            problems.append(f"{where}: {get('email')!r} is not an email address")
        viewers = tuple(v.strip().lower() for v in re.split(r"[;,\s]+", get("viewers"))
                        if v.strip())
        for viewer in viewers:
            if not _EMAIL.match(viewer):
                problems.append(f"{where}: viewer {viewer!r} is not an email address")
        if kind is not None:
            rows.append(RosterRow(kind, get("name"), email, get("school"), get("team"),
                                  get("lead"), viewers, get("id"), number))
    seen: dict[str, int] = {}
    for row in rows:
        if row.id in seen:
            problems.append(f"line {row.line}: the same workbook as line {seen[row.id]} "
                            f"({row.kind} {row.name!r} at {row.school or 'no school'})")
        seen.setdefault(row.id, row.line)
    if problems:
        raise RosterError(problems)
    return rows
